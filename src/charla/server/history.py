"""Sending history without making its reader look slow.

A join's history, a page and a resume can be large (50 messages of 4000 emoji are about
800 KB). Each answer is cut to at most :data:`MAX_ANSWER` bytes, the newest messages
kept, with ``more: true`` when older ones were left out (the client pages back with
``before``); and it is written only once the socket has taken what was sent before, so an
answer is paced by the reader's link and never counted as the reader falling behind.

While a joiner's history is read and paced, the room's new messages (and the reactions,
edits and deletes of its messages) wait for it in a :class:`Backlog` of at most
``resume_cap`` of them. The messages go out in the same answer as the history (newest
kept), the changes right after it; a backlog that overflowed replaces the history with its
newest messages and ``more: true``: the reader sees the room as it is now, pages back for
the rest, and never gets a gap, a duplicate, or an unbounded queue. A change dropped by
the overflow is older than every message kept, so it can only be about a message the
reader pages back to, and a page is read as it is now.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from ..bus import Event
from ..protocol import Change, History, Message, encode

if TYPE_CHECKING:
    from .member import Member

__all__ = ["MAX_ANSWER", "Backlog", "fit", "late_changes", "send_history", "with_backlog"]

#: Largest history frame, in bytes.
MAX_ANSWER = 64 * 1024
#: Room for the frame around the messages (type, room, label, flags).
_ENVELOPE = 512


class Backlog:
    """Messages and changes delivered to a room while one reader's history is on its
    way: the newest ``limit`` of them, in order, and whether older ones were dropped."""

    __slots__ = ("events", "overflowed")

    def __init__(self, limit: int) -> None:
        self.events: deque[Event] = deque(maxlen=max(1, limit))
        self.overflowed = False

    def extend(self, events: Iterable[Event]) -> None:
        for event in events:
            if len(self.events) == self.events.maxlen:
                self.overflowed = True
            self.events.append(event)

    @property
    def messages(self) -> list[Message]:
        return [e for e in self.events if isinstance(e, Message)]

    def __len__(self) -> int:
        return len(self.events)


def with_backlog(history: History, backlog: Backlog) -> History:
    """``history`` followed by what ``backlog`` holds that is newer than it."""
    if backlog.overflowed:
        # What the store gave is older than what was dropped: a gap if sent. The newest
        # messages alone, with ``more``, let the reader page back without one.
        return msgspec.structs.replace(history, messages=backlog.messages, more=True)
    after = history.messages[-1].id if history.messages else (history.since or 0)
    late = [m for m in backlog.messages if m.id > after]
    if not late:
        return history
    return msgspec.structs.replace(history, messages=[*history.messages, *late])


def late_changes(backlog: Backlog, after: int) -> list[Change]:
    """The changes ``backlog`` holds numbered above ``after`` (the last one the history
    read from the store): they follow the history, in order."""
    return [e for e in backlog.events if not isinstance(e, Message) and e.seq > after]


def fit(
    messages: list[Message], budget: int = MAX_ANSWER - _ENVELOPE
) -> tuple[list[Message], bool]:
    """The newest of ``messages`` (oldest first) whose encoding fits in ``budget`` bytes,
    and whether any were left out. At least one is kept: a message always fits."""
    size = 0
    start = len(messages)
    while start > 0:
        size += len(encode(messages[start - 1]))
        if size > budget and start < len(messages):
            break
        start -= 1
    return messages[start:], start > 0


def cut(history: History) -> History:
    """``history`` cut to :data:`MAX_ANSWER` bytes, newest kept (``more`` if cut)."""
    messages, dropped = fit(history.messages)
    if not dropped:
        return history
    return msgspec.structs.replace(history, messages=messages, more=True)


async def send_history(member: Member, history: History) -> None:
    """Send ``history`` cut to :data:`MAX_ANSWER`, once the link has room for it."""
    await member.link.drained()
    member.send(cut(history))
