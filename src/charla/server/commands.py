"""Commands typed as ``/word args`` in a ``say`` frame.

A table maps every name (Spanish first, English aliases) to one small handler. A handler
gets the hub, the connection, the text after the command word, and the room the ``say``
was sent in; it answers with frames or raises :class:`ProtocolError`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..i18n import tr
from ..protocol import (
    Code,
    ProtocolError,
    RoomInfo,
    Rooms,
    System,
    Users,
    nick_key,
    normalize_nick,
    normalize_room,
)
from .accounts import MIN_PASSWORD

if TYPE_CHECKING:
    from .connection import Connection
    from .hub import Hub

__all__ = ["COMMANDS", "help_text", "run_command"]

Handler = Callable[["Hub", "Connection", str, str], None]


@dataclass(frozen=True, slots=True)
class Command:
    names: tuple[str, ...]
    handler: Handler
    #: Arguments as shown in /help, and what the command does (msgids for i18n).
    usage: str
    summary: str


def _words(args: str, count: int, usage: str) -> list[str]:
    """Split ``args`` into ``count`` words, the last one taking the rest of the line."""
    parts = args.split(maxsplit=count - 1) if count else []
    if len(parts) < count:
        raise ProtocolError(Code.BAD_ARGUMENTS, f"usage: {usage}")
    return parts


# --- handlers ----------------------------------------------------------------------------


def _users(hub: Hub, conn: Connection, args: str, room: str) -> None:
    name = normalize_room(args.split()[0]) if args.strip() else room
    conn.send_frame(Users(room=name, users=hub.room_users(name)))


def _quit(hub: Hub, conn: Connection, args: str, room: str) -> None:
    hub.quit(conn, args.strip() or "quit")


def _join(hub: Hub, conn: Connection, args: str, room: str) -> None:
    (name,) = _words(args, 1, "/join <room>")
    hub.join(conn, normalize_room(name))


def _part(hub: Hub, conn: Connection, args: str, room: str) -> None:
    hub.part(conn, normalize_room(args.split()[0]) if args.strip() else room)


def _rooms(hub: Hub, conn: Connection, args: str, room: str) -> None:
    elsewhere = hub.presence.room_sizes()
    names = sorted({*hub.rooms, *conn.rooms, *elsewhere})
    infos = [
        RoomInfo(
            name=n,
            users=(len(hub.rooms[n]) if n in hub.rooms else 0) + elsewhere.get(n, 0),
            joined=n in conn.rooms,
        )
        for n in names
    ]
    conn.send_frame(Rooms(rooms=infos))


def _msg(hub: Hub, conn: Connection, args: str, room: str) -> None:
    to, text = _words(args, 2, "/msg <nick> <text>")
    hub.direct(conn, to, text)


def _nick(hub: Hub, conn: Connection, args: str, room: str) -> None:
    (raw,) = _words(args, 1, "/nick <new nick>")
    new = normalize_nick(raw.strip())
    holder = hub.nicks.get(nick_key(new))
    if holder is not None and holder is not conn:
        raise ProtocolError(Code.NICK_TAKEN, f"{new} is already in use")
    if hub.accounts.is_registered(new) and nick_key(new) != nick_key(conn.nick or ""):
        raise ProtocolError(
            Code.NICK_REGISTERED, f"{new} is registered: reconnect with its password"
        )
    if nick_key(new) == nick_key(conn.nick or ""):
        hub.rename(conn, new)  # only the spelling changes: the claim is already ours
    else:
        hub.with_nick(conn, new, lambda: hub.rename(conn, new))


def _me(hub: Hub, conn: Connection, args: str, room: str) -> None:
    (text,) = _words(args, 1, "/me <action>")
    hub.say(conn, room, text, action=True)


def _help(hub: Hub, conn: Connection, args: str, room: str) -> None:
    conn.send_frame(System(event="help", text=help_text(conn.lang)))


def _register(hub: Hub, conn: Connection, args: str, room: str) -> None:
    (password,) = _words(args, 1, "/register <password>")
    _check_password(password)
    nick = conn.nick or ""
    if hub.accounts.is_registered(nick):
        raise ProtocolError(Code.NICK_REGISTERED, f"{nick} is already registered")

    async def register() -> None:
        await hub.accounts.register(nick, password)
        _account_event(conn, "registered", "{user} is now registered")

    hub.spawn_for(conn, _answering(conn, register()))


def _unregister(hub: Hub, conn: Connection, args: str, room: str) -> None:
    (password,) = _words(args, 1, "/unregister <password>")
    nick = conn.nick or ""

    async def unregister() -> None:
        if await _verified(hub, conn, nick, password):
            await hub.accounts.unregister(nick)
            _account_event(conn, "unregistered", "{user} is no longer registered")

    hub.spawn_for(conn, _answering(conn, unregister()))


def _passwd(hub: Hub, conn: Connection, args: str, room: str) -> None:
    old, new = _words(args, 2, "/passwd <old> <new>")
    new = new.strip()
    _check_password(new)
    nick = conn.nick or ""

    async def change() -> None:
        if await _verified(hub, conn, nick, old):
            await hub.accounts.change_password(nick, new)
            _account_event(conn, "password_changed", "password changed")

    hub.spawn_for(conn, _answering(conn, change()))


def _account_event(conn: Connection, event: str, message: str) -> None:
    """Confirm an account change to its owner, in the owner's language."""
    conn.send_frame(
        System(event=event, user=conn.nick, text=tr(conn.lang, message, user=conn.nick))
    )


