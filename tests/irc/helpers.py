"""IRC clients for the tests: a raw line client, and the ``irc`` library's client."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import irc.client

from charla.irc.messages import IrcMessage, parse
from charla.protocol import System
from charla.server import ChatServer

from ..helpers import TIMEOUT, Peer, make_config, running

#: The password of the nicks the tests register.
PASSWORD = "s3cret-pass"
#: The channels the tests' IRC clients join once welcomed, as irssi's autojoin would.
AUTOJOIN = ("#general",)


async def registered(port: int, nick: str) -> None:
    """Register ``nick`` from a native client and go."""
    owner = await Peer.connect(port)
    await owner.hello(nick)
    await owner.send({"type": "register", "password": PASSWORD})
    await owner.expect(System, event="registered")
    await owner.close()


@contextlib.asynccontextmanager
async def irc_server(tmp_path: Path, **overrides: Any) -> AsyncIterator[ChatServer]:
    """A server with its IRC listener on a free port (``server.irc_ports[0]``)."""
    async with running(make_config(tmp_path, irc="127.0.0.1:0", **overrides)) as server:
        yield server


class RawIrc:
    """An IRC client that sends lines and reads parsed messages."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> RawIrc:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    @classmethod
    async def registered(
        cls, port: int, nick: str, *caps: str, channels: tuple[str, ...] = AUTOJOIN
    ) -> RawIrc:
        """Connected and registered as ``nick`` with ``caps`` (see :meth:`register`)."""
        client = await cls.connect(port)
        await client.register(nick, *caps, channels=channels)
        return client

    async def send(self, *lines: str) -> None:
        self.writer.write(b"".join(line.encode() + b"\r\n" for line in lines))
        await self.writer.drain()

    async def recv(self, timeout: float = TIMEOUT) -> IrcMessage | None:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            return None
        return parse(line.decode().rstrip("\r\n"))

    async def expect(
        self, command: str, where: Callable[[IrcMessage], bool] = lambda m: True
    ) -> IrcMessage:
        """Read until a ``command`` message that ``where`` accepts; skip the rest."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                message = await self.recv()
                if message is None:
                    raise AssertionError(f"closed while waiting for {command}")
                if message.command == command and where(message):
                    return message

    async def until(self, command: str) -> list[IrcMessage]:
        """Every message up to and including the first ``command``."""
        seen: list[IrcMessage] = []
        async with asyncio.timeout(TIMEOUT):
            while (message := await self.recv()) is not None:
                seen.append(message)
                if message.command == command:
                    return seen
        raise AssertionError(f"closed while waiting for {command}: {seen}")

    async def register(self, nick: str, *caps: str, channels: tuple[str, ...] = AUTOJOIN) -> None:
        """Register as ``nick`` with ``caps``, then join ``channels`` (an IRC server
        joins nobody anywhere: clients are configured to join their channels)."""
        if caps:
            await self.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
        await self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        if caps:
            await self.send("CAP END")
        await self.expect("001")
        for name in channels:
            await self.send(f"JOIN {name}")
            await self.expect("366", lambda m, name=name: m.params[1] == name)  # names listed

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


class LibraryClient:
    """The ``irc`` library's client (jaraco/irc), run on its own thread."""

    def __init__(
        self, port: int, nick: str, *, channels: tuple[str, ...] = AUTOJOIN, **connect: Any
    ) -> None:
        self.reactor = irc.client.Reactor()
        self.events: queue.Queue[irc.client.Event] = queue.Queue()
        self.reactor.add_global_handler("all_events", self._record, -10)
        self.channels = channels
        self.reactor.add_global_handler("welcome", self._autojoin)
        self.connection = self.reactor.server()
        self.connection.connect("127.0.0.1", port, nick, **connect)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _record(self, connection: object, event: irc.client.Event) -> None:
        self.events.put(event)

    def _autojoin(self, connection: irc.client.ServerConnection, event: irc.client.Event) -> None:
        for name in self.channels:
            connection.join(name)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.reactor.process_once(0.05)

    async def expect(
        self, kind: str, where: Callable[[irc.client.Event], bool] = lambda e: True
    ) -> irc.client.Event:
        """Wait for an event of ``kind`` (``pubmsg``, ``privmsg``, ``action``, ``welcome``...)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} event")
            try:
                event = await asyncio.to_thread(self.events.get, True, min(left, 1.0))
            except queue.Empty:
                continue
            if event.type == kind and where(event):
                return event

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.quit("bye")
        self._stop.set()
        await asyncio.to_thread(self._thread.join, TIMEOUT)
        with contextlib.suppress(Exception):
            self.connection.close()
