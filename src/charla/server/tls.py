"""TLS that starts after admission: the caps and the handshake timeout cover the handshake.

A listener made with ``create_server(ssl=...)`` tells its protocol about a socket only
once the TLS handshake is over: until then no cap counts it and no timeout ends it, so a
few hundred sockets that never finish the handshake stay open (asyncio's own timeout is
60 s). A :class:`TlsConnection` is accepted like a plain one — ``--max-clients``,
``--max-per-ip`` and ``--handshake-timeout`` apply the moment the socket is accepted —
and only then starts TLS on it. A socket refused at accept is closed without a word: a
frame in clear would mean nothing to a TLS client, and a handshake just to refuse would
be the very cost the caps are there to avoid.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import TYPE_CHECKING, cast

from .connection import WRITE_HIGH_WATER, WRITE_LOW_WATER, Connection

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["TlsConnection"]

log = logging.getLogger("charla.server")

#: The TLS handshake's own limit when ``--handshake-timeout`` is off (asyncio's default).
FALLBACK_HANDSHAKE_TIMEOUT = 60.0
#: Most bytes kept from a client before TLS takes its socket (a TLS ClientHello is well
#: under this); past it they are dropped and the handshake fails.
_EARLY_LIMIT = 16 * 1024


class TlsConnection(Connection):
    """A client socket admitted in clear, then upgraded to TLS before anything is read."""

    def __init__(self, hub: Hub, context: ssl.SSLContext) -> None:
        super().__init__(hub)
        self._context = context
        #: The accepted socket while its handshake runs; ``transport`` stays ``None`` until
        #: TLS is up, so nothing is ever written to the socket in clear.
        self._raw: asyncio.Transport | None = None
        self._early = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raw = self._raw = cast(asyncio.Transport, transport)
        raw.pause_reading()  # the client's handshake bytes are for TLS, not for the member
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else "local"
        self.member = self._hub.accept(self)
        if self.member is not None and not self.closed:
            self._hub.spawn(self._start_tls(raw))

    async def _start_tls(self, raw: asyncio.Transport) -> None:
        timeout = self._hub.config.handshake_timeout or FALLBACK_HANDSHAKE_TIMEOUT
        loop = asyncio.get_running_loop()
        upgrade = asyncio.ensure_future(
            loop.start_tls(
                raw, self, self._context, server_side=True, ssl_handshake_timeout=timeout
            )
        )
        # start_tls's first step gives the socket to TLS and schedules TLS's
        # connection_made; the early bytes go to TLS right after that, two turns later.
        loop.call_soon(loop.call_soon, self._replay_early, raw)
        try:
            transport = await upgrade
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            log.info("TLS handshake with %s failed: %r", self.peer, exc)
            raw.abort()
            self.connection_lost(None)
            return
        if transport is None or self.closed:
            # Cut off meanwhile (the handshake timeout): asyncio then ends the handshake
            # with no transport and without telling this protocol, so free the slot here.
            if transport is not None:
                transport.abort()
            self.connection_lost(None)
            return
        self._raw = None
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        self.transport = transport
        self.flush()  # a hello that came with the handshake's last bytes may be answered

    def flush(self) -> None:
        if self._raw is not None and not self.closed:
            return  # held until TLS is up
        super().flush()

    def close(self, *, abort: bool = False) -> None:
        raw = self._raw
        if raw is None:
            super().close(abort=abort)
            return
        # Refused at accept or cut off mid-handshake: there is no TLS to speak in yet.
        self.closed = True
        self._raw = None
        raw.abort()

    def data_received(self, data: bytes) -> None:
        if self._raw is not None and self._raw.get_protocol() is self:
            # Bytes straight from the socket before TLS took it: uvloop may read the
            # client's first handshake bytes before this protocol could pause the
            # socket. Keep them for TLS (see :meth:`_replay_early`).
            if len(self._early) < _EARLY_LIMIT:
                self._early += data
            return
        super().data_received(data)

    def _replay_early(self, raw: asyncio.Transport) -> None:
        """Hand the handshake bytes read before TLS took the socket to TLS."""
        early, self._early = self._early, bytearray()
        # asyncio's and uvloop's TLS protocols both take bytes as a buffered protocol
        # (uvloop's without subclassing asyncio.BufferedProtocol).
        protocol = raw.get_protocol()
        if not early or protocol is self:
            return
        tls = cast(asyncio.BufferedProtocol, protocol)
        view = memoryview(early)
        while view:
            buffer = memoryview(tls.get_buffer(len(view)))
            size = min(len(buffer), len(view))
            buffer[:size] = view[:size]
            tls.buffer_updated(size)
            view = view[size:]
