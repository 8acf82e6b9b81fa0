"""Rooms and their members.

A member is either *live* (receives every message as it is delivered) or *joining*: its
history is being read from the store, and messages delivered meanwhile are held in a
buffer. When the history arrives, the buffer is replayed after it, minus what the
history already held; so a join, or a resume with ``since``, has no gap and no duplicate
however many messages arrive during it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import Message

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Room"]


class Room:
    __slots__ = ("joining", "live", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        # dicts as ordered sets: iteration order is join order, removal is O(1).
        self.live: dict[Connection, None] = {}
        self.joining: dict[Connection, list[Message]] = {}

    def __len__(self) -> int:
        return len(self.live) + len(self.joining)

    def __contains__(self, conn: object) -> bool:
        return conn in self.live or conn in self.joining

    def members(self) -> list[Connection]:
        return [*self.live, *self.joining]

    def nicks(self) -> list[str]:
        return sorted((c.nick for c in self.members() if c.nick), key=str.casefold)

    def start_join(self, conn: Connection) -> list[Message]:
        """Hold messages for ``conn`` until its history is sent; the returned buffer
        stands for this join (see :meth:`finish_join`)."""
        held: list[Message] = []
        self.joining[conn] = held
        return held

    def finish_join(
        self, conn: Connection, held: list[Message], after: int
    ) -> list[Message] | None:
        """Make ``conn`` live; returns the held messages with an id above ``after``, or
        ``None`` when this join was undone (left, perhaps joined again, or disconnected)
        while its history was read: that history is wanted by nobody."""
        if self.joining.get(conn) is not held:
            return None
        del self.joining[conn]
        self.live[conn] = None
        return [m for m in held if m.id > after]

    def remove(self, conn: Connection) -> None:
        self.live.pop(conn, None)
        self.joining.pop(conn, None)
