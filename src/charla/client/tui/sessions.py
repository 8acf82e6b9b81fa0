"""What the full-screen client needs of a session, so a fake can stand in for the network.

:class:`~charla.client.session.Session` is the real one; tests drive the app through its
states (connecting, reconnecting, a refused nick...) with a fake that emits the same
events without a socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ...protocol import ClientFrame
from ..session import Event

__all__ = ["ChatSession", "SessionFactory"]


class ChatSession(Protocol):
    @property
    def connected(self) -> bool: ...

    @property
    def pending(self) -> int: ...

    def say(self, text: str, room: str) -> None: ...

    def older(self, room: str, before: int) -> str | None: ...

    def query(self, request: ClientFrame) -> str | None: ...

    def quit(self) -> None: ...

    def close(self) -> None: ...

    async def run(self) -> None: ...


#: Builds the session for a nick, reporting its events through the callback given.
SessionFactory = Callable[[str, Callable[[Event], None]], ChatSession]
