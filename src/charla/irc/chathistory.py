"""``CHATHISTORY`` (IRCv3 draft/chathistory) as charla's ``history`` requests.

charla's history reads pages older than an id, or around one; the other selections are
those pages cut to a :class:`Window`: ``LATEST target msgid=N`` is the newest page with
only what is after ``N``; ``AFTER msgid=N`` the page around ``N`` (as many after it as
asked) with only what is after it; ``BETWEEN`` the same between two ids, from whichever
end comes first. References are message ids (``MSGREFTYPES=msgid``); a target is a
channel the client is in, or a nick (its direct conversation, for registered nicks).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import ClientHistory, Message
from .messages import IrcMessage
from .session import IrcSession, Pending

__all__ = ["Window", "chathistory"]

_SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN")


@dataclass(frozen=True, slots=True)
class Window:
    """What to keep of a page: ids strictly between ``after`` and ``before``, the first
    ``limit`` (``oldest``) or the last."""

    limit: int
    after: int = 0
    before: int | None = None
    oldest: bool = False

    def cut(self, messages: list[Message]) -> list[Message]:
        kept = [
            m for m in messages if m.id > self.after and (self.before is None or m.id < self.before)
        ]
        return kept[: self.limit] if self.oldest else kept[-self.limit :]


def chathistory(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    sub, target = message.param(0).upper(), message.param(1)
    found = [_ref(p) for p in message.params[2:-1]]
    refs = [r for r in found if r is not None]
    limit = _count(message.param(len(message.params) - 1))
    if sub not in _SUBCOMMANDS or not limit or len(refs) < len(found) or not target:
        _fail(session, "INVALID_PARAMS", sub[:16] or "*", "Cannot read that", pending=pending)
        return
    if target.startswith("#") and target[1:].casefold() not in session.channels:
        why = "Not a channel you are in"
        _fail(session, "INVALID_TARGET", sub, target[:64], why, pending=pending)
        return
    page_limit = session.options.max_page
    limit = min(limit, page_limit)
    wide = min(2 * limit + 1, page_limit)  # around an id: ``limit`` of them after it
    frame = ClientHistory(limit=limit)
    window = None
    first, second = [*refs, 0, 0][:2]
    if sub == "LATEST" and first:
        window = Window(limit, after=first)
    elif sub == "BEFORE" and first:
        frame.before = first
    elif sub == "AFTER" and first:
        frame.around, frame.limit, window = first, wide, Window(limit, after=first, oldest=True)
    elif sub == "AROUND" and first:
        frame.around = first
    elif sub == "BETWEEN" and first and second and first < second:
        frame.around, frame.limit = first, wide
        window = Window(limit, after=first, before=second, oldest=True)
    elif sub == "BETWEEN" and first and second:
        frame.before, window = first, Window(limit, after=second)
    elif sub != "LATEST":
        _fail(session, "INVALID_PARAMS", sub, "Cannot read that", pending=pending)
        return
    if target.startswith("#"):
        frame.room = target[1:]
    else:
        frame.with_ = target
    part = pending.part("CHATHISTORY", target[:64])
    part.window = window
    session.request(frame, part)


def _ref(param: str) -> int | None:
    """``*`` is 0; ``msgid=N`` is N; anything else (``timestamp=``...) is not taken."""
    if param == "*":
        return 0
    text = param.removeprefix("msgid=")
    return int(text) if param != text and text.isdigit() and len(text) < 19 else None


def _count(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 6 else 0


def _fail(session: IrcSession, code: str, *context_and_why: str, pending: Pending) -> None:
    session.emit(IrcMessage("FAIL", ["CHATHISTORY", code, *context_and_why]), pending)
