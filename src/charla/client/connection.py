"""A client's end of the wire: connect, say hello, send frames, receive frames.

Shared by every front-end (the Textual app, the plain line mode, ``send``/``tail``/``users``):
they differ in what they show, not in how they talk.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Literal

from ..i18n import tr
from ..protocol import (
    ClientConnection,
    ClientFrame,
    Code,
    Error,
    Hello,
    ServerFrame,
    Welcome,
)

#: How long closing waits for the socket to be closed (a TLS peer that never answers
#: the close would hold it for asyncio's 30 s).
CLOSE_WAIT = 1.0

__all__ = [
    "Access",
    "ClosedBeforeWelcome",
    "ConnectOptions",
    "HelloRefused",
    "Link",
    "Secret",
    "connect",
    "secret_wanted",
    "tls_context",
]

#: Server frames can be long (a page of 200 messages of 4000 characters); the client's
#: own line limit is generous but still bounded.
CLIENT_MAX_LINE = 16 * 1024 * 1024


class ClosedBeforeWelcome(ConnectionError):
    """The server ended the connection without answering ``hello``: a TLS listener
    reached without ``--tls`` does that, as does a server stopping."""

    def __init__(self) -> None:
        super().__init__("the server closed the connection")

    @staticmethod
    def explain(lang: str, *, tls: bool) -> str:
        """Why, as far as the client can tell, in ``lang``."""
        if tls:
            return tr(lang, "the server closed the connection")
        return tr(lang, "the server closed the connection (does it use TLS? try --tls)")


class HelloRefused(Exception):
    """The server answered ``hello`` with an ``error``."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.message)
        self.code = error.code
        self.message = error.message

    @property
    def retryable(self) -> bool:
        """Whether another nick or password on the same connection may succeed."""
        return self.code in (Code.NICK_INVALID, Code.NICK_TAKEN, Code.NICK_REGISTERED)


@dataclass(frozen=True, kw_only=True)
class Access:
    """Secrets for ``hello``. They come from the environment or a prompt, never argv."""

    password: str | None = None
    server_password: str | None = None


#: A secret a client may ask its user for.
Secret = Literal["password", "server_password"]


def secret_wanted(code: str | None, *, password_sent: bool) -> Secret | None:
    """The password a refused ``hello`` asks for. A registered nick says so; a wrong
    password sent without the nick's one can only be the server's (the server checks it
    first, and a registered nick without its password is ``nick_registered``)."""
    if code == Code.NICK_REGISTERED:
        return "password"
    if code == Code.BAD_PASSWORD:
        return "password" if password_sent else "server_password"
    return None


@dataclass(frozen=True, kw_only=True)
class ConnectOptions:
    host: str = "127.0.0.1"
    port: int = 12345
    tls: bool = False
    tls_ca: str | None = None
    insecure: bool = False
    timeout: float = 10.0


def tls_context(options: ConnectOptions) -> ssl.SSLContext | None:
    if not options.tls:
        return None
    context = ssl.create_default_context(cafile=options.tls_ca)
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Link:
    """One open connection to a server, speaking through a
    :class:`~charla.protocol.ClientConnection`: it decides what may be sent when, and
    answers the server's keep-alive pings."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.protocol = ClientConnection(max_line=CLIENT_MAX_LINE)
        self._frames: deque[ServerFrame] = deque()

    async def send(self, frame: ClientFrame) -> None:
        """Send ``frame``; raises :class:`~charla.protocol.LocalProtocolError` (and sends
        nothing) when the connection's state does not allow it."""
        self._writer.write(self.protocol.send(frame))
        await self._writer.drain()

    async def send_together(self, frames: list[ClientFrame]) -> None:
        """Send ``frames`` in one write (as a bot piping lines does): the server handles
        and answers them in order all the same."""
        self._writer.write(b"".join(map(self.protocol.send, frames)))
        await self._writer.drain()

    def next_label(self) -> str:
        """A label no earlier request on this connection carried."""
        return self.protocol.next_label()

    async def recv(self) -> ServerFrame | None:
        """The next frame the server sent, or ``None`` when the connection ended.

        Frames of a type this client does not know (a newer server) are skipped. The
        server's idle ``ping`` is answered here, for every kind of client: one that only
        reads (``tail``, a quiet ``--plain``) would otherwise be dropped after
        ``--ping-timeout``.
        """
        while not self._frames:
            data = await self._reader.read(65536)
            if not data:
                return None
            self._frames.extend(self.protocol.receive_data(data))
            if owed := self.protocol.data_to_send():
                self._writer.write(owed)
        return self._frames.popleft()

    async def recv_answer(self, label: str) -> ServerFrame:
        """Read up to the first frame labelled ``label`` (the answer to a request sent
        with it, or its ``error``); frames before it are kept, in order, for the next
        :meth:`recv` calls. Raises ``ConnectionError`` when the connection ends first."""
        others: list[ServerFrame] = []
        try:
            while (frame := await self.recv()) is not None:
                if frame.label == label:
                    return frame
                others.append(frame)
            raise ConnectionError("the server closed the connection")
        finally:
            self.unread(others)

    def unread(self, frames: list[ServerFrame]) -> None:
        """Put ``frames`` back, to be returned by the next :meth:`recv` calls in order."""
        self._frames.extendleft(reversed(frames))

    async def hello(self, hello: Hello) -> tuple[Welcome, list[ServerFrame]]:
        """Send ``hello`` and wait for ``welcome``. Frames that came before it (none, from
        a charla server) are returned so nothing is lost. Raises :class:`HelloRefused`."""
        await self.send(hello)
        early: list[ServerFrame] = []
        while True:
            frame = await self.recv()
            if frame is None:
                raise ClosedBeforeWelcome
            if isinstance(frame, Welcome):
                return frame, early
            if isinstance(frame, Error):
                raise HelloRefused(frame)
            early.append(frame)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    async def aclose(self) -> None:
        """Close and wait (briefly) until the socket is closed. A connection the server
        reset keeps that error for whoever waits: closing without waiting left it
        unclaimed, and asyncio printed it as a traceback when the program ended."""
        self.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_closed(), CLOSE_WAIT)


async def connect(options: ConnectOptions) -> Link:
    """Open a connection (TLS when asked). Raises ``OSError`` or ``TimeoutError``."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            options.host, options.port, ssl=tls_context(options), limit=CLIENT_MAX_LINE
        ),
        options.timeout,
    )
    return Link(reader, writer)
