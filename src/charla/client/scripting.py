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
    Bye,
    Change,
    ClientHistory,
    ClientUsers,
    Code,
    Deleted,
    Edited,
    Error,
    Hello,
    History,
    Message,
    ProtocolError,
    Quit,
    Reaction,
    Results,
    Say,
    Search,
    ServerFrame,
    Users,
    Watch,
    normalize_room,
)
from .connection import Access, ConnectOptions, HelloRefused, Link, connect
from .format import format_line, json_line, sanitize_line

__all__ = ["search", "send", "tail", "users"]

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
    lang: str = "es",
) -> tuple[Link, list[ServerFrame], str]:
    """Connect and say hello, joining ``rooms`` (none at all, not even the default
    room, when empty: a reader is never seen)."""
    link = await connect(options)
    for _ in range(_NICK_RETRIES):
        hello = Hello(
            nick=nick,
            rooms=rooms,
            join_default=bool(rooms),
            password=access.password,
            server_password=access.server_password,
            lang=lang,
        )
        try:
            welcome, early = await link.hello(hello)
        except HelloRefused as exc:
            if exc.code != Code.NICK_TAKEN:
                await link.aclose()
                raise
            nick += "_"
            continue
        return link, early, welcome.nick
    await link.aclose()
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
        await link.send(Quit())
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
        await link.aclose()


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
    err: Output = lambda line: None,
) -> int:
    """Print the room's history (or what came after ``since``), then follow it: its
    messages, and the reactions, edits and deletes of its messages. The room is watched,
    not joined: nobody sees this reader come, stay or go.

    Every ``error`` the server sends is written to ``err``; the connection ending without
    a ``bye`` is reported there too, with status 1.
    """
    room = normalize_room(room)
    link, _, _ = await _open(options, nick, rooms=[], lang=lang, access=access)
    encoder = msgspec.json.Encoder()
    try:
        label = link.next_label()
        await link.send(Watch(room=room, label=label))
        while (frame := await link.recv()) is not None:
            messages: list[Message | Change]
            if isinstance(frame, History) and frame.label == label:
                messages = list(await _history_since(link, room, since, frame.messages))
            elif isinstance(frame, Message | Reaction | Edited | Deleted) and frame.room == room:
                messages = [frame]
            elif isinstance(frame, Error) and frame.label == label:
                err("charla tail: " + sanitize_line(frame.message))
                return 1
            elif isinstance(frame, Bye):
                return 0
            else:
                if isinstance(frame, Error):
                    err("charla tail: " + sanitize_line(frame.message))
                continue
            for message in messages:
                if as_json:
                    out(json_line(encoder.encode(message)))
                else:
                    out(format_line(message, lang) or "")
        err("charla tail: the server closed the connection")
        return 1
    except ConnectionResetError:
        # The server closed while a request of ours was on its way: the same end.
        err("charla tail: the server closed the connection (reset)")
        return 1
    except ConnectionError as exc:
        err(f"charla tail: {exc}")
        return 1
    finally:
        await link.aclose()


async def _history_since(
    link: Link, room: str, since: int | None, recent: list[Message]
) -> list[Message]:
    """What to print of a room's ``recent`` history: all of it, or, after ``since``,
    the part above it together with the older pages down to it."""
    if since is None:
        return recent
    fresh = [m for m in recent if m.id > since]
    if len(fresh) < len(recent) or not fresh:
        return fresh
    return await _page_back(link, room, since, fresh) + fresh


async def _page_back(link: Link, room: str, since: int, replay: list[Message]) -> list[Message]:
    """The messages of ``room`` between ``since`` and ``replay`` (oldest first). Live
    messages arriving meanwhile stay queued in the link and are printed after."""
    older: list[Message] = []
    before = replay[0].id
    while True:
        label = link.next_label()
        await link.send(ClientHistory(room=room, before=before, limit=_PAGE, label=label))
        page = await link.recv_answer(label)
        if not isinstance(page, History):
            raise ConnectionError(_refusal(page))
        fresh = [m for m in page.messages if m.id > since]
        older[:0] = fresh
        # A page shorter than asked for is the room's first, unless the server cut it
        # to its largest answer (``more``).
        complete = len(page.messages) < _PAGE and not page.more
        if complete or not fresh or len(fresh) < len(page.messages):
            return older
        before = page.messages[0].id


def _refusal(frame: ServerFrame) -> str:
    return sanitize_line(frame.message) if isinstance(frame, Error) else type(frame).__name__


async def users(
    options: ConnectOptions,
    nick: str,
    room: str,
    *,
    out: Output,
    access: Access,
) -> int:
    """Print who is in ``room``. The probe joins no room, so it is not among them."""
    room = normalize_room(room)
    link, _, _ = await _open(options, nick, rooms=[], access=access)
    try:
        label = link.next_label()
        await link.send(ClientUsers(room=room, label=label))
        answer = await link.recv_answer(label)
        if not isinstance(answer, Users):
            out("charla users: " + _refusal(answer))
            return 1
        for user in answer.users:
            out(sanitize_line(user))
        return 0
    except ConnectionError:
        return 1
    finally:
        await link.aclose()


async def search(
    options: ConnectOptions,
    nick: str,
    query: str,
    *,
    room: str | None,
    limit: int,
    as_json: bool,
    out: Output,
    err: Output,
    lang: str,
    access: Access,
) -> int:
    """Print the messages matching ``query``, newest first; 1 when the server refused."""
    room = None if room is None else normalize_room(room)
    link, _, _ = await _open(options, nick, rooms=[], lang=lang, access=access)
    encoder = msgspec.json.Encoder()
    try:
        await link.send(Search(query=query, room=room, limit=limit, label="search"))
        while (frame := await link.recv()) is not None:
            if isinstance(frame, Results) and frame.label == "search":
                for message in frame.messages:
                    out(json_line(encoder.encode(message)) if as_json else _line(message, lang))
                return 0
            if isinstance(frame, Error) and frame.label == "search":
                err("charla search: " + sanitize_line(frame.message))
                return 1
        return 1
    finally:
        await link.aclose()


def _line(message: Message, lang: str) -> str:
    return format_line(message, lang) or ""


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
