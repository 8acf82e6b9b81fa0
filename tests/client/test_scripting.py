"""``charla send``, ``charla tail --json`` and ``charla users`` as subprocesses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from charla.protocol import Message, System, Users

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


async def test_tail_and_users_are_never_seen(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        port = str(server.port)
        bob = await Peer.connect(server.port)
        await bob.hello("bob", rooms=["dev"])
        tails = [
            await asyncio.create_subprocess_exec(
                *charla_cmd("tail", "--port", port, "--nick", nick, *room),
                stdout=asyncio.subprocess.PIPE,
                env=subprocess_env(),
            )
            for nick, room in (("lector", ()), ("lector_dev", ("--room", "dev")))
        ]
        try:
            await bob.say("hola")
            await bob.say("hola dev", room="dev")
            for tail, text in zip(tails, ("hola", "hola dev"), strict=True):
                assert tail.stdout is not None  # it follows the room: it is reading it
                line = await asyncio.wait_for(tail.stdout.readline(), TIMEOUT)
                assert line.decode().rstrip().endswith(f"<bob> {text}")
            status, out, _ = await run("users", "--port", port, "--nick", "sonda")
            assert (status, out.splitlines()) == (0, ["bob"])
            seen = await bob.sync()
            await bob.say("/usuarios")
            await bob.say("/usuarios dev")
            seen += await bob.sync("listed")
        finally:
            for tail in tails:
                tail.terminate()
                await tail.wait()
        assert server.hub is not None
        async with asyncio.timeout(TIMEOUT):  # the server saw them go: a leave would be out
            while len(server.hub.admission.members) > 1:
                await asyncio.sleep(0.02)
        seen += await bob.sync("after")
        await bob.close()
    listed = [frame.users for frame in seen if isinstance(frame, Users)]
    assert listed == [["bob"], ["bob"]]
    assert [f for f in seen if isinstance(f, System)] == []  # no join, no leave
