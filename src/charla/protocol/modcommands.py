"""How moderation ``/commands`` become typed requests (rows of :mod:`.requests`).

Every room command acts on the room it is typed in. ``*`` before the nick of ``/vetar``,
``/desvetar``, ``/vetados`` and ``/registro`` means the whole server (operators only).
A duration is a number with an optional unit: ``90`` or ``90s``, ``10m``, ``2h``, ``7d``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import BadUsage
from .frames import (
    Ban,
    ClientBans,
    ClientFrame,
    ClientMode,
    ClientModlog,
    Deop,
    Devoice,
    Invite,
    Kick,
    Kill,
    Mute,
    Op,
    Owner,
    Topic,
    Unban,
    Unmute,
    Voice,
)

__all__ = [
    "describe_modes",
    "parse_ban",
    "parse_bans",
    "parse_duration",
    "parse_kick",
    "parse_kill",
    "parse_mode",
    "parse_modlog",
    "parse_mute",
    "parse_topic",
    "parse_unban",
    "room_nick_parser",
]

Parser = Callable[[str, str, "str | None"], ClientFrame]

_DURATION = re.compile(r"([0-9]{1,9})([smhd]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
#: The server-wide marker of the commands that take one.
SERVER = "*"


def parse_duration(word: str) -> int | None:
    """Seconds of ``90``, ``90s``, ``10m``, ``2h``, ``7d``; None when ``word`` is not one."""
    match = _DURATION.fullmatch(word.lower())
    if match is None or int(match[1]) == 0:
        return None
    return int(match[1]) * _UNIT[match[2]]


def _nick_and_rest(args: str) -> tuple[str, str]:
    nick, _, rest = args.strip().partition(" ")
    if not nick:
        raise BadUsage
    return nick, rest.strip()


def _server_scope(args: str) -> tuple[bool, str]:
    """Whether ``args`` start with ``*`` (the whole server), and the rest."""
    head, _, rest = args.strip().partition(" ")
    return (True, rest.strip()) if head == SERVER else (False, args.strip())


def _duration_and_reason(rest: str) -> tuple[int | None, str | None]:
    first, _, after = rest.partition(" ")
    seconds = parse_duration(first) if first else None
    reason = after.strip() if seconds is not None else rest
    return seconds, reason or None


def room_nick_parser(frame: type[Invite | Unmute | Voice | Devoice | Op | Deop | Owner]) -> Parser:
    """The parser of ``/<command> <nick>`` acting on the room it is typed in."""

    def parse(args: str, room: str, label: str | None) -> ClientFrame:
        nick, _ = _nick_and_rest(args)
        return frame(room=room, nick=nick, label=label)

    return parse


def parse_topic(args: str, room: str, label: str | None) -> ClientFrame:
    # "/tema" alone reads it; "/tema -" clears it.
    text = args.strip()
    if not text:
        return Topic(room=room, label=label)
    return Topic(room=room, text="" if text == "-" else text, label=label)


def parse_kick(args: str, room: str, label: str | None) -> ClientFrame:
    nick, reason = _nick_and_rest(args)
    return Kick(room=room, nick=nick, reason=reason or None, label=label)


def parse_kill(args: str, room: str, label: str | None) -> ClientFrame:
    nick, reason = _nick_and_rest(args)
    return Kill(nick=nick, reason=reason or None, label=label)


def parse_ban(args: str, room: str, label: str | None) -> ClientFrame:
    server, args = _server_scope(args)
    nick, rest = _nick_and_rest(args)
    seconds, reason = _duration_and_reason(rest)
    return Ban(
        nick=nick,
        room=None if server else room,
        server=server,
        duration=seconds,
        reason=reason,
        label=label,
    )


def parse_unban(args: str, room: str, label: str | None) -> ClientFrame:
    server, args = _server_scope(args)
    nick, _ = _nick_and_rest(args)
    return Unban(nick=nick, room=None if server else room, server=server, label=label)


def parse_bans(args: str, room: str, label: str | None) -> ClientFrame:
    server, _ = _server_scope(args)
    return ClientBans(room=None if server else room, server=server, label=label)


def parse_modlog(args: str, room: str, label: str | None) -> ClientFrame:
    server, _ = _server_scope(args)
    return ClientModlog(room=None if server else room, server=server, label=label)


def parse_mute(args: str, room: str, label: str | None) -> ClientFrame:
    nick, rest = _nick_and_rest(args)
    seconds, reason = _duration_and_reason(rest)
    return Mute(room=room, nick=nick, duration=seconds, reason=reason, label=label)


def parse_mode(args: str, room: str, label: str | None) -> ClientFrame:
    """``+i``/``-i`` invite-only, ``+m``/``-m`` moderated, ``+s N``/``-s`` slow mode,
    ``+t``/``-t`` the topic for moderators only / open to anyone in the room."""
    frame = ClientMode(room=room, label=label)
    words = args.split()
    while words:
        word = words.pop(0).lower()
        if word in ("+i", "-i"):
            frame.invite_only = word == "+i"
        elif word in ("+m", "-m"):
            frame.moderated = word == "+m"
        elif word in ("+t", "-t"):
            frame.open_topic = word == "-t"
        elif word == "-s":
            frame.slow = 0
        elif word == "+s" and words and (seconds := parse_duration(words[0])) is not None:
            words.pop(0)
            frame.slow = min(seconds, 86400)
        else:
            raise BadUsage
    return frame


def describe_modes(mode: ClientMode) -> str:
    """The changes a ``mode`` request asks for as ``/modo`` writes them (``-i +s 10``);
    empty for none. The inverse of :func:`parse_mode`."""
    words = []
    if mode.invite_only is not None:
        words.append("+i" if mode.invite_only else "-i")
    if mode.moderated is not None:
        words.append("+m" if mode.moderated else "-m")
    if mode.slow is not None:
        words.append(f"+s {mode.slow}" if mode.slow else "-s")
    if mode.open_topic is not None:  # an open topic is IRC's -t
        words.append("-t" if mode.open_topic else "+t")
    return " ".join(words)
