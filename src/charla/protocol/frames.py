"""Frames of the charla wire protocol, as typed msgspec structs.

Each frame is one JSON object whose ``"type"`` field selects the struct (msgspec's tagged
unions). Optional fields default to ``None`` (or an empty value) and are left out when
encoding, so the bytes on the wire stay short and old clients see nothing new.

Client and server frames are two separate unions: ``history`` and ``ping`` exist in both
directions with different meanings or fields.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "Bye",
    "ClientFrame",
    "ClientHistory",
    "ClientPing",
    "ClientPong",
    "Error",
    "Hello",
    "History",
    "Joined",
    "Message",
    "Parted",
    "Ping",
    "Pong",
    "RoomInfo",
    "Rooms",
    "Say",
    "ServerFrame",
    "ServerInfo",
    "System",
    "Users",
    "Welcome",
]


#: A message id from a client (``since``, ``before``): what SQLite's INTEGER holds, so a
#: huge number is a ``bad_frame`` and not an overflow deep in the store.
Id = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class _Frame(msgspec.Struct, tag_field="type", omit_defaults=True, kw_only=True):
    """Base of every frame: tagged by ``type``, optional fields omitted when unset."""


# --- client -> server ------------------------------------------------------------------


class Hello(_Frame, tag="hello"):
    nick: str
    room: str | None = None
    rooms: list[str] = []
    since: Id | None = None
    password: str | None = None
    server_password: str | None = None
    lang: str | None = None


class Say(_Frame, tag="say"):
    text: str
    room: str | None = None


class ClientHistory(_Frame, tag="history"):
    """A page of older messages: the newest ``limit`` of ``room`` older than ``before``."""

    room: str = "general"
    before: Id | None = None
    limit: int = 50


class ClientPing(_Frame, tag="ping"):
    """A client's ping. The server answers it only after every earlier frame of the
    same client is fully handled (messages stored and sent), so it is also a barrier."""

    token: str | None = None


class ClientPong(_Frame, tag="pong"):
    token: str | None = None


ClientFrame = Hello | Say | ClientHistory | ClientPing | ClientPong


# --- server -> client ------------------------------------------------------------------


class ServerInfo(msgspec.Struct, omit_defaults=True, kw_only=True):
    name: str
    version: str
    node: str | None = None


class Welcome(_Frame, tag="welcome"):
    nick: str
    server: ServerInfo
    motd: str | None = None


class Message(_Frame, tag="message"):
    """A chat message. Room messages carry ``room``; direct messages carry ``to`` instead."""

    id: int
    user: str
    text: str
    ts: str
    room: str | None = None
    to: str | None = None
    action: bool = False


class History(_Frame, tag="history"):
    room: str
    # No defaults for the lists: omit_defaults would leave an empty one off the wire.
    messages: list[Message]
    before: int | None = None
    since: int | None = None
    more: bool = False


class Users(_Frame, tag="users"):
    room: str
    users: list[str]


class System(_Frame, tag="system"):
    event: str
    text: str = ""
    user: str | None = None
    room: str | None = None
    new: str | None = None


class Error(_Frame, tag="error"):
    code: str
    message: str
    text: str | None = None


class Bye(_Frame, tag="bye"):
    reason: str = ""


class Ping(_Frame, tag="ping"):
    token: str | None = None


class Pong(_Frame, tag="pong"):
    token: str | None = None


class Joined(_Frame, tag="joined"):
    room: str


class Parted(_Frame, tag="parted"):
    room: str


class RoomInfo(msgspec.Struct, kw_only=True):
    name: str
    users: int
    joined: bool


class Rooms(_Frame, tag="rooms"):
    rooms: list[RoomInfo]


ServerFrame = (
    Welcome
    | History
    | Message
    | Users
    | System
    | Error
    | Bye
    | Ping
    | Pong
    | Joined
    | Parted
    | Rooms
)
