"""How fast search answers on a large history: p50/p95 of typical queries, index size.

    charla bench search [--messages 2000000] [--rooms 20] [--repeat 200]

Builds a database of N messages through the real Store (so the FTS5 index is kept by its
triggers, as on a server), with words drawn from a Zipf-like vocabulary of Spanish and
English-looking words (a few very common, most rare, accents included), then times one
page (20 results, newest first) of: one word, two words, a phrase, a prefix, and one word
in one room.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .. import archive
from ..protocol import parse_query
from ..store import Store
from . import store_scale

__all__ = ["add_arguments", "main"]

_SYLLABLES = [
    "ca",
    "ción",
    "ma",
    "te",
    "ri",
    "a",
    "lo",
    "pe",
    "dra",
    "ne",
    "jo",
    "ta",
    "bú",
    "si",
    "ér",
    "ca",
    "mi",
    "no",
    "tra",
    "ba",
    "jo",
    "e",
    "jer",
    "ci",
    "cio",
]
_PAGE = 20


def vocabulary(size: int, rng: random.Random) -> list[str]:
    words = {"".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))) for _ in range(size * 2)}
    return sorted(words)[:size]


def build(path: Path, messages: int, rooms: int, words: list[str], seed: int = 7) -> None:
    rng = random.Random(seed)
    # Zipf-like: the i-th word is about 1/i as frequent as the first.
    cumulative = list(itertools.accumulate(1 / (i + 1) for i in range(len(words))))

    def text(i: int) -> str:
        return " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 14)))

    store_scale.build(path, messages, rooms, text)


def percentiles(fn: Callable[[str], object], queries: list[str]) -> tuple[float, float]:
    """p50 and p95 of ``fn(query)`` over ``queries``, in milliseconds."""
    samples = []
    for query in queries:
        t0 = time.perf_counter()
        fn(query)
        samples.append((time.perf_counter() - t0) * 1000)
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples), cuts[18]


def index_size(store: Store) -> int:
    def size(conn: object) -> int:
        import sqlite3

        assert isinstance(conn, sqlite3.Connection)
        row = conn.execute(
            "SELECT (SELECT coalesce(sum(length(block)), 0) FROM messages_fts_data)"
            " + (SELECT count(*) * 24 FROM messages_fts_idx)"
            " + (SELECT coalesce(sum(length(sz)), 0) FROM messages_fts_docsize)"
        ).fetchone()
        return int(row[0])

    return store.query(size)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=2_000_000, help="(default %(default)s)")
    parser.add_argument("--rooms", type=int, default=20, help="(default %(default)s)")
    parser.add_argument("--repeat", type=int, default=200, help="queries of each kind")
    parser.add_argument("--db", type=Path, help="keep the database here (reused if present)")


def main(args: argparse.Namespace) -> int:
    rng = random.Random(1)
    words = vocabulary(5000, random.Random(3))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "search.db"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, args.messages, args.rooms, words)
            took = time.perf_counter() - t0
            print(f"built and indexed {args.messages:,} messages in {took:.0f} s")
        store = Store(path)
        print(
            f"database {path.stat().st_size / 2**20:.0f} MiB, "
            f"of which the search index {index_size(store) / 2**20:.0f} MiB"
        )

        def page(query: str, room: str | None = None) -> object:
            return store.query(
                archive.search,
                parse_query(query),
                reader=None,
                room=room,
                before=None,
                limit=_PAGE,
            )

        common, mid, rare = words[:50], words[50:500], words[500:]
        kinds: dict[str, tuple[Callable[[str], object], list[str]]] = {
            "one common word": (page, [rng.choice(common) for _ in range(args.repeat)]),
            "one rare word": (page, [rng.choice(rare) for _ in range(args.repeat)]),
            "two words": (
                page,
                [f"{rng.choice(mid)} {rng.choice(common)}" for _ in range(args.repeat)],
            ),
            "a phrase": (
                page,
                [f'"{rng.choice(common)} {rng.choice(common)}"' for _ in range(args.repeat)],
            ),
            "a prefix": (page, [rng.choice(mid)[:4] + "*" for _ in range(args.repeat)]),
            "a word in one room": (
                lambda q: page(q, f"room{rng.randrange(args.rooms)}"),
                [rng.choice(mid) for _ in range(args.repeat)],
            ),
        }
        print(f"{'query (one page of 20)':<24}{'p50 ms':>10}{'p95 ms':>10}")
        for name, (fn, queries) in kinds.items():
            p50, p95 = percentiles(fn, queries)
            print(f"{name:<24}{p50:>10.2f}{p95:>10.2f}")
        store.close()
    return 0
