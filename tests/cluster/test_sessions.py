"""One registered nick with sessions on two nodes: one user to everybody, with the same
rooms, messages, read markers, away and roles on both. Real NATS, real nodes, sockets."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from charla.protocol import (
    Error,
    History,
    Joined,
    Message,
    Parted,
    Read,
    Rooms,
    ServerFrame,
    System,
    Users,
    Welcome,
)
from charla.server import ChatServer

from ..helpers import Peer
from ..helpers import frames_of as _of
from .conftest import Cluster, eventually

nats = pytest.importorskip("nats", reason="the cluster tests need nats-py (the cluster extra)")

PASSWORD = "una-clave-larga"


async def _registered(cluster: Cluster, node: str, nick: str = "ana", **extra: Any) -> Peer:
    """``nick`` connected to ``node`` and registered, once every node knows it is."""
    peer = await cluster.connect(node, nick, **extra)
    await peer.send({"type": "register", "password": PASSWORD, "label": "r"})
    await peer.expect(System, event="registered", label="r")
    await eventually(
        lambda: all(_hub(s).accounts.is_registered(nick) for s in cluster.nodes.values())
    )
    return peer


async def _session(
    cluster: Cluster, node: str, nick: str = "ana", **extra: Any
) -> tuple[Peer, Welcome]:
    """One more session of registered ``nick``, on ``node``, its hello fully answered."""
    peer = await cluster.connect(node)
    await peer.send({"type": "hello", "nick": nick, "password": PASSWORD, **extra})
    welcome = await peer.expect(Welcome)
    await peer.sync()
    return peer, welcome


async def _hello_error(cluster: Cluster, node: str, nick: str, **extra: Any) -> str:
    peer = await cluster.connect(node)
    await peer.send({"type": "hello", "nick": nick, **extra})
    return (await peer.error()).code


def _hub(server: ChatServer) -> Any:
    assert server.hub is not None
    return server.hub


async def _until_said(peer: Peer, text: str, room: str | None = "general") -> list[ServerFrame]:
    """The frames ``peer`` gets up to the message ``text`` (a barrier: whatever the
    stream held before it has been applied)."""
    frames: list[ServerFrame] = []
    while True:
        frame = await peer.recv()
        assert frame is not None, "connection closed"
        frames.append(frame)
        if isinstance(frame, Message) and frame.text == text and frame.room == room:
            return frames


def _moves(frames: list[ServerFrame], nick: str = "ana") -> list[tuple[str, str | None]]:
    """The joins and leaves of ``nick`` announced in ``frames``."""
    return [
        (f.event, f.room) for f in _of(System, frames, user=nick) if f.event in ("join", "leave")
    ]


@dataclass
class _Scene:
    """Nodes a and b; beto on a and carla on b watch ana, registered on a, whose second
    session is on b."""

    a: ChatServer
    b: ChatServer
    ana: Peer
    second: Peer
    welcome: Welcome
    beto: Peer
    carla: Peer


async def _scene(cluster: Cluster) -> _Scene:
    a = await cluster.node("a")
    b = await cluster.node("b")
    ana = await _registered(cluster, "a")
    beto = await cluster.connect("a", "beto")
    carla = await cluster.connect("b", "carla")
    await eventually(lambda: _hub(b).presence.in_room("ana", "general"))
    second, welcome = await _session(cluster, "b")
    await eventually(lambda: _hub(a).presence.sessions("ana") == 1)
    return _Scene(a, b, ana, second, welcome, beto, carla)


async def test_two_sessions_on_two_nodes_share_messages_rooms_and_direct_messages(
    cluster: Cluster,
) -> None:
    scene = await _scene(cluster)
    a, ana, second, beto, carla = scene.a, scene.ana, scene.second, scene.beto, scene.carla
    assert scene.welcome.sessions == 2
    # An unregistered nick is still one connection in the whole cluster.
    assert await _hello_error(cluster, "b", "beto") == "nick_taken"

    # Nobody saw ana arrive a second time; what she says reaches both her sessions.
    await ana.send({"type": "say", "text": "desde el portátil", "label": "s"})
    assert (await ana.expect(Message, label="s")).text == "desde el portátil"
    assert (await second.expect(Message, text="desde el portátil")).label is None
    for peer in (beto, carla):
        assert _moves(await _until_said(peer, "desde el portátil")) == []

    # A join from her session on b is hers: both sessions get joined and history, and
    # beto (on a) sees her join once.
    await beto.send({"type": "join", "room": "dev", "label": "j"})
    await beto.expect(Joined, label="j")
    await second.send({"type": "join", "room": "dev", "label": "j"})
    assert (await second.expect(Joined, room="dev")).label == "j"
    assert (await ana.expect(Joined, room="dev")).label is None
    await ana.expect(History, room="dev")
    await eventually(lambda: _hub(a).presence.in_room("ana", "dev"))
    await ana.say("listo", room="dev")
    assert _moves(await _until_said(beto, "listo", "dev")) == [("join", "dev")]
    await second.expect(Message, text="listo")

    # Listed and counted once, on either node.
    for peer in (beto, carla):
        await peer.send({"type": "users", "room": "dev", "label": "u"})
        assert (await peer.expect(Users, label="u")).users == ["ana", "beto"]
    await carla.send({"type": "rooms", "label": "l"})
    sizes = {r.name: r.users for r in (await carla.expect(Rooms, label="l")).rooms}
    assert sizes == {"general": 3, "dev": 2}

    # Direct messages to and from her reach both sessions, whichever node they are on.
    await carla.send({"type": "msg", "to": "ana", "text": "hola"})
    for session in (ana, second):
        assert (await session.expect(Message, to="ana")).text == "hola"
    await ana.send({"type": "msg", "to": "carla", "text": "adiós", "label": "m"})
    await ana.expect(Message, to="carla", label="m")
    assert (await second.expect(Message, to="carla")).label is None
    assert (await carla.expect(Message, to="carla")).text == "adiós"

    # A part from her session on a is hers too; beto sees her leave once.
    await ana.send({"type": "part", "room": "dev", "label": "p"})
    await ana.expect(Parted, room="dev", label="p")
    assert (await second.expect(Parted, room="dev")).label is None
    await eventually(lambda: not _hub(a).presence.in_room("ana", "dev"))
    await beto.say("¿y ana?", room="dev")
    assert _moves(await _until_said(beto, "¿y ana?", "dev")) == [("leave", "dev")]


async def test_the_user_leaves_when_its_last_session_anywhere_goes(cluster: Cluster) -> None:
    scene = await _scene(cluster)
    a, b, carla = scene.a, scene.b, scene.carla

    # Her session on b goes: she is still on a, nobody sees her leave.
    await scene.second.close()
    await eventually(lambda: _hub(a).presence.sessions("ana") == 0)
    await scene.ana.say("sigo aquí")
    for peer in (scene.beto, carla):
        assert _moves(await _until_said(peer, "sigo aquí")) == []

    # Node a stops with her session there: she is still on b, nobody sees her leave.
    third, welcome = await _session(cluster, "b")
    assert welcome.sessions == 2
    await eventually(lambda: _hub(a).presence.sessions("ana") == 1)
    await cluster.stop("a")
    await eventually(lambda: _hub(b).presence.sessions("ana") == 0)
    await third.say("aún aquí")
    assert _moves(await _until_said(carla, "aún aquí")) == []

    # Her last session goes: now she leaves.
    await third.close()
    await carla.expect(System, event="leave", user="ana", room="general")


async def test_max_sessions_counts_the_sessions_on_every_node(cluster: Cluster) -> None:
    a = await cluster.node("a", max_sessions=2)
    await cluster.node("b", max_sessions=2)
    await _registered(cluster, "a")
    second, _ = await _session(cluster, "b")
    await eventually(lambda: _hub(a).presence.sessions("ana") == 1)
    for node in "ab":
        assert await _hello_error(cluster, node, "ana", password=PASSWORD) == "too_many_sessions"
    await second.close()
    await eventually(lambda: _hub(a).presence.sessions("ana") == 0)
    _, welcome = await _session(cluster, "a")
    assert welcome.sessions == 2


async def _said(cluster: Cluster, node: str, texts: list[str], *readers: Peer) -> list[int]:
    """``beto`` (on ``node``) says ``texts``; their ids, once every reader got them."""
    beto = await cluster.connect(node, "beto")
    for text in texts:
        await beto.say(text)
    ids = []
    for reader in readers:
        ids = [(await reader.expect(Message, text=text)).id for text in texts]
    return ids


async def test_a_read_marker_reaches_the_other_node_and_comes_back_on_either(
    cluster: Cluster,
) -> None:
    await cluster.node("a")
    b = await cluster.node("b")
    ana = await _registered(cluster, "a")
    second, _ = await _session(cluster, "b")
    ids = await _said(cluster, "a", ["uno", "dos", "ana: ¿vienes?", "tres"], ana, second)

    await ana.send({"type": "mark_read", "room": "general", "id": ids[1], "label": "k"})
    assert (await ana.expect(Read, label="k")).id == ids[1]
    told = await second.expect(Read, room="general")
    assert (told.id, told.label) == (ids[1], None)
    # Only forward, from the other node too.
    await second.send({"type": "mark_read", "room": "general", "id": ids[0], "label": "o"})
    assert (await second.expect(Read, label="o")).id == ids[1]
    # A direct conversation's marker travels with how she spelled the other party.
    await second.send({"type": "mark_read", "with": "Beto", "id": ids[3], "label": "d"})
    await second.expect(Read, label="d")
    assert (await ana.expect(Read, with_="Beto")).id == ids[3]

    await ana.close()
    await second.close()
    await eventually(lambda: _hub(b).users.get("ana") is None)
    for node in "ba":  # the next hello on either node gets it back, and the counts
        again, _ = await _session(cluster, node)
        await again.send({"type": "join", "room": "general", "label": "j"})
        assert (await again.expect(Joined, label="j")).read == ids[1]
        await again.send({"type": "rooms", "label": "r"})
        (general,) = (await again.expect(Rooms, label="r")).rooms
        assert (general.unread, general.mentions) == (2, 1)
        await again.close()


async def test_unread_counts_right_after_reconnecting_to_the_other_node(
    cluster: Cluster,
) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await _registered(cluster, "a")
    ids = await _said(cluster, "a", ["uno", "ana: mira", "dos", "ana, ¿y esto?"], ana)
    await ana.send({"type": "mark_read", "room": "general", "id": ids[0], "label": "k"})
    await ana.expect(Read, label="k")
    await ana.sync()  # answered: the marker is kept
    await ana.close()
    again, _ = await _session(cluster, "b")  # at once, on the other node
    await again.send({"type": "rooms", "label": "r"})
    (general,) = (await again.expect(Rooms, label="r")).rooms
    assert (general.unread, general.mentions) == (3, 2)


async def test_away_is_the_same_on_every_node(cluster: Cluster) -> None:
    await cluster.node("a")
    b = await cluster.node("b")
    ana = await _registered(cluster, "a")
    carla = await cluster.connect("b", "carla")
    await ana.send({"type": "away", "text": "comiendo", "label": "a"})
    await ana.expect(System, event="away", label="a")
    await eventually(lambda: _hub(b).activity.away_among(["ana"]) == ["ana"])
    await carla.send({"type": "users", "room": "general", "label": "u"})
    assert (await carla.expect(Users, label="u")).away == ["ana"]
    # The automatic reply comes from carla's node.
    await carla.send({"type": "msg", "to": "ana", "text": "¿estás?", "label": "m"})
    reply = await carla.expect(System, event="away", label="m")
    assert (reply.user, reply.reason) == ("ana", "comiendo")

    # A new session on b is away as she said; back there is back on a too.
    second, _ = await _session(cluster, "b")
    await carla.send({"type": "users", "room": "general", "label": "u2"})
    assert (await carla.expect(Users, label="u2")).away == ["ana"]
    await second.send({"type": "back", "label": "b"})
    await second.expect(System, event="back", label="b")
    assert (await ana.expect(System, event="back")).label is None
    await carla.send({"type": "users", "room": "general", "label": "u3"})
    assert (await carla.expect(Users, label="u3")).away is None


async def test_the_away_reply_comes_once_an_hour_whichever_node_asks(cluster: Cluster) -> None:
    await cluster.node("a")
    b = await cluster.node("b")
    carla = await cluster.connect("a", "carla")
    await carla.send({"type": "away", "text": "de viaje", "label": "a"})
    await carla.expect(System, event="away", label="a")
    ana = await _registered(cluster, "a")
    second, _ = await _session(cluster, "b")
    await eventually(lambda: _hub(b).activity.away_among(["carla"]) == ["carla"])
    await second.send({"type": "msg", "to": "carla", "text": "¿estás?", "label": "m"})
    reply = await second.expect(System, event="away", label="m")
    assert (reply.user, reply.reason) == ("carla", "de viaje")
    await ana.expect(Message, text="¿estás?")  # node a has delivered it
    # From her session on a, within the hour: told already, on b.
    await ana.send({"type": "msg", "to": "carla", "text": "¿y ahora?", "label": "m2"})
    frames = []
    while not _of(Message, frames, label="m2"):
        frame = await ana.recv()
        assert frame is not None
        frames.append(frame)
    assert _of(System, frames, event="away") == []


class _Clock:
    """A node's clock that a test moves forward."""

    def __init__(self) -> None:
        import time

        self._now = time.monotonic
        self.ahead = 0.0

    def __call__(self) -> float:
        return self._now() + self.ahead


