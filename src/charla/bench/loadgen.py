"""The load generator: one process driving its share of the bench clients.

The runner starts several of these (``multiprocessing``) so the clients' work is spread
over the cores, and talks to each over a pipe: it sends a :class:`StepOrder`, the worker
paces its senders, counts what its receivers get and answers with a :class:`StepTally`.

Receiving is the load generator's own hot path, so it does no per-line Python work: each
chunk read is cut at its last newline and the deliveries of the open step are counted
with one ``bytes.count`` (see :mod:`charla.bench.wire`). Only one client in
``probe_stride`` also scans for latency probes, and nobody scans for the server's pings:
every client sends a keep-alive of its own instead, so the server never needs to ping.
Its CPU time is reported with every step, so a run shows whether the generator, and not
the server, was the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any

from . import wire

__all__ = [
    "BUCKET_NS",
    "StepOrder",
    "StepTally",
    "WorkerSpec",
    "is_sender",
    "probe_stride",
    "worker_main",
]

#: Latency histogram resolution.
BUCKET_NS = 10_000
#: How often a sender catches up with its schedule.
TICK = 0.005
#: How often a worker tells the runner how far a step got (for the live display).
PROGRESS_EVERY = 0.5
#: How often every client proves itself alive (servers ping after 30 s of silence or more).
KEEPALIVE_EVERY = 15.0


def probe_stride(clients: int) -> int:
    """One client in this many measures latency: about a hundred of them in all."""
    return max(1, clients // 100)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSpec:
    #: Where to connect; client ``i`` takes ``addresses[i % len(addresses)]``.
    addresses: tuple[tuple[str, int], ...]
    dialect: str
    run: str
    #: Global index of this worker's first client, and how many it drives.
    first: int
    count: int
    #: The whole bench's sizes, to pick the senders evenly over all clients.
    clients: int
    senders: int
    #: Clients per room (consecutive indexes share one); 0: everyone in one room.
    room_size: int = 0
    connect_timeout: float = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOrder:
    index: int
    #: This worker's share of the offered rate, messages per second.
    rate: float
    #: ``time.monotonic()`` at which sending starts (the clock is system-wide).
    start: float
    seconds: float
    #: How long after the last send deliveries still count.
    grace: float
    #: One message in this many is a latency probe.
    probe_every: int


@dataclass(slots=True, kw_only=True)
class StepTally:
    index: int
    sent: int = 0
    delivered: int = 0
    #: Latency histogram of the probes received: bucket (``BUCKET_NS``) -> count.
    latency: dict[int, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    dropped: int = 0


def is_sender(index: int, clients: int, senders: int) -> bool:
    """Spread ``senders`` evenly over ``clients``: client ``index`` is one of them?"""
    return (index * senders) // clients != ((index + 1) * senders) // clients


class StepCounter:
    """Counts the deliveries of the open step over everything this worker's clients read."""

    __slots__ = ("delivered", "latency", "marker", "pattern")

    def __init__(self) -> None:
        self.marker = b"\x00closed"
        self.pattern = wire.probe_pattern("closed", 0)
        self.delivered = 0
        self.latency: dict[int, int] = {}

    def open(self, run: str, step: int) -> None:
        self.marker = wire.marker(run, step)
        self.pattern = wire.probe_pattern(run, step)
        self.delivered = 0
        self.latency = {}

    def close(self) -> None:
        self.marker = b"\x00closed"

    def take(self, data: bytes, *, probe: bool) -> None:
        found = data.count(self.marker)
        if not found:
            return
        self.delivered += found
        if not probe:
            return
        probes = self.pattern.findall(data)
        if probes:
            now = time.monotonic_ns()
            latency = self.latency
            for sent in probes:
                bucket = (now - int(sent)) // BUCKET_NS
                latency[bucket] = latency.get(bucket, 0) + 1


