"""Asks for a name when ``--nick`` is missing or the server refused the one given."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from ...i18n import tr
from ..format import sanitize

__all__ = ["NickScreen"]


class NickScreen(ModalScreen[str]):
    DEFAULT_CSS = """
    NickScreen {
        align: center middle;
    }
    NickScreen > Vertical {
        width: 50;
        height: auto;
        border: round $accent;
        padding: 1 2;
        background: $surface;
    }
    NickScreen #problem {
        color: $error;
        width: 100%;
    }
    """

    def __init__(self, *, lang: str, problem: str = "", default: str = "") -> None:
        super().__init__()
        self.lang = lang
        self.problem = problem
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr(self.lang, "Your name: "))
            yield Input(value=self.default, id="nick")
            if self.problem:
                yield Label(sanitize(self.problem), id="problem", markup=False)

    @on(Input.Submitted, "#nick")
    def _chosen(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