async def test_away_by_itself_only_when_idle_on_every_node(cluster: Cluster) -> None:
    clocks = {node: _Clock() for node in "ab"}
    quiet = {"auto_away": 1, "ping_interval": 3600, "ping_timeout": 7200}
    a = await cluster.node("a", clock=clocks["a"], **quiet)
    b = await cluster.node("b", clock=clocks["b"], **quiet)
    ana = await _registered(cluster, "a")
    second, _ = await _session(cluster, "b")
    await eventually(lambda: _hub(a).presence.sessions("ana") == 1)

    clocks["a"].ahead = 120  # idle on a, not on b: not away
    _hub(a).check_timeouts()
    assert _hub(a).users.get("ana").away is None
    await eventually(lambda: _hub(b).presence.idle_elsewhere("ana"))
    clocks["b"].ahead = 120  # idle on b too: away, on both
    _hub(b).check_timeouts()
    await second.expect(System, event="away", user="ana")
    await ana.expect(System, event="away", user="ana")

    await ana.say("ya estoy")  # active on one node: back on both
    await ana.expect(System, event="back", user="ana")
    await second.expect(System, event="back", user="ana")


async def test_roles_hold_for_a_session_on_another_node(cluster: Cluster) -> None:
    await cluster.node("a")
    await cluster.node("b")
    ana = await _registered(cluster, "a")
    await ana.send({"type": "join", "room": "aula"})
    await ana.expect(System, event="owner")  # she created it: she owns it
    bob = await cluster.connect("a", "bob", rooms=["aula"])
    second, _ = await _session(cluster, "b")  # in her rooms, as her other session
    await second.send({"type": "users", "room": "aula", "label": "u"})
    listed = await second.expect(Users, label="u")
    assert listed.users == ["ana", "bob"]
    assert listed.roles == {"ana": "owner"}
    await second.send({"type": "ban", "room": "aula", "nick": "bob", "label": "x"})
    await second.expect(System, event="ban", user="bob", label="x")
    await bob.expect(Parted, room="aula")
    await bob.send({"type": "join", "room": "aula"})
    assert (await bob.expect(Error)).code == "banned"


async def test_forged_read_markers_reach_nobody(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a = await cluster.node("a")
    ana = await _registered(cluster, "a")
    ids = await _said(cluster, "a", ["uno"], ana)
    settings = a.bus.settings  # type: ignore[attr-defined]
    subject = settings.read_subject("ana")
    nc = await nats.connect(cluster.nats.url)
    try:
        js = nc.jetstream()
        for forged in (
            {"k": "ana", "c": "#general", "id": 10**12},  # past its own place
            {"k": "beto", "c": "#general", "id": ids[0]},  # another user's subject
            {"k": "ana", "c": "#General", "id": ids[0]},  # not a room name
            {"k": "ana", "c": "@beto", "id": ids[0], "w": "Ana"},  # not who it names
            {"k": "ana", "id": 5},  # a forget with an id
        ):
            await js.publish(subject, msgspec.json.encode(forged))
        await js.publish(subject, b"\xffnot json")
    finally:
        await nc.close()
    with caplog.at_level(logging.WARNING):
        await ana.say("sigue")
        frames = await _until_said(ana, "sigue")
    assert _of(Read, frames) == []
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "skipping read marker" in caplog.text
