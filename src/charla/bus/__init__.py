"""The ordered log every message passes through before anyone sees it.

The server publishes a :class:`Draft`; the bus gives it an id, makes it durable, and hands
it back through :meth:`Sink.deliver` in the one order everybody sees. A draft is a message
or a change to one (a reaction, an edit, a delete): changes take their number from the same
sequence and are stored in the same commits, so everyone sees them in one order with the
messages. The server never knows which bus it has:

- :class:`charla.bus.local.LocalBus` — one machine: ids from a counter, durability from a
  SQLite group commit. The default.
- ``charla.cluster.stream.NatsBus`` — several nodes sharing a NATS JetStream stream (the
  ``cluster`` extra); ``charla.cluster.build_cluster`` makes it, the server never imports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from ..protocol import Change, Deleted, Edited, Message, ProtocolError, Reaction

__all__ = [
    "Bus",
    "BusUnavailable",
    "Delivery",
    "Draft",
    "Event",
    "Kind",
    "Sink",
    "position",
    "refused",
    "stamp",
]

#: What a draft is: a message, or a change to message ``Draft.target``.
Kind = Literal["message", "react", "edit", "delete"]
#: What the bus orders and stores.
Event = Message | Change


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
    text: str = ""
    room: str | None = None
    to: str | None = None
    action: bool = False
    bot: bool = False
    notice: bool = False
    #: Client-only tags (``+name`` -> value), checked.
    tags: dict[str, str] | None = None
    #: Where the author's lines were cut without a line feed (charla.protocol.wraps).
    wraps: list[int] | None = None
    origin: object = None
    reply_to: int | None = None
    #: For a message, who may change it later; for a change, who asks (space-separated
    #: tokens: see :mod:`charla.server.authors`). Stored, never shown.
    author: str = ""
    kind: Kind = "message"
    #: The message a change is about.
    target: int = 0
    emoji: str = ""


def stamp(draft: Draft, number: int, ts: str) -> Event:
    """The frame ``draft`` becomes at its place ``number`` in the order. A reaction's
    ``on`` is decided when it is stored (:mod:`charla.changes`)."""
    room, to, target = draft.room, draft.to, draft.target
    if draft.kind == "react":
        user, emoji = draft.user, draft.emoji
        return Reaction(id=target, seq=number, user=user, emoji=emoji, on=True, room=room, to=to)
    if draft.kind == "edit":
        user, text = draft.user, draft.text
        return Edited(id=target, seq=number, user=user, text=text, edited=ts, room=room, to=to)
    if draft.kind == "delete":
        reason = draft.text or None  # a delete's text is its reason
        return Deleted(id=target, seq=number, by=draft.user, room=room, to=to, reason=reason)
    return Message(
        id=number,
        user=draft.user,
        text=draft.text,
        ts=ts,
        room=room,
        to=to,
        action=draft.action,
        bot=draft.bot,
        reply_to=draft.reply_to,
        notice=draft.notice,
        tags=draft.tags,
        wraps=draft.wraps,
    )


def position(event: Event | ProtocolError) -> int:
    """An event's number in the order (0 for a refusal, which has none)."""
    if isinstance(event, Message):
        return event.id
    return 0 if isinstance(event, ProtocolError) else event.seq


def refused(
    batch: list[tuple[Event, object]], refusals: Mapping[int, ProtocolError]
) -> list[Delivery]:
    """``batch`` with each refused change replaced by why (its sender is told)."""
    out: list[Delivery] = []
    for event, origin in batch:
        refusal = None if isinstance(event, Message) else refusals.get(event.seq)
        if refusal is None:
            out.append((event, origin))
        else:
            out.append((refusal, origin))
    return out


#: An event in its final order, with the origin of its draft when it was published here;
#: or why a change of this node's was refused (its sender gets the ``error``).
Delivery = tuple[Event | ProtocolError, object]


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
