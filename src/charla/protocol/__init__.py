"""The charla wire protocol, with no I/O in it.

Newline-delimited JSON over TCP (docs/protocol.md). The server, the clients and the tests
all speak through this package: frames are msgspec structs, :class:`LineSplitter` frames
a byte stream, :func:`encode` and the ``decode_*`` functions convert, and the ``normalize_*``
functions say what a valid nick, room or text is.
"""

from __future__ import annotations

from .codec import (
    DEFAULT_MAX_LINE,
    LineSplitter,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from .errors import Code, ProtocolError
from .frames import (
    Bye,
    ClientFrame,
    ClientHistory,
    ClientPing,
    ClientPong,
    Error,
    Hello,
    History,
    Joined,
    Message,
    Parted,
    Ping,
    Pong,
    RoomInfo,
    Rooms,
    Say,
    ServerFrame,
    ServerInfo,
    System,
    Users,
    Welcome,
)
from .names import (
    DEFAULT_ROOM,
    MAX_NAME,
    MAX_TEXT,
    clean_text,
    format_ts,
    nick_key,
    normalize_nick,
    normalize_room,
)

PROTOCOL_VERSION = 1

__all__ = [
    "DEFAULT_MAX_LINE",
    "DEFAULT_ROOM",
    "MAX_NAME",
    "MAX_TEXT",
    "PROTOCOL_VERSION",
    "Bye",
    "ClientFrame",
    "ClientHistory",
    "ClientPing",
    "ClientPong",
    "Code",
    "Error",
    "Hello",
    "History",
    "Joined",
    "LineSplitter",
    "Message",
    "Parted",
    "Ping",
    "Pong",
    "ProtocolError",
    "RoomInfo",
    "Rooms",
    "Say",
    "ServerFrame",
    "ServerInfo",
    "System",
    "Users",
    "Welcome",
    "clean_text",
    "decode_client_frame",
    "decode_server_frame",
    "encode",
    "format_ts",
    "nick_key",
    "normalize_nick",
    "normalize_room",
]
