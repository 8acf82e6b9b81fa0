"""Messages across nodes: one order for everyone, shared history, odd room names, DMs."""

from __future__ import annotations

import asyncio
import logging
import shutil

import pytest

from charla.protocol import Error, History, Message, System, Welcome
from charla.store import Retention

from .conftest import Cluster, messages


async def test_a_message_reaches_every_node(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "bea")
    welcome = await _welcome(cluster, "b", "ema")
    assert welcome.server.node == "b"
    await ana.say("hola desde a")
    got = await bea.expect(Message, text="hola desde a")
    own = await ana.expect(Message, text="hola desde a")
    assert got.id == own.id and got.user == "ana" and got.room == "general"
    # A notice stays one on the other node.
    await ana.send({"type": "say", "text": "aviso", "room": "general", "notice": True})
    assert (await bea.expect(Message, text="aviso")).notice
    # So do a message's client-only tags.
    tags = {"+example.com/color": "red"}
    await ana.send({"type": "say", "text": "con tags", "room": "general", "tags": tags})
    assert (await bea.expect(Message, text="con tags")).tags == tags
    # And where its author's lines were cut without a line feed.
    await ana.send({"type": "say", "text": "uno dos", "room": "general", "wraps": [4]})
    assert (await bea.expect(Message, text="uno dos")).wraps == [4]


async def _welcome(cluster: Cluster, node: str, nick: str) -> Welcome:
    peer = await cluster.connect(node)
    await peer.send({"type": "hello", "nick": nick})
    return await peer.expect(Welcome)  # type: ignore[no-any-return]


