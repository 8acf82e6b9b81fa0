"""Typing and client tags alone across nodes: relayed over plain NATS, never stored, to
the room's members and the parties' sessions on every node. Real NATS, real nodes."""

from __future__ import annotations

import pytest

from charla.protocol import RelayedTags, Typing
from charla.server import ChatServer

from ..helpers import Peer
from ..helpers import frames_of as _of
from .conftest import Cluster, eventually
from .test_sessions import _registered, _session

nats = pytest.importorskip("nats", reason="the cluster tests need nats-py (the cluster extra)")


def _knows(server: ChatServer, nick: str, room: str = "general") -> bool:
    """Whether ``server`` knows ``nick`` is in ``room`` on another node."""
    assert server.hub is not None
    return server.hub.presence.in_room(nick, room)


async def _pair(cluster: Cluster) -> tuple[Peer, Peer]:
    """ana on node a and bea on node b, in #general, each node knowing the other's."""
    a = await cluster.node("a")
    b = await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    bea = await cluster.connect("b", "bea")
    await eventually(lambda: _knows(a, "bea") and _knows(b, "ana"))
    return ana, bea


async def test_typing_reaches_the_room_and_the_other_party_on_another_node(
    cluster: Cluster,
) -> None:
    ana, bea = await _pair(cluster)
    await bea.send({"type": "typing", "room": "general", "state": "active"})
    got = await ana.expect(Typing, user="bea")
    assert (got.room, got.to, got.state, got.label) == ("general", None, "active", None)
    # A direct one, to a user of another node (it was no_such_user on its own node).
    await ana.send({"type": "typing", "to": "bea", "state": "paused", "label": "t"})
    assert (await ana.expect(Typing, label="t")).to == "bea"
    got = await bea.expect(Typing, user="ana")
    assert (got.room, got.to, got.state) == (None, "bea", "paused")
    # Nothing more came: the typist's node did not send it back to her.
    assert _of(Typing, await bea.sync()) == []


async def test_tags_alone_reach_the_room_and_both_parties_sessions_everywhere(
    cluster: Cluster,
) -> None:
    ana, bea = await _pair(cluster)
    await bea.send({"type": "tags", "room": "general", "tags": {"+x/ping": "1"}, "label": "g"})
    echo = await bea.expect(RelayedTags, label="g")
    got = await ana.expect(RelayedTags, user="bea")
    assert (got.room, got.tags, got.ref) == ("general", {"+x/ping": "1"}, echo.ref)

    # A registered nick with a session on each node: its tags to bea (on b) reach bea
    # and its own other session, on b, with the one ref.
    ana.writer.close()
    carla = await _registered(cluster, "a", "carla")
    second, _ = await _session(cluster, "b", "carla")
    await eventually(lambda: _knows(cluster.nodes["b"], "carla"))
    await carla.send({"type": "tags", "to": "bea", "tags": {"+x/ping": "2"}, "label": "d"})
    echo = await carla.expect(RelayedTags, label="d")
    for peer in (bea, second):
        got = await peer.expect(RelayedTags, user="carla")
        assert (got.to, got.tags, got.ref) == ("bea", {"+x/ping": "2"}, echo.ref)
