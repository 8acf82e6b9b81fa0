"""A trivial relay: the least a fan-out server can do, to calibrate the load generator.

It answers a ``hello`` at once and copies every other line to every client, coalesced
(one ``writelines`` per client per loop iteration): no validation, no ids, no storage.
``charla bench --peer relay`` runs the workload against it; where the relay still passes
steps that charla fails, the load generator was not what limited charla.

Run alone: ``python -m charla.bench.relay PORT``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import ClassVar

__all__ = ["Relay", "serve"]

_WELCOME = b'{"type":"history","room":"general","messages":[]}\n'


class Relay(asyncio.Protocol):
    clients: ClassVar[set[Relay]] = set()
    dirty: ClassVar[list[Relay]] = []

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.out: list[bytes] = []
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        *lines, self.tail = (self.tail + data).split(b"\n")
        for line in lines:
            if line.startswith(b'{"type":"hello"'):
                self.clients.add(self)
                self.send(_WELCOME)
            elif line:
                copy = line + b"\n"
                for client in self.clients:
                    client.send(copy)

    def send(self, data: bytes) -> None:
        if not self.out:
            if not Relay.dirty:
                asyncio.get_running_loop().call_soon(Relay.flush)
            Relay.dirty.append(self)
        self.out.append(data)

    @staticmethod
    def flush() -> None:
        dirty, Relay.dirty = Relay.dirty, []
        for client in dirty:
            out, client.out = client.out, []
            if client.transport is not None and not client.transport.is_closing():
                client.transport.writelines(out)

    def connection_lost(self, exc: Exception | None) -> None:
        self.clients.discard(self)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Relay, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    from ..server.app import install_uvloop, raise_file_limit

    install_uvloop()
    raise_file_limit(0)
    asyncio.run(serve(int(sys.argv[1])))
