"""The plain line mode: for pipes, scripts and screen readers.

Reads lines from stdin while printing what arrives, one line per event
(``[HH:MM] #room <user> text``), with no escape sequences ever. Ends with exit status 0
on ``/salir`` or at the end of stdin, and in both cases only once the server has
acknowledged every message sent before (the server's ``bye`` comes after them).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import sys
import termios
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TextIO

from ..i18n import tr
from ..protocol import (
    DEFAULT_ROOM,
    Bye,
    ClientPing,
    Hello,
    History,
    Join,
    Joined,
    Part,
    Parted,
    Pong,
    Quit,
    Say,
)
from .commands import request_of
from .connection import (
    Access,
    ClosedBeforeWelcome,
    ConnectOptions,
    HelloRefused,
    Link,
    connect,
    secret_wanted,
)
from .format import format_line, sanitize_line

__all__ = ["PlainClient", "read_lines"]

_EOF = None


class _Reconnect(enum.Enum):
    RECONNECT = enum.auto()


#: What ``_hello`` answers when ``hello`` must be sent again on a new connection.
_RECONNECT = _Reconnect.RECONNECT

#: Requests after which typed lines go to another room (see ``_track_rooms``).
_MOVES_ROOM = (Join, Part)


def read_lines(stream: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of ``stream`` as an asyncio queue, ``None`` at the end.

    A thread does the reading: it works the same for a terminal, a pipe and a file
    redirected to stdin, where the loop's pipe transports do not.
    """
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, _EOF)

    threading.Thread(target=pump, name="charla-stdin", daemon=True).start()
    return queue


