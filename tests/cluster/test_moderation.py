"""Moderation in a cluster: an action on one node holds on every node."""

from __future__ import annotations

from charla.protocol import Error, Joined, Parted, System

from .conftest import Cluster


async def test_a_ban_made_on_one_node_holds_on_the_other(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    await ana.send({"type": "register", "password": "secreto123", "label": "r"})
    await ana.expect(System, event="registered")
    await ana.send({"type": "join", "room": "aula"})
    await ana.expect(System, event="owner")  # she created it: she owns it
    bob = await cluster.connect("b", "bob", rooms=["aula"])
    await ana.expect(System, event="join", user="bob")

    await ana.send({"type": "ban", "room": "aula", "nick": "bob", "reason": "spam"})
    await ana.expect(System, event="ban", user="bob")
    told = await bob.expect(System, event="ban")  # on the other node, with who and why
    assert (told.by, told.reason) == ("ana", "spam")
    await bob.expect(Parted, room="aula")
    await bob.send({"type": "join", "room": "aula"})
    refused = await bob.expect(Error)
    assert refused.code == "banned"

    # A node started afterwards, from an empty disk, learns it from the stream.
    late = await cluster.node("c")
    assert late.hub is not None
    assert late.hub.moderation.rules("aula").bans["bob"].by == "ana"

    # Unbanned on the other node: back in.
    await ana.send({"type": "unban", "room": "aula", "nick": "bob", "label": "u"})
    await ana.expect(System, event="unban")
    carl = await cluster.connect("b", "carl")
    await carl.send({"type": "join", "room": "aula"})
    await carl.expect(Joined, room="aula")

    # The topic opened to everyone (-t) on one node: anyone in the room sets it on another.
    await ana.send({"type": "mode", "room": "aula", "open_topic": True})
    await carl.expect(System, event="mode", by="ana")
    await carl.send({"type": "topic", "room": "aula", "text": "de todos"})
    await ana.expect(System, event="topic", by="carl")
