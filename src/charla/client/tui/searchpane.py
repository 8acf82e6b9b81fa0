"""The search pane (Ctrl+F, ``/buscar``): type, see the matches highlighted, Enter jumps.

The pane only shows: it asks through the ``ask`` callback the app gives it, and the app
hands it the ``results`` (or the ``bad_query`` error) that come back. Enter closes it
with the chosen message; the app then opens that message's room, asks the server for the
messages around it (``history {room, around}``) and writes them as a block with the
chosen one marked (:func:`context_entries`). Esc closes it with nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ...i18n import tr
from ...protocol import Error, History, Message, Results, Search
from ...protocol.requests import request_names
from ..format import local_date, local_time, sanitize, sanitize_line
from .render import Entry, message_entry, nick_text, notice_entry

__all__ = ["SEARCH_WORDS", "SearchPane", "context_entries"]

#: The commands that open the pane instead of going to the server (from the request table).
SEARCH_WORDS = tuple(f"/{name}" for name in request_names(Search))
_MATCH = Style(bgcolor="#6b5500", bold=True)


class SearchPane(ModalScreen["Message | None"]):
    DEFAULT_CSS = """
    SearchPane {
        align: center middle;
    }
    SearchPane > Vertical {
        width: 90%;
        height: 80%;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    SearchPane #search-results {
        height: 1fr;
    }
    SearchPane #search-status {
        color: $text-muted;
        width: 100%;
    }
    """
    BINDINGS = [  # noqa: RUF012 (Textual's API)
        Binding("escape", "close", show=False),
    ]

    def __init__(self, *, lang: str, ask: Callable[[str], None], query: str = "") -> None:
        super().__init__()
        self.lang = lang
        self._ask = ask
        self._query = query
        self._found: list[Message] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr(self.lang, "Search"), id="search-title")
            yield Input(
                value=self._query,
                placeholder=tr(self.lang, 'words, "a phrase", prefix*, from:nick, in:#room'),
                id="search-query",
            )
            yield OptionList(id="search-results")
            yield Label(
                tr(self.lang, "Enter: search · ↓ and Enter: go to the message · Esc: back"),
                id="search-status",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#search-query", Input).focus()
        if self._query:
            self._search(self._query)

    @on(Input.Submitted, "#search-query")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._search(event.value.strip())

    def _search(self, query: str) -> None:
        self._query = query
        self._status(tr(self.lang, "searching…"))
        self._ask(query)

    def _status(self, text: str) -> None:
        self.query_one("#search-status", Label).update(Text(text))

    def show_results(self, results: Results) -> None:
        """The server's answer: one line per message, matched words highlighted."""
        if results.query != self._query:
            return  # an answer to an earlier query
        self._found = list(results.messages)
        listing = self.query_one("#search-results", OptionList)
        listing.clear_options()
        listing.add_options(Option(result_line(m)) for m in self._found)
        count = len(self._found)
        shown = f"{count}+" if results.more else str(count)
        self._status(
            tr(self.lang, "{count} found · Enter: go to the message · Esc: back", count=shown)
            if count
            else tr(self.lang, "nothing found")
        )
        if count:
            listing.highlighted = 0
            listing.focus()

    def show_error(self, error: Error) -> None:
        self._status(sanitize_line(error.message))
        self.query_one("#search-query", Input).focus()

    @on(OptionList.OptionSelected, "#search-results")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._found[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)


def highlighted(message: Message) -> Text:
    """The message's text with its ``match`` ranges highlighted. Ranges count characters
    of the text as sent: when sanitizing changed it, nothing is highlighted rather than
    the wrong letters."""
    clean = sanitize(message.text).replace("\n", " ")
    text = Text(clean)
    if clean == message.text.replace("\n", " "):
        for start, end in message.match or ():
            text.stylize(_MATCH, start, end)
    return text


def result_line(message: Message) -> Text:
    """``2026-11-25 10:00 #room nick │ text`` for the list of results."""
    day = local_date(message.ts)
    when = Text(f"{day.isoformat() if day else ''} {local_time(message.ts)} ", style="dim")
    where = f"#{message.room}" if message.room is not None else f"→ {message.to}"
    line = when + Text(sanitize_line(where) + " ", style="green")
    return line + nick_text(message.user) + Text(" │ ", style="dim") + highlighted(message)


def context_entries(history: History, *, me: str, lang: str, hhmm: str) -> list[Entry]:
    """The messages around a search result, between two rules, the result marked."""
    top = notice_entry(tr(lang, "── around the message found ──"), hhmm)
    bottom = notice_entry(tr(lang, "── end of the context (Esc: newest) ──"), hhmm)
    entries = [top]
    for message in history.messages:
        entry = message_entry(message, me=me)
        if message.id == history.around:
            entry = dataclasses.replace(entry, mention=True)
        entries.append(entry)
    entries.append(bottom)
    return entries
