"""The message log of one room: a scroll view over pre-rendered lines.

Entries are rendered to strips once for the current width and kept, so adding a line or
scrolling through thousands costs the same; only a change of width renders them again
(so text re-wraps to the new size). The oldest entries fall out past ``limit``.

The log follows new lines while the view is at the bottom. Once the user scrolls up it
stays put and counts what arrived below (``unseen``); scrolling back down clears it.
"""

from __future__ import annotations

from collections import deque

from rich.console import Group
from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .render import Entry

__all__ = ["DEFAULT_SCROLLBACK", "ChatLog"]

DEFAULT_SCROLLBACK = 5000


class ChatLog(ScrollView, can_focus=False):
    DEFAULT_CSS = """
    ChatLog {
        height: 1fr;
        scrollbar-size-vertical: 1;
        /* Room for the scrollbar from the start: lines are wrapped for one width and
           would be cut when a scrollbar appeared later. */
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    """

    class UnseenChanged(Message):
        """``log.unseen`` changed: the app shows or hides its "N new" marker."""

        def __init__(self, log: ChatLog) -> None:
            super().__init__()
            self.log = log

    class Picked(Message):
        """A click on the message ``message_id``: the app picks it (as Alt+↑/↓ do)."""

        def __init__(self, log: ChatLog, message_id: int) -> None:
            super().__init__()
            self.log = log
            self.message_id = message_id

    unseen: reactive[int] = reactive(0, init=False)

    def __init__(self, room: str, *, limit: int = DEFAULT_SCROLLBACK, id: str | None = None):
        super().__init__(id=id)
        self.room = room
        self.limit = limit
        self.entries: deque[Entry] = deque()
        self._heights: deque[int] = deque()
        self._lines: list[Strip] = []
        self._width = 0
        self._following = True

    # --- content ---------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        if self._width:
            strips = self._render_entry(entry, self._width)
            self._heights.append(len(strips))
            self._lines.extend(strips)
        if len(self.entries) > self.limit:
            self.entries.popleft()
            if self._heights:
                del self._lines[: self._heights.popleft()]
        self._grew(counts=entry.is_chat)

    def insert_older(self, entries: list[Entry]) -> None:
        """Put older messages (oldest first) where they belong: before the first entry
        with a higher id. Rare (filling a gap after a long absence), so it simply
        renders everything again."""
        if not entries or entries[-1].id is None:
            return
        newest = entries[-1].id
        at = next(
            (i for i, e in enumerate(self.entries) if e.id is not None and e.id > newest),
            len(self.entries),
        )
        merged = [*list(self.entries)[:at], *entries, *list(self.entries)[at:]]
        self.entries = deque(merged[-self.limit :])
        before = len(self._lines)
        if self._width:
            self._reflow(self._width)
        self.virtual_size = Size(self._width, len(self._lines))
        if self._following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        else:
            # Keep the same lines in view; the older ones are above, a PgUp away.
            added = len(self._lines) - before
            self.scroll_to(y=self.scroll_y + added, animate=False, immediate=True, force=True)
        self.refresh()

    def replace(self, entry: Entry) -> bool:
        """Show ``entry`` instead of the entry with its id (a message edited, deleted,
        reacted to, selected); False when that message is not in this log. Only its
        own lines are rendered again."""
        index = next(
            (i for i in range(len(self.entries) - 1, -1, -1) if self.entries[i].id == entry.id),
            None,
        )
        if index is None:
            return False
        self.entries[index] = entry
        if self._width and len(self._heights) == len(self.entries):
            start = sum(self._heights[i] for i in range(index))
            strips = self._render_entry(entry, self._width)
            self._lines[start : start + self._heights[index]] = strips
            self._heights[index] = len(strips)
        self._grew()
        return True

    def entry_top(self, message_id: int) -> int | None:
        """The first rendered line of the message ``message_id``, if it is shown."""
        top = 0
        for entry, height in zip(self.entries, self._heights, strict=False):
            if entry.id == message_id:
                return top
            top += height
        return None

    def entry_at(self, line: int) -> Entry | None:
        """The entry drawn on rendered line ``line``."""
        top = 0
        for entry, height in zip(self.entries, self._heights, strict=False):
            if top <= line < top + height:
                return entry
            top += height
        return None

    def on_click(self, event: events.Click) -> None:
        top = self.max_scroll_y if self._following else round(self.scroll_offset.y)
        entry = self.entry_at(top + event.y)
        if entry is not None and entry.id is not None:
            self.post_message(self.Picked(self, entry.id))

    def reveal(self, message_id: int) -> None:
        """Scroll so that the message ``message_id`` is in view."""
        top = self.entry_top(message_id)
        if top is None:
            return
        view = self.scrollable_content_region.height
        y = round(self.max_scroll_y if self._following else self.scroll_y)
        if top < y or top >= y + view:
            self._following = False
            self.scroll_to(y=max(0, top - view // 2), animate=False, immediate=True, force=True)

    @property
    def oldest_id(self) -> int | None:
        return next((e.id for e in self.entries if e.id is not None), None)

    def clear(self) -> None:
        self.entries.clear()
        self._heights.clear()
        self._lines.clear()
        self.unseen = 0
        self._grew()

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def plain_lines(self) -> list[str]:
        """The rendered lines as text (for tests and for looking); unwrapped entries
        while the log has never been shown."""
        if not self._width:
            return [(entry.prefix + entry.body).plain for entry in self.entries]
        return [strip.text.rstrip() for strip in self._lines]

    def _grew(self, *, counts: bool = False) -> None:
        self.virtual_size = Size(self._width, len(self._lines))
        if self._following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        elif counts:
            self.unseen += 1
        self.refresh()

    # --- scrolling -------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._following

    def jump_to_end(self) -> None:
        self._following = True
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self.unseen = 0

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if not self.display or not self.size.height:
            return
        # Growth never moves scroll_y and a taller window only clamps it to the new end,
        # so going up can only be the user's doing (wheel, PgUp, the scrollbar).
        if new_value >= self.max_scroll_y:
            self._following = True
            self.unseen = 0
        elif new_value < old_value:
            self._following = False

    def watch_unseen(self) -> None:
        self.post_message(self.UnseenChanged(self))

    # --- rendering -------------------------------------------------------------------

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width > 0 and width != self._width:
            self._reflow(width)
        if self._following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def _reflow(self, width: int) -> None:
        self._width = width
        self._heights.clear()
        self._lines = []
        for entry in self.entries:
            strips = self._render_entry(entry, width)
            self._heights.append(len(strips))
            self._lines.extend(strips)
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()

    def _render_entry(self, entry: Entry, width: int) -> list[Strip]:
        console = self.app.console
        indent = entry.prefix.cell_len
        if indent > width // 2:
            # A long nick in a narrow window: no hanging indent, just wrap it all.
            whole = Group(entry.prefix + entry.body, *entry.blocks)
            rendered = console.render_lines(whole, console.options.update_width(width), pad=False)
            strips = [Strip(line) for line in rendered]
        else:
            options = console.options.update_width(width - indent)
            content = Group(entry.body, *entry.blocks) if entry.blocks else entry.body
            body = console.render_lines(content, options, pad=False) or [[]]
            head = list(entry.prefix.render(console))
            pad = [Segment(" " * indent)]
            strips = [Strip([*(head if i == 0 else pad), *line]) for i, line in enumerate(body)]
        strips = [strip.extend_cell_length(width) for strip in strips]
        style = entry.line_style
        return strips if style is None else [strip.apply_style(style) for strip in strips]

    def render_line(self, y: int) -> Strip:
        top = self.max_scroll_y if self._following else round(self.scroll_offset.y)
        index = top + y
        width = self.scrollable_content_region.width
        if 0 <= index < len(self._lines):
            return self._lines[index].crop(0, width).apply_style(self.rich_style)
        return Strip.blank(width, self.rich_style)
