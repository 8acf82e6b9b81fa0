"""Frames of the charla wire protocol, as typed msgspec structs.

Each frame is one JSON object whose ``"type"`` field selects the struct (msgspec's tagged
unions). Optional fields default to ``None`` (or an empty value) and are left out when
encoding, so the bytes on the wire stay short and old clients see nothing new.

Client and server frames are two separate unions: ``history``, ``ping``, ``users`` and
``rooms`` exist in both directions with different meanings or fields.

Every frame may carry a ``label`` (protocol v2): a client sets it on a request, and every
frame that answers that request carries it back to that client alone. Without a label,
nothing changes from v1.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "Bye",
    "Change",
    "ClientFrame",
    "ClientHistory",
    "ClientPing",
    "ClientPong",
    "ClientRooms",
    "ClientUsers",
    "Delete",
    "Deleted",
    "Edit",
    "Edited",
    "Error",
    "Hello",
    "Help",
    "History",
    "Join",
    "Joined",
    "Label",
    "Me",
    "Message",
    "Msg",
    "Nick",
    "Parent",
    "Part",
    "Parted",
    "Passwd",
    "Ping",
    "Pong",
    "Quit",
    "React",
    "Reaction",
    "Register",
    "RoomInfo",
    "Rooms",
    "Say",
    "ServerFrame",
    "ServerInfo",
    "System",
    "Unregister",
    "Unwatch",
    "Unwatched",
    "Users",
    "Watch",
    "Watching",
    "Welcome",
]


#: A message id from a client (``since``, ``before``): what SQLite's INTEGER holds, so a
#: huge number is a ``bad_frame`` and not an overflow deep in the store.
Id = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


#: A request's label: 1 to 64 printable characters, echoed on every answer
#: (:func:`charla.protocol.labels.check_label` rejects the rest as ``bad_frame``).
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class _Frame(msgspec.Struct, tag_field="type", omit_defaults=True, kw_only=True):
    """Base of every frame: tagged by ``type``, optional fields omitted when unset."""

    label: Label | None = None


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
    #: The id of the message this one answers (same room).
    reply_to: Id | None = None


class ClientHistory(_Frame, tag="history"):
    """A page of older messages: the newest ``limit`` of ``room`` older than ``before``."""

    room: str = "general"
    before: Id | None = None
    limit: int = 50
    #: Only this thread: its first message and every reply to it (or to a reply).
    thread: Id | None = None


class ClientPing(_Frame, tag="ping"):
    """A client's ping. The server answers it only after every earlier frame of the
    same client is fully handled (messages stored and sent), so it is also a barrier."""

    token: str | None = None


class ClientPong(_Frame, tag="pong"):
    token: str | None = None


class Join(_Frame, tag="join"):
    room: str


class Part(_Frame, tag="part"):
    room: str


class Watch(_Frame, tag="watch"):
    """Read a room without joining it: its history, then its messages, unannounced."""

    room: str


class Unwatch(_Frame, tag="unwatch"):
    room: str


class ClientUsers(_Frame, tag="users"):
    """Who is in ``room``; any room may be asked about, joined or not."""

    room: str = "general"


class ClientRooms(_Frame, tag="rooms"):
    pass


class Msg(_Frame, tag="msg"):
    """A direct message."""

    to: str
    text: str
    #: The id of the message this one answers (the same direct conversation).
    reply_to: Id | None = None


class Nick(_Frame, tag="nick"):
    nick: str


class Me(_Frame, tag="me"):
    """An action (``/me``) in ``room`` (the default room when unset)."""

    text: str
    room: str | None = None
    reply_to: Id | None = None


class Quit(_Frame, tag="quit"):
    reason: str = ""


class Register(_Frame, tag="register"):
    password: str


class Unregister(_Frame, tag="unregister"):
    password: str


class Passwd(_Frame, tag="passwd"):
    old: str
    new: str


class Help(_Frame, tag="help"):
    pass


class React(_Frame, tag="react"):
    """Toggle the sender's reaction ``emoji`` (one emoji) on message ``id``."""

    id: Id
    emoji: str


class Edit(_Frame, tag="edit"):
    """Replace the text of the sender's own message ``id``."""

    id: Id
    text: str


class Delete(_Frame, tag="delete"):
    """Delete the sender's own message ``id``: its text is gone for good."""

    id: Id


ClientFrame = (
    Hello
    | Say
    | ClientHistory
    | ClientPing
    | ClientPong
    | Join
    | Part
    | Watch
    | Unwatch
    | ClientUsers
    | ClientRooms
    | Msg
    | Nick
    | Me
    | Quit
    | Register
    | Unregister
    | Passwd
    | Help
    | React
    | Edit
    | Delete
)


# --- server -> client ------------------------------------------------------------------


class ServerInfo(msgspec.Struct, omit_defaults=True, kw_only=True):
    name: str
    version: str
    node: str | None = None


class Welcome(_Frame, tag="welcome"):
    nick: str
    server: ServerInfo
    motd: str | None = None


class Parent(msgspec.Struct, omit_defaults=True, kw_only=True):
    """What a reply answers, enough to show it: its author and the start of its text
    (no text once it is deleted)."""

    user: str
    text: str = ""
    deleted: bool = False


class Message(_Frame, tag="message", kw_only=True):
    """A chat message. Room messages carry ``room``; direct messages carry ``to`` instead.

    A deleted message keeps only ``id``, ``user``, ``ts`` (and its room) and
    ``deleted: true``: its text is empty, so left out.
    """

    id: int
    user: str
    text: str = ""
    ts: str
    room: str | None = None
    to: str | None = None
    action: bool = False
    reply_to: int | None = None
    #: The id of the first message of the thread this reply belongs to.
    thread: int | None = None
    parent: Parent | None = None
    #: When it was last edited (its text is the latest).
    edited: str | None = None
    deleted: bool = False
    #: emoji -> the nicks who reacted with it, in the order they did.
    reactions: dict[str, list[str]] | None = None


class History(_Frame, tag="history"):
    room: str
    # No defaults for the lists: omit_defaults would leave an empty one off the wire.
    messages: list[Message]
    before: int | None = None
    since: int | None = None
    more: bool = False
    thread: int | None = None


class Users(_Frame, tag="users"):
    room: str
    users: list[str]
    #: How many users there are when ``users`` lists only the first of them.
    total: int | None = None


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
    #: How many rooms there are when ``rooms`` lists only the first of them.
    total: int | None = None


class Watching(_Frame, tag="watching"):
    room: str


class Unwatched(_Frame, tag="unwatched"):
    room: str


# Changes to a message: each has its own place in the order of messages (``seq``, from
# the same sequence as message ids), so a resume with ``since`` replays the ones missed.


class Reaction(_Frame, tag="reaction"):
    """``user`` added (``on``) or took back their reaction ``emoji`` on message ``id``."""

    id: int
    seq: int
    user: str
    emoji: str
    on: bool
    room: str | None = None
    to: str | None = None


class Edited(_Frame, tag="edited"):
    """Message ``id`` of ``user`` now says ``text`` (edited at ``edited``)."""

    id: int
    seq: int
    user: str
    text: str
    edited: str
    room: str | None = None
    to: str | None = None


class Deleted(_Frame, tag="deleted"):
    """Message ``id`` was deleted by ``by``."""

    id: int
    seq: int
    by: str
    room: str | None = None
    to: str | None = None


#: A change to a message, delivered in order with the messages.
Change = Reaction | Edited | Deleted


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
    | Watching
    | Unwatched
    | Reaction
    | Edited
    | Deleted
)
