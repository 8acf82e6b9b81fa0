"""A small picker of reactions: the common ones under the keys 1-8, or any emoji or
``:shortcode:`` typed (Tab completes shortcodes)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from ...i18n import tr
from ...protocol import ProtocolError
from ...protocol.emoji import SHORTCODES, check_emoji

__all__ = ["COMMON", "ReactionPicker"]

#: What the number keys give.
COMMON = ("👍", "🎉", "✅", "👀", "❤️", "😂", "🙏", "🔥")


class ReactionPicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ReactionPicker {
        align: center middle;
    }
    ReactionPicker > Vertical {
        width: 46;
        height: auto;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    ReactionPicker #problem {
        color: $error;
    }
    """

    BINDINGS = [  # noqa: RUF012 (Textual's API)
        Binding("escape", "dismiss_none", show=False),
    ]

    def __init__(self, *, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        choices = "  ".join(f"{i + 1} {e}" for i, e in enumerate(COMMON))
        with Vertical():
            yield Label(tr(self.lang, "React with:"))
            yield Label(choices, id="choices", markup=False)
            yield Input(
                placeholder=tr(self.lang, "or an emoji, or :shortcode:"),
                suggester=SuggestFromList([f":{name}:" for name in SHORTCODES]),
                id="emoji",
            )
            yield Label("", id="problem", markup=False)

    @on(Input.Changed, "#emoji")
    def _number(self, event: Input.Changed) -> None:
        """A number key alone picks a common one (no emoji or shortcode is a digit)."""
        if len(event.value) == 1 and "1" <= event.value <= str(len(COMMON)):
            self.dismiss(COMMON[int(event.value) - 1])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#emoji")
    def _typed(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(check_emoji(event.value))
        except ProtocolError:
            self.query_one("#problem", Label).update(
                tr(self.lang, "a reaction is one emoji, like 👍 or :+1:")
            )
