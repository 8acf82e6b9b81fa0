"""Sending history without making its reader look slow.

A join's history, a page and a resume can be large (50 messages of 4000 emoji are about
800 KB). Each answer is cut to at most :data:`MAX_ANSWER` bytes, the newest messages
kept, with ``more: true`` when older ones were left out (the client pages back with
``before``); and it is written only once the socket has taken what was sent before, so an
answer is paced by the reader's link and never counted as the reader falling behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ..protocol import History, Message, encode

if TYPE_CHECKING:
    from .member import Member

__all__ = ["MAX_ANSWER", "fit", "send_history"]

#: Largest history frame, in bytes.
MAX_ANSWER = 64 * 1024
#: Room for the frame around the messages (type, room, label, flags).
_ENVELOPE = 512


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


async def send_history(member: Member, history: History) -> None:
    """Send ``history`` cut to :data:`MAX_ANSWER`, once the link has room for it."""
    messages, cut = fit(history.messages)
    if cut:
        history = msgspec.structs.replace(history, messages=messages, more=True)
    await member.link.drained()
    member.send(history)
