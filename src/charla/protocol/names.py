"""Validation of what users type that the protocol gives meaning to: nicks, room names,
message text, and the server's timestamps.

All functions are pure; they return the canonical form or raise :class:`ProtocolError`.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from typing import NamedTuple

from ..i18n import N_
from .errors import Code, ProtocolError
from .unicode_rules import cap_combining_runs, is_blank, is_default_ignorable, skeleton

__all__ = [
    "DEFAULT_ROOM",
    "MAX_NAME",
    "MAX_TEXT",
    "RESERVED_NICKS",
    "clean_text",
    "format_ts",
    "mentions",
    "nick_key",
    "normalize_nick",
    "normalize_room",
    "strip_unsafe",
]

DEFAULT_ROOM = "general"
#: Longest nick or room name, in characters.
MAX_NAME = 32
#: Longest message text, in characters.
MAX_TEXT = 4000

#: Nicks nobody may take (nor anything that looks like them): they would pass for the
#: server or its staff.
RESERVED_NICKS = (
    "server",
    "system",
    "admin",
    "root",
    "charla",
    "operator",
    "moderator",
    "nickserv",
    "chanserv",
)

_NAME_PUNCTUATION = frozenset("_-.")
# C0 and C1 controls except tab and newline, DEL, and the bidi overrides and isolates
# that can make text display in an order other than the one it was written in.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _is_name_char(ch: str) -> bool:
    if ch in _NAME_PUNCTUATION:
        return True
    category = unicodedata.category(ch)
    return category.startswith("L") or category == "Nd"


class _NameRefusals(NamedTuple):
    """What a bad name is told, one sentence per kind of name (each one translated)."""

    length: str
    invisible: str
    characters: str


_NAME_REFUSALS = {
    Code.NICK_INVALID: _NameRefusals(
        N_("a nick must have 1 to {most} characters"),
        N_("a nick may not hold invisible characters"),
        N_("a nick may only hold letters, digits, '_', '-' and '.': {name}"),
    ),
    Code.ROOM_INVALID: _NameRefusals(
        N_("a room name must have 1 to {most} characters"),
        N_("a room name may not hold invisible characters"),
        N_("a room name may only hold letters, digits, '_', '-' and '.': {name}"),
    ),
}


def _check_name(name: str, code: Code) -> str:
    refusals = _NAME_REFUSALS[code]
    name = unicodedata.normalize("NFC", name)
    if not 1 <= len(name) <= MAX_NAME:
        raise ProtocolError(code, refusals.length, most=MAX_NAME)
    # Checked first: a Hangul filler is a letter, and would pass the test below.
    if any(map(is_default_ignorable, name)):
        raise ProtocolError(code, refusals.invisible)
    if not all(map(_is_name_char, name)):
        raise ProtocolError(code, refusals.characters, name=repr(name[:40]))
    return name


def normalize_nick(raw: str) -> str:
    """The nick as it will be shown: NFC, 1-32 letters, digits, ``_ - .``, nothing
    invisible, and not one of :data:`RESERVED_NICKS` (nor anything that looks like one)."""
    nick = _check_name(raw, Code.NICK_INVALID)
    if nick_key(nick) in _RESERVED_KEYS:
        raise ProtocolError(Code.NICK_INVALID, "the nick {nick} is reserved", nick=repr(nick))
    return nick


def nick_key(nick: str) -> str:
    """What two nicks are compared by: two nicks with the same key are the same user.

    Case does not count (``Ana``, ``ana``), nor compatibility forms (fullwidth ``ａｎａ``),
    nor letters of other scripts that look the same (``аna`` with a Cyrillic ``а``,
    ``Αna`` with a Greek ``Α``): NFKC, case folding, the UTS #39 skeleton, and case
    folding again (the skeleton's prototypes may be capitals: ``0`` looks like ``O``).
    Keys are for comparing only, never for display.
    """
    folded = unicodedata.normalize("NFKC", nick).casefold()
    return skeleton(folded).casefold()


_RESERVED_KEYS = frozenset(map(nick_key, RESERVED_NICKS))


def normalize_room(raw: str) -> str:
    """A room name in canonical form: a leading ``#`` dropped, NFC, lowercased."""
    return _check_name(raw.removeprefix("#"), Code.ROOM_INVALID).lower()


def strip_unsafe(text: str) -> str:
    """``text`` without the control characters no message may hold (tabs and line
    feeds stay)."""
    return _UNSAFE.sub("", text) if _UNSAFE.search(text) else text


def clean_text(text: str, *, limit: int = MAX_TEXT) -> str:
    """Message text as the server stores it: unsafe control characters removed, tabs
    kept, runs of more than 8 combining marks cut to 8, length checked.
    Raises ``text_too_long``, or ``text_empty`` when nothing visible is left."""
    text = strip_unsafe(text)
    if len(text) > limit:
        raise ProtocolError(
            Code.TEXT_TOO_LONG, "a message may hold at most {most} characters", most=limit
        )
    if all(map(is_blank, text)):
        raise ProtocolError(Code.TEXT_EMPTY, "a message needs some visible text")
    return cap_combining_runs(text)


def mentions(text: str, nick: str) -> bool:
    """Whether ``text`` names ``nick`` as a word (``ana``, ``@ana``, ``ana:``), any case."""
    pattern = rf"(?<![\w]){re.escape(nick.casefold())}(?![\w])"
    return re.search(pattern, text.casefold()) is not None


def format_ts(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds and zone: ``2026-11-25T10:00:00.123Z``."""
    seconds, millis = divmod(round(epoch * 1000), 1000)
    return f"{_utc_second(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=4)
def _utc_second(seconds: int) -> str:
    # Every message is stamped; under load thousands share one second, so the
    # gmtime + strftime (most of the cost) runs once per second, not once per message.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
