"""The input line: Enter sends, Up/Down walk what was sent, Tab completes, and a
multi-line paste is kept whole. Up on an empty line asks to edit your last message
(:class:`ChatInput.EditLast`); Ctrl+E asks to compose the line in ``$EDITOR``
(:class:`ChatInput.OpenEditor`): the app decides.

Textual's ``Input`` keeps only the first line of a paste. Here the line breaks of a
paste are shown as ``↵`` and turned back into line breaks when the line is sent, so the
paste goes out as one message with its lines.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from .complete import Completion, candidates

__all__ = ["NEWLINE_MARK", "ChatInput"]

NEWLINE_MARK = "↵"
HISTORY_LIMIT = 500


class ChatInput(Input):
    class Send(Message):
        """The user pressed Enter on a line (line breaks of a paste restored)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class EditLast(Message):
        """Up on an empty line: edit the last message you sent here, if there is one
        (else the app walks the history as usual)."""

    class OpenEditor(Message):
        """Ctrl+E: compose the current line in ``$EDITOR``."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self, *, nicks: Callable[[], list[str]], placeholder: str = "", id: str | None = None
    ) -> None:
        super().__init__(placeholder=placeholder, id=id, select_on_focus=False)
        self._nicks = nicks
        self.history: list[str] = []
        self._history_at: int | None = None
        self._draft = ""
        self._cycle: list[Completion] = []
        self._cycle_at = 0

    # --- sending ---------------------------------------------------------------------

    async def _on_key(self, event: events.Key) -> None:
        # Editing keys are handled here, as they arrive, rather than through bindings:
        # bindings run only once the key has bubbled up to the app, and by then keys
        # typed right after it (a fast typist, a paste of keys, tmux) would already be
        # in the line: Enter would glue two lines together, Backspace would delete the
        # wrong character.
        own = _KEYS.get(event.key)
        editing = _INPUT_ACTIONS.get(event.key)
        if own is None and editing is None and event.key.startswith("alt+"):
            # The app's (Alt+R replies…): a terminal sends its letter too, which Input
            # would type. Not stopped: it bubbles up to the app's bindings.
            event.prevent_default()
            return
        if own is None and editing is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        if own is not None:
            own(self)
        elif editing is not None:
            await self.run_action(editing)

    async def action_submit(self) -> None:
        self.submit_now()

    def submit_now(self) -> None:
        line = self.value
        self.value = ""
        self.remember(line)
        if line.strip():
            self.post_message(self.Send(line.replace(NEWLINE_MARK, "\n")))

    def remember(self, line: str) -> None:
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY_LIMIT]
        self._history_at = None

    # --- history ---------------------------------------------------------------------

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._history_at is None:
            if step > 0:
                return
            self._draft = self.value
            at = len(self.history) - 1
        else:
            at = self._history_at + step
        if at < 0:
            return
        if at >= len(self.history):
            self._history_at = None
            self._set(self._draft)
            return
        self._history_at = at
        self._set(self.history[at])

    def up(self) -> None:
        if not self.value and self._history_at is None:
            self.post_message(self.EditLast())
        else:
            self.action_history(-1)

    def open_editor(self) -> None:
        self.post_message(self.OpenEditor(self.value.replace(NEWLINE_MARK, "\n")))

    def set_text(self, text: str) -> None:
        """Put ``text`` in the line (its line breaks shown as ``↵``), cursor at the end."""
        self._set(text.replace("\n", NEWLINE_MARK))

    def _set(self, value: str, cursor: int | None = None) -> None:
        self.value = value
        self.cursor_position = len(value) if cursor is None else cursor

    # --- completion ------------------------------------------------------------------

    def action_complete(self) -> None:
        if self._cycle and self.value == self._cycle[self._cycle_at].value:
            self._cycle_at = (self._cycle_at + 1) % len(self._cycle)
        else:
            self._cycle = candidates(self.value, self.cursor_position, nicks=self._nicks())
            self._cycle_at = 0
            if not self._cycle:
                self.app.bell()
                return
        choice = self._cycle[self._cycle_at]
        self._set(choice.value, choice.cursor)

    # --- paste -----------------------------------------------------------------------

    def _on_paste(self, event: events.Paste) -> None:
        # Stop Input's own handler, which would keep only the first line.
        event.prevent_default()
        event.stop()
        text = event.text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
        if not text:
            return
        text = text.replace("\n", NEWLINE_MARK)
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)


#: Input's own editing keys (Backspace, Ctrl+A, arrows…) and their actions.
_INPUT_ACTIONS: dict[str, str] = {
    key.strip(): binding.action
    for binding in Input.BINDINGS
    if isinstance(binding, Binding)
    for key in binding.key.split(",")
}

_KEYS: dict[str, Callable[[ChatInput], None]] = {
    "enter": ChatInput.submit_now,
    "tab": ChatInput.action_complete,
    "up": ChatInput.up,
    "ctrl+e": ChatInput.open_editor,
    "down": lambda widget: widget.action_history(1),
}
