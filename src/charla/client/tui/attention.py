"""What the user has read, and telling them about what they have not.

- A log's newest lines count as read once they have been on screen, in a focused
  terminal, for :data:`READ_DELAY` seconds: the client sends ``mark_read`` for each
  conversation shown in that log.
- A mention or a direct message arriving while the terminal is not focused becomes a
  desktop notification (:mod:`.notify`) after :data:`NOTIFY_DELAY` seconds, unless it was
  read meanwhile, here or on another terminal of the same user (its ``read`` arrived):
  with two terminals open, the one in front marks it read before the other speaks up.

The app tells this object what happens (:meth:`Attention.message`, :meth:`Attention.view`...)
and draws the counts it keeps (:attr:`Attention.unread`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ...i18n import tr
from ...protocol import MarkRead, Message, Read, Rooms, nick_key
from ...protocol.names import mentions
from .notify import notification
from .unread import Counts, Unread, conversation_of, dm_key, room_key

__all__ = ["NOTIFY_DELAY", "READ_DELAY", "Attention", "Later", "Stoppable"]

#: Seconds the newest line must be on screen, focused, to count as read.
READ_DELAY = 1.0
#: Seconds a notification waits for another terminal to mark its message read.
NOTIFY_DELAY = 2.0


class Stoppable(Protocol):
    def stop(self) -> None: ...


#: Runs a callback after some seconds (Textual's ``set_timer``; a fake in tests).
Later = Callable[[float, Callable[[], None]], Stoppable]


@dataclass(frozen=True)
class _Pending:
    """A read-marking on its way: the log it is for and the ids then newest."""

    log: str
    newest: dict[str, int]
    timer: Stoppable


class Attention:
    def __init__(
        self,
        *,
        lang: str,
        later: Later,
        can_read: Callable[[str], bool],
        mark: Callable[[MarkRead], None],
        write: Callable[[str], None],
        focused: Callable[[], bool],
        env: Mapping[str, str],
        notify: bool = True,
        read_delay: float = READ_DELAY,
        notify_delay: float = NOTIFY_DELAY,
    ) -> None:
        self.lang = lang
        self.unread = Unread()
        self._later = later
        self._can_read = can_read
        self._mark = mark
        self._write = write
        self._focused = focused
        self._env = env
        self.notify = notify
        self.read_delay = read_delay
        self.notify_delay = notify_delay
        #: The log each conversation was last shown in (direct messages: the one open).
        self._shown_in: dict[str, str] = {}
        self._pending: _Pending | None = None

    # --- what happens ----------------------------------------------------------------

    def joined(self, room: str, marker: int | None) -> None:
        self.unread.joined(room_key(room), marker)
        self._shown_in[room_key(room)] = room

    def message(self, message: Message, *, me: str, log: str, mention: bool) -> None:
        """``message`` was written to ``log``: count it and maybe notify."""
        key = conversation_of(message, me)
        own = nick_key(message.user) == nick_key(me)
        self._shown_in[key] = log
        self.unread.arrived(key, message.id, own=own, mention=mention)
        direct = message.to is not None
        if self.notify and not own and (mention or direct) and not self._focused():
            self._later(self.notify_delay, lambda: self._notify(key, message))

    def history(self, messages: list[Message], *, me: str, log: str) -> None:
        """Messages of a (re)join: unread when after the marker; never notified."""
        for message in messages:
            key = conversation_of(message, me)
            own = nick_key(message.user) == nick_key(me)
            self._shown_in[key] = log
            self.unread.arrived(
                key,
                message.id,
                own=own,
                mention=mentions(message.text, me),
                count=self.unread.has_marker(key),
            )

    def read(self, frame: Read) -> bool:
        """A ``read`` from the server (this terminal's or another's); True when a count
        may have changed."""
        key = dm_key(frame.with_) if frame.with_ is not None else room_key(frame.room or "")
        return self.unread.read(key, frame.id)

    def counted(self, frame: Rooms) -> None:
        for info in frame.rooms:
            if info.unread is not None:
                counts = Counts(unread=info.unread, mentions=info.mentions or 0)
                self.unread.counted(room_key(info.name), counts)

    def counts(self, room: str) -> Counts:
        return self.unread.counts(room_key(room))

    # --- marking read ------------------------------------------------------------------

    def view(self, log: str) -> None:
        """``log`` is the one on screen, or something about it changed (focus,
        scrolling, a new line): start counting towards marking it read, or stop."""
        pending = self._pending
        if pending is not None and (pending.log != log or not self._can_read(log)):
            pending.timer.stop()
            self._pending = pending = None
        if pending is not None or not self._can_read(log):
            return
        newest = self._unread_in(log)
        if newest:
            timer = self._later(self.read_delay, lambda: self._read_time(log))
            self._pending = _Pending(log, newest, timer)

    def _unread_in(self, log: str) -> dict[str, int]:
        return {
            key: newest
            for key, shown in self._shown_in.items()
            if shown == log and (newest := self.unread.newest_unread(key)) is not None
        }

    def _read_time(self, log: str) -> None:
        pending, self._pending = self._pending, None
        if pending is None or pending.log != log or not self._can_read(log):
            return
        for key, newest in pending.newest.items():
            if self.unread.read(key, newest):
                self._mark(_mark_read(key, newest))
        # Newer lines that came meanwhile get their own moment on screen.
        self.view(log)

    # --- notifications -----------------------------------------------------------------

    def _notify(self, key: str, message: Message) -> None:
        if self.unread.is_read(key, message.id) or self._focused():
            return
        if message.to is not None:
            title = tr(self.lang, "charla: message from {user}", user=message.user)
        else:
            title = f"charla #{message.room}"
        self._write(notification(title, f"<{message.user}> {message.text}", self._env))


def _mark_read(key: str, newest: int) -> MarkRead:
    if key.startswith("@"):
        return MarkRead(id=newest, with_=key[1:])
    return MarkRead(id=newest, room=key[1:])
