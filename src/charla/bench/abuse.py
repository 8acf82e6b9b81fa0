"""What ``charla bench attack`` and ``charla bench soak`` share: a server with its real
limits in a subprocess, a raw client, and the abusers of docs/security.md.

Each abuser is a coroutine that attacks again and again until its ``stop`` time, and
counts what the server answered in an :class:`Tally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .servers import ProcStats, _process, free_port, python_env

__all__ = [
    "BIG_ROOM",
    "Client",
    "LimitedServer",
    "Tally",
    "big_history_reader",
    "counts",
    "fill_big_room",
    "limited_server",
    "long_hello",
    "password_guesser",
    "ping_streamer",
    "silent_tls_sockets",
]

#: The room the big-history abuse fills: 50 messages of 4000 emoji, about 800 KB.
BIG_ROOM = "grande"
BIG_TEXT = "😀" * 3990
#: A registered nick the password guessers try.
OWNER = "duena"
OWNER_PASSWORD = "la-clave-buena"
#: Seconds an abuser waits before attacking again.
PAUSE = 0.5


@dataclass
class LimitedServer:
    """A ``charla serve`` with its default limits (per-address cap off: every client of
    a benchmark is on 127.0.0.1), its database, log and process."""

    port: int
    db: Path
    log: Path
    stats: ProcStats
    tls: ssl.SSLContext | None = None

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback")


@contextlib.contextmanager
def limited_server(
    extra: Sequence[str] = (), *, tls: bool = False, workdir: Path | None = None
) -> Iterator[LimitedServer]:
    """``charla serve`` on a free port with its database and log in ``workdir`` (a
    temporary directory by default); with ``tls``, a certificate from a throwaway CA
    (trustme, a dev dependency)."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="charla-")))
        yield stack.enter_context(_limited_server(extra, tls, workdir))


@contextlib.contextmanager
def _limited_server(extra: Sequence[str], tls: bool, workdir: Path) -> Iterator[LimitedServer]:
    port = free_port()
    db = workdir / "abuse.db"
    flags = [f"--port={port}", f"--db={db}", "--host=127.0.0.1", "--max-per-ip=0"]
    client_tls = None
    if tls:
        flags += _tls_flags(workdir)
        client_tls = ssl.create_default_context(cafile=str(workdir / "ca.pem"))
    cmd = [sys.executable, "-m", "charla", "serve", *flags, *extra]
    with _process("charla", "charla", cmd, port, workdir, python_env()) as target:
        assert target.stats is not None
        yield LimitedServer(
            port=port, db=db, log=workdir / "charla.log", stats=target.stats, tls=client_tls
        )


def _tls_flags(workdir: Path) -> list[str]:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(workdir / "cert.pem"))
    cert.private_key_pem.write_to_path(str(workdir / "key.pem"))
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    return [f"--tls-cert={workdir / 'cert.pem'}", f"--tls-key={workdir / 'key.pem'}"]


@dataclass
class Tally:
    """What the abusers saw: error codes by name, and attacks made."""

    codes: Counter[str] = field(default_factory=Counter)
    attacks: Counter[str] = field(default_factory=Counter)


def counts(counter: Counter[str]) -> str:
    """``name ×count, …`` in name order."""
    return ", ".join(f"{name} ×{count}" for name, count in sorted(counter.items())) or "none"


class Client:
    """A raw charla client: frames as dicts."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, server: LimitedServer, *, rcvbuf: int = 0) -> Client:
        if rcvbuf:
            import socket

            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
            reader, writer = await asyncio.open_connection(
                sock=sock, limit=2**24, ssl=server.tls, server_hostname=_hostname(server)
            )
        else:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1",
                server.port,
                limit=2**24,
                ssl=server.tls,
                server_hostname=_hostname(server),
            )
        return cls(reader, writer)

    def send(self, frame: dict[str, Any]) -> None:
        self.writer.write(json.dumps(frame).encode() + b"\n")

    async def recv(self) -> dict[str, Any] | None:
        line = await self.reader.readline()
        if not line:
            return None
        frame: dict[str, Any] = json.loads(line)
        if frame.get("type") == "ping":  # the server's keep-alive
            self.send({"type": "pong", "token": frame.get("token")})
        return frame

    async def until(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Frames up to one of type ``kind`` with ``fields``; ConnectionError if closed."""
        while (frame := await self.recv()) is not None:
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in fields.items()):
                return frame
        raise ConnectionError(f"closed while waiting for {kind}")

    async def drain_all(self, tally: Tally | None = None) -> None:
        """Read until the server closes, counting its error codes."""
        with contextlib.suppress(ConnectionError, ValueError):
            while (frame := await self.recv()) is not None:
                if tally is not None and frame.get("type") == "error":
                    tally.codes[frame.get("code", "?")] += 1

    def close(self) -> None:
        self.writer.close()


