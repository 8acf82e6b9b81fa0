"""How a large history database behaves: open time and page latency at millions of rows.

    charla bench store-scale [--messages 2000000] [--rooms 20]

Builds (once) a database of N messages spread over R rooms with the real Store, then
measures: opening it (what `charla serve` does at start), the last 50 of a room, a page of
50 before an id deep in the history, and a `since` resume.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..protocol import Message, format_ts
from ..store import Store

__all__ = ["add_arguments", "main"]


def build(
    path: Path,
    messages: int,
    rooms: int,
    text: Callable[[int], str] = lambda i: f"message number {i}",
) -> None:
    """A database of ``messages`` messages spread over ``rooms`` rooms, the i-th saying
    ``text(i)``, written in batches as the server's group commit would."""
    store = Store(path)
    batch = 10_000
    now = time.time()
    for start in range(1, messages + 1, batch):
        rows = [
            Message(
                id=i,
                room=f"room{i % rooms}",
                user=f"user{i % 97}",
                text=text(i),
                ts=format_ts(now - (messages - i)),
            )
            for i in range(start, min(start + batch, messages + 1))
        ]
        store.commit_batch(rows, rows[-1].id)
    store.close()


def timed(fn: Callable[[], object], repeat: int = 200) -> float:
    """The median time of ``fn()``, in milliseconds."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=2_000_000, help="(default %(default)s)")
    parser.add_argument("--rooms", type=int, default=20, help="(default %(default)s)")


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.db"
        t0 = time.perf_counter()
        build(path, args.messages, args.rooms)
        print(
            f"built {args.messages:,} messages in {time.perf_counter() - t0:.1f} s "
            f"({path.stat().st_size / 2**20:.0f} MiB)"
        )
        t0 = time.perf_counter()
        store = Store(path)
        print(
            f"open (migrate check, last id {store.last_id:,}): "
            f"{(time.perf_counter() - t0) * 1000:.1f} ms"
        )
        middle = args.messages // 2
        print(f"last 50 of a room: {timed(lambda: store.recent('room3', 50)):.3f} ms")
        print(
            f"50 before an id in the middle: "
            f"{timed(lambda: store.before('room3', middle, 50)):.3f} ms"
        )
        print(
            f"200 before an id in the middle: "
            f"{timed(lambda: store.before('room3', middle, 200)):.3f} ms"
        )
        print(
            f"resume since (last 500): "
            f"{timed(lambda: store.since('room3', args.messages - 5000, 500)):.3f} ms"
        )
        store.close()
    return 0
