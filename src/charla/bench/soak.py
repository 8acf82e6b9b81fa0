"""Hundreds of people chatting for half an hour, a few abusers among them: does it hold?

    charla bench soak [--clients 500] [--minutes 30] [--rooms 20] [--abusers 3]

Starts `charla serve` with its default limits (the per-address cap off: everyone is on
127.0.0.1). Each client says something every `--every` seconds on average (a human
rate), in one of its rooms; now and then it joins or leaves a room, or drops its
connection and comes back with a resume. `--abusers` of each kind of docs/security.md
(a hello of 5000 rooms, a ping streamer, 40 wrong passwords) attack all along.

Samples the server's RSS every minute (from /proc), and at the end checks its log for
tracebacks and that every message the server acknowledged (the sender got its own copy
back, with an id) is in the database, opened read-only. Prints RSS after the warm-up
(the first sample) and at the end, messages acknowledged, missing and tracebacks; exits
1 if any message is missing, a traceback was logged, or RSS moved more than 10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import abuse
from .abuse import Client, LimitedServer, Tally, counts

__all__ = ["add_arguments", "main", "missing_from"]

#: RSS at the end may differ from RSS after the warm-up by this fraction.
RSS_TOLERANCE = 0.10
#: Chances, each time a client speaks, that it also changes room or reconnects.
ROOM_CHANGE = 0.05
RECONNECT = 0.02


@dataclass
class Soak:
    clients: int
    seconds: float
    rooms: int
    every: float
    acked: dict[int, str] = field(default_factory=dict)
    last_id: int = 0
    errors: int = 0
    reconnects: int = 0
    rss: list[tuple[float, int]] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


async def person(server: LimitedServer, soak: Soak, n: int, stop: float) -> None:
    """One person: in two or three rooms, speaking now and then, until ``stop``."""
    nick = f"p{n}"
    rng = random.Random(n)
    rooms = {f"sala{rng.randrange(soak.rooms)}" for _ in range(rng.randint(1, 2))}
    said = 0
    since: int | None = None
    await asyncio.sleep(rng.uniform(0, min(soak.every, soak.seconds / 4)))  # a gradual start
    while time.monotonic() < stop:
        try:
            client = await Client.connect(server)
            hello = {"type": "hello", "nick": nick, "rooms": sorted(rooms)}
            client.send(hello if since is None else {**hello, "since": since})
            await _welcomed(client)
            said = await _chat(client, soak, nick, rooms, rng, stop, said)
            client.close()
            soak.reconnects += 1
        except (ConnectionError, OSError, TimeoutError, ValueError):
            soak.errors += 1
            await asyncio.sleep(1)
        since = soak.last_id  # a resume: what was said while away, then live


async def _welcomed(client: Client) -> None:
    """Wait for ``welcome``; a refusal (the nick still held by the connection just
    closed) is a ConnectionError, tried again by the caller."""
    while (frame := await client.recv()) is not None:
        if frame.get("type") == "welcome":
            return
        if frame.get("type") == "error":
            client.close()
            raise ConnectionError(frame.get("code"))
    raise ConnectionError("closed before welcome")


async def _chat(
    client: Client,
    soak: Soak,
    nick: str,
    rooms: set[str],
    rng: random.Random,
    stop: float,
    said: int,
) -> int:
    """Speak until ``stop`` or a reconnect; returns how many messages were said."""
    waiting: dict[str, float] = {}
    reader = asyncio.ensure_future(_read(client, soak, nick, waiting))
    try:
        while time.monotonic() < stop and not reader.done():
            await asyncio.sleep(min(rng.expovariate(1 / soak.every), stop - time.monotonic()))
            if time.monotonic() >= stop:
                break
            said += 1
            room = rng.choice(sorted(rooms))
            text = f"{nick} dice {said}"
            waiting[text] = time.monotonic()
            client.send({"type": "say", "room": room, "text": text})
            if rng.random() < ROOM_CHANGE:
                _change_room(client, soak, rooms, rng)
            if rng.random() < RECONNECT:
                break
        client.send({"type": "quit"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), 10)
    finally:
        reader.cancel()
    return said


def _change_room(client: Client, soak: Soak, rooms: set[str], rng: random.Random) -> None:
    room = f"sala{rng.randrange(soak.rooms)}"
    if room in rooms and len(rooms) > 1:
        rooms.discard(room)
        client.send({"type": "part", "room": room})
    elif room not in rooms:
        rooms.add(room)
        client.send({"type": "join", "room": room})


async def _read(client: Client, soak: Soak, nick: str, waiting: dict[str, float]) -> None:
    """Everything the server sends; a message of ours coming back is acknowledged."""
    while (frame := await client.recv()) is not None:
        kind = frame.get("type")
        if kind == "message" and frame.get("user") == nick:
            text = frame.get("text", "")
            if waiting.pop(text, None) is not None:
                soak.acked[frame["id"]] = text
                soak.last_id = max(soak.last_id, frame["id"])
        elif kind == "error":
            soak.tally.codes[frame.get("code", "?")] += 1


async def sample_rss(server: LimitedServer, soak: Soak, stop: float, every: float) -> None:
    start = time.monotonic()
    while True:
        await asyncio.sleep(min(every, max(0.0, stop - time.monotonic())))
        soak.rss.append((time.monotonic() - start, server.stats.rss_bytes()))
        if time.monotonic() >= stop:
            return


async def run(server: LimitedServer, soak: Soak, abusers: int) -> None:
    await abuse.register_owner(server)
    stop = time.monotonic() + soak.seconds
    tally = soak.tally
    attacks = [
        *(abuse.long_hello(server, stop, tally, n) for n in range(abusers)),
        *(abuse.ping_streamer(server, stop, tally, n) for n in range(abusers)),
        *(abuse.password_guesser(server, stop, tally) for _ in range(min(abusers, 1))),
    ]
    await asyncio.gather(
        sample_rss(server, soak, stop, every=min(60.0, soak.seconds / 5)),
        *(person(server, soak, n, stop) for n in range(soak.clients)),
        *attacks,
    )


def missing_from(db: Path, acked: dict[int, str]) -> list[int]:
    """Ids of ``acked`` messages not in the database at ``db`` (opened read-only)."""
    stored: dict[int, str] = {}
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        ids = sorted(acked)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(f"SELECT id, text FROM messages WHERE id IN ({marks})", chunk)
            stored.update(rows)
    return [i for i in sorted(acked) if stored.get(i) != acked[i]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=500, help="(default %(default)s)")
    parser.add_argument("--minutes", type=float, default=30, help="(default %(default)s)")
    parser.add_argument("--rooms", type=int, default=20, help="(default %(default)s)")
    parser.add_argument(
        "--every",
        type=float,
        default=20,
        help="seconds between one client's messages, on average (default %(default)s)",
    )
    parser.add_argument(
        "--abusers", type=int, default=2, help="abusers of each kind (default %(default)s)"
    )


def main(args: argparse.Namespace) -> int:
    soak = Soak(clients=args.clients, seconds=args.minutes * 60, rooms=args.rooms, every=args.every)
    extra = (f"--max-clients={args.clients + 200}",)
    with tempfile.TemporaryDirectory(prefix="charla-soak-") as tmp:
        with abuse.limited_server(extra, workdir=Path(tmp)) as server:
            asyncio.run(run(server, soak, args.abusers))
        # Read once the server has stopped: what it acknowledged must be on disk.
        missing = missing_from(server.db, soak.acked)
        tracebacks = server.tracebacks()
    print(summary(soak, missing, tracebacks))
    return 0 if not missing and not tracebacks and _flat(soak) is not False else 1


def _flat(soak: Soak) -> bool | None:
    """RSS at the end within ±10 % of RSS after the warm-up; None with too few samples."""
    if len(soak.rss) < 2:
        return None
    warm, end = soak.rss[0][1], soak.rss[-1][1]
    return abs(end - warm) <= RSS_TOLERANCE * warm


def summary(soak: Soak, missing: list[int], tracebacks: int) -> str:
    mb = 2**20
    samples = ", ".join(f"{t / 60:.1f} min {rss / mb:.0f} MB" for t, rss in soak.rss)
    flat = _flat(soak)
    lines = [
        f"soak: {soak.clients} clients, {soak.seconds / 60:g} min, {soak.rooms} rooms, a "
        f"message every {soak.every:g} s each",
        f"RSS samples: {samples}",
    ]
    if soak.rss:
        warm, end = soak.rss[0][1], soak.rss[-1][1]
        verdict = {True: "flat", False: "NOT flat", None: "too few samples"}[flat]
        lines.append(
            f"RSS after warm-up {warm / mb:.0f} MB, at the end {end / mb:.0f} MB "
            f"({(end - warm) / max(warm, 1):+.1%}): {verdict} (±{RSS_TOLERANCE:.0%})"
        )
    lines += [
        f"messages acknowledged: {len(soak.acked)}; missing from the database: {len(missing)}",
        f"tracebacks in the server's log: {tracebacks}",
        f"reconnects: {soak.reconnects}; client connection errors: {soak.errors}",
        f"abuse attempts: {counts(soak.tally.attacks)}",
        f"errors answered: {counts(soak.tally.codes)}",
    ]
    return "\n".join(lines)
