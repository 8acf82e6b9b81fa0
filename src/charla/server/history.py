"""Sending history without making its reader look slow.

A join's history, a page and a resume can be large (50 messages of 4000 emoji are about
800 KB). Each answer is cut to at most :data:`MAX_ANSWER` bytes, the newest messages
kept, with ``more: true`` when older ones were left out (the client pages back with
``before``); and it is written only once the socket has taken what was sent before, so an
answer is paced by the reader's link and never counted as the reader falling behind.

While a joiner's history is read and paced, the room's new messages wait for it in a
:class:`Backlog` of at most ``resume_cap`` messages. They go out in the same answer as
the history (newest kept); a backlog that overflowed replaces the history with its newest
messages and ``more: true``: the reader sees the room as it is now, pages back for the
rest, and never gets a gap, a duplicate, or an unbounded queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from ..protocol import History, Message, encode

if TYPE_CHECKING:
    from .member import Member

__all__ = ["MAX_ANSWER", "Backlog", "fit", "send_history", "with_backlog"]

#: Largest history frame, in bytes.
MAX_ANSWER = 64 * 1024
#: Room for the frame around the messages (type, room, label, flags).
_ENVELOPE = 512


class Backlog:
    """Messages delivered to a room while one reader's history is on its way: the
    newest ``limit`` of them, and whether older ones were dropped."""

    __slots__ = ("messages", "overflowed")

    def __init__(self, limit: int) -> None:
        self.messages: deque[Message] = deque(maxlen=max(1, limit))
        self.overflowed = False

    def extend(self, messages: Iterable[Message]) -> None:
        for message in messages:
            if len(self.messages) == self.messages.maxlen:
                self.overflowed = True
            self.messages.append(message)

    def __len__(self) -> int:
        return len(self.messages)


def with_backlog(history: History, backlog: Backlog) -> History:
    """``history`` followed by what ``backlog`` holds that is newer than it."""
    if backlog.overflowed:
        # What the store gave is older than what was dropped: a gap if sent. The newest
        # messages alone, with ``more``, let the reader page back without one.
        return msgspec.structs.replace(history, messages=list(backlog.messages), more=True)
    after = history.messages[-1].id if history.messages else (history.since or 0)
    late = [m for m in backlog.messages if m.id > after]
    if not late:
        return history
    return msgspec.structs.replace(history, messages=[*history.messages, *late])


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
