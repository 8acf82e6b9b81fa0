"""A hostile server: every string it sends (nicks, room names, error messages, message
text) tries to drive the terminal. No client may print an escape or control byte."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from .tui_helpers import run_charla

# A title change, a screen clear, 8-bit CSI, a bidi override, and a newline that would
# start a forged line.
EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e\x07\x08\x7f\nfake"
ESCAPE_OR_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _message(**fields: Any) -> dict[str, Any]:
    base = {"type": "message", "id": 1, "user": "bob" + EVIL, "text": "hola" + EVIL}
    return base | {"ts": "2026-11-25T10:00:00.000Z", "room": "general"} | fields


def _answer(frame: dict[str, Any], refuse: bool) -> list[dict[str, Any]]:
    """What the hostile server says to one client frame."""
    kind, text, label = frame.get("type"), str(frame.get("text", "")), frame.get("label")
    history = {"type": "history", "room": "general", "messages": [_message()], "label": label}
    if kind == "hello":
        if refuse:
            return [{"type": "error", "code": "bad_password", "message": "no" + EVIL}]
        welcome = {
            "type": "welcome",
            "nick": EVIL + "ana",
            "server": {"name": EVIL, "version": "1"},
        }
        joined = [{"type": "joined", "room": "general"}, history]
        return [welcome, *(joined if frame.get("join_default", True) else [])]
    if kind == "watch":
        return [{"type": "watching", "room": "general", "label": label}, history]
    if kind == "ping":
        return [{"type": "pong", "token": frame.get("token")}]
    if kind == "users" or text.startswith("/usuarios"):
        users = {"type": "users", "room": "general" + EVIL, "users": ["eve" + EVIL, "zoe"]}
        return [users | {"label": label}]
    if kind == "quit" or text == "/salir":
        return [{"type": "error", "code": "flood", "message": EVIL}, {"type": "bye"}]
    return [_message(id=2, text=text + EVIL), {"type": "error", "code": "x", "message": EVIL}]


@contextlib.asynccontextmanager
async def hostile_server(*, refuse: bool = False, once: bool = False) -> AsyncIterator[int]:
    """A server on a free port; ``once``: it hangs up after answering the first request
    after the hello (for ``tail``, which would follow the room forever)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                frame = json.loads(line)
                for answer in _answer(frame, refuse):
                    writer.write(msgspec.json.encode(answer) + b"\n")
                await writer.drain()
                if once and frame.get("type") != "hello":
                    break
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


def assert_clean(output: str) -> None:
    assert output  # something was printed, and...
    found = ESCAPE_OR_CONTROL.search(output)
    assert found is None, f"{found.group()!r} reached the terminal in {output!r}"
    assert "\nfake" not in output  # ...no line of it was forged


@pytest.mark.parametrize(
    "args",
    [
        ("join", "--plain", "--nick", "ana"),
        ("send", "--nick", "ana", "hola"),
        ("tail", "--nick", "ana"),
        ("users", "--nick", "ana"),
    ],
    ids=lambda args: args[0],
)
async def test_every_client_prints_server_strings_harmless(args: tuple[str, ...]) -> None:
    async with hostile_server(once=args[0] == "tail") as port:
        _, out, err = await run_charla(*args, "--port", str(port), stdin=b"hola\n")
    assert_clean(out + err)


async def test_a_hostile_refusal_of_hello_is_printed_harmless() -> None:
    for command in ("join", "send", "tail", "users"):
        async with hostile_server(refuse=True) as port:
            status, out, err = await run_charla(command, "--nick", "ana", "--port", str(port))
        assert status == 1
        assert_clean(out + err)


async def test_tail_json_escapes_what_a_terminal_acts_on_and_keeps_the_value() -> None:
    async with hostile_server(once=True) as port:
        _, out, _ = await run_charla("tail", "--json", "--nick", "ana", "--port", str(port))
    assert_clean(out)
    assert json.loads(out.splitlines()[0])["user"] == "bob" + EVIL


def test_the_tui_shows_names_from_the_server_on_one_clean_line() -> None:
    from charla.client.tui.render import nick_text

    shown = nick_text("eve" + EVIL).plain
    assert ESCAPE_OR_CONTROL.search(shown) is None and "\n" not in shown