async def test_readers_on_every_node_see_one_order(cluster: Cluster) -> None:
    per_sender = 120
    for node in "abc":
        await cluster.node(node)
    peers = [await cluster.connect(node, f"u{node}") for node in "abc"]

    async def send_all(i: int) -> None:
        for n in range(per_sender):
            await peers[i].say(f"{i}-{n}")

    readers = [asyncio.create_task(messages(p, 3 * per_sender)) for p in peers]
    await asyncio.gather(*(send_all(i) for i in range(3)))
    seen = [await r for r in readers]
    orders = [[(m.id, m.user, m.text) for m in got] for got in seen]
    assert orders[0] == orders[1] == orders[2]
    ids = [m.id for m in seen[0]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for i in range(3):  # each sender's messages keep the order it sent them in
        mine = [m.text for m in seen[0] if m.text.startswith(f"{i}-")]
        assert mine == [f"{i}-{n}" for n in range(per_sender)]


async def test_room_names_with_dots_are_rooms_of_their_own(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana", rooms=["sala.uno", "sala"])
    bea = await cluster.connect("b", "bea", rooms=["sala.uno"])
    await ana.say("con punto", room="sala.uno")
    await ana.say("sin punto", room="sala")
    got = await bea.expect(Message, room="sala.uno")
    assert got.text == "con punto"
    await ana.sync()
    late = await cluster.connect("b", "ema", rooms=["sala"])
    assert late  # its history of #sala holds only what was said there
    page = await _page(late, "sala")
    assert [m.text for m in page] == ["sin punto"]


async def _page(peer: object, room: str) -> list[Message]:
    await peer.send({"type": "history", "room": room})  # type: ignore[attr-defined]
    reply = await peer.expect(History, room=room)  # type: ignore[attr-defined]
    return reply.messages  # type: ignore[no-any-return]


async def test_a_newcomer_on_another_node_gets_the_shared_history(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    for n in range(5):
        await ana.say(f"m{n}")
    await ana.sync()
    await cluster.node("c")  # started after the messages: rebuilds from the stream
    for node in "bc":
        peer = await cluster.connect(node)
        await peer.send({"type": "hello", "nick": f"new{node}"})
        history = await peer.expect(History, room="general")
        assert [m.text for m in history.messages] == [f"m{n}" for n in range(5)]


async def test_direct_messages_cross_nodes_and_stay_out_of_history(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "bea")
    await ana.expect(System, event="join", user="bea")  # node a knows bea now
    await ana.say("/msg Bea solo para ti")
    got = await bea.expect(Message, to="bea")
    mine = await ana.expect(Message, to="bea")
    assert got.text == mine.text == "solo para ti" and got.id == mine.id
    await ana.say("/msg nadie hola")
    assert (await ana.error()).code == "no_such_user"
    await ana.say("público")
    await ana.sync()
    for node in "ab":
        peer = await cluster.connect(node)
        await peer.send({"type": "hello", "nick": f"x{node}"})
        history = await peer.expect(History, room="general")
        assert [m.text for m in history.messages] == ["público"]


async def test_a_node_restarted_from_an_empty_disk_serves_the_history(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    for n in range(30):
        await ana.say(f"m{n}")
    await ana.sync()
    await cluster.stop("b")
    shutil.rmtree(cluster.tmp_path / "b")
    with caplog.at_level(logging.INFO, logger="charla.cluster"):
        await cluster.node("b")  # listens only once caught up, and says so
    assert "catching up with the stream" in caplog.text
    assert "caught up with the stream" in caplog.text
    assert cluster.nodes["b"].store.count("general") == 30
    bea = await cluster.connect("b")
    await bea.send({"type": "hello", "nick": "bea", "since": 0})
    history = await bea.expect(History, room="general")
    assert [m.text for m in history.messages] == [f"m{n}" for n in range(30)]
    await ana.say("después")
    assert (await bea.expect(Message)).text == "después"


async def test_a_node_restarted_with_its_disk_catches_up(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    await ana.say("antes")
    await ana.sync()
    await cluster.stop("b")
    for n in range(10):
        await ana.say(f"mientras {n}")
    await ana.sync()
    await cluster.node("b")
    bea = await cluster.connect("b", "bea")
    page = await _page(bea, "general")
    assert [m.text for m in page] == ["antes"] + [f"mientras {n}" for n in range(10)]
    ids = [m.id for m in page]
    assert ids == sorted(ids)


async def test_unavailable_error_names_no_one_else(cluster: Cluster) -> None:
    # Guard for the error frame used when NATS is away (tests/cluster/test_outages.py).
    assert Error(code="unavailable", message="x", text="t").text == "t"


async def test_per_room_retention_is_the_streams_limit_per_subject(cluster: Cluster) -> None:
    keep = Retention(messages=3)
    await cluster.node("a", retention=keep)
    ana = await cluster.connect("a", "ana", rooms=["otra"])
    for n in range(5):
        await ana.say(f"g{n}")
        await ana.say(f"o{n}", room="otra")
    await ana.sync()
    fresh = await cluster.node("b", retention=keep)  # rebuilt from what the stream keeps
    assert [m.text for m in fresh.store.recent("general", 10)] == ["g2", "g3", "g4"]
    assert [m.text for m in fresh.store.recent("otra", 10)] == ["o2", "o3", "o4"]


async def test_garbage_in_the_stream_is_skipped_without_a_traceback(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    # Anything with access to NATS can put bytes in the stream. Not JSON at all (not
    # merely the wrong shape) used to escape the decoder's guard as a traceback.
    import nats

    a = await cluster.node("a")
    ana = await cluster.connect("a", "ana")
    settings = a.hub.presence.settings  # type: ignore[union-attr, attr-defined]
    nc = await nats.connect(cluster.nats.url)
    try:
        js = nc.jetstream()
        await js.publish(settings.room_subject("general"), b"\xffnot json")
        await js.publish(settings.presence_subject, b"{not json")
    finally:
        await nc.close()
    with caplog.at_level(logging.WARNING):
        await ana.say("sigue")
        assert [m.text for m in await messages(ana, 1)] == ["sigue"]
    assert not [r for r in caplog.records if r.exc_info], caplog.text
