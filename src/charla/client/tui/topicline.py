"""The room's topic, on one line under the tabs (hidden when the room on screen has none).

``joined`` carries a room's topic. When someone changes it, the room gets a ``system``
{event: "topic", by} whose text is a sentence in each member's language ("bob set the
topic of #general: …"), not the topic itself: the line then asks ``topic {room}``, whose
answer (a ``system`` {event: "topic"} without ``by``) holds the bare text.
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from ...protocol import System
from ..format import sanitize_line

__all__ = ["TopicLine", "is_topic_answer", "is_topic_change"]


class TopicLine(Static):
    """The topic of the room on screen."""

    DEFAULT_CSS = """
    TopicLine {
        height: 1;
        padding: 0 1;
        background: $boost;
        color: $text-muted;
    }
    """

    room: reactive[str] = reactive("", init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._topics: dict[str, str] = {}

    def on_mount(self) -> None:
        self._show()

    def set_topic(self, room: str, topic: str | None) -> None:
        """``room``'s topic is now ``topic`` (none or empty: it has none)."""
        if topic:
            self._topics[room] = sanitize_line(topic)
        else:
            self._topics.pop(room, None)
        self._show()

    def topic(self, room: str) -> str | None:
        return self._topics.get(room)

    def watch_room(self) -> None:
        self._show()

    def _show(self) -> None:
        topic = self._topics.get(self.room, "")
        self.update(topic)
        self.display = bool(topic)


def is_topic_change(frame: System) -> bool:
    """A change told to the room (its text a sentence, not the topic: ask for it)."""
    return frame.event == "topic" and frame.by is not None and frame.room is not None


def is_topic_answer(frame: System) -> bool:
    """The answer to ``topic {room}``: its text is the bare topic."""
    return frame.event == "topic" and frame.by is None and frame.room is not None
