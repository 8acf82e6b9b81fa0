"""The line client end to end, as a subprocess behind a pipe."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from charla.protocol import Message

from ..helpers import Peer, charla_cmd, subprocess_env


async def _run(port: int, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        charla_cmd("join", "--port", str(port), *args),
        input=stdin,
        capture_output=True,
        text=True,
        env=subprocess_env(LANG="es_ES.UTF-8"),
        timeout=30,
    )


async def test_echo_into_join_delivers_and_exits_0(server, connect) -> None:
    watcher = await connect("watcher")
    result = await _run(server.port, "--nick", "bot", stdin="hola\nadiós\n")
    assert result.returncode == 0, result.stderr
    assert [(await watcher.expect(Message)).text for _ in range(2)] == ["hola", "adiós"]
    lines = result.stdout.splitlines()
    assert any(line.endswith("#general <bot> hola") for line in lines)
    assert "\x1b" not in result.stdout


async def test_history_is_printed_first(server, connect) -> None:
    ana = await connect("ana")
    await ana.say("primero")
    await ana.say("segundo")
    await ana.sync()
    result = await _run(server.port, "--nick", "bot", stdin="")
    assert result.returncode == 0
    lines = [line for line in result.stdout.splitlines() if "<ana>" in line]
    assert [line.split("> ", 1)[1] for line in lines] == ["primero", "segundo"]
    assert lines[0].startswith("[") and lines[0][3] == ":"  # [HH:MM]


async def test_nick_asked_on_first_line_without_flag(server, connect) -> None:
    watcher = await connect("watcher")
    result = await _run(server.port, stdin="pepe\nbuenas\n/usuarios\n/salir\nnunca enviado\n")
    assert result.returncode == 0
    message = await watcher.expect(Message)
    assert (message.user, message.text) == ("pepe", "buenas")
    assert "usuarios en #general: pepe, watcher" in result.stdout


async def test_escape_sequences_from_others_are_never_printed(server, connect) -> None:
    evil = await connect("evil")
    # The server strips C0 controls; the client also strips whatever is left of them.
    await evil.say("\x1b]0;pwned\x07\x1b[2J\x9b31mred\u202etxt [red]x[/red]")
    await evil.sync()
    result = await _run(server.port, "--nick", "bot", stdin="")
    line = next(line for line in result.stdout.splitlines() if "<evil>" in line)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in line)
    assert "\u202e" not in line and "[red]x[/red]" in line


async def test_taken_nick_through_a_pipe_fails_clearly(server, connect) -> None:
    await connect("ana")
    result = await _run(server.port, "--nick", "ana", stdin="hola\n")
    assert result.returncode == 1
    assert "ana" in result.stdout and "Traceback" not in result.stderr


async def test_no_server_fails_clearly(tmp_path: Path) -> None:
    from ..helpers import free_port

    result = await _run(free_port(), "--nick", "ana", stdin="hola\n")
    assert result.returncode == 1 and "Traceback" not in result.stderr


async def test_many_lines_piped_are_all_delivered(server, connect) -> None:
    watcher: Peer = await connect("watcher")
    lines = "".join(f"línea {i}\n" for i in range(100))
    result = await _run(server.port, "--nick", "bot", stdin=lines)
    assert result.returncode == 0
    got = [(await watcher.expect(Message)).text for _ in range(100)]
    assert got == [f"línea {i}" for i in range(100)]
