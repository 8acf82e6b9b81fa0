"""What a node accepts from NATS: nothing it would not accept from a client.

Whatever a node reads back (stream entries, presence events, heartbeats, KV records) could
have been written by anyone NATS let in, so it goes through the same rules as a client's
frames. A node writes only canonical values (a nick as ``normalize_nick`` returns it, text
as ``clean_text`` returns it), so a value the rules would change or refuse was not
written by a node: it is skipped whole, never repaired.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable

from ..changes import MODERATOR
from ..protocol import (
    MAX_NAME,
    ProtocolError,
    check_tags,
    clean_text,
    nick_key,
    normalize_nick,
    normalize_room,
)
from ..protocol.emoji import check_emoji
from ..server.rooms import leave_reason
from .settings import valid_node_name

__all__ = [
    "SkipLog",
    "valid_authors",
    "valid_boot",
    "valid_emoji",
    "valid_key",
    "valid_leave_reason",
    "valid_nick",
    "valid_origin",
    "valid_room",
    "valid_tags",
    "valid_text",
    "valid_ts",
]

_BOOT = re.compile(r"[0-9a-f]{1,32}")
_CONNECTION_TOKEN = re.compile(r"c:[0-9a-f]{16}")
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _canonical(value: str, normalize: Callable[[str], str]) -> bool:
    try:
        return normalize(value) == value
    except ProtocolError:
        return False


def valid_nick(nick: str) -> bool:
    return _canonical(nick, normalize_nick)


def valid_room(room: str) -> bool:
    return _canonical(room, normalize_room)


def valid_text(text: str, limit: int) -> bool:
    return _canonical(text, lambda t: clean_text(t, limit=limit))


def valid_leave_reason(reason: str) -> bool:
    """A part or quit message as a room is told it (one line, at most 300 characters)."""
    return _canonical(reason, lambda r: leave_reason(r) or "") and reason != ""


def valid_tags(tags: dict[str, str] | None) -> bool:
    """Client-only tags as a client's ``say`` may carry them (none is valid too)."""
    try:
        check_tags(tags)
    except ProtocolError:
        return False
    return True


def valid_key(key: str) -> bool:
    """A nick key (``nick_key`` of a valid nick). Casefolding may lengthen a nick or
    add combining marks, so the key is held to what it can be, not to nick rules."""
    return (
        0 < len(key) <= 3 * MAX_NAME
        and nick_key(key) == key
        and _canonical(key, lambda k: clean_text(k, limit=3 * MAX_NAME))
        and not any(ch.isspace() for ch in key)
    )


def valid_emoji(emoji: str) -> bool:
    return _canonical(emoji, check_emoji)


def valid_authors(authors: str) -> bool:
    """Author tokens (charla.server.authors), space-separated: a connection's, an
    account's and a moderator's, at most one of each; none for an entry from an older
    node."""
    tokens = authors.split(" ") if authors else []
    connections = [t for t in tokens if _CONNECTION_TOKEN.fullmatch(t)]
    accounts = [t for t in tokens if t.startswith("a:") and valid_key(t[2:])]
    moderators = [t for t in tokens if t == MODERATOR]
    return (
        len(connections) <= 1
        and len(accounts) <= 1
        and len(moderators) <= 1
        and len(tokens) == len(connections) + len(accounts) + len(moderators)
    )


def valid_boot(boot: str) -> bool:
    return _BOOT.fullmatch(boot) is not None


def valid_origin(node: str, boot: str) -> bool:
    """A (node, boot) pair as nodes write them in events, heartbeats and claims."""
    return valid_node_name(node) and valid_boot(boot)


def valid_ts(ts: str) -> bool:
    return _TS.fullmatch(ts) is not None


def all_valid(values: Iterable[str], check: Callable[[str], bool]) -> bool:
    return all(map(check, values))


class SkipLog:
    """Warnings about skipped input, at most one per ``every`` seconds: whoever can
    write to NATS must not also be able to flood the node's log."""

    def __init__(
        self, log: logging.Logger, every: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log = log
        self._every = every
        self._clock = clock
        self._last = -every
        self._quiet = 0

    def skipped(self, what: str, where: object, why: str) -> None:
        now = self._clock()
        if now - self._last < self._every:
            self._quiet += 1
            return
        more = f" (and {self._quiet} more since the last warning)" if self._quiet else ""
        self._log.warning("skipping %s %s from NATS: %s%s", what, where, why, more)
        self._last = now
        self._quiet = 0
