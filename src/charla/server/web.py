"""The web port (``--web HOST:PORT``): the web client, its WebSocket, incoming webhooks.

One HTTP port serves three things:

- ``GET`` of the web client's files, shipped inside the package (``charla/web/static``)
  and read once at start: no build step, nothing fetched from elsewhere;
- ``GET /ws``: a WebSocket carrying the chat protocol, one frame per text message. Once
  upgraded, the :class:`WebConnection` is a :class:`~charla.server.connection.Connection`
  like a TCP one: its member goes through the same admission, rate limit, caps, send
  queue and handshake timeout, and what the hub sends it is split into one WebSocket
  message per frame;
- ``POST /hooks/TOKEN``: an incoming webhook (:mod:`charla.server.webhooks`).

HTTP requests are parsed by h11 and the WebSocket is the sans-I/O core of ``websockets``,
both on the server's event loop. Each HTTP connection carries one request: the page loads
a handful of files, and a connection never lingers. Every response carries the security
headers (:meth:`WebSite.headers`); a WebSocket whose ``Origin`` is not the page's own
(nor one of ``--web-origin``) is refused with 403, so another site cannot open a chat in
a visitor's name.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import re
import ssl
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, cast

import h11
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request as WsRequest
from websockets.protocol import State
from websockets.server import ServerProtocol

from .config import ServerConfig, parse_host_port
from .connection import WRITE_HIGH_WATER, WRITE_LOW_WATER, Connection
from .webhooks import HOOK_PATH, HookRefused, Webhooks

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["WS_PATH", "WebConnection", "WebSite", "load_assets", "start_web"]

log = logging.getLogger("charla.server")

WS_PATH = "/ws"
#: Largest request head; the largest webhook body.
MAX_HEAD = 8 * 1024
MAX_BODY = 64 * 1024

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
#: What a Host header may hold to be repeated in the CSP (anything else is left out).
_SAFE_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,255}")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str


def load_assets() -> dict[str, Asset]:
    """The web client's files by URL path, read once: a request can only ever name one
    of these, never a path on disk."""
    root = importlib.resources.files("charla.web") / "static"
    assets = {}
    for entry in root.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _CONTENT_TYPES:
            assets["/" + entry.name] = Asset(entry.read_bytes(), _CONTENT_TYPES[suffix])
    assets["/"] = assets["/index.html"]
    return assets


class WebSite:
    """What every web connection shares: the files, the origins allowed, the hooks."""

    def __init__(self, hub: Hub, config: ServerConfig, *, tls: bool) -> None:
        self.hub = hub
        self.assets = load_assets()
        self.scheme = "https" if tls else "http"
        self.origins = {
            origin.strip().rstrip("/").lower()
            for origin in (config.web_origin or "").split(",")
            if origin.strip()
        }
        self.webhooks = Webhooks(hub)

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """A browser always sends ``Origin`` with a WebSocket: the page's own origin
        (this scheme and the Host it asked for) or one listed in ``--web-origin``."""
        if origin is None:
            return False
        origin = origin.lower()
        own = host is not None and origin == f"{self.scheme}://{host.lower()}"
        return own or origin in self.origins

    def headers(self, host: str | None) -> list[tuple[str, str]]:
        """The security headers of every response: only this server's own scripts,
        styles and WebSocket; never inside a frame; no referrer; no type sniffing."""
        sockets = ""
        if host is not None and _SAFE_HOST.fullmatch(host):
            sockets = f" ws://{host} wss://{host}"
        policy = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'{sockets}; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'none'; object-src 'none'"
        )
        return [
            ("Content-Security-Policy", policy),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Cache-Control", "no-cache"),
        ]


class WebConnection(Connection):
    """One connection to the web port: an HTTP request, then (for ``/ws``) a WebSocket
    whose text messages are the lines of a member, as a TCP connection's are."""

    def __init__(self, hub: Hub, site: WebSite) -> None:
        super().__init__(hub)
        self._site = site
        self._http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        #: The request's bytes as received: an upgrade hands them to the WebSocket.
        self._raw = bytearray()
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._ws: ServerProtocol | None = None
        self._deadline: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # As Connection's, except that nobody is admitted before the WebSocket is open.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else "local"
        timeout = self._hub.config.handshake_timeout
        if timeout > 0:
            self._deadline = self._hub.loop.call_later(timeout, self._too_slow)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        if self._ws is not None:
            self._ws_received(data)
            return
        self._raw += data
        try:
            self._http.receive_data(data)
            self._http_events()
        except h11.RemoteProtocolError as exc:
            self._respond(exc.error_status_hint, "bad HTTP request\n")

    def eof_received(self) -> bool | None:
        return False  # nothing is answered after a peer stops sending: close

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._deadline = None
        if self._ws is None:
            self._respond(HTTPStatus.REQUEST_TIMEOUT, "request not received in time\n")

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    # --- HTTP ----------------------------------------------------------------------------

    def _http_events(self) -> None:
        while not self.closed and self._ws is None:
            event = self._http.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request = event
                self._route(event)
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_BODY:
                    self._respond(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large\n")
            elif isinstance(event, h11.EndOfMessage):
                self._post_hook()
                return
            else:  # the peer closed
                return

    def _route(self, request: h11.Request) -> None:
        path = _path(request)
        if path == WS_PATH:
            self._upgrade()
        elif request.method == b"POST" and path.startswith(HOOK_PATH):
            return  # the body follows
        elif request.method != b"GET":
            self._respond(HTTPStatus.METHOD_NOT_ALLOWED, "GET the page, POST to a hook\n")
        elif (asset := self._site.assets.get(path)) is not None:
            self._respond(HTTPStatus.OK, asset.body, content_type=asset.content_type)
        else:
            self._respond(HTTPStatus.NOT_FOUND, "not found\n")

    def _post_hook(self) -> None:
        request = self._request
        assert request is not None
        token = _path(request).removeprefix(HOOK_PATH)
        content_type = _header(request, b"content-type") or ""
        self._stop_deadline()  # the answer waits for the store, not for the client
        self._hub.spawn(self._answer_hook(token, content_type, bytes(self._body)))

    async def _answer_hook(self, token: str, content_type: str, body: bytes) -> None:
        try:
            await self._site.webhooks.post(token, content_type, body)
        except HookRefused as exc:
            self._respond(exc.status, exc.reason + "\n")
            return
        self._respond(HTTPStatus.OK, b'{"ok":true}\n', content_type="application/json")

    def _respond(
        self, status: int, body: str | bytes, *, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        """Answer the one request of this connection, and close it."""
        if self.closed or self.transport is None:
            return
        data = body.encode() if isinstance(body, str) else body
        phrase = HTTPStatus(status).phrase
        host = _header(self._request, b"host") if self._request is not None else None
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("Connection", "close"),
            *self._site.headers(host),
        ]
        head = f"HTTP/1.1 {status} {phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        self.transport.write(head.encode("latin-1") + b"\r\n" + data)
        self._shut()

    def _shut(self) -> None:
        """Close after what was written, and send nothing more."""
        self._stop_deadline()
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # --- WebSocket -----------------------------------------------------------------------

    def _upgrade(self) -> None:
        config = self._hub.config
        ws = self._ws = ServerProtocol(max_size=config.max_line)
        ws.receive_data(bytes(self._raw))
        self._raw.clear()
        request = next((e for e in ws.events_received() if isinstance(e, WsRequest)), None)
        if request is None:  # websockets found the request unusable and answered it
            self._write_ws()
            self._shut()
            return
        host = request.headers.get("Host")
        origin = request.headers.get("Origin")
        if self._site.origin_allowed(origin, host):
            response = ws.accept(request)
        else:
            log.info("refused a WebSocket from %s: origin %r", self.peer, origin)
            response = ws.reject(HTTPStatus.FORBIDDEN, "this page may not open a chat here\n")
        for name, value in self._site.headers(host):
            response.headers[name] = value
        ws.send_response(response)
        self._write_ws()
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            self._shut()
            return
        self._stop_deadline()  # from here on, the admission's handshake timeout counts
        self.member = self._hub.accept(self)

    def _ws_received(self, data: bytes) -> None:
        ws = self._ws
        assert ws is not None
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Frame):
                self._frame(ws, event)
        self._write_ws()
        if ws.close_expected() or ws.state is State.CLOSED:
            self._shut()

    def _frame(self, ws: ServerProtocol, frame: Frame) -> None:
        """A text message is one line of the protocol; a long one may come in parts."""
        if self.member is None or self.closed or ws.state is not State.OPEN:
            return
        if frame.opcode in (Opcode.TEXT, Opcode.CONT):
            data = bytes(frame.data)
            self.member.receive_data(data + b"\n" if frame.fin else data)
        elif frame.opcode is Opcode.BINARY:
            ws.fail(CloseCode.UNSUPPORTED_DATA, "charla frames are text messages")

    def _write_ws(self) -> None:
        """Write what the WebSocket has to say by itself (handshake, pongs, closing)."""
        assert self._ws is not None and self.transport is not None
        data = b"".join(self._ws.data_to_send())  # an empty chunk (EOF) adds nothing
        if data and not self.transport.is_closing():
            self.transport.write(data)

    # --- outgoing (the Link a member sends through) -------------------------------------

    def send(self, data: bytes) -> None:
        """Frames (each ending in a newline) as one text message each."""
        ws = self._ws
        if ws is None or ws.state is not State.OPEN:
            return
        for line in data.split(b"\n"):
            if line:
                ws.send_text(line)
        super().send(b"".join(ws.data_to_send()))

    def close(self, *, abort: bool = False) -> None:
        ws = self._ws
        if ws is not None and ws.state is State.OPEN and not abort and not self.closed:
            ws.send_close(CloseCode.NORMAL_CLOSURE)
            super().send(b"".join(ws.data_to_send()))
        super().close(abort=abort)


def _path(request: h11.Request) -> str:
    return request.target.partition(b"?")[0].decode("ascii", "replace")


def _header(request: h11.Request | None, name: bytes) -> str | None:
    if request is None:
        return None
    for key, value in request.headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def start_web(hub: Hub, config: ServerConfig, tls: ssl.SSLContext | None) -> asyncio.Server:
    """Listen on ``config.web``; the caller closes the returned server."""
    assert config.web is not None
    host, port = parse_host_port(config.web)
    site = WebSite(hub, config, tls=tls is not None)
    return await hub.loop.create_server(
        lambda: WebConnection(hub, site), host, port, ssl=tls, backlog=1024, reuse_address=True
    )
