"""``charla send``, ``charla tail --json`` and ``charla users`` as subprocesses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from charla.protocol import Message

from ..helpers import (
    TIMEOUT,
    Peer,
    answers_pings,
    charla_cmd,
    make_config,
    running,
    subprocess_env,
)
from .tui_helpers import run_charla as run
from .tui_helpers import seed


async def test_send_arguments_and_stdin(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        port = str(server.port)
        bob = await Peer.connect(server.port)
        await bob.hello("bob", rooms=["dev"])
        status, _, _ = await run(
            "send", "--port", port, "--nick", "ci", "--room", "dev", "build", "ok"
        )
        assert status == 0
        message = await bob.expect(Message, user="ci")
        assert (message.text, message.room) == ("build ok", "dev")
        status, _, _ = await run("send", "--port", port, "--nick", "ci", stdin=b"a\nb\n")
        assert status == 0
        assert [(await bob.expect(Message, user="ci")).text for _ in range(2)] == ["a", "b"]
        await bob.close()


async def test_send_reports_failure(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        status, _, err = await run("send", "--port", str(server.port), "--room", "no valid!", "x")
    assert status != 0 and "Traceback" not in err


async def test_tail_json_follows_a_room(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", [("dev", "bob", "viejo"), ("general", "bob", "otra sala")])
    async with running(make_config(tmp_path)) as server:
        proc = await asyncio.create_subprocess_exec(
            *charla_cmd("tail", "--port", str(server.port), "--room", "dev", "--json"),
            stdout=asyncio.subprocess.PIPE,
            env=subprocess_env(),
        )
        assert proc.stdout is not None
        first = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT))
        assert (first["text"], first["room"], first["user"]) == ("viejo", "dev", "bob")
        bob = await Peer.connect(server.port)
        await bob.hello("bob", rooms=["dev"])
        await bob.say("nuevo \x1b[31m", room="dev")
        await bob.say("no aquí")
        await bob.say("después", room="dev")
        second = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT))
        third = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT))
        assert [second["text"], third["text"]] == ["nuevo [31m", "después"]
        assert isinstance(second["id"], int) and second["ts"].endswith("Z")
        proc.terminate()
        await proc.wait()
        await bob.close()


async def test_tail_since_and_plain_lines(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", [("general", "bob", f"m{i}") for i in range(5)])
    async with running(make_config(tmp_path)) as server:
        proc = await asyncio.create_subprocess_exec(
            *charla_cmd("tail", "--port", str(server.port), "--since", "3"),
            stdout=asyncio.subprocess.PIPE,
            env=subprocess_env(TZ="UTC"),
        )
        assert proc.stdout is not None
        lines = [
            (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode() for _ in range(2)
        ]
        assert lines == ["[09:03] #general <bob> m3\n", "[09:04] #general <bob> m4\n"]
        proc.terminate()
        await proc.wait()


async def test_users_prints_the_room(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana, bob = await Peer.connect(server.port), await Peer.connect(server.port)
        await ana.hello("ana", rooms=["dev"])
        await bob.hello("bob")
        status, out, _ = await run("users", "--port", str(server.port), "--room", "dev")
        assert status == 0
        assert out.splitlines() == ["ana"]
        status, out, _ = await run("users", "--port", str(server.port))
        assert out.splitlines() == ["ana", "bob"]
        await ana.close()
        await bob.close()


async def test_tail_answers_pings_in_a_quiet_room(tmp_path: Path) -> None:
    config = make_config(tmp_path, ping_interval=0.2, ping_timeout=0.6)
    async with running(config) as server:
        proc = await asyncio.create_subprocess_exec(
            *charla_cmd("tail", "--port", str(server.port), "--nick", "seguidor"),
            stdout=asyncio.subprocess.PIPE,
            env=subprocess_env(),
        )
        try:
            assert await answers_pings(server, "seguidor")
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), TIMEOUT)


async def test_tail_since_past_the_resume_cap_prints_everything_in_order(
    tmp_path: Path,
) -> None:
    # The server replays at most --resume-cap (500) newest messages with more: true;
    # tail must page back down to --since, not start silently at the 500th newest.
    seed(tmp_path / "charla.db", [("general", "bob", f"m{i}") for i in range(700)])
    async with running(make_config(tmp_path)) as server:
        proc = await asyncio.create_subprocess_exec(
            *charla_cmd("tail", "--port", str(server.port), "--since", "50", "--json"),
            stdout=asyncio.subprocess.PIPE,
            env=subprocess_env(),
        )
        assert proc.stdout is not None
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        await bob.say("en vivo")
        texts = []
        while "en vivo" not in texts:
            line = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)
            texts.append(json.loads(line)["text"])
        assert texts == [f"m{i}" for i in range(50, 700)] + ["en vivo"]
        proc.terminate()
        await proc.wait()
        await bob.close()
