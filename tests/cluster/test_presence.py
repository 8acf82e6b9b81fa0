"""Presence across nodes: who is online, nick uniqueness, registered nicks, dead nodes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest

from charla.cluster import presence as presence_module
from charla.protocol import Error, Message, System, Users, Welcome

from ..helpers import Peer, charla_cmd, free_port, subprocess_env, wait_listening
from ..irc.helpers import RawIrc
from .conftest import Cluster, eventually
from .test_sessions import _hub


async def _users(peer: Peer, room: str = "general") -> list[str]:
    await peer.say(f"/usuarios {room}")
    return (await peer.expect(Users, room=room)).users  # type: ignore[no-any-return]


async def test_users_of_every_node_are_listed_and_their_moves_seen(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "Bea")
    await ana.expect(System, event="join", user="Bea", room="general")
    assert await _users(ana) == ["ana", "Bea"]
    assert await _users(bea) == ["ana", "Bea"]

    await bea.say("/unirse dev")
    await ana.say("/unirse dev")
    await bea.expect(System, event="join", user="ana", room="dev")
    assert await _users(bea, "dev") == ["ana", "Bea"]

    await bea.say("/nick Beatriz")
    nick = await ana.expect(System, event="nick")
    assert (nick.user, nick.new) == ("Bea", "Beatriz")
    await bea.say("/dejar dev")
    await ana.expect(System, event="leave", user="Beatriz", room="dev")
    await bea.close()
    await ana.expect(System, event="leave", user="Beatriz", room="general")
    assert await _users(ana) == ["ana"]


async def test_a_newcomer_node_learns_who_is_where_without_announcements(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence_module, "ROSTER_PART", 2)  # a roster in several parts
    await cluster.node("a")
    nicks = [f"u{n}" for n in range(5)]
    for nick in nicks:
        await cluster.connect("a", nick)
    late = await cluster.node("b")
    await eventually(lambda: len(late.presence.users("general")) == 5)
    zoe = await cluster.connect("b", "zoe")
    await zoe.say("/usuarios")
    frames = []
    while not isinstance(frame := await zoe.recv(), Users):
        frames.append(frame)
    assert frame.users == [*nicks, "zoe"]
    assert not [f for f in frames if isinstance(f, System) and f.event == "join"]


async def test_a_nick_is_unique_across_the_cluster(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    other = await cluster.connect("b")
    await other.send({"type": "hello", "nick": "ANA"})
    assert (await other.error()).code == "nick_taken"
    bea = await cluster.connect("b", "bea")
    await bea.say("/nick Ana")
    assert (await bea.error()).code == "nick_taken"
    await ana.say("/salir")
    await ana.until_closed()
    await bea.expect(System, event="leave", user="ana")
    await other.send({"type": "hello", "nick": "ANA"})
    assert (await other.expect(Welcome)).nick == "ANA"


async def test_the_same_nick_asked_on_two_nodes_at_once_is_granted_once(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    for round_ in range(5):
        peers = [await cluster.connect(node) for node in "ab"]
        nick = f"gemelo{round_}"
        await asyncio.gather(*(p.send({"type": "hello", "nick": nick}) for p in peers))
        answers = await asyncio.gather(*(_welcome_or_error(p) for p in peers))
        assert sorted(type(a).__name__ for a in answers) == ["Error", "Welcome"]
        assert next(a for a in answers if isinstance(a, Error)).code == "nick_taken"


async def _welcome_or_error(peer: Peer) -> Welcome | Error:
    async with asyncio.timeout(10):
        while True:
            frame = await peer.recv()
            if isinstance(frame, Welcome | Error):
                return frame


async def test_registered_nicks_hold_on_every_node(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    await ana.say("/registrar secreto123")
    await ana.expect(System, event="registered")
    await ana.say("/salir")
    await ana.until_closed()
    # The registration reaches node b through the log (milliseconds later).
    await eventually(lambda: cluster.nodes["b"].hub.accounts.is_registered("ana"))
    impostor = await cluster.connect("b")
    await impostor.send({"type": "hello", "nick": "ana"})
    assert (await impostor.error()).code == "nick_registered"
    await impostor.send({"type": "hello", "nick": "ana", "password": "mala-clave"})
    assert (await impostor.error()).code == "bad_password"
    await impostor.send({"type": "hello", "nick": "ana", "password": "secreto123"})
    assert (await impostor.expect(Welcome)).nick == "ana"


async def test_a_quit_on_one_node_is_one_quit_with_its_reason_on_another(
    cluster: Cluster,
) -> None:
    await cluster.node("a")
    b = await cluster.node("b", irc="127.0.0.1:0")
    ana = await cluster.connect("a", "ana", rooms=["dev"])
    bea = await cluster.connect("b", "bea", rooms=["dev"])
    irc = await RawIrc.registered(b.irc_ports[0], "ciro", channels=("#general", "#dev"))
    await eventually(lambda: _hub(b).presence.in_room("ana", "dev"))
    await ana.send({"type": "quit", "reason": "me voy a\x1b[31m dormir"})
    # Native clients get what a single node sends: a leave per room, with the reason
    # (cleaned, as the room of her own node was told it) and quit.
    for room in ("dev", "general"):
        left = await bea.expect(System, event="leave", user="ana", room=room)
        assert (left.reason, left.quit) == ("me voy a[31m dormir", True)
        assert left.text.endswith("(me voy a[31m dormir)")
    # An IRC client gets one QUIT with the reason, not a PART per room.
    await eventually(lambda: _hub(b).presence.find("ana") is None)  # all of it applied
    await bea.say("buenas noches")
    lines = await irc.until("PRIVMSG")
    await irc.close()
    gone = [(m.command, m.params) for m in lines if (m.source or "").startswith("ana!")]
    assert gone == [("QUIT", ["me voy a[31m dormir"])]


async def test_a_killed_node_has_its_users_announced_gone(cluster: Cluster) -> None:
    await cluster.node("a", dead_after=1.5)
    await cluster.node("b", dead_after=1.5)
    port = free_port()
    db = cluster.tmp_path / "killed" / "charla.db"
    db.parent.mkdir(parents=True)
    proc = _node_process(cluster, "killed", port, db)
    try:
        await wait_listening(port, proc)
        kim = await Peer.connect(port)
        await kim.hello("kim", rooms=["dev"])
        survivors = [await cluster.connect(node, f"{node}-user", rooms=["dev"]) for node in "ab"]
        for peer in survivors:
            if "kim" not in await _users(peer, "dev"):
                await peer.expect(System, event="join", user="kim", room="dev")
        os.kill(proc.pid, signal.SIGKILL)
        for peer in survivors:  # every surviving node tells its own clients
            left = set()
            async with asyncio.timeout(20):
                while len(left) < 2:
                    event = await peer.expect(System, event="leave", user="kim")
                    assert event.quit  # she left the chat: one QUIT to IRC clients
                    left.add(event.room)
            assert left == {"general", "dev"}
            assert "kim" not in await _users(peer, "dev")
        again = await cluster.connect("a")
        await again.send({"type": "hello", "nick": "kim"})
        assert (await again.expect(Welcome)).nick == "kim"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def test_a_node_restarted_under_its_name_ends_its_earlier_run(cluster: Cluster) -> None:
    # The others would wait --dead-after (60 s here) for silence; the new run's "online"
    # tells them at once that the earlier run is over.
    await cluster.node("a", dead_after=60.0)
    port = free_port()
    db = cluster.tmp_path / "phoenix" / "charla.db"
    db.parent.mkdir(parents=True)
    first = _node_process(cluster, "phoenix", port, db, dead_after=60.0)
    second = None
    try:
        await wait_listening(port, first)
        fay = await Peer.connect(port)
        await fay.hello("fay")
        ana = await cluster.connect("a", "ana")
        if "fay" not in await _users(ana):
            await ana.expect(System, event="join", user="fay")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        second = _node_process(cluster, "phoenix", port, db, dead_after=60.0)
        await ana.expect(System, event="leave", user="fay", room="general", timeout=20)
        await wait_listening(port, second)
        again = await Peer.connect(port)
        await again.send({"type": "hello", "nick": "fay"})
        assert (await again.expect(Welcome)).nick == "fay"  # its claim was taken over
    finally:
        for proc in (first, second):
            if proc is not None:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()


def _node_process(
    cluster: Cluster, node: str, port: int, db: Path, *, dead_after: float = 1.5
) -> subprocess.Popen[str]:
    args = [
        "serve", "--port", str(port), "--db", str(db), "--nats", cluster.nats.url,
        "--node-name", node, "--cluster-name", cluster.name,
        "--heartbeat", "0.2", "--dead-after", str(dead_after), "--rate-limit", "0",
    ]  # fmt: skip
    return subprocess.Popen(
        charla_cmd(*args),
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def test_a_late_quit_from_a_users_old_node_does_not_hide_her_on_her_new_one(
    cluster: Cluster,
) -> None:
    # ana left node "old" and came back on b; old's "quit" reaches the log after b's
    # "hello" (old's publish queue was slower than its claim release). The quit must
    # not erase where ana is now: a DM to her from a used to get no_such_user.
    import msgspec
    import nats

    a = await cluster.node("a")
    await cluster.node("b")
    cleo = await cluster.connect("a", "cleo")
    presence = a.hub.presence  # type: ignore[union-attr]
    subject = presence.settings.presence_subject  # type: ignore[attr-defined]
    nc = await nats.connect(cluster.nats.url)
    js = nc.jetstream()

    async def old(**fields: str) -> None:
        await js.publish(subject, msgspec.json.encode({"node": "old", "boot": "0b0e", **fields}))

    try:
        await old(ev="online")
        await old(ev="hello", user="ana")
        await eventually(lambda: presence.find("ana") == "ana")
        await cluster.connect("b", "ana")
        await cleo.expect(System, event="join", user="ana")
        await old(ev="quit", user="ana")
        await old(ev="hello", user="marca")  # applied after the quit, in log order
        await eventually(lambda: presence.find("marca") == "marca")
        await cleo.say("/msg ana sigues ahí")
        frames = await cleo.sync()
        dms = [(f.to, f.text) for f in frames if isinstance(f, Message)]
        assert dms == [("ana", "sigues ahí")], frames
    finally:
        await nc.close()


async def test_an_account_under_an_old_key_is_moved_to_its_lookalike_key(cluster: Cluster) -> None:
    # Before look-alikes were folded, keys were only case-folded: "mario", where the
    # key is now "rnario" ("m" looks like "rn"). Starting a node moves it.
    from argon2 import PasswordHasher

    from charla.cluster.accounts import _Account, _encode
    from charla.cluster.settings import name_token

    await cluster.node("a")
    old = cluster.nodes["a"].hub.accounts
    account = _Account(nick="Mario", hash=PasswordHasher().hash("secreto123"))
    await old._bucket_kv.put(name_token("mario"), _encode(account))
    await cluster.node("b")
    impostor = await cluster.connect("b")
    await impostor.send({"type": "hello", "nick": "mаrio"})  # a Cyrillic а
    assert (await impostor.error()).code == "nick_registered"
    await impostor.send({"type": "hello", "nick": "mario", "password": "secreto123"})
    assert (await impostor.expect(Welcome)).nick == "mario"
