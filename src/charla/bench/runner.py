"""The bench run: clients in worker processes, a ramp of offered rates, one result per step.

The runner starts the load generator processes, waits until every client is logged in
and in the room, then runs the steps one after the other: each step offers a message
rate for ``step_seconds``, then waits a short grace for the last copies. A step passes
when at least :data:`MIN_DELIVERED` of the copies arrived and the p99 send→receive
latency is within the limit; the run stops after the first step that fails, and the
server's figure is the deliveries per second of its best passing step.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from typing import Any

from .loadgen import (
    BUCKET_NS,
    StepOrder,
    StepTally,
    WorkerSpec,
    is_sender,
    probe_stride,
    worker_main,
)
from .servers import Target
from .wire import DIALECTS

__all__ = [
    "MIN_DELIVERED",
    "Plan",
    "ServerResult",
    "StepResult",
    "parse_rates",
    "percentile",
    "run_load",
]

#: Share of the expected copies a passing step must deliver.
MIN_DELIVERED = 0.99
#: Latency probes wanted per second of a step, over all receivers (the rest only count).
PROBES_PER_SECOND = 100_000
#: Time between telling the workers about a step and its start.
LEAD = 0.3
#: Time for the connect storm's join announcements to settle before the first step.
SETTLE = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    clients: int = 1000
    senders: int = 500
    rates: tuple[float, ...] = (100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200)
    step_seconds: float = 4.0
    p99_limit_ms: float = 100.0
    workers: int = 1
    connect_timeout: float = 120.0
    #: Clients per room; 0 puts everyone in one room.
    room_size: int = 0
    #: A run at the ladder's lowest rate before the first step, its numbers discarded: a
    #: server's first seconds (caches, allocator, JIT-less warm paths) are not its speed.
    warmup_seconds: float = 2.0

    def recipients(self, sender_gets_copy: bool) -> int:
        """Copies of each message the server should deliver."""
        members = self.room_size or self.clients
        return members if sender_gets_copy else members - 1

    @property
    def grace(self) -> float:
        """Copies arriving this long after a step's last send still count as delivered."""
        return max(0.5, 5 * self.p99_limit_ms / 1000)


@dataclass(slots=True, kw_only=True)
class StepResult:
    rate: float
    seconds: float
    sent: int
    expected: int
    delivered: int
    deliveries_per_s: float
    delivered_pct: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    probes: int
    server_cpu_pct: float | None
    #: Server CPU time per delivered copy: the cost that does not depend on how busy
    #: the rest of the machine was.
    server_ns_per_delivery: float | None
    server_rss_mib: float | None
    loadgen_cpu_pct: float
    dropped: int
    passed: bool


@dataclass(slots=True, kw_only=True)
class ServerResult:
    name: str
    clients: int
    senders: int
    steps: list[StepResult] = field(default_factory=list)
    #: Server RSS before the clients connected and after they all joined.
    rss_before_mib: float | None = None
    rss_connected_mib: float | None = None
    connect_seconds: float = 0.0
    error: str | None = None
    #: The warm-up run: reported, never counted in the figure.
    warmup: StepResult | None = None

    @property
    def best(self) -> StepResult | None:
        passing = [s for s in self.steps if s.passed]
        return max(passing, key=lambda s: s.deliveries_per_s) if passing else None

    @property
    def failed_first_step(self) -> bool:
        return bool(self.steps) and not self.steps[0].passed

    @property
    def limit(self) -> tuple[float, float | None] | None:
        """Where the server's real limit lies, in deliveries/s: at least the figure, and
        below what the first failing step would have delivered (None: no step failed,
        no upper bound). None when no step passed."""
        best = self.best
        if best is None:
            return None
        failed = next((s for s in self.steps if not s.passed and s.rate > best.rate), None)
        upper = best.deliveries_per_s * failed.rate / best.rate if failed else None
        return best.deliveries_per_s, upper

    @property
    def figure(self) -> float:
        """Deliveries per second of the best passing step (0 when none passed)."""
        best = self.best
        return best.deliveries_per_s if best else 0.0

    @property
    def rss_per_client_kib(self) -> float | None:
        if self.rss_before_mib is None or self.rss_connected_mib is None or not self.clients:
            return None
        return (self.rss_connected_mib - self.rss_before_mib) * 1024 / self.clients

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["figure"] = self.figure
        data["rss_per_client_kib"] = self.rss_per_client_kib
        return data


