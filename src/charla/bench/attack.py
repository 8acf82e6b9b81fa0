"""A well-behaved client on a server under every attack of docs/security.md at once.

    charla bench attack [--seconds 30] [--tls]

Starts `charla serve` with its default limits (the per-address cap off: everyone is on
127.0.0.1), fills a room with 50 messages of 4000 emoji, registers a nick, then runs at
once: clients sending a hello of 5000 rooms, ping streamers with a message in flight,
slow readers resuming the big room, 40 wrong passwords at a time and, with `--tls`, 120
sockets that never start the TLS handshake. Meanwhile a well-behaved client joins every
few seconds (hello to its history) and chats once a second (say to its own copy back).
Prints the p50/p99 of both, the server's largest RSS, its tracebacks and what the
abusers were answered; exits 1 if the well-behaved client failed, p99 went over 1 s,
RSS over 300 MB or the log holds a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field

from . import abuse
from .abuse import Client, LimitedServer, Tally, counts

__all__ = ["add_arguments", "main", "run"]

P99_LIMIT = 1.0
RSS_LIMIT = 300 * 1024 * 1024


@dataclass
class Outcome:
    joins: list[float] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    rss_max: int = 0
    tracebacks: int = 0
    tally: Tally = field(default_factory=Tally)

    def ok(self) -> bool:
        return (
            bool(self.joins and self.round_trips)
            and not self.failures
            and p99(self.joins) <= P99_LIMIT
            and p99(self.round_trips) <= P99_LIMIT
            and self.rss_max <= RSS_LIMIT
            and not self.tracebacks
        )


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return max(values, default=0.0)
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def well_behaved(server: LimitedServer, stop: float, outcome: Outcome) -> None:
    """Join (hello to the history of every room), chat once a second, leave; again."""
    n = 0
    while time.monotonic() < stop:
        n += 1
        try:
            async with asyncio.timeout(10):
                started = time.monotonic()
                client = await Client.connect(server)
                client.send({"type": "hello", "nick": "amable", "rooms": [abuse.BIG_ROOM]})
                await client.until("history", room="general")
                await client.until("history", room=abuse.BIG_ROOM)
                outcome.joins.append(time.monotonic() - started)
                for i in range(5):
                    text = f"hola {n}.{i}"
                    sent = time.monotonic()
                    client.send({"type": "say", "text": text})
                    await client.until("message", user="amable", text=text)
                    outcome.round_trips.append(time.monotonic() - sent)
                    await asyncio.sleep(1)
                client.send({"type": "quit"})
                await client.until("bye")
                client.close()
        except (ConnectionError, OSError, TimeoutError, ValueError) as exc:
            outcome.failures.append(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(1)


async def sample_rss(server: LimitedServer, stop: float, outcome: Outcome) -> None:
    while time.monotonic() < stop:
        outcome.rss_max = max(outcome.rss_max, server.stats.rss_bytes())
        await asyncio.sleep(0.5)


async def run(server: LimitedServer, seconds: float) -> Outcome:
    outcome = Outcome()
    tally = outcome.tally
    await abuse.register_owner(server)
    await abuse.fill_big_room(server)
    stop = time.monotonic() + seconds
    attacks = [
        *(abuse.long_hello(server, stop, tally, n) for n in range(4)),
        *(abuse.ping_streamer(server, stop, tally, n) for n in range(2)),
        *(abuse.big_history_reader(server, stop, tally, n) for n in range(2)),
        abuse.password_guesser(server, stop, tally),
    ]
    if server.tls is not None:
        attacks.append(abuse.silent_tls_sockets(server, stop, tally))
    await asyncio.gather(
        well_behaved(server, stop, outcome), sample_rss(server, stop, outcome), *attacks
    )
    outcome.tracebacks = server.tracebacks()
    return outcome


def report(outcome: Outcome) -> str:
    lines = [
        f"well-behaved client: {len(outcome.joins)} joins, p50 "
        f"{statistics.median(outcome.joins or [0]) * 1000:.0f} ms, p99 "
        f"{p99(outcome.joins) * 1000:.0f} ms; {len(outcome.round_trips)} messages, p50 "
        f"{statistics.median(outcome.round_trips or [0]) * 1000:.0f} ms, p99 "
        f"{p99(outcome.round_trips) * 1000:.0f} ms; failures: {len(outcome.failures)}",
        f"server RSS max: {outcome.rss_max / 2**20:.0f} MB; tracebacks in its log: "
        f"{outcome.tracebacks}",
        f"attacks made: {counts(outcome.tally.attacks)}",
        f"server answered: {counts(outcome.tally.codes)}",
    ]
    lines += [f"  failure: {failure}" for failure in outcome.failures[:5]]
    lines.append("PASS" if outcome.ok() else "FAIL")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=30, help="(default %(default)s)")
    parser.add_argument(
        "--tls", action="store_true", help="serve TLS and add the silent-socket attack"
    )


def main(args: argparse.Namespace) -> int:
    extra = ("--handshake-timeout=3",)
    with abuse.limited_server(extra, tls=args.tls) as server:
        outcome = asyncio.run(run(server, args.seconds))
    print(report(outcome))
    return 0 if outcome.ok() else 1
