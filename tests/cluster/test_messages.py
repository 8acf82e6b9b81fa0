"""Messages across nodes: one order for everyone, shared history, odd room names."""

from __future__ import annotations

from charla.protocol import History, Joined, Message, Welcome

from .conftest import Cluster


async def test_a_message_reaches_every_node(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "bea")
    await ana.say("hola desde a")
    got = await bea.expect(Message, text="hola desde a")
    own = await ana.expect(Message, text="hola desde a")
    assert got.id == own.id and got.user == "ana" and got.room == "general"
