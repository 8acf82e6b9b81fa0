"""The line above the input that says what Enter will do when it is not a new message:
answer a message (``↪ respondiendo a ana: …``) or change one (``✎ editando #123``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.widgets import Static

from ...i18n import tr
from ...protocol import Message, Parent
from ..format import preview, sanitize_line

__all__ = ["ComposeBar", "Editing", "Mode", "Replying"]


@dataclass(frozen=True, slots=True)
class Replying:
    message: Message


@dataclass(frozen=True, slots=True)
class Editing:
    message: Message


Mode = Replying | Editing


class ComposeBar(Static):
    DEFAULT_CSS = """
    ComposeBar {
        height: 1;
        padding: 0 1;
        color: $text-muted;
        background: $boost;
        text-style: italic;
    }
    """

    def __init__(self, *, lang: str, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.lang = lang
        self.display = False

    def show(self, mode: Mode | None) -> None:
        """Say what Enter will do (hidden for a plain message)."""
        self.display = mode is not None
        if mode is None:
            self.update("")
            return
        hint = tr(self.lang, "Esc cancels")
        if isinstance(mode, Replying):
            parent = preview(_as_parent(mode.message), self.lang, width=50)
            text = "↪ " + tr(self.lang, "replying to {parent}", parent=parent)
        else:
            text = "✎ " + tr(self.lang, "editing #{id}", id=mode.message.id)
        self.update(f"{sanitize_line(text)} · {hint}")


def _as_parent(message: Message) -> Parent:
    return Parent(user=message.user, text=message.text, deleted=message.deleted)
