"""NATS going away: restarts, a node cut off, messages that cannot be stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from charla.protocol import Error, Message, ServerFrame, System, Users, Welcome

from ..helpers import Peer
from .conftest import Cluster, eventually, messages
from .proxy import Proxy


async def _until_text(peer: Peer, text: str) -> list[ServerFrame]:
    """Every frame up to and including the message ``text``."""
    frames: list[ServerFrame] = []
    async with asyncio.timeout(30):
        while True:
            frame = await peer.recv()
            assert frame is not None, "connection closed"
            frames.append(frame)
            if isinstance(frame, Message) and frame.text == text:
                return frames


def _leaves(frames: list[ServerFrame]) -> list[System]:
    return [f for f in frames if isinstance(f, System) and f.event == "leave"]


def _texts(frames: list[ServerFrame]) -> list[str]:
    return [f.text for f in frames if isinstance(f, Message)]


@pytest.fixture
async def proxy(cluster: Cluster) -> AsyncIterator[Proxy]:
    p = Proxy(cluster.nats.port)
    await p.start()
    cluster.cleanups.append(p.cut)  # once the node behind it has stopped
    yield p


async def test_chat_goes_on_across_a_nats_restart(cluster: Cluster) -> None:
    a = await cluster.node("a")
    b = await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "bea")
    await ana.expect(System, event="join", user="bea")
    await ana.say("antes")
    await bea.expect(Message, text="antes")
    try:
        cluster.nats.stop()
        await eventually(lambda: not a.bus.connected and not b.bus.connected)  # type: ignore[attr-defined]
        await ana.say("durante")  # waits for NATS, within --publish-timeout
    finally:
        cluster.nats.start()
    durante = await _until_text(ana, "durante")  # stored once NATS is back
    await bea.say("después")
    seen_by_ana = durante + await _until_text(ana, "después")
    seen_by_bea = await _until_text(bea, "después")
    for frames in (seen_by_ana, seen_by_bea):
        assert _texts(frames) == ["antes", "durante", "después"][-len(_texts(frames)) :]
        assert _leaves(frames) == []
    ids = [[m.id for m in f if isinstance(m, Message)] for f in (seen_by_ana, seen_by_bea)]
    assert ids[0][-2:] == ids[1][-2:] and ids[0] == sorted(set(ids[0]))
    await ana.say("/usuarios")
    assert (await ana.expect(Users)).users == ["ana", "bea"]


async def test_a_node_cut_off_catches_up_exactly(cluster: Cluster, proxy: Proxy) -> None:
    await cluster.node("a")
    cut = await cluster.node("c", nats=proxy.url)
    ana = await cluster.connect("a", "ana")
    cid = await cluster.connect("c", "cid")
    await ana.expect(System, event="join", user="cid")
    await ana.say("antes")
    await cid.expect(Message, text="antes")

    await proxy.cut()
    await eventually(lambda: not cut.bus.connected)  # type: ignore[attr-defined]
    for n in range(50):
        await ana.say(f"mientras {n}")
    await cid.say("desde el corte")  # waits in node c until NATS is back
    # A few seconds apart, under the node-death threshold (dead_after 8 s here).
    await asyncio.sleep(2)
    await proxy.start()

    at_c = await _until_text(cid, "desde el corte")  # its own copy: stored now
    await ana.say("fin")
    at_c += await _until_text(cid, "fin")
    at_a = await _until_text(ana, "fin")
    want = [f"mientras {n}" for n in range(50)]
    assert _texts(at_c) == ["antes", *want, "desde el corte", "fin"][1:]
    assert _texts(at_a) == ["antes", *want, "desde el corte", "fin"]
    ids_c = [m.id for m in at_c if isinstance(m, Message)]
    assert ids_c == sorted(set(ids_c))  # no duplicate, stream order
    assert _leaves(at_a) == [] and _leaves(at_c) == []
    await ana.say("/usuarios")
    assert (await ana.expect(Users)).users == ["ana", "cid"]


async def test_a_message_nats_cannot_take_is_refused_to_its_sender(cluster: Cluster) -> None:
    a = await cluster.node("a", publish_timeout=1.0)
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "bea")
    dora = await cluster.connect("a", "dora")
    try:
        cluster.nats.stop()
        await eventually(lambda: not a.bus.connected)  # type: ignore[attr-defined]
        await dora.say("/salir")  # her nick's claim cannot be released now
        await dora.until_closed()
        await ana.say("perdido")
        error = await ana.expect(Error)
        assert (error.code, error.text) == ("unavailable", "perdido")
        newcomer = await cluster.connect("a")  # no nick can be claimed meanwhile
        await newcomer.send({"type": "hello", "nick": "nuevo"})
        assert (await newcomer.error()).code == "unavailable"
    finally:
        cluster.nats.start()
    await ana.say("después")
    got = await messages(bea, 1)
    assert [m.text for m in got] == ["después"]
    await newcomer.send({"type": "hello", "nick": "nuevo"})
    assert (await newcomer.expect(Welcome)).nick == "nuevo"
    back = await cluster.connect("a")  # ...and yet she can come back at once
    await back.send({"type": "hello", "nick": "dora"})
    assert (await back.expect(Welcome)).nick == "dora"
