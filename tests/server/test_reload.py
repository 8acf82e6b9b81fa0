"""SIGHUP reloads the config file: what can change does, at once; the rest waits a restart."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
from pathlib import Path

from charla.protocol import Welcome
from charla.store import Retention

from ..helpers import (
    TIMEOUT,
    Peer,
    charla_cmd,
    free_port,
    make_config,
    running,
    start_server_process,
    subprocess_env,
    wait_listening,
)


async def _welcome(port: int, nick: str) -> Welcome:
    peer = await Peer.connect(port)
    welcome, _ = await peer.hello(nick)
    await peer.close()
    assert isinstance(welcome, Welcome)
    return welcome


async def _line_with(proc: subprocess.Popen[str], needle: str) -> str:
    assert proc.stdout is not None
    async with asyncio.timeout(TIMEOUT):
        while True:
            line = await asyncio.to_thread(proc.stdout.readline)
            assert line, "the server exited"
            if needle in line:
                return line


async def test_sighup_with_a_changed_motd_greets_the_next_client_with_it(tmp_path: Path) -> None:
    config = tmp_path / "charla.toml"
    config.write_text('motd = "primero"\nburst = 20\n')
    port = free_port()
    proc = start_server_process(tmp_path, port, "--config", str(config))
    try:
        await wait_listening(port, proc)
        assert (await _welcome(port, "ana")).motd == "primero"
        config.write_text('motd = "segundo"\nburst = 20\nname = "otro"\n')
        proc.send_signal(signal.SIGHUP)
        assert "'primero' -> 'segundo'" in await _line_with(proc, "reload: motd")
        assert "name changed, which needs a restart" in await _line_with(proc, "reload: name")
        assert (await _welcome(port, "bea")).motd == "segundo"
        # A bad file is refused with the key; the server keeps running as it was.
        config.write_text("burst = 0\n")
        proc.send_signal(signal.SIGHUP)
        assert "burst: must be 1 or more" in await _line_with(proc, "reload refused")
        assert (await _welcome(port, "cris")).motd == "segundo"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_a_reloaded_retention_prunes_at_once(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        peer = await Peer.connect(server.port)
        await peer.hello("ana")
        for text in ("uno", "dos", "tres"):
            await peer.say(text)
        await peer.sync()
        server.reload(dataclasses.replace(server.config, retention=Retention(messages=1)))
        assert server.hub is not None and server.hub.config is server.config
        async with asyncio.timeout(TIMEOUT):
            while len(server.store.recent("general", 10)) > 1:
                await asyncio.sleep(0.01)
        assert [m.text for m in server.store.recent("general", 10)] == ["tres"]
        await peer.close()


def test_a_bad_config_file_stops_serve_with_one_line_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "charla.toml"
    config.write_text("max_sendq = -1\n")
    result = subprocess.run(
        charla_cmd("serve", "--config", str(config)),
        capture_output=True,
        text=True,
        timeout=30,
        env=subprocess_env(),
    )
    assert result.returncode == 2
    assert result.stderr == f"charla serve: {config}: max_sendq: must be 0 or more\n"


def test_print_config_prints_the_commented_file() -> None:
    printed = subprocess.run(
        charla_cmd("serve", "--print-config"),
        capture_output=True,
        text=True,
        timeout=30,
        env=subprocess_env(),
    )
    assert printed.returncode == 0 and "max_sendq = 262144" in printed.stdout
