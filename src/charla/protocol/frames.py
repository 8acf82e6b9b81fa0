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

from typing import Annotated, Literal

import msgspec

from .tags import MAX_TAGS_BYTES
from .wraps import MAX_WRAPS

__all__ = [
    "Away",
    "Back",
    "Ban",
    "BanInfo",
    "Bans",
    "Bot",
    "Bye",
    "Change",
    "ClientBans",
    "ClientDms",
    "ClientFrame",
    "ClientHistory",
    "ClientMode",
    "ClientModlog",
    "ClientPing",
    "ClientPong",
    "ClientRooms",
    "ClientTags",
    "ClientTyping",
    "ClientUsers",
    "Conversation",
    "Delete",
    "Deleted",
    "Deop",
    "Devoice",
    "Dms",
    "Edit",
    "Edited",
    "Error",
    "Hello",
    "Help",
    "History",
    "Invite",
    "Join",
    "Joined",
    "Kick",
    "Kill",
    "Label",
    "MarkRead",
    "Me",
    "Message",
    "ModEntry",
    "Modlog",
    "Msg",
    "Mute",
    "Nick",
    "Op",
    "Owner",
    "Parent",
    "Part",
    "Parted",
    "Passwd",
    "Ping",
    "Pong",
    "Quit",
    "React",
    "Reaction",
    "Read",
    "Register",
    "RelayedTags",
    "Results",
    "RoomInfo",
    "RoomMode",
    "Rooms",
    "Say",
    "Search",
    "ServerFrame",
    "ServerInfo",
    "System",
    "Topic",
    "Typing",
    "Unban",
    "Unmute",
    "Unregister",
    "Unwatch",
    "Unwatched",
    "UserAway",
    "UserBack",
    "Users",
    "Voice",
    "Watch",
    "Watching",
    "Welcome",
]