#: Called with (server name, step number, rate, seconds elapsed, copies so far, sent so far)
#: while a step runs, and with each finished :class:`StepResult`.
Progress = Callable[[str, int, float, float, int, int], None]
Finished = Callable[[str, StepResult], None]


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The latency (ms, upper edge of its bucket) below which ``fraction`` of probes fell."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return (bucket + 1) * BUCKET_NS / 1e6
    return (max(histogram) + 1) * BUCKET_NS / 1e6


def _mib(n: int) -> float:
    return n / (1024 * 1024)


class _Workers:
    """The load generator processes and their pipes."""

    def __init__(self, target: Target, plan: Plan, run: str) -> None:
        context = multiprocessing.get_context("spawn")
        count = max(1, min(plan.workers, plan.clients))
        self.pipes: list[Pipe] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        for w in range(count):
            first = plan.clients * w // count
            spec = WorkerSpec(
                addresses=target.addresses,
                dialect=target.dialect,
                run=run,
                first=first,
                count=plan.clients * (w + 1) // count - first,
                clients=plan.clients,
                senders=plan.senders,
                room_size=plan.room_size,
                connect_timeout=plan.connect_timeout,
            )
            here, there = context.Pipe()
            proc = context.Process(target=worker_main, args=(spec, there), daemon=True)
            proc.start()
            there.close()
            self.pipes.append(here)
            self.procs.append(proc)
        self.senders = [
            sum(
                is_sender(i, plan.clients, plan.senders)
                for i in range(plan.clients * w // count, plan.clients * (w + 1) // count)
            )
            for w in range(count)
        ]

    def receive(self, timeout: float | None) -> list[tuple[int, Any]]:
        ready = wait(self.pipes, timeout)
        out = []
        for pipe in ready:
            assert isinstance(pipe, Pipe)
            try:
                out.append((self.pipes.index(pipe), pipe.recv()))
            except EOFError:
                raise RuntimeError("a load generator process died") from None
        return out

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()


def run_load(
    target: Target,
    plan: Plan,
    *,
    progress: Progress | None = None,
    finished: Finished | None = None,
) -> ServerResult:
    """Run every step of ``plan`` against ``target`` until one fails."""
    result = ServerResult(name=target.name, clients=plan.clients, senders=plan.senders)
    stats = target.stats
    if stats is not None:
        result.rss_before_mib = _mib(stats.rss_bytes())
    run = secrets.token_hex(3)
    started = time.monotonic()
    workers = _Workers(target, plan, run)
    try:
        error = _wait_ready(workers, plan)
        if error:
            result.error = error
            return result
        result.connect_seconds = time.monotonic() - started
        time.sleep(SETTLE)
        if stats is not None:
            result.rss_connected_mib = _mib(stats.rss_bytes())
        if plan.warmup_seconds > 0:
            warm = replace(plan, step_seconds=plan.warmup_seconds)
            try:
                result.warmup = _run_step(workers, target, warm, 0, min(plan.rates), None)
            except (RuntimeError, OSError) as exc:
                result.error = f"the warm-up broke off: {exc}"
                return result
        for index, rate in enumerate(plan.rates, 1):
            try:
                step = _run_step(workers, target, plan, index, rate, progress)
            except (RuntimeError, OSError) as exc:
                result.error = f"step {index} ({rate:g} msg/s) broke off: {exc}"
                break
            result.steps.append(step)
            if finished is not None:
                finished(target.name, step)
            if not step.passed:
                break
    finally:
        workers.close()
    return result


def _wait_ready(workers: _Workers, plan: Plan) -> str | None:
    pending = set(range(len(workers.pipes)))
    deadline = time.monotonic() + plan.connect_timeout + 10
    errors: list[str] = []
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            return "the clients did not all log in in time"
        for w, message in workers.receive(left):
            if message[0] == "ready":
                pending.discard(w)
                errors += message[2]
    if errors:
        return f"some clients could not log in: {'; '.join(errors[:3])}"
    return None


def _run_step(
    workers: _Workers,
    target: Target,
    plan: Plan,
    index: int,
    rate: float,
    progress: Progress | None,
) -> StepResult:
    stats = target.stats
    recipients = plan.recipients(DIALECTS[target.dialect].sender_gets_copy)
    start = time.monotonic() + LEAD
    probing = recipients / probe_stride(plan.clients)
    probe_every = max(1, round(rate * probing / PROBES_PER_SECOND))
    for w, pipe in enumerate(workers.pipes):
        pipe.send(
            StepOrder(
                index=index,
                rate=rate * workers.senders[w] / max(1, plan.senders),
                start=start,
                seconds=plan.step_seconds,
                grace=plan.grace,
                probe_every=probe_every,
            )
        )
    tallies: dict[int, StepTally] = {}
    seen: dict[int, tuple[int, int]] = {}
    cpu_start = cpu_end = None
    while len(tallies) < len(workers.pipes):
        now = time.monotonic()
        if stats is not None and cpu_start is None and now >= start:
            cpu_start = (now, stats.cpu_seconds())
        if stats is not None and cpu_end is None and now >= start + plan.step_seconds:
            cpu_end = (now, stats.cpu_seconds(), stats.rss_bytes())
        for w, message in workers.receive(0.05):
            if message[0] == "progress":
                seen[w] = (message[2], message[3])
                if progress is not None:
                    progress(
                        target.name,
                        index,
                        rate,
                        now - start,
                        sum(d for d, _ in seen.values()),
                        sum(s for _, s in seen.values()),
                    )
            elif message[0] == "done":
                tallies[w] = message[1]
    return _result(plan, rate, recipients, list(tallies.values()), cpu_start, cpu_end)


def _result(
    plan: Plan,
    rate: float,
    recipients: int,
    tallies: list[StepTally],
    cpu_start: tuple[float, float] | None,
    cpu_end: tuple[float, float, int] | None,
) -> StepResult:
    histogram: dict[int, int] = {}
    for tally in tallies:
        for bucket, count in tally.latency.items():
            histogram[bucket] = histogram.get(bucket, 0) + count
    sent = sum(t.sent for t in tallies)
    delivered = sum(t.delivered for t in tallies)
    expected = sent * recipients
    share = delivered / expected if expected else 0.0
    p99 = percentile(histogram, 0.99)
    server_cpu = server_rss = None
    if cpu_start is not None and cpu_end is not None and cpu_end[0] > cpu_start[0]:
        server_cpu = 100 * (cpu_end[1] - cpu_start[1]) / (cpu_end[0] - cpu_start[0])
        server_rss = _mib(cpu_end[2])
    return StepResult(
        rate=rate,
        seconds=plan.step_seconds,
        sent=sent,
        expected=expected,
        delivered=delivered,
        deliveries_per_s=delivered / plan.step_seconds,
        delivered_pct=100 * share,
        p50_ms=percentile(histogram, 0.50),
        p99_ms=p99,
        max_ms=(max(histogram) + 1) * BUCKET_NS / 1e6 if histogram else None,
        probes=sum(histogram.values()),
        server_cpu_pct=server_cpu,
        server_ns_per_delivery=(
            server_cpu * 1e7 / (delivered / plan.step_seconds)
            if server_cpu is not None and delivered
            else None
        ),
        server_rss_mib=server_rss,
        loadgen_cpu_pct=max(100 * t.cpu_seconds / t.wall_seconds for t in tallies),
        dropped=sum(t.dropped for t in tallies),
        passed=share >= MIN_DELIVERED and p99 is not None and p99 <= plan.p99_limit_ms,
    )


def parse_rates(text: str) -> tuple[float, ...]:
    """``--rates 100,200,400``: offered messages/s per step."""
    try:
        rates = tuple(float(r) for r in text.split(",") if r.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers") from None
    if not rates or not all(math.isfinite(r) and r > 0 for r in rates):
        raise argparse.ArgumentTypeError("rates must be positive")
    return rates


def default_workers() -> int:
    """One load generator process per core but one, which the server under test gets.

    More processes than cores only add run-queue waits to every latency: on two cores,
    one generator measures a server clearly better than two.
    """
    return max(1, min(8, (os.cpu_count() or 2) - 1))
