"""Test helpers: a real server on a free port, and a raw protocol client over a socket."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec

from charla.protocol import (
    Error,
    LineSplitter,
    ServerFrame,
    decode_server_frame,
)
from charla.server import ChatServer, ServerConfig

TIMEOUT = 10.0
SRC = str(Path(__file__).resolve().parents[1] / "src")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_config(tmp_path: Path, **overrides: Any) -> ServerConfig:
    """A config for tests: a free port, a file in tmp_path, limits off unless asked."""
    base = ServerConfig(
        host="127.0.0.1",
        port=0,
        db=tmp_path / "charla.db",
        rate_limit=0,
        max_per_ip=0,
    )
    return dataclasses.replace(base, **overrides)


@contextlib.asynccontextmanager
async def running(config: ServerConfig) -> AsyncIterator[ChatServer]:
    server = ChatServer(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Peer:
    """A raw client: sends dicts or bytes, receives decoded server frames.

    Unlike the clients (which speak through :class:`charla.protocol.ClientConnection`),
    it sends whatever a test asks, in any state (that is what the server must survive),
    and shows the server's pings instead of answering them."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.splitter = LineSplitter(16 * 1024 * 1024)
        self.lines: list[bytes] = []
        self.nick: str | None = None

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1", **kw: Any) -> Peer:
        reader, writer = await asyncio.open_connection(host, port, limit=2**24, **kw)
        return cls(reader, writer)

    async def send(self, frame: dict[str, Any] | bytes) -> None:
        data = frame if isinstance(frame, bytes) else msgspec.json.encode(frame) + b"\n"
        self.writer.write(data)
        await self.writer.drain()

    async def say(self, text: str, room: str | None = None) -> None:
        frame: dict[str, Any] = {"type": "say", "text": text}
        if room is not None:
            frame["room"] = room
        await self.send(frame)

    async def recv(self, timeout: float = TIMEOUT) -> ServerFrame | None:
        """The next frame, or None at end of stream."""
        while not self.lines:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                return None
            self.lines.extend(self.splitter.feed(data))
        return decode_server_frame(self.lines.pop(0))

    async def expect(self, kind: type, timeout: float = TIMEOUT, **fields: Any) -> Any:
        """Read frames until one of type ``kind`` whose fields match; skip the rest."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv()
                if frame is None:
                    raise AssertionError(f"connection closed while waiting for {kind.__name__}")
                if isinstance(frame, kind) and all(
                    getattr(frame, k) == v for k, v in fields.items()
                ):
                    return frame

    async def until_closed(self, timeout: float = TIMEOUT) -> list[ServerFrame]:
        frames: list[ServerFrame] = []
        async with asyncio.timeout(timeout):
            while (frame := await self.recv()) is not None:
                frames.append(frame)
        return frames

    async def hello(self, nick: str, **extra: Any) -> Any:
        from charla.protocol import History, Welcome

        await self.send({"type": "hello", "nick": nick, **extra})
        welcome = await self.expect(Welcome)
        self.nick = welcome.nick
        rooms = 1 + len(extra.get("rooms", []))
        histories = [await self.expect(History) for _ in range(rooms)]
        return welcome, histories

    async def sync(self, token: str = "sync", timeout: float = TIMEOUT) -> list[ServerFrame]:
        """Wait until the server has fully handled everything sent so far; returns the
        frames that came before the answer."""
        from charla.protocol import Pong

        await self.send({"type": "ping", "token": token})
        frames: list[ServerFrame] = []
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv()
                if frame is None:
                    raise AssertionError("connection closed while waiting for pong")
                if isinstance(frame, Pong) and frame.token == token:
                    return frames
                frames.append(frame)

    async def error(self) -> Error:
        return await self.expect(Error)  # type: ignore[no-any-return]

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


def frames_of(kind: type, frames: list[ServerFrame], **fields: Any) -> list[Any]:
    """The frames of type ``kind`` whose fields match."""
    return [
        f
        for f in frames
        if isinstance(f, kind) and all(getattr(f, k) == v for k, v in fields.items())
    ]


def charla_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "charla", *args]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def start_server_process(tmp_path: Path, port: int, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        charla_cmd("serve", "--port", str(port), "--db", str(tmp_path / "charla.db"), *args),
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def wait_listening(port: int, proc: subprocess.Popen[str] | None = None) -> None:
    async with asyncio.timeout(TIMEOUT):
        while True:
            if proc is not None and proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"server exited early: {out}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return


async def answers_pings(server: ChatServer, nick: str, times: int = 3) -> bool:
    """Whether the client ``nick`` answers the server's idle pings ``times`` in a row
    (with a short ``--ping-interval``); False when it is cut off for not answering."""
    hub = server.hub
    assert hub is not None
    async with asyncio.timeout(TIMEOUT):
        while (conn := next((c for c in hub.admission.members if c.nick == nick), None)) is None:
            await asyncio.sleep(0.02)
        answered, was_pinged = 0, False
        while answered < times:
            if conn.closed:
                return False
            if was_pinged and not conn.pinged:  # a frame came back after the ping
                answered += 1
            was_pinged = conn.pinged
            await asyncio.sleep(0.01)
    return True