async def _answering(conn: Connection, work: Coroutine[object, object, None]) -> None:
    """Run an account command's slow part; a refusal (e.g. the cluster's store being
    unreachable) is answered to the client rather than lost in the log."""
    try:
        await work
    except ProtocolError as exc:
        conn.fail(exc)


async def _verified(hub: Hub, conn: Connection, nick: str, password: str) -> bool:
    if not hub.accounts.is_registered(nick):
        conn.send_error(Code.NOT_REGISTERED, f"{nick} is not registered")
        return False
    if not await hub.passwords.verify(conn.peer, nick, password):
        conn.send_error(Code.BAD_PASSWORD, "wrong password")
        return False
    return True


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ProtocolError(
            Code.PASSWORD_TOO_SHORT, f"a password needs at least {MIN_PASSWORD} characters"
        )


# --- the table ---------------------------------------------------------------------------

_TABLE = (
    Command(("usuarios", "users"), _users, "[room]", "list the users of a room"),
    Command(("unirse", "join"), _join, "<room>", "join a room (created if new)"),
    Command(("dejar", "part", "leave"), _part, "[room]", "leave a room"),
    Command(("salas", "rooms"), _rooms, "", "list the rooms"),
    Command(("msg", "m"), _msg, "<nick> <text>", "send a private message"),
    Command(("nick",), _nick, "<new nick>", "change your nick"),
    Command(("me",), _me, "<action>", "describe what you do"),
    Command(("registrar", "register"), _register, "<password>", "register your nick"),
    Command(
        ("desregistrar", "unregister"), _unregister, "<password>", "drop your nick's registration"
    ),
    Command(("clave", "passwd"), _passwd, "<old> <new>", "change your password"),
    Command(("ayuda", "help"), _help, "", "show this help"),
    Command(("salir", "quit", "exit"), _quit, "", "leave the chat"),
)
COMMANDS: dict[str, Command] = {name: cmd for cmd in _TABLE for name in cmd.names}


def run_command(hub: Hub, conn: Connection, text: str, room: str) -> None:
    """Run the ``/command`` in ``text`` (which starts with a single ``/``)."""
    word, _, args = text[1:].partition(" ")
    command = COMMANDS.get(word.lower())
    if command is None:
        raise ProtocolError(Code.UNKNOWN_COMMAND, f"unknown command /{word[:40]} (try /ayuda)")
    command.handler(hub, conn, args, room)


def help_text(lang: str) -> str:
    """One line per command, names and aliases, in ``lang``."""
    lines = [tr(lang, "Commands:")]
    for cmd in _TABLE:
        names = ", ".join("/" + n for n in cmd.names)
        usage = f" {tr(lang, cmd.usage)}" if cmd.usage else ""
        lines.append(f"  {names}{usage} — {tr(lang, cmd.summary)}")
    lines.append("  //text — " + tr(lang, "send text that starts with /"))
    return "\n".join(lines)
