"""A thread in a side pane: its first message and every reply, and an input of its own
whose lines answer the thread."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.widgets import Static

from ...i18n import tr
from ..format import sanitize_line
from .chatinput import ChatInput
from .chatlog import ChatLog
from .render import Entry

__all__ = ["ThreadPane"]


class ThreadPane(Vertical):
    DEFAULT_CSS = """
    ThreadPane {
        width: 45%;
        min-width: 30;
        border-left: vkey $accent;
    }
    ThreadPane #thread-title {
        height: 1;
        padding: 0 1;
        background: $boost;
        text-style: bold;
    }
    ThreadPane #thread-input {
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    """

    class Reply(TextualMessage):
        """A line typed in the pane: an answer in thread ``root``."""

        def __init__(self, room: str, root: int, text: str) -> None:
            super().__init__()
            self.room = room
            self.root = root
            self.text = text

    def __init__(self, room: str, root: int, *, lang: str, scrollback: int) -> None:
        super().__init__(id="thread")
        self.room = room
        self.root = root
        self.lang = lang
        self.scrollback = scrollback

    def compose(self) -> ComposeResult:
        title = tr(self.lang, "thread #{id} in #{room} · Esc closes", id=self.root, room=self.room)
        yield Static(sanitize_line(title), id="thread-title", markup=False)
        yield ChatLog(self.room, limit=self.scrollback, id="thread-log")
        yield ChatInput(
            nicks=list,
            placeholder=tr(self.lang, "Reply in the thread"),
            id="thread-input",
        )

    def on_mount(self) -> None:
        self.query_one(ChatInput).focus()

    @property
    def thread_log(self) -> ChatLog:
        return self.query_one("#thread-log", ChatLog)

    def show(self, entries: list[Entry]) -> None:
        """The thread as read from the server, oldest first."""
        self.thread_log.clear()
        for entry in entries:
            self.thread_log.add(entry)

    def add(self, entry: Entry) -> None:
        if not self.thread_log.replace(entry):
            self.thread_log.add(entry)

    @on(ChatInput.Send)
    def _typed(self, event: ChatInput.Send) -> None:
        event.stop()
        self.post_message(self.Reply(self.room, self.root, event.text))
