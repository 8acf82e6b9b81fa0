"""Asks for a name when ``--nick`` is missing or the server refused the one given, and
for the password the server asked for (the nick's, or the server's), with the echo off."""

from __future__ import annotations

from typing import NamedTuple

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from ...i18n import tr
from ..connection import Secret
from ..format import sanitize

__all__ = ["Login", "NickScreen"]

#: Which password the screen asks for: the nick's (``hello.password``) or the server's.

_SECRET_LABELS: dict[Secret, str] = {
    "password": "Password: ",
    "server_password": "Server password: ",
}


class Login(NamedTuple):
    nick: str
    #: What was typed in the password field; ``None`` when it was not shown.
    secret: str | None = None


class NickScreen(ModalScreen[Login]):
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

    def __init__(
        self, *, lang: str, problem: str = "", default: str = "", secret: Secret | None = None
    ) -> None:
        super().__init__()
        self.lang = lang
        self.problem = problem
        self.default = default
        self.secret = secret

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr(self.lang, "Your name: "))
            yield Input(value=self.default, id="nick")
            if self.secret is not None:
                yield Label(tr(self.lang, _SECRET_LABELS[self.secret]))
                yield Input(password=True, id="secret")
            if self.problem:
                yield Label(sanitize(self.problem), id="problem", markup=False)

    def on_mount(self) -> None:
        # A known name with a password to give: the cursor waits in the password field.
        if self.secret is not None and self.default:
            self.query_one("#secret", Input).focus()

    @on(Input.Submitted)
    def _chosen(self) -> None:
        nick = self.query_one("#nick", Input).value.strip()
        if not nick:
            return
        if self.secret is None:
            self.dismiss(Login(nick))
            return
        secret = self.query_one("#secret", Input).value
        if secret:
            self.dismiss(Login(nick, secret))
        else:
            self.query_one("#secret", Input).focus()