class PlainClient:
    def __init__(
        self,
        options: ConnectOptions,
        *,
        nick: str | None,
        lang: str,
        access: Access | None = None,
        rooms: list[str] | None = None,
        out: Callable[[str], None] | None = None,
        stdin: TextIO | None = None,
    ) -> None:
        self.options = options
        self.nick = nick
        self.lang = lang
        self.access = access or Access()
        self.rooms = rooms or []
        self.room = DEFAULT_ROOM
        self.joined: list[str] = []
        #: Ping tokens the typing side waits for, answered once the server handled
        #: everything sent before them.
        self._barriers: dict[str, asyncio.Future[None]] = {}
        self._tokens = itertools.count()
        self._out = out or _print
        self._stdin = stdin or sys.stdin
        self._interactive = self._stdin.isatty()

    async def run(self) -> int:
        lines = read_lines(self._stdin, asyncio.get_running_loop())
        while True:
            try:
                link = await connect(self.options)
            except (OSError, TimeoutError) as exc:
                self._out(
                    tr(
                        self.lang,
                        "cannot connect to {host}:{port}: {error}",
                        host=self.options.host,
                        port=self.options.port,
                        error=exc,
                    )
                )
                return 1
            try:
                welcomed = await self._hello(link, lines)
                if welcomed is _RECONNECT:
                    continue
                if not welcomed:
                    return 1
                return await self._chat(link, lines)
            finally:
                await link.aclose()

    async def _hello(self, link: Link, lines: asyncio.Queue[str | None]) -> bool | _Reconnect:
        """Whether ``hello`` was welcomed, asking for a name or a password when the server
        refuses one; ``_RECONNECT`` once the server's password was asked for (a wrong one
        closes the connection)."""
        while True:
            if self.nick is None:
                if self._interactive:
                    print(tr(self.lang, "Your name: "), end="", file=sys.stderr, flush=True)
                self.nick = await lines.get()
                if self.nick is None:
                    return False
            hello = Hello(
                nick=self.nick.strip(),
                rooms=self.rooms,
                lang=self.lang,
                password=self.access.password,
                server_password=self.access.server_password,
            )
            try:
                welcome, _ = await link.hello(hello)
            except HelloRefused as exc:
                self._out("!! " + sanitize_line(exc.message))
                if not self._interactive:
                    return False
                wanted = secret_wanted(exc.code, password_sent=self.access.password is not None)
                if wanted == "server_password":
                    secret = await self._ask_secret(lines, tr(self.lang, "Server password: "))
                    if secret is None:
                        return False
                    self.access = replace(self.access, server_password=secret)
                    return _RECONNECT
                if wanted == "password" and self.nick:
                    password = await self._ask_secret(lines, tr(self.lang, "Password: "))
                    if password is None:
                        return False
                    self.access = replace(self.access, password=password)
                    continue
                if exc.retryable:
                    self.nick = None
                    continue
                return False
            except ClosedBeforeWelcome:
                self._out("!! " + ClosedBeforeWelcome.explain(self.lang, tls=self.options.tls))
                return False
            except ConnectionError as exc:
                self._out("!! " + sanitize_line(str(exc)))
                return False
            self.nick = welcome.nick
            self._out(
                "-- "
                + tr(
                    self.lang,
                    "connected as {nick}; /help lists the commands",
                    nick=sanitize_line(welcome.nick),
                )
            )
            return True

    async def _ask_secret(self, lines: asyncio.Queue[str | None], prompt: str) -> str | None:
        """Read the next line with the terminal's echo off (the stdin thread reads it)."""
        print(prompt, end="", file=sys.stderr, flush=True)
        with _echo_off(self._stdin):
            secret = await lines.get()
        print(file=sys.stderr)
        return secret

    async def _chat(self, link: Link, lines: asyncio.Queue[str | None]) -> int:
        receiving = asyncio.ensure_future(self._receive(link))
        typing = asyncio.ensure_future(self._type(link, lines))
        done, _ = await asyncio.wait({receiving, typing}, return_when=asyncio.FIRST_COMPLETED)
        if typing in done:
            typing.result()
            # Everything typed is sent and the goodbye asked for: the server answers
            # with the acknowledgements, then ``bye``.
            return await receiving
        typing.cancel()
        return receiving.result()

    async def _type(self, link: Link, lines: asyncio.Queue[str | None]) -> None:
        while True:
            line = await lines.get()
            if line is None:
                await link.send(Quit())
                return
            if not line.strip():
                continue
            await link.send(Say(text=line, room=self.room))
            request = request_of(line, self.room)
            if isinstance(request, Quit):
                return
            if isinstance(request, _MOVES_ROOM):
                # The next line belongs to the room this one joins or leaves: wait for the
                # answer, or a piped "/join dev" then "hola" says hola in the old room.
                await self._barrier(link)

    async def _barrier(self, link: Link) -> None:
        """Return once the server has handled everything sent so far."""
        token = f"plain-{next(self._tokens)}"
        waiter = self._barriers[token] = asyncio.get_running_loop().create_future()
        await link.send(ClientPing(token=token))
        await waiter

    async def _receive(self, link: Link) -> int:
        while True:
            try:
                frame = await link.recv()
            except OSError:
                frame = None
            if frame is None:
                self._out("-- " + tr(self.lang, "connection closed"))
                return 1
            if isinstance(frame, Bye):
                return 0
            if isinstance(frame, Pong):
                waiter = self._barriers.pop(frame.token or "", None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
                continue
            self._track_rooms(frame)
            if isinstance(frame, History):
                for message in frame.messages:
                    self._show(message)
                continue
            self._show(frame)

    def _track_rooms(self, frame: object) -> None:
        """Typed lines go to the room joined last; leaving it falls back to another."""
        if isinstance(frame, Joined):
            if frame.room not in self.joined:
                self.joined.append(frame.room)
            self.room = frame.room
        elif isinstance(frame, Parted):
            if frame.room in self.joined:
                self.joined.remove(frame.room)
            if frame.room == self.room:
                self.room = self.joined[-1] if self.joined else DEFAULT_ROOM

    def _show(self, frame: object) -> None:
        line = format_line(frame, self.lang)
        if line is not None:
            self._out(line)


@contextlib.contextmanager
def _echo_off(stream: TextIO) -> Iterator[None]:
    try:
        fd = stream.fileno()
        saved = termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):
        yield  # not a terminal: nothing is echoed anyway
        return
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def _print(line: str) -> None:
    print(line, flush=True)
