"""Who is typing: the line above the input ("ana is typing…"), and the ``typing``
frames this client sends when ``--typing`` is on.

Another user's ``active`` shows for :data:`TYPING_SHOWN` seconds unless refreshed; their
``paused`` / ``done`` (or their message) clears it. This client sends ``active`` at most
once every :data:`TYPING_EVERY` seconds while the line has text, and ``done`` when the
line is sent or emptied. Commands (``/...``) are not announced.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.reactive import reactive
from textual.widgets import Static

from ...i18n import tr
from ...protocol import ClientTyping, Message, Typing, nick_key
from ..format import sanitize_line
from .attention import Later, Stoppable
from .unread import dm_key, room_key

__all__ = ["TYPING_EVERY", "TYPING_SHOWN", "TypingLine", "TypingSender"]

TYPING_SHOWN = 6.0
TYPING_EVERY = 3.0
#: Past this many names: "several people are typing".
_NAMED = 3


class TypingLine(Static):
    """Who is typing in the room on screen (and to me, in direct messages)."""

    DEFAULT_CSS = """
    TypingLine {
        height: 1;
        padding: 0 1;
        color: $text-muted;
        text-style: italic;
    }
    """

    room: reactive[str] = reactive("", init=False)

    def __init__(self, *, lang: str, later: Later, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.lang = lang
        self._later = later
        #: conversation key -> nick -> its expiry timer
        self._typing: dict[str, dict[str, Stoppable]] = {}
        self._names: dict[str, str] = {}

    def on_mount(self) -> None:
        self._show()

    def typing(self, frame: Typing) -> None:
        key = dm_key(frame.user) if frame.to is not None else room_key(frame.room or "")
        if frame.state == "active":
            self._start(key, frame.user)
        else:
            self.stopped(key, frame.user)

    def _start(self, key: str, user: str) -> None:
        who = nick_key(user)
        typers = self._typing.setdefault(key, {})
        if who in typers:
            typers[who].stop()
        typers[who] = self._later(TYPING_SHOWN, lambda: self.stopped(key, user))
        self._names[who] = sanitize_line(user)
        self._show()

    def said(self, message: Message) -> None:
        """A message from its sender ends their typing there."""
        key = dm_key(message.user) if message.to is not None else room_key(message.room or "")
        self.stopped(key, message.user)

    def stopped(self, key: str, user: str) -> None:
        """``user`` stopped typing in ``key`` (said so, sent the line, or went quiet)."""
        timer = self._typing.get(key, {}).pop(nick_key(user), None)
        if timer is not None:
            timer.stop()
            self._show()

    def watch_room(self) -> None:
        self._show()

    def _show(self) -> None:
        shown = {
            who
            for key in (room_key(self.room), *(k for k in self._typing if k.startswith("@")))
            for who in self._typing.get(key, {})
        }
        names = sorted(self._names[who] for who in shown)
        self.update(self._text(names))
        self.display = bool(names)

    def _text(self, names: list[str]) -> str:
        if not names:
            return ""
        if len(names) == 1:
            return tr(self.lang, "{user} is typing…", user=names[0])
        if len(names) > _NAMED:
            return tr(self.lang, "several people are typing…")
        return tr(
            self.lang, "{users} and {last} are typing…", users=", ".join(names[:-1]), last=names[-1]
        )


class TypingSender:
    """Sends this user's ``typing`` frames: ``active`` now and then, ``done`` at the end."""

    def __init__(
        self, send: Callable[[ClientTyping], object], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._send = send
        self._clock = clock
        #: The room an ``active`` was last sent for, and when.
        self._active: tuple[str, float] | None = None

    def changed(self, line: str, room: str) -> None:
        """The input line now reads ``line`` (in ``room``)."""
        if not line.strip() or line.startswith("/"):
            self.done()
            return
        now = self._clock()
        if self._active is not None:
            last_room, at = self._active
            if last_room == room and now - at < TYPING_EVERY:
                return
            if last_room != room:
                self.done()
        self._send(ClientTyping(state="active", room=room))
        self._active = (room, now)

    def done(self) -> None:
        """The line was sent or emptied."""
        if self._active is not None:
            room, _ = self._active
            self._active = None
            self._send(ClientTyping(state="done", room=room))
