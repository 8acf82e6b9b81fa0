"""``/metrics`` over HTTP, in the Prometheus text format (``--metrics-port``).

The smallest HTTP/1.0 responder that Prometheus and ``curl`` accept: one request per
connection, ``GET /metrics`` or 404. It never reads more than one bounded request head.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

__all__ = ["start_metrics_server"]

_MAX_HEAD = 8192


async def start_metrics_server(host: str, port: int, render: Callable[[], str]) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            writer.close()
            return
        request = head.split(b"\r\n", 1)[0].split()
        if len(request) >= 2 and request[0] == b"GET" and request[1].split(b"?")[0] == b"/metrics":
            status, body = "200 OK", render().encode()
        else:
            status, body = "404 Not Found", b"not found\n"
        writer.write(
            f"HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, host, port, limit=_MAX_HEAD)
