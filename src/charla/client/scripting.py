"""``charla send``, ``charla tail`` and ``charla users``: one-shot clients for scripts.

Each connects, says hello (adding ``_`` to the nick if it is taken, since a script often
runs as the same person who is chatting), does one job, and exits 0 on success.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import msgspec

from ..protocol import (
    DEFAULT_ROOM,
    Bye,
    Change,
    ClientHistory,
    Code,
    Deleted,
    Edited,
    Error,
    Hello,
    History,
    Message,
    ProtocolError,
    Reaction,
    Say,
    ServerFrame,
    Users,
    normalize_room,
)
from .connection import Access, ConnectOptions, HelloRefused, Link, connect
from .format import format_line, json_line, sanitize_line

__all__ = ["send", "tail", "users"]

Output = Callable[[str], None]

_NICK_RETRIES = 5
#: Page size when a capped ``--since`` replay is completed (the server's largest page).
_PAGE = 200


async def _open(
    options: ConnectOptions,
    nick: str,
    *,
    rooms: list[str],
    access: Access,
    since: int | None = None,
    lang: str = "es",
) -> tuple[Link, list[ServerFrame], str]:
    link = await connect(options)
    for _ in range(_NICK_RETRIES):
        hello = Hello(
            nick=nick,
            rooms=rooms,
            since=since,
            password=access.password,
            server_password=access.server_password,
            lang=lang,
        )
        try:
            welcome, early = await link.hello(hello)
        except HelloRefused as exc:
            if exc.code != Code.NICK_TAKEN:
                link.close()
                raise
            nick += "_"
            continue
        return link, early, welcome.nick
    link.close()
    raise HelloRefused(Error(code=Code.NICK_TAKEN, message=f"{nick} is already in use"))


async def send(
    options: ConnectOptions,
    nick: str,
    room: str,
    texts: Iterable[str],
    *,
    err: Output,
    access: Access,
    reply_to: int | None = None,
) -> int:
    """Send each text to ``room`` (as answers to message ``reply_to`` when given); return
    once the server acknowledged all of them."""
    room = normalize_room(room)
    link, _, _ = await _open(options, nick, rooms=[room], access=access)
    try:
        status = 0
        for text in texts:
            if text.strip():
                await link.send(Say(text=text, room=room, reply_to=reply_to))
        await link.send(Say(text="/salir"))
        # The server says bye only after every earlier message was stored and sent back:
        # errors in between are the messages that did not make it.
        while (frame := await link.recv()) is not None:
            if isinstance(frame, Error):
                err("charla send: " + sanitize_line(frame.message))
                status = 1
            elif isinstance(frame, Bye):
                return status
        err("charla send: the connection closed before every message was acknowledged")
        return 1
    finally:
        link.close()


async def tail(
    options: ConnectOptions,
    nick: str,
    room: str,
    *,
    since: int | None,
    as_json: bool,
    out: Output,
    lang: str,
    access: Access,
) -> int:
    """Print the room's history (or what came after ``since``), then follow it: its
    messages, and the reactions, edits and deletes of its messages."""
    room = normalize_room(room)
    rooms = [room] if room != DEFAULT_ROOM else []
    link, _, _ = await _open(options, nick, rooms=rooms, since=since, lang=lang, access=access)
    encoder = msgspec.json.Encoder()
    try:
        while (frame := await link.recv()) is not None:
            if isinstance(frame, History) and frame.room == room:
                messages: list[Message | Change] = list(frame.messages)
                if frame.more and since is not None and frame.messages:
                    older = await _page_back(link, room, since, frame.messages)
                    messages = [*older, *messages]
            elif isinstance(frame, Message | Reaction | Edited | Deleted) and frame.room == room:
                messages = [frame]
            elif isinstance(frame, Bye):
                return 0
            else:
                continue
            for message in messages:
                if as_json:
                    out(json_line(encoder.encode(message)))
                else:
                    out(format_line(message, lang) or "")
        return 1
    finally:
        link.close()


async def _page_back(link: Link, room: str, since: int, replay: list[Message]) -> list[Message]:
    """The messages of ``room`` between ``since`` and a capped resume's ``replay``
    (oldest first). Live messages arriving meanwhile stay queued in the link and are
    printed after."""
    older: list[Message] = []
    before = replay[0].id
    while True:
        await link.send(ClientHistory(room=room, before=before, limit=_PAGE))
        page = await _next_page(link, room, before)
        fresh = [m for m in page if m.id > since]
        older[:0] = fresh
        if len(page) < _PAGE or len(fresh) < len(page):
            return older
        before = page[0].id


async def _next_page(link: Link, room: str, before: int) -> list[Message]:
    """Read up to the answer to a ``history`` request, keeping what came before it."""
    skipped: list[ServerFrame] = []
    try:
        while (frame := await link.recv()) is not None:
            if isinstance(frame, History) and frame.room == room and frame.before == before:
                return frame.messages
            skipped.append(frame)
        raise ConnectionError("the server closed the connection")
    finally:
        link.unread(skipped)


async def users(
    options: ConnectOptions,
    nick: str,
    room: str,
    *,
    out: Output,
    access: Access,
) -> int:
    """Print who is in ``room`` (not counting this probe itself)."""
    room = normalize_room(room)
    link, _, me = await _open(options, nick, rooms=[], access=access)
    try:
        await link.send(Say(text=f"/usuarios {room}"))
        while (frame := await link.recv()) is not None:
            if isinstance(frame, Users):
                for user in frame.users:
                    if user != me:
                        out(sanitize_line(user))
                return 0
            if isinstance(frame, Error):
                out("charla users: " + sanitize_line(frame.message))
                return 1
        return 1
    finally:
        link.close()


def run(coro: Coroutine[Any, Any, int]) -> int:
    """Run one of the commands above; connection problems become a message and status 1."""
    try:
        return asyncio.run(coro)
    except HelloRefused as exc:
        print(f"charla: {sanitize_line(exc.message)}", file=sys.stderr)
        return 1
    except ProtocolError as exc:
        # A bad argument (a room name that cannot be), found before connecting.
        print(f"charla: {exc}", file=sys.stderr)
        return 2
    except (OSError, TimeoutError) as exc:
        print(f"charla: cannot connect: {exc}", file=sys.stderr)
        return 1
