"""A connected client as the chat sees it: its nick, rooms, language and request queue.

The hub owns members; a member reaches its socket only through a :class:`Link` (the
:class:`~charla.server.connection.Connection` in production, a fake in unit tests). Its
:class:`~charla.protocol.ServerConnection` holds the connection's rules: what it may do
in its state, the order of its requests, its rate limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from ..i18n import tr
from ..protocol import Code, Error, ProtocolError, ServerConnection, ServerFrame
from .authors import connection_token
from .limits import TokenBucket

if TYPE_CHECKING:
    from .hub import Hub
    from .users import User

__all__ = ["Link", "Member"]


class Link(Protocol):
    """The byte side of a member: what a socket (or a test's fake) provides."""

    peer: str
    closed: bool

    def send(self, data: bytes) -> None: ...

    def close(self, *, abort: bool = False) -> None: ...

    async def drained(self) -> None:
        """Return once the peer took what was sent down to a low-water mark."""


class Member:
    __slots__ = (
        "away_notify",
        "bot",
        "connected_at",
        "hub",
        "lang",
        "last_seen",
        "link",
        "meter",
        "nick",
        "pinged",
        "proto",
        "quit_reason",
        "rooms",
        "token",
        "user",
        "wait_timer",
        "watching",
    )

    def __init__(self, hub: Hub, link: Link) -> None:
        config = hub.config
        self.hub = hub
        self.link = link
        #: The client's rate limit: requests pass through it, and so do a hello's rooms.
        self.meter = TokenBucket(config.rate_limit, config.burst, clock=hub.clock)
        self.proto = ServerConnection(
            max_line=config.max_line, max_queued=config.flood_queue, meter=self.meter
        )
        self.nick: str | None = None
        #: The user this connection is a session of, once welcomed (server/users.py).
        self.user: User | None = None
        self.lang = "es"
        #: Rooms joined (announced, listed in ``users``) and rooms only read.
        self.rooms: set[str] = set()
        self.watching: set[str] = set()
        self.connected_at = self.last_seen = hub.clock()
        self.pinged = False
        #: Whether the client asked to hear who goes away and comes back (``hello``).
        self.away_notify = False
        #: The client is a program (``hello.bot``, the ``bot`` request): its messages
        #: carry ``bot``. A session's own, not its user's: a person's other sessions are
        #: still the person's.
        self.bot = False
        #: Set while the next request waits for the rate limit.
        self.wait_timer: asyncio.TimerHandle | None = None
        #: Why the connection ends, told to its rooms: the quit message, or why it was
        #: cut off (None: it just went).
        self.quit_reason: str | None = None
        #: Proves, for as long as this connection lasts, who wrote its messages
        #: (:mod:`charla.server.authors`).
        self.token = connection_token()

    def __repr__(self) -> str:
        return f"<Member {self.nick or '-'} from {self.link.peer}>"

    @property
    def peer(self) -> str:
        return self.link.peer

    @property
    def closed(self) -> bool:
        return self.link.closed

    @property
    def room_count(self) -> int:
        """Rooms joined or watched: what ``--max-rooms-per-client`` bounds."""
        return len(self.rooms) + len(self.watching)

    async def spend_token(self) -> None:
        """Take one token of the rate limit, waiting for it when there is none: a hello
        that joins many rooms pays for each, like the joins it stands for."""
        while not self.meter.take():
            await asyncio.sleep(self.meter.wait_time())

    # --- bytes in ----------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        self.last_seen = self.hub.clock()
        self.pinged = False
        self.hub.receive(self, data)

    def receive_eof(self) -> None:
        self.proto.receive_eof()
        self.hub.pump(self)

    # --- frames out ----------------------------------------------------------------------

    def send(self, frame: ServerFrame) -> None:
        self.link.send(self.proto.send(frame))

    def send_bytes(self, data: bytes) -> None:
        """Frames encoded once for many members (fan-out)."""
        self.link.send(data)

    def send_error(
        self,
        code: Code,
        message: str,
        *,
        values: Mapping[str, object] | None = None,
        label: str | None = None,
        text: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """An ``error`` frame in the member's language: ``message`` is the English text
        (a message id), its ``{name}`` fields filled from ``values`` after translation."""
        if retry_after is not None:
            retry_after = round(max(retry_after, 0.001), 3)
        message = tr(self.lang, message, **(values or {}))
        self.send(
            Error(code=code, message=message, text=text, label=label, retry_after=retry_after)
        )

    def refuse(self, exc: ProtocolError, label: str | None = None) -> None:
        """Answer a refused request with its error frame."""
        self.send_error(
            exc.code, exc.template, values=exc.values, label=label, retry_after=exc.retry_after
        )
