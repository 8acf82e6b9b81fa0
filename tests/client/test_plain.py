"""``charla join --plain`` through pipes, as scripts and screen readers use it."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest

from charla.client.connection import ConnectOptions
from charla.client.plain import PlainClient
from charla.protocol import Message, System

from ..helpers import (
    TIMEOUT,
    Peer,
    answers_pings,
    charla_cmd,
    make_config,
    running,
    subprocess_env,
)
from .tui_helpers import run_charla, seed

ESCAPE_OR_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


async def run_join(port: int, stdin: bytes, *args: str) -> tuple[int, str]:
    status, out, _ = await run_charla("join", "--port", str(port), *args, stdin=stdin)
    return status, out


async def test_piped_lines_are_delivered_before_exit(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        lines = "".join(f"línea {i}\n" for i in range(30)).encode()
        status, _ = await run_join(server.port, lines, "--nick", "bot")
        assert status == 0
        got = [(await bob.expect(Message, user="bot")).text for _ in range(30)]
        assert got == [f"línea {i}" for i in range(30)]
        await bob.expect(System, event="leave", user="bot")
        await bob.close()


async def test_echo_pipe_delivers(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        status, _ = await run_join(server.port, b"hola\n", "--nick", "bot", "--plain")
        assert status == 0
        assert (await bob.expect(Message, user="bot")).text == "hola"
        await bob.close()


async def test_history_printed_as_plain_lines_without_escapes(tmp_path: Path) -> None:
    seed(
        tmp_path / "charla.db",
        [
            ("general", "bob", "hola"),
            ("general", "eve", "\x1b[2J\x1b]0;title\x07limpio\x9b31m\u202eya\ttab"),
            ("dev", "bob", "en dev"),
        ],
    )
    async with running(make_config(tmp_path)) as server:
        status, out = await run_join(server.port, b"/salir\n", "--nick", "ana", "--room", "dev")
    assert status == 0
    assert "[09:00] #general <bob> hola" in out
    assert "[09:02] #dev <bob> en dev" in out
    assert "[09:01] #general <eve> limpioya    tab" in out
    assert "\x1b" not in out
    assert not ESCAPE_OR_CONTROL.search(out)


async def test_salir_waits_for_acknowledgements(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        status, out = await run_join(server.port, b"uno\ndos\n/salir\ntres\n", "--nick", "bot")
        assert status == 0
        assert "<bot> uno" in out and "<bot> dos" in out and "tres" not in out
        assert [(await bob.expect(Message, user="bot")).text for _ in range(2)] == ["uno", "dos"]
        await bob.close()


async def test_piped_lines_after_join_go_to_the_joined_room(tmp_path: Path) -> None:
    # "your lines then go there": also when the lines come through a pipe faster than
    # the server's "joined" (the client used to send them to the old room).
    async with running(make_config(tmp_path)) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob", rooms=["dev"])
        stdin = b"en general\n/join dev\nen dev\n/part\notra vez en general\n"
        status, _ = await run_join(server.port, stdin, "--nick", "bot", "--plain")
        assert status == 0
        got = [await bob.expect(Message, user="bot") for _ in range(3)]
        assert [(m.room, m.text) for m in got] == [
            ("general", "en general"),
            ("dev", "en dev"),
            ("general", "otra vez en general"),
        ]
        await bob.close()


async def test_a_quiet_reader_answers_pings_and_stays(tmp_path: Path) -> None:
    # Someone who only reads (a screen reader user in a quiet room) sends nothing for
    # minutes: the client must answer the server's idle pings or be cut off at 90 s.
    config = make_config(tmp_path, ping_interval=0.2, ping_timeout=0.6)
    async with running(config) as server:
        proc = await asyncio.create_subprocess_exec(
            *charla_cmd("join", "--plain", "--port", str(server.port), "--nick", "lector"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=subprocess_env(),
        )
        try:
            assert await answers_pings(server, "lector")
        finally:
            out, _ = await asyncio.wait_for(proc.communicate(b""), TIMEOUT)
        assert proc.returncode == 0, out.decode()


async def test_listings_are_printed_as_plain_lines(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", [("general", "bob", "hola clase")])
    commands = [
        "/registrar clave-profe",
        "/vetar eve 2h spam",
        "/vetados",
        "/modo +m",
        "/modo",
        "/registro",
        "/privados",
        "/buscar hola",
    ]
    stdin = "".join(f"{c}\n" for c in commands).encode()
    async with running(make_config(tmp_path, operators=("profe",))) as server:
        status, out = await run_join(server.port, stdin, "--nick", "profe", "--lang", "en")
    assert status == 0
    assert "-- bans in #general:\n   eve, by profe (until 20" in out and "): spam\n" in out
    assert "-- modes of #general: +m (moderated)\n" in out
    assert "-- moderation log of #general:\n   [20" in out
    assert "eve was banned from #general by profe: spam (until 20" in out
    assert "-- no direct conversations yet\n" in out
    assert "-- 1 found for hola\n   [2026-11-25 09:00] #general <bob> hola clase\n" in out
    assert not ESCAPE_OR_CONTROL.search(out.replace("\n", ""))


class _Terminal(io.StringIO):
    """Typed lines, as from a terminal (which is what makes the client ask)."""

    def isatty(self) -> bool:
        return True


async def test_a_terminal_is_asked_for_the_server_password_and_reconnects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out: list[str] = []
    typed = _Terminal("mala\nla-del-servidor\nhola\n")
    async with running(make_config(tmp_path, server_password="la-del-servidor")) as server:
        client = PlainClient(
            ConnectOptions(port=server.port, timeout=2),
            nick="ana",
            lang="en",
            out=out.append,
            stdin=typed,
        )
        assert await asyncio.wait_for(client.run(), TIMEOUT) == 0
    assert out.count("!! wrong or missing server password") == 2
    assert "-- connected as ana; /help lists the commands" in out
    assert any(line.endswith("#general <ana> hola") for line in out), out
    assert capsys.readouterr().err.count("Server password: ") == 2