def _hostname(server: LimitedServer) -> str | None:
    return "127.0.0.1" if server.tls is not None else None


@contextlib.asynccontextmanager
async def _attempt(tally: Tally, name: str) -> AsyncIterator[None]:
    """One attack: counted; a refused or reset connection is an expected outcome."""
    tally.attacks[name] += 1
    with contextlib.suppress(ConnectionError, OSError, TimeoutError, ssl.SSLError, ValueError):
        async with asyncio.timeout(30):
            yield
    await asyncio.sleep(PAUSE)


async def long_hello(server: LimitedServer, stop: float, tally: Tally, n: int = 0) -> None:
    """Finding 1: one hello naming 5000 rooms, held open a few seconds, again."""
    rooms = [f"abuso{n}-{i}" for i in range(5000)]
    while time.monotonic() < stop:
        async with _attempt(tally, "long hello"):
            client = await Client.connect(server)
            client.send({"type": "hello", "nick": f"rooms{n}", "rooms": rooms})
            client.send({"type": "rooms"})
            await client.until("rooms")
            client.send({"type": "quit"})
            await client.drain_all(tally)


async def ping_streamer(server: LimitedServer, stop: float, tally: Tally, n: int = 0) -> None:
    """Finding 2: a message in flight, then pings as fast as the socket takes them."""
    pings = b'{"type":"ping"}\n' * 500
    while time.monotonic() < stop:
        async with _attempt(tally, "ping stream"):
            client = await Client.connect(server)
            client.send({"type": "hello", "nick": f"pinger{n}"})
            await client.until("history")
            client.send({"type": "say", "text": "en vuelo"})
            reading = asyncio.ensure_future(client.drain_all(tally))
            while not reading.done() and time.monotonic() < stop:
                client.writer.write(pings)
                await client.writer.drain()
            client.close()
            await reading


async def fill_big_room(server: LimitedServer) -> None:
    """Finding 3's room: 50 messages of 4000 emoji (paced by the rate limit)."""
    client = await Client.connect(server)
    client.send({"type": "hello", "nick": "relleno", "rooms": [BIG_ROOM]})
    await client.until("history", room=BIG_ROOM)
    for i in range(50):
        client.send({"type": "say", "room": BIG_ROOM, "text": f"{i:02d}{BIG_TEXT}"})
    client.send({"type": "ping", "token": "filled"})
    await client.until("pong", token="filled")
    client.send({"type": "quit"})
    await client.drain_all()


async def big_history_reader(server: LimitedServer, stop: float, tally: Tally, n: int = 0) -> None:
    """Finding 3: join the big room through a small receive buffer, reading slowly."""
    while time.monotonic() < stop:
        async with _attempt(tally, "big history"):
            client = await Client.connect(server, rcvbuf=4096)
            client.send({"type": "hello", "nick": f"lento{n}", "rooms": [BIG_ROOM], "since": 0})
            history = await client.until("history", room=BIG_ROOM)
            tally.codes["big history: parts" if history.get("more") else "big: whole"] += 1
            client.send({"type": "quit"})
            await client.drain_all(tally)


async def password_guesser(server: LimitedServer, stop: float, tally: Tally) -> None:
    """Finding 4/5: 40 wrong passwords for a registered nick at once, again."""

    async def guess(i: int) -> None:
        client = await Client.connect(server)
        client.send({"type": "hello", "nick": OWNER, "password": f"mala-{i}-xxxxxx"})
        frame = await client.until("error")
        tally.codes[frame.get("code", "?")] += 1
        client.close()

    while time.monotonic() < stop:
        async with _attempt(tally, "40 wrong passwords"):
            await asyncio.gather(*(guess(i) for i in range(40)), return_exceptions=True)


async def register_owner(server: LimitedServer) -> None:
    client = await Client.connect(server)
    client.send({"type": "hello", "nick": OWNER})
    await client.until("history")
    client.send({"type": "register", "password": OWNER_PASSWORD, "label": "r"})
    await client.until("system", label="r")
    client.send({"type": "quit"})
    await client.drain_all()


async def silent_tls_sockets(
    server: LimitedServer, stop: float, tally: Tally, count: int = 120
) -> None:
    """Finding 6: plain sockets that never start the TLS handshake, reopened as closed."""

    async def one() -> None:
        while time.monotonic() < stop:
            tally.attacks["silent socket"] += 1
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                started = time.monotonic()
                with contextlib.suppress(OSError, TimeoutError):
                    await asyncio.wait_for(reader.read(1), max(0.1, stop - time.monotonic()))
                tally.codes["silent socket held (max s)"] = max(
                    tally.codes["silent socket held (max s)"], round(time.monotonic() - started)
                )
                writer.close()
            await asyncio.sleep(PAUSE)

    await asyncio.gather(*(one() for _ in range(count)))
