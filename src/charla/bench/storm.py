"""A storm of reconnects: every client comes back at once after a server restart.

    charla bench storm [--clients 10000] [--room-size 100] [--rate 200]

Starts ``charla serve`` (limits off, a temporary database), connects ``--clients``
clients in rooms of ``--room-size``, one sender per room, and keeps ``--rate`` messages
per second flowing over all rooms. Then the server is stopped (SIGTERM) and started
again on the same port and database, and every client reconnects the way the real
client does (:class:`charla.client.session.Backoff`: the same delays and jitter): a
``hello`` with its room and ``since`` = the newest message id it saw, ``/dejar
general`` as a client that had left it does, and a ``ping`` whose ``pong`` says the
replay is complete. Reported:

- how long until every client is resumed, from the SIGTERM and from the restart;
- the p99 latency of the messages sent during the storm by clients already back (and
  before the stop and after the storm, to compare);
- that nothing is lost or doubled: at the end every client must have received every
  message of its room that the database holds exactly once (live or in a replay).
  Messages a sender wrote while the server was stopping and that were never stored
  are counted apart: nobody acknowledged them (the real client sends them again).

The clients run in this process (one event loop; ``ulimit -n`` is raised to the hard
limit): on a small machine they compete with the server for the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import msgspec

from ..client.session import Backoff
from ..protocol import DEFAULT_ROOM, LineSplitter
from .loadgen import BUCKET_NS
from .runner import percentile
from .servers import STOP_TIMEOUT, ProcStats, charla_serve_cmd, free_port, python_env
from .servers import wait_listening as _wait_listening

__all__ = ["StormPlan", "StormResult", "add_arguments", "main", "run_storm"]

#: Logins in flight at once while the clients first connect (the storm itself has no
#: such gate: each client comes back on its own backoff, as real ones do).
FIRST_LOGINS_AT_ONCE = 200
#: How often the senders catch up with their schedule.
TICK = 0.01
#: How long, after the last message, senders may wait for their own copies.
ACK_TIMEOUT = 10.0
_PHASES = ("before", "storm", "after")


@dataclass(frozen=True, slots=True, kw_only=True)
class StormPlan:
    clients: int = 10_000
    room_size: int = 100
    #: Messages per second over all rooms, one sender per room.
    rate: float = 200.0
    #: Seconds of traffic before the stop, and after every client is back.
    before: float = 3.0
    after: float = 3.0
    connect_timeout: float = 300.0
    resume_timeout: float = 300.0

    @property
    def rooms(self) -> int:
        return max(1, self.clients // self.room_size)


@dataclass(slots=True, kw_only=True)
class StormResult:
    clients: int
    rooms: int
    connect_seconds: float = 0.0
    stop_seconds: float = 0.0
    #: From the SIGTERM, and from the restarted server listening, to the last resume.
    resumed_after_stop_s: float | None = None
    resumed_after_start_s: float | None = None
    resumed: int = 0
    #: Seconds from a client's successful connect to its replay complete (the pong),
    #: over the clients that came back in the storm: what the server took, without the
    #: backoff the client waited before it.
    resume_p50_s: float | None = None
    resume_p99_s: float | None = None
    resume_max_s: float | None = None
    #: Reconnect attempts refused or failed while the server was down or busy.
    failed_attempts: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    p50_ms: dict[str, float | None] = field(default_factory=dict)
    p99_ms: dict[str, float | None] = field(default_factory=dict)
    stored: int = 0
    missing: int = 0
    doubled: int = 0
    unexpected: int = 0
    #: Written while the server was stopping and never stored: unacknowledged.
    never_stored: int = 0
    server_rss_mib: float | None = None
    error: str | None = None

    @property
    def intact(self) -> bool:
        return not (self.missing or self.doubled or self.unexpected)


class _Msg(msgspec.Struct):
    id: int
    user: str = ""
    room: str | None = None
    text: str = ""


class _Frame(msgspec.Struct):
    """The fields of server frames a storm client looks at (others are ignored)."""

    type: str
    room: str | None = None
    token: str | None = None
    messages: list[_Msg] = []
    id: int = 0
    user: str = ""
    text: str = ""


_decode = msgspec.json.Decoder(_Frame).decode


class Tally:
    """What every client of the storm saw, counted in one place."""

    def __init__(self) -> None:
        self.phase = "before"
        self.latency: dict[str, dict[int, int]] = {p: {} for p in _PHASES}
        self.sent = dict.fromkeys(_PHASES, 0)
        self.ready = 0
        self.resume_seconds: list[float] = []
        self.all_ready = asyncio.Event()
        self.expected = 0
        self.failed_attempts = 0

    def became_ready(self, took: float) -> None:
        self.ready += 1
        if self.phase == "storm":
            self.resume_seconds.append(took)
        if self.ready == self.expected:
            self.all_ready.set()

    def live(self, text: str) -> None:
        """A message received as it was delivered: its latency, by the phase it was
        sent in (``"<phase> <ns>"``)."""
        phase, _, sent = text.partition(" ")
        histogram = self.latency.get(phase)
        if histogram is not None and sent.isdigit():
            bucket = (time.monotonic_ns() - int(sent)) // BUCKET_NS
            histogram[bucket] = histogram.get(bucket, 0) + 1


class StormClient(asyncio.Protocol):
    """One member of one room that comes back after every drop, like the real client."""

    def __init__(self, nick: str, room: str, tally: Tally, *, sender: bool) -> None:
        self.nick = nick
        self.room = room
        self.tally = tally
        self.sender = sender
        self.backoff = Backoff()
        #: Limits logins in flight while the clients first connect; None in the storm.
        self.gate: asyncio.Semaphore | None = None
        #: Every id received in its room, and how many arrived a second time.
        self.seen: set[int] = set()
        self.doubled = 0
        self.last_id = 0
        self.ready = False
        self.stopping = False
        #: Texts sent and not yet seen coming back (the sender's copy is its ack).
        self.unacked: set[str] = set()
        self.transport: asyncio.Transport | None = None
        self._splitter = LineSplitter(16 * 1024 * 1024)
        self._lost: asyncio.Future[None] | None = None
        self._attempt_at = 0.0

    async def run(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping:
            self._lost = loop.create_future()
            self._attempt_at = time.monotonic()
            try:
                async with self.gate or contextlib.nullcontext():
                    await loop.create_connection(lambda: self, host, port)
                await self._lost
            except OSError:
                self.tally.failed_attempts += 1
            if self.stopping:
                return
            # The one thing that must not be copied: the real client's delays.
            await asyncio.sleep(self.backoff.next())

    # --- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = out = cast(asyncio.Transport, transport)
        hello: dict[str, object] = {"type": "hello", "nick": self.nick, "rooms": [self.room]}
        if self.last_id:
            hello["since"] = self.last_id
        leave = {"type": "say", "room": DEFAULT_ROOM, "text": f"/dejar {DEFAULT_ROOM}"}
        resume = {"type": "ping", "token": "resume"}
        out.write(b"".join(msgspec.json.encode(f) + b"\n" for f in (hello, leave, resume)))

    def data_received(self, data: bytes) -> None:
        for line in self._splitter.feed(data):
            self._frame(_decode(line))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ready:
            self.ready = False
            self.tally.ready -= 1
        self.transport = None
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    # --- frames ----------------------------------------------------------------------

    def _frame(self, frame: _Frame) -> None:
        kind = frame.type
        if kind == "message" and frame.room == self.room:
            self._received(frame.id, frame.user, frame.text)
            self.tally.live(frame.text)
        elif kind == "history" and frame.room == self.room:
            for message in frame.messages:
                self._received(message.id, message.user, message.text)
        elif kind == "welcome":
            self.backoff.reset()
        elif kind == "pong" and frame.token == "resume":
            self.ready = True
            self.tally.became_ready(time.monotonic() - self._attempt_at)

    def _received(self, message_id: int, user: str, text: str) -> None:
        if message_id in self.seen:
            self.doubled += 1
            return
        self.seen.add(message_id)
        self.last_id = max(self.last_id, message_id)
        if user == self.nick:
            self.unacked.discard(text)

    def say(self, text: str) -> None:
        assert self.transport is not None
        frame = {"type": "say", "room": self.room, "text": text}
        self.transport.write(msgspec.json.encode(frame) + b"\n")
        self.unacked.add(text)

    def stop(self) -> None:
        self.stopping = True
        if self.transport is not None:
            self.transport.abort()
        elif self._lost is not None and not self._lost.done():
            self._lost.set_result(None)


class _Server:
    """``charla serve`` in a subprocess that can be stopped and started again on the
    same port and database."""

    def __init__(self, plan: StormPlan, workdir: Path) -> None:
        self.port = free_port()
        self.cmd = charla_serve_cmd(self.port, workdir / "storm.db", plan.clients)
        self.db = workdir / "storm.db"
        self.log = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.cmd, stdout=out, stderr=subprocess.STDOUT, env=python_env()
            )
        _wait_listening("127.0.0.1", self.port, self.proc, self.log)

    def stop(self) -> None:
        """SIGTERM and wait: the server delivers what is in flight and says bye."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT * 3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def rss_mib(self) -> float | None:
        if self.proc is None:
            return None
        return ProcStats(self.proc.pid).rss_bytes() / (1024 * 1024)

    def stored(self) -> dict[str, set[int]]:
        """Every message id the database holds, by room."""
        by_room: dict[str, set[int]] = {}
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            for room, message_id in db.execute("SELECT room, id FROM messages"):
                by_room.setdefault(room, set()).add(message_id)
        return by_room


