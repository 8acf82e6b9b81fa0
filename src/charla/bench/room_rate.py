"""Sustained message rate of one room with durable storage on, and the commits it took.

    charla bench room-rate [--senders 10] [--listeners 50] [--seconds 5] [--window 200]

Starts `charla serve` as `charla bench` does (rate limit and per-address cap off, a
temporary database), connects the listeners and the senders to `general`, and has every
sender keep `--window` messages in flight (each acknowledged by its own copy coming
back). Reports acknowledged messages per second, deliveries per second and storage
commits per second (from /metrics).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import urllib.request

from .servers import charla_server, free_port

__all__ = ["add_arguments", "main"]

HELLO = b'{"type":"hello","nick":"%s"}\n'


def metric(port: int, name: str) -> float:
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


async def client(port: int, nick: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
    writer.write(HELLO % nick.encode())
    while b'"history"' not in await reader.readline():
        pass
    return reader, writer


async def count_lines(reader: asyncio.StreamReader, counter: list[int], needle: bytes) -> None:
    while line := await reader.readline():
        if needle in line:
            counter[0] += 1


async def sender(port: int, nick: str, window: int, stop: float, acked: list[int]) -> None:
    reader, writer = await client(port, nick)
    mine = b'"user":"%s"' % nick.encode()
    say = b'{"type":"say","text":"benchmark message from %s"}\n' % nick.encode()
    writer.write(say * window)  # keep a window of messages in flight, refilled per ack
    while time.monotonic() < stop:
        line = await reader.readline()
        if mine in line:
            acked[0] += 1
            writer.write(say)
    writer.close()


async def run(args: argparse.Namespace, port: int, metrics_port: int) -> None:
    listeners = [await client(port, f"l{i}") for i in range(args.listeners)]
    delivered = [0]
    tasks = [asyncio.create_task(count_lines(r, delivered, b'"message"')) for r, _ in listeners]
    commits0 = metric(metrics_port, "charla_commits_total")
    acked = [0]
    start = time.monotonic()
    stop = start + args.seconds
    await asyncio.gather(
        *(sender(port, f"s{i}", args.window, stop, acked) for i in range(args.senders))
    )
    elapsed = time.monotonic() - start
    commits = metric(metrics_port, "charla_commits_total") - commits0
    for task in tasks:
        task.cancel()
    members = args.listeners + args.senders
    print(f"{args.senders} senders, {args.listeners} listeners, {elapsed:.1f} s, storage on")
    print(f"acknowledged messages/s: {acked[0] / elapsed:,.0f}")
    print(f"deliveries/s (x{members} members): {acked[0] * members / elapsed:,.0f}")
    print(
        f"commits/s: {commits / elapsed:,.0f}  "
        f"(≈{acked[0] / max(commits, 1):,.0f} messages per commit)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--senders", type=int, default=10, help="(default %(default)s)")
    parser.add_argument("--listeners", type=int, default=50, help="(default %(default)s)")
    parser.add_argument("--seconds", type=float, default=5, help="(default %(default)s)")
    parser.add_argument(
        "--window", type=int, default=200, help="messages in flight per sender (%(default)s)"
    )
    parser.add_argument("--fsync", choices=("normal", "full"), default="normal")


def main(args: argparse.Namespace) -> int:
    from ..server.app import install_uvloop

    metrics_port = free_port()
    extra = (f"--metrics-port={metrics_port}", f"--fsync={args.fsync}")
    with charla_server(args.senders + args.listeners, extra=extra) as target:
        install_uvloop()
        asyncio.run(run(args, target.port, metrics_port))
    return 0
