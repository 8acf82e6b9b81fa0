"""The ordered log every message passes through before anyone sees it.

The server publishes a :class:`Draft`; the bus gives it an id, makes it durable, and hands
it back through :meth:`Sink.deliver` in the one order everybody sees. The server never
knows which bus it has:

- :class:`charla.bus.local.LocalBus` — one machine: ids from a counter, durability from a
  SQLite group commit. The default.
- ``charla.cluster.stream.NatsBus`` — several nodes sharing a NATS JetStream stream (the
  ``cluster`` extra); ``charla.cluster.build_cluster`` makes it, the server never imports it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from ..protocol import Message

__all__ = ["Bus", "BusUnavailable", "Delivery", "Draft", "Sink"]


class BusUnavailable(Exception):
    """The bus cannot start (its engine is missing or unreachable); the message says
    what to do."""


@dataclass(slots=True, kw_only=True)
class Draft:
    """A message the server accepted, before it has an id or a place in the order.

    ``origin`` is whatever the server uses to find the sender again (its connection); the
    bus only hands it back.
    """

    user: str
    text: str
    room: str | None = None
    to: str | None = None
    action: bool = False
    bot: bool = False
    origin: object = None


#: A message in its final order, with the origin of its draft when it was published here.
Delivery = tuple[Message, object]


class InFlight:
    """How many drafts were published and not yet delivered or refused; ``drained``
    waits until there are none (what ``Bus.drain`` promises)."""

    __slots__ = ("_waiters", "count")

    def __init__(self) -> None:
        self.count = 0
        self._waiters: list[asyncio.Future[None]] = []

    def settled(self, count: int) -> None:
        """``count`` drafts were delivered or refused."""
        self.count -= count
        if self.count == 0 and self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def drained(self) -> None:
        if self.count == 0:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter


class Sink(Protocol):
    """What the bus reports to: the server."""

    def deliver(self, batch: list[Delivery]) -> None:
        """Messages that are now durable, in order. Called on the event loop."""

    def reject(self, drafts: list[Draft], reason: str) -> None:
        """Drafts that could not be stored; nobody has seen them."""


class Bus(Protocol):
    async def start(self, sink: Sink) -> None: ...

    def publish(self, draft: Draft) -> None:
        """Queue a draft. Never blocks; the outcome reaches the sink."""

    async def drain(self) -> None:
        """Return once everything published so far was delivered or rejected."""

    async def close(self) -> None: ...
