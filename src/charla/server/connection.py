"""One client connection: bytes in and out, and nothing about chat.

:class:`Connection` is an :class:`asyncio.Protocol`. Incoming bytes are cut into lines and
decoded here; each frame goes to the :class:`~charla.server.hub.Hub`, which owns the chat
state. Outgoing bytes are appended to a per-connection outbox and written once per loop
iteration by the hub's flush (coalescing): a broadcast to a thousand clients appends a
thousand references to one ``bytes`` object and never waits for any reader.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, cast

from ..protocol import (
    ClientFrame,
    ClientHistory,
    Code,
    Error,
    LineSplitter,
    Pong,
    ProtocolError,
    Say,
    decode_client_frame,
    encode,
)
from .limits import TokenBucket

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["Connection"]

log = logging.getLogger("charla.server")

# Frames that cost a token of the rate limit: what reaches other people or the disk.
_METERED = (Say, ClientHistory)


class Connection(asyncio.Protocol):
    """A client's socket, its outbox and its per-client chat state."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        config = hub.config
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self._splitter = LineSplitter(config.max_line)
        self._out: list[bytes] = []
        self._bucket = TokenBucket(config.rate_limit, config.burst, clock=hub.clock)
        self._backlog: deque[ClientFrame] = deque()
        self._backlog_timer: asyncio.TimerHandle | None = None
        #: The hub is deciding something (a hello, a nick claim): frames wait in the backlog.
        self._held = False
        self.handshake_timer: asyncio.TimerHandle | None = None
        self.closed = False
        self.last_seen = hub.clock()
        self.pinged = False
        # Chat state, kept by the hub.
        self.nick: str | None = None
        self.lang = "es"
        self.rooms: set[str] = set()
        #: Messages this client published that are not delivered yet.
        self.in_flight = 0
        #: Things to do once ``in_flight`` reaches zero (pongs, a goodbye).
        self.after_acks: list[bytes] = []
        self.quitting = False
        #: The task sending this client's latest join history; the next one waits for it.
        self.last_join: asyncio.Task[None] | None = None
        self.quit_reason = ""
        self.eof = False

    def __repr__(self) -> str:
        return f"<Connection {self.nick or '-'} from {self.peer}>"

    @property
    def welcomed(self) -> bool:
        return self.nick is not None

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else "local"
        self.hub.accept(self)

    def data_received(self, data: bytes) -> None:
        self.last_seen = self.hub.clock()
        self.pinged = False
        try:
            lines = self._splitter.feed(data)
        except ProtocolError as exc:
            self.fail(exc)
            return
        for line in lines:
            if self.closed:
                return
            try:
                frame = decode_client_frame(line)
            except ProtocolError as exc:
                self.send_error(exc.code, exc.message)
                continue
            self._admit(frame)

    def eof_received(self) -> bool | None:
        # A client that half-closes (``echo hola | nc``) still gets its answers: the hub
        # says goodbye once everything it sent was handled.
        self.eof = True
        if not self._backlog and not self._held:
            self.hub.quit(self, "eof")
        # TLS has no half-close: the transport closes whatever is answered (and asyncio
        # warns when asked to keep it open), so ask only on plain TCP.
        return self.transport is None or self.transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for timer in (self._backlog_timer, self.handshake_timer):
            if timer is not None:
                timer.cancel()
        self._backlog.clear()
        self._out.clear()
        self.hub.remove(self)

    def pause_writing(self) -> None:
        # The transport's own buffer is past its high-water mark; the sendq check in
        # flush() decides whether this client is merely slow or must be cut off.
        pass

    # --- incoming: rate limit, then the hub ---------------------------------------------

    def _admit(self, frame: ClientFrame) -> None:
        """Hand ``frame`` to the hub now, or queue it behind the rate limit."""
        if (
            self._backlog
            or self._held
            or (isinstance(frame, _METERED) and self.welcomed and not self._bucket.take())
        ):
            self._queue(frame)
        else:
            self.hub.handle(self, frame)

    def _queue(self, frame: ClientFrame) -> None:
        self._backlog.append(frame)
        if len(self._backlog) > self.hub.config.flood_queue > 0:
            self.fail(ProtocolError(Code.FLOOD, "too many messages too fast", fatal=True))
            return
        self._schedule_backlog()

    def _schedule_backlog(self) -> None:
        if self._backlog_timer is None and self._backlog and not self._held:
            self._backlog_timer = self.hub.loop.call_later(
                self._bucket.wait_time(), self._release_backlog
            )

    def _release_backlog(self) -> None:
        """Let queued frames through at the sustained rate, in order."""
        self._backlog_timer = None
        while self._backlog and not self.closed and not self._held:
            frame = self._backlog[0]
            if isinstance(frame, _METERED) and not self._bucket.take():
                break
            self._backlog.popleft()
            self.hub.handle(self, frame)
        self._schedule_backlog()
        if self._backlog or self.closed or self._held:
            return
        if self.eof and not self.quitting:
            self.hub.quit(self, "eof")
        elif self.quitting and not self.in_flight:
            # /salir was handled while frames waited behind it; those are done now and
            # nothing else would call finish_quit (acked() runs only for stored work).
            self.hub.finish_quit(self)

    # --- outgoing --------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue ``data`` (whole frames) for this loop iteration's write."""
        if self.closed:
            return
        if not self._out:
            self.hub.mark_dirty(self)
        self._out.append(data)

    def send_frame(self, frame: object) -> None:
        self.send(encode(frame))  # type: ignore[arg-type]

    def send_error(self, code: Code, message: str, *, text: str | None = None) -> None:
        self.send(encode(Error(code=code, message=message, text=text)))

    def flush(self) -> None:
        """Write everything queued in one call; cut the client off if it lags too far."""
        if self.closed or self.transport is None or not self._out:
            self._out.clear()
            return
        out, self._out = self._out, []
        self.transport.writelines(out)
        limit = self.hub.config.max_sendq
        if limit and self.transport.get_write_buffer_size() > limit:
            self.hub.cut_off(self, Code.SLOW_CONSUMER, "not reading fast enough")

    def fail(self, exc: ProtocolError) -> None:
        """Tell the client what it did wrong, then hang up."""
        self.send_error(exc.code, exc.message)
        if exc.fatal:
            self.hub.cut_off(self, exc.code, exc.message, tell=False)

    def close(self, *, abort: bool = False) -> None:
        """Write what is queued (unless aborting) and close."""
        if self.closed or self.transport is None:
            return
        if abort:
            self.closed = True
            self.transport.abort()
            return
        if self._out:
            self.transport.writelines(self._out)
            self._out.clear()
        self.closed = True
        self.transport.close()

    def pause_reading(self) -> None:
        """Handle nothing more from this client until :meth:`resume_reading`.

        Pausing the transport stops new reads, but lines of the chunk being handled (a
        second ``hello`` written together with the first) are already split: they wait
        in the backlog, in order, like frames behind the rate limit.
        """
        self._held = True
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        self._held = False
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()
        if self._backlog_timer is None:
            self._release_backlog()  # what waited meanwhile, and a goodbye it postponed

    def ping_barrier(self, token: str | None) -> None:
        """Answer a client's ping once everything it sent before is delivered."""
        pong = encode(Pong(token=token))
        if self.in_flight:
            self.after_acks.append(pong)
        else:
            self.send(pong)

    def acked(self, count: int = 1) -> None:
        """``count`` of this client's messages were delivered (or refused)."""
        self.in_flight -= count
        if self.in_flight:
            return
        pending, self.after_acks = self.after_acks, []
        for data in pending:
            self.send(data)
        if self.quitting:
            self.hub.finish_quit(self)

    @property
    def idle(self) -> bool:
        """Nothing of this client's is waiting: no frame behind the rate limit, no
        message on its way to the disk."""
        return not self._backlog and not self.in_flight and not self._held