#: A message id from a client (``since``, ``before``): what SQLite's INTEGER holds, so a
#: huge number is a ``bad_frame`` and not an overflow deep in the store.
Id = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
#: Client-only tags (checked by :func:`~charla.protocol.tags.check_tags`); the shortest,
#: ``+a`` and its ``;``, take 3 bytes.
Tags = Annotated[dict[str, str], msgspec.Meta(max_length=MAX_TAGS_BYTES // 3 + 1)]
#: Where the author's lines were cut without a line feed (checked by
#: :func:`~charla.protocol.wraps.clean_wrapped`).
Wraps = Annotated[list[Annotated[int, msgspec.Meta(ge=1)]], msgspec.Meta(max_length=MAX_WRAPS)]


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
    #: False: the default room is not joined either (a reader that only ``watch``es).
    join_default: bool = True
    #: True: tell me when somebody I share a room with goes away or comes back
    #: (:class:`UserAway`, :class:`UserBack`).
    away_notify: bool = False
    #: True: this client is a program, not a person: its messages carry ``bot``
    #: (IRC's bot mode, ``+B``); :class:`Bot` changes it later.
    bot: bool = False


class Say(_Frame, tag="say"):
    text: str
    room: str | None = None
    #: The id of the message this one answers (same room).
    reply_to: Id | None = None
    #: A notice (IRC's ``NOTICE``): a message programs must never answer automatically.
    notice: bool = False
    #: Client-only tags (``+name`` -> value) carried to the readers (docs/protocol.md).
    tags: Tags | None = None
    #: Where the author's client cut a line without a line feed: offsets into ``text``
    #: (IRC's multiline-concat; docs/protocol.md).
    wraps: Wraps | None = None


class ClientHistory(_Frame, tag="history"):
    """A page of older messages: the newest ``limit`` of ``room`` older than ``before``;
    with ``around``, the messages around that id; with ``with_`` (``"with"`` on the wire),
    the direct conversation with that nick instead of a room."""

    room: str = "general"
    before: Id | None = None
    limit: int = 50
    around: Id | None = None
    with_: str | None = msgspec.field(default=None, name="with")
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
    #: Told to the room with the leave (IRC's part message).
    reason: str | None = None


class Watch(_Frame, tag="watch"):
    """Read a room without joining it: its history, then its messages, unannounced."""

    room: str


class Unwatch(_Frame, tag="unwatch"):
    room: str


class ClientUsers(_Frame, tag="users"):
    """Who is in ``room``; any room may be asked about, joined or not. ``after``: the
    next page, the names that come after this one (the last of the previous page)."""

    room: str = "general"
    after: Annotated[str, msgspec.Meta(max_length=256)] | None = None


class ClientRooms(_Frame, tag="rooms"):
    pass


class Msg(_Frame, tag="msg"):
    """A direct message."""

    to: str
    text: str
    #: The id of the message this one answers (the same direct conversation).
    reply_to: Id | None = None
    #: A notice (see ``say``).
    notice: bool = False
    #: Client-only tags (see ``say``).
    tags: Tags | None = None
    #: Where lines were cut without a line feed (see ``say``).
    wraps: Wraps | None = None


class Nick(_Frame, tag="nick"):
    nick: str


class Me(_Frame, tag="me"):
    """An action (``/me``) in ``room`` (the default room when unset)."""

    text: str
    room: str | None = None
    reply_to: Id | None = None
    #: Client-only tags (see ``say``).
    tags: Tags | None = None
    #: Where lines were cut without a line feed (see ``say``).
    wraps: Wraps | None = None


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


class Search(_Frame, tag="search"):
    """Find messages: words, ``"phrases"``, ``prefix*``, ``from:``, ``in:``, ``before:``,
    ``after:``; newest first, ``limit`` at a time, older than ``before`` (an id)."""

    query: str
    room: str | None = None
    limit: int = 20
    before: Id | None = None


class ClientDms(_Frame, tag="dms"):
    """List my direct conversations (registered nicks only)."""


# --- client -> server: moderation (docs/moderation.md) ---------------------------------

#: A ban's or mute's length in seconds (at most ten years; none = until lifted).
Duration = Annotated[int, msgspec.Meta(ge=1, le=10 * 365 * 86400)]
#: Why: shown to the user and kept in the moderation log.
Reason = Annotated[str, msgspec.Meta(max_length=300)]
#: Seconds between two messages of one user in slow mode (0 = off).
SlowSeconds = Annotated[int, msgspec.Meta(ge=0, le=86400)]


class Topic(_Frame, tag="topic"):
    """Read the room's topic (no ``text``), set it, or clear it (empty ``text``)."""

    room: str
    text: str | None = None


class Kick(_Frame, tag="kick"):
    room: str
    nick: str
    reason: Reason | None = None


class Ban(_Frame, tag="ban"):
    """Keep ``nick`` out of ``room``, or of the whole server with ``server`` (operators)."""

    nick: str
    room: str | None = None
    server: bool = False
    duration: Duration | None = None
    reason: Reason | None = None


class Unban(_Frame, tag="unban"):
    nick: str
    room: str | None = None
    server: bool = False


class ClientBans(_Frame, tag="bans"):
    room: str | None = None
    server: bool = False


class Mute(_Frame, tag="mute"):
    room: str
    nick: str
    duration: Duration | None = None
    reason: Reason | None = None


class Unmute(_Frame, tag="unmute"):
    room: str
    nick: str


class Invite(_Frame, tag="invite"):
    room: str
    nick: str


class ClientMode(_Frame, tag="mode"):
    """Change the modes given; with none, read them."""

    room: str
    invite_only: bool | None = None
    moderated: bool | None = None
    slow: SlowSeconds | None = None
    #: Anyone in the room may set the topic though the room has moderators (IRC ``-t``).
    open_topic: bool | None = None


class Voice(_Frame, tag="voice"):
    room: str
    nick: str


class Devoice(_Frame, tag="devoice"):
    room: str
    nick: str


class Op(_Frame, tag="op"):
    """An owner names a moderator of the room."""

    room: str
    nick: str


class Deop(_Frame, tag="deop"):
    room: str
    nick: str


class Owner(_Frame, tag="owner"):
    """An operator gives the room to a registered nick."""

    room: str
    nick: str


class Kill(_Frame, tag="kill"):
    """An operator disconnects a user."""

    nick: str
    reason: Reason | None = None


class ClientModlog(_Frame, tag="modlog"):
    """A page of a room's moderation log (the server's with ``server``), newest last."""

    room: str | None = None
    server: bool = False
    before: Id | None = None
    limit: int = 50


# --- client -> server: sessions and read markers (docs/protocol.md) --------------------


class MarkRead(_Frame, tag="mark_read"):
    """Everything up to ``id`` in ``room`` (or the direct conversation ``with_``) is
    read; the marker only moves forward."""

    id: Id
    room: str | None = None
    with_: str | None = msgspec.field(default=None, name="with")


#: What an away message may say.
AwayText = Annotated[str, msgspec.Meta(max_length=300)]


class Away(_Frame, tag="away"):
    """I am away (``text``: why, shown to who writes to me)."""

    text: AwayText | None = None


class Back(_Frame, tag="back"):
    """I am back."""


class Bot(_Frame, tag="bot"):
    """This session is a program (``on``), or no longer one: the messages it sends from
    now on carry ``bot`` (IRC's bot mode, ``MODE nick +B``)."""

    on: bool = True


class ClientTyping(_Frame, tag="typing"):
    """I am typing in ``room`` (or to ``to``): relayed, never stored, at most one every
    3 s per user and conversation."""

    state: Literal["active", "paused", "done"]
    room: str | None = None
    to: str | None = None


class ClientTags(_Frame, tag="tags"):
    """Client-only ``tags`` with no message (IRC's ``TAGMSG``) for ``room`` (or ``to``):
    relayed, never stored, at most :data:`~charla.server.activity.TAGS_BURST` every 3 s
    per user and conversation."""

    tags: Tags
    room: str | None = None
    to: str | None = None


class React(_Frame, tag="react"):
    """Toggle the sender's reaction ``emoji`` (one emoji) on message ``id``."""

    id: Id
    emoji: str


class Edit(_Frame, tag="edit"):
    """Replace the text of the sender's own message ``id``."""

    id: Id
    text: str


class Delete(_Frame, tag="delete"):
    """Delete the sender's own message ``id``: its text is gone for good. ``reason`` is
    told with the ``deleted``; with ``room``, a message of another room is not found."""

    id: Id
    reason: str | None = None
    room: str | None = None


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
    | Search
    | ClientDms
    | Topic
    | Kick
    | Ban
    | Unban
    | ClientBans
    | Mute
    | Unmute
    | Invite
    | ClientMode
    | Voice
    | Devoice
    | Op
    | Deop
    | Owner
    | Kill
    | ClientModlog
    | MarkRead
    | Away
    | Back
    | Bot
    | ClientTyping
    | ClientTags
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
    #: For a registered nick: how many sessions it has now, this one included.
    sessions: int | None = None


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
    #: In search results only: the ``[start, end)`` character ranges of ``text`` that
    #: matched the query, for highlighting.
    match: list[tuple[int, int]] | None = None
    #: Posted by a program (an incoming webhook), not typed by a person.
    bot: bool = False
    reply_to: int | None = None
    #: The id of the first message of the thread this reply belongs to.
    thread: int | None = None
    parent: Parent | None = None
    #: When it was last edited (its text is the latest).
    edited: str | None = None
    deleted: bool = False
    #: emoji -> the nicks who reacted with it, in the order they did.
    reactions: dict[str, list[str]] | None = None
    #: A notice (IRC's ``NOTICE``): programs never answer one automatically.
    notice: bool = False
    #: The client-only tags its author put on it.
    tags: Tags | None = None
    #: Where its author's client cut a line without a line feed (see ``say``).
    wraps: list[int] | None = None


class History(_Frame, tag="history", kw_only=True):
    #: Empty (and left off the wire) for a direct conversation, which has ``with_``.
    room: str = ""
    # No defaults for the lists: omit_defaults would leave an empty one off the wire.
    messages: list[Message]
    before: int | None = None
    since: int | None = None
    more: bool = False
    around: int | None = None
    with_: str | None = msgspec.field(default=None, name="with")
    thread: int | None = None


class Users(_Frame, tag="users"):
    room: str
    users: list[str]
    #: How many users there are when ``users`` lists only the first of them.
    total: int | None = None
    #: Roles of listed users who hold one: "operator", "owner", "mod" or "voice".
    roles: dict[str, str] | None = None
    #: More names come after these: ask again with ``after`` = the last one.
    more: bool = False
    #: Listed users who are away.
    away: list[str] | None = None


class System(_Frame, tag="system"):
    event: str
    text: str = ""
    user: str | None = None
    room: str | None = None
    new: str | None = None
    #: Moderation events: who did it, why, until when (ISO time; none = until lifted).
    #: A ``leave``'s reason is its part or quit message.
    by: str | None = None
    reason: str | None = None
    until: str | None = None
    #: A ``leave`` because the user left the server (the same for each of its rooms).
    quit: bool = False


class Error(_Frame, tag="error"):
    code: str
    message: str
    text: str | None = None
    #: Seconds until the refusal ends (``banned``, ``muted``, ``slow_mode``); none when
    #: it lasts until lifted.
    retry_after: float | None = None


class Bye(_Frame, tag="bye"):
    reason: str = ""


class Ping(_Frame, tag="ping"):
    token: str | None = None


class Pong(_Frame, tag="pong"):
    token: str | None = None


class Joined(_Frame, tag="joined"):
    room: str
    topic: str | None = None
    #: The newest id the user has read here (its read marker), when it has one.
    read: int | None = None


class Parted(_Frame, tag="parted"):
    room: str


class RoomInfo(msgspec.Struct, omit_defaults=True, kw_only=True):
    name: str
    users: int
    joined: bool
    #: For a joined room with a read marker: messages after it (counted up to a cap),
    #: and how many of them name the user.
    unread: int | None = None
    mentions: int | None = None


class Rooms(_Frame, tag="rooms"):
    rooms: list[RoomInfo]
    #: How many rooms there are when ``rooms`` lists only the first of them.
    total: int | None = None


class Watching(_Frame, tag="watching"):
    room: str


class Unwatched(_Frame, tag="unwatched"):
    room: str


class Results(_Frame, tag="results"):
    """Search results, newest first; ``more`` when older ones match too (ask again with
    ``before`` set to the last one's id)."""

    query: str
    messages: list[Message]
    more: bool = False


class Conversation(msgspec.Struct, kw_only=True):
    """One direct conversation: the other party, and its newest message."""

    nick: str
    last_id: int
    last_ts: str


class Dms(_Frame, tag="dms"):
    conversations: list[Conversation]


# --- server -> client: moderation (docs/moderation.md) ---------------------------------


class RoomMode(_Frame, tag="mode"):
    room: str
    invite_only: bool = False
    moderated: bool = False
    slow: int = 0
    #: Anyone in the room may set the topic: the moderators said so (``-t``), or nobody
    #: owns or moderates the room.
    open_topic: bool = False


class BanInfo(msgspec.Struct, omit_defaults=True, kw_only=True):
    nick: str
    by: str
    until: str | None = None
    reason: str | None = None
    #: For an unregistered nick, the address it was banned with (operators only).
    address: str | None = None


class Bans(_Frame, tag="bans"):
    bans: list[BanInfo]
    #: Unset for the server-wide bans.
    room: str | None = None


class ModEntry(msgspec.Struct, omit_defaults=True, kw_only=True):
    """One moderation action: who did what to whom, when, why. ``room`` is unset for
    the server's own (operators, server-wide bans, kills)."""

    id: int = 0
    ts: str
    action: str
    by: str
    room: str | None = None
    nick: str | None = None
    address: str | None = None
    until: str | None = None
    reason: str | None = None
    text: str | None = None
    invite_only: bool | None = None
    moderated: bool | None = None
    slow: int | None = None
    open_topic: bool | None = None


class Modlog(_Frame, tag="modlog"):
    entries: list[ModEntry]
    #: Unset for the server's own log.
    room: str | None = None
    more: bool = False


# --- server -> client: read markers -----------------------------------------------------


class Read(_Frame, tag="read"):
    """The user's read marker moved (answer to ``mark_read``, and news to its other
    sessions)."""

    id: int
    room: str | None = None
    with_: str | None = msgspec.field(default=None, name="with")


class Typing(_Frame, tag="typing"):
    """``user`` is typing in ``room`` (or to me, with ``to``); an ``active`` lasts 6 s
    unless refreshed."""

    user: str
    state: str
    room: str | None = None
    to: str | None = None


class RelayedTags(_Frame, tag="tags"):
    """``user`` sent client-only ``tags`` with no message in ``room`` (or to me, with
    ``to``). Never stored; ``ref`` names this relay (the same for each reader, IRC's
    ``msgid`` of the ``TAGMSG``): it is not a message id."""

    user: str
    tags: dict[str, str]
    ref: str = ""
    room: str | None = None
    to: str | None = None


class UserAway(_Frame, tag="away"):
    """``user``, who shares a room with me, is away (``text``: why; empty for no reason).
    Sent only to clients that asked with ``hello.away_notify``."""

    user: str
    text: str = ""


class UserBack(_Frame, tag="back"):
    """``user``, who shares a room with me, is back (``hello.away_notify``)."""

    user: str


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
    """Message ``id`` was deleted by ``by`` (``reason``: why, if it said)."""

    id: int
    seq: int
    by: str
    room: str | None = None
    to: str | None = None
    reason: str | None = None


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
    | Results
    | Dms
    | RoomMode
    | Bans
    | Modlog
    | Read
    | Typing
    | RelayedTags
    | UserAway
    | UserBack
    | Reaction
    | Edited
    | Deleted
)