class BenchClient(asyncio.Protocol):
    """One bench connection: logs in, then only counts and answers pings."""

    def __init__(
        self,
        dialect: wire.Dialect,
        nick: str,
        room: str | None,
        counter: StepCounter,
        *,
        probe: bool,
    ) -> None:
        self.dialect = dialect
        self.counter = counter
        self.room = room
        self.probe = probe
        self.login = wire.Login(dialect, nick, room)
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost = False
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.write(self.login.start())

    def data_received(self, data: bytes) -> None:
        if self._tail:
            data = self._tail + data
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self._tail = data[end:]
            data = data[:end]
        else:
            self._tail = b""
        if not data:
            return
        if not self.login.done:
            data = self._logging_in(data)
        self.counter.take(data, probe=self.probe)

    def _logging_in(self, data: bytes) -> bytes:
        """Feed lines to the login until it is done; returns the lines after that."""
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            answer = self.login.feed(line)
            if answer:
                self.write(answer)
            if self.login.error is not None and not self.ready.done():
                self.ready.set_exception(ConnectionError(self.login.error))
            if self.login.done:
                if not self.ready.done():
                    self.ready.set_result(None)
                return b"\n".join(lines[i + 1 :])
        return b""

    def say(self, text: bytes) -> None:
        self.write(self.dialect.message(self.room, text))

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.lost:
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed during login: {exc}"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class Worker:
    def __init__(self, spec: WorkerSpec, pipe: Pipe) -> None:
        self.spec = spec
        self.pipe = pipe
        self.dialect = wire.DIALECTS[spec.dialect]
        self.counter = StepCounter()
        self.clients: list[BenchClient] = []
        self.senders: list[BenchClient] = []

    async def run(self) -> None:
        keepalive = asyncio.create_task(self._keep_alive())
        try:
            errors = await self._connect_all()
            self.pipe.send(("ready", len(self.clients) - len(errors), errors[:5]))
            while True:
                order = await asyncio.to_thread(self._read_pipe)
                if order is None:
                    return
                self.pipe.send(("done", await self._step(order)))
        finally:
            keepalive.cancel()
            for client in self.clients:
                client.close()

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_EVERY)
            for client in self.clients:
                if client.login.done:
                    client.write(self.dialect.keepalive_frame)

    def _read_pipe(self) -> Any:
        """The runner's next order (in a thread: the pipe stays blocking, so a big
        result never meets a full pipe with EAGAIN)."""
        try:
            return self.pipe.recv()
        except EOFError:  # the runner is gone
            return None

    async def _connect_all(self) -> list[str]:
        spec = self.spec
        gate = asyncio.Semaphore(self.dialect.logins_at_once)
        results = await asyncio.gather(
            *(self._connect(spec.first + i, gate) for i in range(spec.count)),
            return_exceptions=True,
        )
        return [repr(r) for r in results if isinstance(r, BaseException)]

    async def _connect(self, index: int, gate: asyncio.Semaphore) -> None:
        spec = self.spec
        loop = asyncio.get_running_loop()
        room = f"r{index // spec.room_size}" if spec.room_size else None
        probe = index % probe_stride(spec.clients) == 0
        host, port = spec.addresses[index % len(spec.addresses)]
        async with gate, asyncio.timeout(spec.connect_timeout):
            _, client = await loop.create_connection(
                lambda: BenchClient(self.dialect, f"b{index}", room, self.counter, probe=probe),
                host,
                port,
            )
            self.clients.append(client)
            await client.ready
        if is_sender(index, spec.clients, spec.senders):
            self.senders.append(client)

    async def _step(self, order: StepOrder) -> StepTally:
        tally = StepTally(index=order.index)
        lost_before = sum(c.lost for c in self.clients)
        self.counter.open(self.spec.run, order.index)
        await asyncio.sleep(max(0.0, order.start - time.monotonic()))
        cpu = time.process_time()
        sender = asyncio.create_task(self._send(order, tally))
        deadline = order.start + order.seconds + order.grace
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(PROGRESS_EVERY, left))
            self.pipe.send(("progress", order.index, self.counter.delivered, tally.sent))
        await sender
        self.counter.close()
        tally.delivered = self.counter.delivered
        tally.latency = self.counter.latency
        tally.cpu_seconds = time.process_time() - cpu
        tally.wall_seconds = time.monotonic() - order.start
        tally.dropped = sum(c.lost for c in self.clients) - lost_before
        return tally

    async def _send(self, order: StepOrder, tally: StepTally) -> None:
        """Send ``order.rate`` messages per second, round-robin over this worker's senders,
        catching up every tick with what the schedule says should have gone by now."""
        senders = [c for c in self.senders if not c.lost]
        if not senders or order.rate <= 0:
            return
        marker = wire.marker(self.spec.run, order.index)
        total = round(order.rate * order.seconds)
        sent = 0
        while sent < total:
            due = min(total, int(order.rate * (time.monotonic() - order.start)))
            while sent < due:
                kind = b"p" if sent % order.probe_every == 0 else b"m"
                text = marker + kind + str(time.monotonic_ns()).encode() + wire.FILLER
                senders[sent % len(senders)].say(text)
                sent += 1
            tally.sent = sent
            await asyncio.sleep(TICK)


def worker_main(spec: WorkerSpec, pipe: Pipe) -> None:
    """Entry point of a load generator process."""
    from ..server.app import install_uvloop

    install_uvloop()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Worker(spec, pipe).run())
