"""One client socket: bytes in and out, and nothing about chat.

:class:`Connection` is an :class:`asyncio.Protocol`. What it reads goes to its
:class:`~charla.server.member.Member` (the chat state, which the hub owns); what the
member sends is appended to an outbox and written once per loop iteration by the
:class:`Flusher` (coalescing): a broadcast to a thousand clients appends a thousand
references to one ``bytes`` object and never waits for any reader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["Connection", "Flusher"]

log = logging.getLogger("charla.server")

#: Answers (histories, pages) are written in parts; the next part waits until the socket
#: took the previous ones down to the low-water mark, so a big answer never makes its own
#: reader look slow.
WRITE_HIGH_WATER = 64 * 1024
WRITE_LOW_WATER = 16 * 1024


class Flusher:
    """Writes every connection that has something to send once per loop iteration."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[Connection] = []

    def mark(self, conn: Connection) -> None:
        if not self._dirty:
            self._loop.call_soon(self.flush)
        self._dirty.append(conn)

    def flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for conn in dirty:
            conn.flush()


class Connection(asyncio.Protocol):
    """A client's socket and its outbox."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._flusher = hub.flusher
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.member: Member | None = None
        self.closed = False
        self._out: list[bytes] = []
        self._writable: asyncio.Future[None] | None = None
        #: Called when more is held for this client than ``max_sendq``.
        self.on_overflow: Callable[[], None] = lambda: None
        self.max_sendq = 0

    def __repr__(self) -> str:
        return f"<Connection {self.member!r} from {self.peer}>"

    # --- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else "local"
        self.member = self._hub.accept(self)

    def data_received(self, data: bytes) -> None:
        if self.member is not None and not self.closed:
            self.member.receive_data(data)

    def eof_received(self) -> bool | None:
        # A client that half-closes (``echo hola | nc``) still gets its answers: it quits
        # once everything it sent is handled.
        if self.member is not None and not self.closed:
            self.member.receive_eof()
        # TLS has no half-close: the transport closes whatever is answered (and asyncio
        # warns when asked to keep it open), so ask only on plain TCP.
        return self.transport is None or self.transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._out.clear()
        self._wake_writers()
        if self.member is not None:
            self._hub.remove(self.member)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_writers()

    def _wake_writers(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    # --- outgoing --------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue ``data`` (whole frames) for this loop iteration's write."""
        if self.closed:
            return
        if not self._out:
            self._flusher.mark(self)
        self._out.append(data)

    def flush(self) -> None:
        """Write everything queued in one call; report a client that lags too far."""
        if self.closed or self.transport is None or not self._out:
            self._out.clear()
            return
        out, self._out = self._out, []
        self.transport.writelines(out)
        if self.max_sendq and self.transport.get_write_buffer_size() > self.max_sendq:
            self.on_overflow()

    async def drained(self) -> None:
        """Return once the socket took what was queued down to the low-water mark."""
        self.flush()
        while self._writable is not None and not self.closed:
            await asyncio.shield(self._writable)

    def close(self, *, abort: bool = False) -> None:
        """Write what is queued (unless aborting) and close."""
        if self.closed or self.transport is None:
            return
        self.closed = True
        if abort:
            self.transport.abort()
            return
        if self._out:
            self.transport.writelines(self._out)
            self._out.clear()
        self.transport.close()