async def _send(clients: list[StormClient], plan: StormPlan, tally: Tally) -> None:
    """``plan.rate`` messages per second, round-robin over the senders; a sender that is
    not back yet lets its turn pass (it has nobody to send to)."""
    senders = [c for c in clients if c.sender]
    start = time.monotonic()
    turn = 0
    while True:
        due = int(plan.rate * (time.monotonic() - start))
        while turn < due:
            sender = senders[turn % len(senders)]
            turn += 1
            if sender.ready:
                phase = tally.phase
                sender.say(f"{phase} {time.monotonic_ns()}")
                tally.sent[phase] += 1
        await asyncio.sleep(TICK)


async def _until(event: asyncio.Event, timeout: float, what: str) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        raise RuntimeError(what) from None


async def run_storm(plan: StormPlan, *, note: Callable[[str], object] = print) -> StormResult:
    """The whole storm against a server of our own; see the module's docstring."""
    result = StormResult(clients=plan.clients, rooms=plan.rooms)
    tally = Tally()
    tally.expected = plan.clients
    with tempfile.TemporaryDirectory(prefix="charla-storm-") as tmp:
        server = _Server(plan, Path(tmp))
        await asyncio.to_thread(server.start)
        clients = [
            StormClient(f"s{i}", f"r{i // plan.room_size}", tally, sender=i % plan.room_size == 0)
            for i in range(plan.rooms * plan.room_size)
        ]
        tally.expected = len(clients)
        gate = asyncio.Semaphore(FIRST_LOGINS_AT_ONCE)
        started = time.monotonic()
        for client in clients:
            client.gate = gate
        tasks = [asyncio.create_task(c.run("127.0.0.1", server.port)) for c in clients]
        sender: asyncio.Task[None] | None = None
        try:
            await _until(tally.all_ready, plan.connect_timeout, "the clients did not all log in")
            result.connect_seconds = time.monotonic() - started
            took = result.connect_seconds
            note(f"storm: {len(clients)} clients in {plan.rooms} rooms, in {took:.1f} s")
            for client in clients:  # from now on each comes back on its own backoff
                client.gate = None
            sender = asyncio.create_task(_send(clients, plan, tally))
            await asyncio.sleep(plan.before)
            result.server_rss_mib = server.rss_mib()
            tally.all_ready.clear()
            stop_at = time.monotonic()
            await asyncio.to_thread(server.stop)
            result.stop_seconds = time.monotonic() - stop_at
            await asyncio.to_thread(server.start)
            up_at = time.monotonic()
            tally.phase = "storm"
            note(f"storm: server stopped in {result.stop_seconds:.1f} s and started again")
            await _until(tally.all_ready, plan.resume_timeout, "the clients did not all resume")
            back_at = time.monotonic()
            tally.phase = "after"
            result.resumed_after_stop_s = back_at - stop_at
            result.resumed_after_start_s = back_at - up_at
            await asyncio.sleep(plan.after)
            sender.cancel()
            await _acknowledged(clients)
        except RuntimeError as exc:
            result.error = str(exc)
        finally:
            if sender is not None:
                sender.cancel()
            result.resumed = tally.ready
            for client in clients:
                client.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(server.stop)
        _check(result, clients, server.stored())
    result.failed_attempts = tally.failed_attempts
    durations = sorted(tally.resume_seconds)
    if durations:
        result.resume_p50_s = durations[len(durations) // 2]
        result.resume_p99_s = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
        result.resume_max_s = durations[-1]
    result.sent = dict(tally.sent)
    for phase, histogram in tally.latency.items():
        result.p50_ms[phase] = percentile(histogram, 0.50)
        result.p99_ms[phase] = percentile(histogram, 0.99)
    return result


async def _acknowledged(clients: list[StormClient]) -> None:
    """Give the senders' last messages time to come back to them."""
    deadline = time.monotonic() + ACK_TIMEOUT
    while time.monotonic() < deadline and any(c.unacked for c in clients if c.ready):
        await asyncio.sleep(0.05)


def _check(result: StormResult, clients: list[StormClient], stored: dict[str, set[int]]) -> None:
    """Every client saw every stored message of its room once, and nothing else."""
    result.stored = sum(len(ids) for ids in stored.values())
    for client in clients:
        room = stored.get(client.room, set())
        result.missing += len(room - client.seen)
        result.unexpected += len(client.seen - room)
        result.doubled += client.doubled
        result.never_stored += len(client.unacked)


def report(result: StormResult) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    lines = [
        f"{result.clients} clients in {result.rooms} rooms, connected in "
        f"{result.connect_seconds:.1f} s; server RSS {result.server_rss_mib or 0:.0f} MiB",
        f"stop (SIGTERM to exit): {result.stop_seconds:.1f} s",
        f"every client resumed: {seconds(result.resumed_after_stop_s)} after the SIGTERM, "
        f"{seconds(result.resumed_after_start_s)} after the restart "
        f"({result.resumed} back; {result.failed_attempts} attempts refused while down)",
        f"one resume, connect to replay complete: p50 {seconds(result.resume_p50_s)}, "
        f"p99 {seconds(result.resume_p99_s)}, max {seconds(result.resume_max_s)}",
    ]
    for phase in _PHASES:
        lines.append(
            f"messages sent {phase:<6}: {result.sent.get(phase, 0):>6}, latency p50 "
            f"{ms(result.p50_ms.get(phase))}, p99 {ms(result.p99_ms.get(phase))}"
        )
    verdict = "intact" if result.intact else "BROKEN"
    lines.append(
        f"messages stored: {result.stored}; every copy checked: {verdict} "
        f"(missing {result.missing}, doubled {result.doubled}, unexpected {result.unexpected}); "
        f"written while stopping and never stored (unacknowledged): {result.never_stored}"
    )
    if result.error:
        lines.append(f"error: {result.error}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = StormPlan()
    parser.add_argument("--clients", type=int, default=default.clients)
    parser.add_argument("--room-size", type=int, default=default.room_size)
    parser.add_argument("--rate", type=float, default=default.rate, help="messages/s, all rooms")
    parser.add_argument("--before", type=float, default=default.before, help="seconds")
    parser.add_argument("--after", type=float, default=default.after, help="seconds")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def main(args: argparse.Namespace) -> int:
    from ..server.app import install_uvloop, raise_file_limit

    if not 0 < args.room_size <= args.clients or args.rate <= 0:
        print("charla bench storm: --room-size must be 1..--clients, --rate > 0", file=sys.stderr)
        return 2
    plan = StormPlan(
        clients=args.clients,
        room_size=args.room_size,
        rate=args.rate,
        before=args.before,
        after=args.after,
    )
    install_uvloop()
    raise_file_limit(plan.clients)
    result = asyncio.run(run_storm(plan, note=lambda text: print(text, file=sys.stderr)))
    print(report(result), file=sys.stderr)
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(result)).decode())
    return 0 if result.intact and result.error is None else 1
