"""Helpers for the client tests: an app wired to a real server, waiting on its state, a
server on its own thread for the (synchronous) snapshot tests, seeded history, and
``charla`` run through pipes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from charla.client.connection import ConnectOptions
from charla.client.session import Backoff
from charla.client.tui.app import ChatApp
from charla.protocol import Message
from charla.server import ChatServer, ServerConfig
from charla.store import Store

from ..helpers import charla_cmd, make_config, subprocess_env

TIMEOUT = 10.0
FIXED_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


async def run_charla(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """``charla ARGS`` as a subprocess through pipes: exit status, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        *charla_cmd(*args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(TZ="UTC"),
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), TIMEOUT)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def make_app(port: int, *, nick: str | None = "ana", **kw: Any) -> ChatApp:
    kw.setdefault("server_label", "charla.test")
    kw.setdefault("clock", lambda: FIXED_NOW)
    kw.setdefault("backoff", Backoff(minimum=0.05, maximum=0.2, rng=lambda: 0.0))
    return ChatApp(ConnectOptions(port=port, timeout=2), nick=nick, **kw)


async def until(pilot: Any, predicate: Callable[[], object], what: str = "") -> None:
    """Let the app run until ``predicate()`` holds (fails after TIMEOUT seconds)."""
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


def log_text(app: ChatApp, room: str | None = None) -> str:
    return "\n".join(app.log_for(room or app.room).plain_lines())


def seed(db: Path, messages: list[tuple[str, str, str]], *, day: str = "2026-11-25") -> None:
    """Append ``(room, user, text)`` messages with fixed times to the database (the
    server must not be running): what others said while a client was away."""
    store = Store(db)
    start = store.last_id + 1
    rows = [
        Message(
            id=start + i,
            room=room,
            user=user,
            text=text,
            ts=f"{day}T09:{i % 60:02d}:00.000Z",
        )
        for i, (room, user, text) in enumerate(messages)
    ]
    store.commit_batch(rows, start + len(rows) - 1)
    store.close()


@contextlib.contextmanager
def server_thread(config: ServerConfig) -> Iterator[ChatServer]:
    """A real server on its own thread and event loop, for tests that run the app
    synchronously (``snap_compare`` calls ``app.run()``)."""
    loop = asyncio.new_event_loop()
    server = ChatServer(config)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(TIMEOUT)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()


@contextlib.contextmanager
def bob_online(tmp_path: Path, rooms: list[str] | None = None) -> Iterator[int]:
    """For snapshots: the zone fixed to UTC, a server on its thread over the database in
    ``tmp_path``, and ``bob`` online in ``rooms``; yields the server's port."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        with server_thread(make_config(tmp_path)) as server:
            bob = socket.create_connection(("127.0.0.1", server.port))
            _online(bob, rooms or [])
            try:
                yield server.port
            finally:
                bob.close()
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


def _online(sock: socket.socket, rooms: list[str]) -> None:
    """Say hello as ``bob`` and return once his joins are done. The welcome comes before
    them, so a test that went on at the welcome could see bob join after its own client:
    a ping is answered only after every earlier request, the hello's joins included."""
    hello = {"type": "hello", "nick": "bob", "rooms": rooms}
    ping = {"type": "ping", "token": "joined"}
    sock.sendall(b"".join(json.dumps(frame).encode() + b"\n" for frame in (hello, ping)))
    sock.settimeout(TIMEOUT)
    with sock.makefile("rb") as lines:
        for line in lines:
            if json.loads(line) == {"type": "pong", "token": "joined"}:
                return
    raise AssertionError("bob's hello was never answered")
