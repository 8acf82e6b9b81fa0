"""The status line: server, nick, room, connection state."""

from __future__ import annotations

import math

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ...i18n import tr
from ..format import sanitize_line

__all__ = ["StatusLine"]

#: Connection states and the style of their dot.
STATES = {
    "connecting": "yellow",
    "connected": "green",
    "disconnected": "#ff6b6b",
    "ended": "#ff6b6b",
}


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    server: reactive[str] = reactive("")
    nick: reactive[str] = reactive("")
    room: reactive[str] = reactive("")
    #: What the tab on screen is called, when it is not ``#room`` (``→ beto``).
    title: reactive[str] = reactive("")
    state: reactive[str] = reactive("connecting")
    #: Seconds to the next reconnect attempt (shown while disconnected).
    retry_in: reactive[float] = reactive(0.0)
    #: Lines typed but not confirmed by the server yet.
    pending: reactive[int] = reactive(0)

    def __init__(self, *, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang

    def state_text(self) -> str:
        if self.state == "connected":
            return tr(self.lang, "connected")
        if self.state == "disconnected":
            return tr(
                self.lang,
                "reconnecting in {seconds:.0f} s",
                seconds=max(1.0, math.ceil(self.retry_in)),
            )
        if self.state == "ended":
            return tr(self.lang, "not connected")
        return tr(self.lang, "connecting…")

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.size.width >= 100:
            line.append(" charla ", style="bold reverse")
        line.append(f" {self.server} │ ")
        line.append(sanitize_line(self.nick), style="bold")
        line.append(f" │ {sanitize_line(self.title or '#' + self.room)} │ ")
        # What waits to be sent goes before the state: at 80 columns the end of the
        # line is the part that may not fit.
        if self.pending:
            line.append(tr(self.lang, "{count} to send", count=self.pending) + " │ ", style="bold")
        line.append("● ", style=STATES.get(self.state, "yellow"))
        line.append(self.state_text())
        hint = tr(self.lang, "F1 keys")
        room_for_hint = self.size.width - line.cell_len - len(hint) - 1
        if room_for_hint > 0:
            line.append(" " * room_for_hint)
            line.append(hint + " ", style="dim")
        return line
