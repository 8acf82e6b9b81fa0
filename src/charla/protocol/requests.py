"""The one table of everything a client can ask: typed requests and their ``/commands``.

Each :class:`Request` names a client frame type and says how the connection treats it:
whether it costs a token of the rate limit, whether it publishes a message (and so may
run while earlier messages are still on their way to the disk), and, for those a user can
type, the ``/command`` names (Spanish first, English aliases), the arguments and the help
line. The server dispatches on it, ``/ayuda`` is written from it, and the full-screen
client completes and explains commands from it: no list of commands exists twice.

``/command`` text in a ``say`` becomes the same typed frame a program would send
(:func:`parse_command`), so both paths reach one handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from ..i18n import Msgid
from .emoji import expand_shortcode
from .errors import BadUsage, Code, ProtocolError
from .frames import (
    Away,
    Back,
    Ban,
    Bot,
    ClientBans,
    ClientDms,
    ClientFrame,
    ClientHistory,
    ClientMode,
    ClientModlog,
    ClientPing,
    ClientPong,
    ClientRooms,
    ClientTags,
    ClientTyping,
    ClientUsers,
    Delete,
    Deop,
    Devoice,
    Edit,
    Hello,
    Help,
    Invite,
    Join,
    Kick,
    Kill,
    MarkRead,
    Me,
    Msg,
    Mute,
    Nick,
    Op,
    Owner,
    Part,
    Passwd,
    Quit,
    React,
    Register,
    Say,
    Search,
    Topic,
    Unban,
    Unmute,
    Unregister,
    Unwatch,
    Voice,
    Watch,
)
from .modcommands import (
    parse_ban,
    parse_bans,
    parse_kick,
    parse_kill,
    parse_mode,
    parse_modlog,
    parse_mute,
    parse_topic,
    parse_unban,
    room_nick_parser,
)
from .names import DEFAULT_ROOM

__all__ = [
    "COMMANDS",
    "REQUESTS",
    "Request",
    "parse_command",
    "request_for",
    "request_names",
]

#: Turns the text after a command word (and the room it was typed in) into a frame.
Parser = Callable[[str, str, "str | None"], ClientFrame]


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    frame: type[ClientFrame]
    #: ``/command`` names, Spanish first; empty for requests only programs send.
    names: tuple[str, ...] = ()
    #: Arguments and what it does, as shown by ``/ayuda`` (msgids, translated by i18n).
    usage: str = ""
    summary: str = ""
    parse: Parser | None = None
    #: Costs a token of the client's rate limit.
    metered: bool = True
    #: Publishes a message: it may start while the client's earlier messages are still
    #: being stored (the bus keeps their order); anything else waits for them, so its
    #: answer comes after theirs.
    publishes: bool = False
    #: Handled before ``welcome`` too.
    before_welcome: bool = False


def _words(args: str, count: int) -> list[str]:
    """Split ``args`` into ``count`` words, the last one taking the rest of the line."""
    parts = args.split(maxsplit=count - 1)
    if len(parts) < count:
        raise BadUsage
    return parts


def _first_or(args: str, default: str) -> str:
    words = args.split()
    return words[0] if words else default


def _parse_users(args: str, room: str, label: str | None) -> ClientFrame:
    return ClientUsers(room=_first_or(args, room), label=label)


def _parse_join(args: str, room: str, label: str | None) -> ClientFrame:
    (name,) = _words(args, 1)
    return Join(room=name.strip(), label=label)


def _parse_part(args: str, room: str, label: str | None) -> ClientFrame:
    return Part(room=_first_or(args, room), label=label)


def _parse_rooms(args: str, room: str, label: str | None) -> ClientFrame:
    return ClientRooms(label=label)


def _parse_msg(args: str, room: str, label: str | None) -> ClientFrame:
    to, text = _words(args, 2)
    return Msg(to=to, text=text, label=label)


def _parse_nick(args: str, room: str, label: str | None) -> ClientFrame:
    (nick,) = _words(args, 1)
    return Nick(nick=nick.strip(), label=label)


def _parse_me(args: str, room: str, label: str | None) -> ClientFrame:
    (text,) = _words(args, 1)
    return Me(text=text, room=room, label=label)


def _parse_register(args: str, room: str, label: str | None) -> ClientFrame:
    (password,) = _words(args, 1)
    return Register(password=password, label=label)


def _parse_unregister(args: str, room: str, label: str | None) -> ClientFrame:
    (password,) = _words(args, 1)
    return Unregister(password=password, label=label)


def _parse_passwd(args: str, room: str, label: str | None) -> ClientFrame:
    old, new = _words(args, 2)
    return Passwd(old=old, new=new.strip(), label=label)


def _parse_help(args: str, room: str, label: str | None) -> ClientFrame:
    return Help(label=label)


def _parse_search(args: str, room: str, label: str | None) -> ClientFrame:
    (query,) = _words(args, 1)
    return Search(query=query.strip(), label=label)


def _parse_dms(args: str, room: str, label: str | None) -> ClientFrame:
    return ClientDms(label=label)


def _parse_away(args: str, room: str, label: str | None) -> ClientFrame:
    return Away(text=args.strip() or None, label=label)


def _parse_back(args: str, room: str, label: str | None) -> ClientFrame:
    return Back(label=label)


def _message_id(word: str) -> int:
    """A message id as typed (``123`` or ``#123``)."""
    digits = word.removeprefix("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        raise BadUsage("usage: /{command} {arguments} (a message number)")
    return int(digits)


def _parse_reply(args: str, room: str, label: str | None) -> ClientFrame:
    word, text = _words(args, 2)
    return Say(text=text, room=room, reply_to=_message_id(word), label=label)


def _parse_react(args: str, room: str, label: str | None) -> ClientFrame:
    word, emoji = _words(args, 2)
    return React(id=_message_id(word), emoji=expand_shortcode(emoji.strip()), label=label)


def _parse_edit(args: str, room: str, label: str | None) -> ClientFrame:
    word, text = _words(args, 2)
    return Edit(id=_message_id(word), text=text, label=label)


def _parse_delete(args: str, room: str, label: str | None) -> ClientFrame:
    (word,) = _words(args, 1)
    return Delete(id=_message_id(word.strip()), label=label)


def _parse_quit(args: str, room: str, label: str | None) -> ClientFrame:
    # No reason given, none told: "quit" would read as one.
    return Quit(reason=args.strip(), label=label)


REQUESTS: tuple[Request, ...] = (
    # Typed only.
    Request(frame=Hello, before_welcome=True),
    Request(frame=Say, publishes=True),
    Request(frame=ClientHistory),
    Request(frame=Watch),
    Request(frame=Unwatch),
    # Keep-alive and barrier: a ping is answered after everything sent before it.
    Request(frame=ClientPing, before_welcome=True),
    Request(frame=ClientPong, metered=False, before_welcome=True),
    # Typed, and typed as /commands (the order of /ayuda).
    Request(
        frame=ClientUsers,
        names=("usuarios", "users"),
        usage="[room]",
        summary="list the users of a room",
        parse=_parse_users,
    ),
    Request(
        frame=Join,
        names=("unirse", "join"),
        usage="<room>",
        summary="join a room (created if new)",
        parse=_parse_join,
    ),
    Request(
        frame=Part,
        names=("dejar", "part", "leave"),
        usage="[room]",
        summary="leave a room",
        parse=_parse_part,
    ),
    Request(
        frame=ClientRooms,
        names=("salas", "rooms"),
        summary="list the rooms",
        parse=_parse_rooms,
    ),
    Request(
        frame=Msg,
        names=("msg", "m"),
        usage="<nick> <text>",
        summary="send a private message",
        parse=_parse_msg,
        publishes=True,
    ),
    Request(
        frame=Nick,
        names=("nick",),
        usage="<new nick>",
        summary="change your nick",
        parse=_parse_nick,
    ),
    Request(
        frame=Me,
        names=("me",),
        usage="<action>",
        summary="describe what you do",
        parse=_parse_me,
        publishes=True,
    ),
    Request(
        frame=Register,
        names=("registrar", "register"),
        usage="<password>",
        summary="register your nick",
        parse=_parse_register,
    ),
    Request(
        frame=Unregister,
        names=("desregistrar", "unregister"),
        usage="<password>",
        summary="drop your nick's registration",
        parse=_parse_unregister,
    ),
    Request(
        frame=Passwd,
        names=("clave", "passwd"),
        usage="<old> <new>",
        summary="change your password",
        parse=_parse_passwd,
    ),
    Request(
        frame=Search,
        names=("buscar", "search"),
        usage="<words>",
        summary='find messages ("phrase", prefix*, from:nick, in:#room, before:/after:DATE)',
        parse=_parse_search,
    ),
    Request(
        frame=ClientDms,
        names=("privados", "dms"),
        summary="list your direct conversations",
        parse=_parse_dms,
    ),
    Request(
        frame=Say,
        names=("responder", "reply"),
        usage="<id> <text>",
        summary="answer message <id> (in its thread)",
        parse=_parse_reply,
        publishes=True,
    ),
    Request(
        frame=React,
        names=("reaccionar", "react"),
        usage="<id> <emoji>",
        summary="add or take back a reaction (👍, :+1:…)",
        parse=_parse_react,
        publishes=True,
    ),
    Request(
        frame=Edit,
        names=("editar", "edit"),
        usage="<id> <text>",
        summary="change the text of your message <id>",
        parse=_parse_edit,
        publishes=True,
    ),
    Request(
        frame=Delete,
        names=("borrar", "delete"),
        usage="<id>",
        summary="delete your message <id>",
        parse=_parse_delete,
        publishes=True,
    ),
    Request(frame=Help, names=("ayuda", "help"), summary="show this help", parse=_parse_help),
    Request(
        frame=Quit,
        names=("salir", "quit", "exit"),
        summary="leave the chat",
        parse=_parse_quit,
        metered=False,
        before_welcome=True,
    ),
    # Moderation (docs/moderation.md): typed in a room, they act on that room.
    Request(
        frame=Topic,
        names=("tema", "topic"),
        usage="[text | -]",
        summary="read or set the room's topic (- clears it)",
        parse=parse_topic,
    ),
    Request(
        frame=Kick,
        names=("echar", "kick"),
        usage="<nick> [reason]",
        summary="put a user out of the room",
        parse=parse_kick,
    ),
    Request(
        frame=Ban,
        names=("vetar", "ban"),
        usage="[*] <nick> [duration] [reason]",
        summary="keep a user out of the room (* : of the server) for a while (10m, 2h, 7d)",
        parse=parse_ban,
    ),
    Request(
        frame=Unban,
        names=("desvetar", "unban"),
        usage="[*] <nick>",
        summary="lift a ban",
        parse=parse_unban,
    ),
    Request(
        frame=ClientBans,
        names=("vetados", "bans"),
        usage="[*]",
        summary="list the bans of the room (* : of the server)",
        parse=parse_bans,
    ),
    Request(
        frame=Mute,
        names=("silenciar", "mute"),
        usage="<nick> [duration] [reason]",
        summary="keep a user from speaking in the room",
        parse=parse_mute,
    ),
    Request(
        frame=Unmute,
        names=("desilenciar", "unmute"),
        usage="<nick>",
        summary="let a muted user speak again",
        parse=room_nick_parser(Unmute),
    ),
    Request(
        frame=Invite,
        names=("invitar", "invite"),
        usage="<nick>",
        summary="let a user join this invite-only room",
        parse=room_nick_parser(Invite),
    ),
    Request(
        frame=ClientMode,
        names=("modo", "mode"),
        usage="[+i|-i] [+m|-m] [+s <seconds>|-s] [+t|-t]",
        summary="invite-only, moderated, slow mode, topic by moderators only (alone: show them)",
        parse=parse_mode,
    ),
    Request(
        frame=Voice,
        names=("voz", "voice"),
        usage="<nick>",
        summary="let a user speak in a moderated room",
        parse=room_nick_parser(Voice),
    ),
    Request(
        frame=Devoice,
        names=("quitarvoz", "devoice"),
        usage="<nick>",
        summary="take a user's voice away",
        parse=room_nick_parser(Devoice),
    ),
    Request(
        frame=Op,
        names=("op",),
        usage="<nick>",
        summary="name a moderator of the room (owners)",
        parse=room_nick_parser(Op),
    ),
    Request(
        frame=Deop,
        names=("deop",),
        usage="<nick>",
        summary="take a moderator's role away (owners)",
        parse=room_nick_parser(Deop),
    ),
    Request(
        frame=Owner,
        names=("dueño", "owner"),
        usage="<nick>",
        summary="give the room to a registered nick (operators)",
        parse=room_nick_parser(Owner),
    ),
    Request(
        frame=Kill,
        names=("desconectar", "kill"),
        usage="<nick> [reason]",
        summary="disconnect a user from the server (operators)",
        parse=parse_kill,
    ),
    Request(
        frame=ClientModlog,
        names=("registro", "modlog"),
        usage="[*]",
        summary="the room's moderation log (* : the server's)",
        parse=parse_modlog,
    ),
    # Sessions and read markers (typed only: a client marks what its user has seen).
    Request(frame=MarkRead),
    # Away, typing and client tags (typing and tags: typed only, sent by a client as its
    # user types or for a client-only tag with no message, IRC's TAGMSG).
    Request(
        frame=Away,
        names=("ausente", "away"),
        usage="[text]",
        summary="say you are away (who writes to you is told)",
        parse=_parse_away,
    ),
    Request(frame=Back, names=("vuelvo", "back"), summary="say you are back", parse=_parse_back),
    # A program says so (typed only: IRC's bot mode, MODE nick +B).
    Request(frame=Bot),
    Request(frame=ClientTyping),
    Request(frame=ClientTags),
)

# A frame may have several rows (``say`` and ``/responder``): its first row says how it
# is treated.
_BY_FRAME: dict[type[ClientFrame], Request] = {r.frame: r for r in reversed(REQUESTS)}
#: Every ``/command`` name (and alias) to its request.
COMMANDS: dict[str, Request] = {name: r for r in REQUESTS for name in r.names}


def request_for(frame: ClientFrame) -> Request:
    """How the connection treats ``frame``."""
    return _BY_FRAME[type(frame)]


def request_names(frame: type[ClientFrame]) -> tuple[str, ...]:
    """The ``/command`` names of requests of type ``frame``."""
    return _BY_FRAME[frame].names


def parse_command(say: Say) -> ClientFrame:
    """The frame a ``say`` stands for: itself, or the typed request of its ``/command``.

    ``//text`` says ``/text``. Raises :class:`ProtocolError` for an unknown command or
    missing arguments.
    """
    text = say.text
    if not text.startswith("/"):
        return say
    if text.startswith("//"):
        # The same say (a notice, a reply, its tags) without the escaping slash.
        wraps = [wrap - 1 for wrap in say.wraps or () if wrap > 1] or None
        return msgspec.structs.replace(say, text=text[1:], wraps=wraps)
    word, _, args = text[1:].partition(" ")
    request = COMMANDS.get(word.lower())
    if request is None or request.parse is None:
        raise ProtocolError(
            Code.UNKNOWN_COMMAND, "unknown command /{command} (try /ayuda)", command=word[:40]
        )
    try:
        return request.parse(args, say.room or DEFAULT_ROOM, say.label)
    except BadUsage as bad:  # the command as typed, its arguments in the user's language
        raise ProtocolError(
            Code.BAD_ARGUMENTS,
            bad.template,
            command=word.lower(),
            arguments=Msgid(request.usage),
        ) from None
