"""One registered nick, several terminals: sessions share rooms, messages and what was
read; the user is announced once. Over real sockets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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

from ..helpers import Peer, make_config, running
from ..helpers import frames_of as _of

PASSWORD = "una-clave-larga"


async def _register(peer: Peer) -> None:
    await peer.send({"type": "register", "password": PASSWORD, "label": "r"})
    await peer.expect(System, event="registered", label="r")


async def _session(port: int, nick: str = "ana", **extra: Any) -> tuple[Peer, Welcome]:
    """One more session of registered ``nick`` (its rooms' joins read up to a barrier)."""
    peer = await Peer.connect(port)
    await peer.send({"type": "hello", "nick": nick, "password": PASSWORD, **extra})
    welcome = await peer.expect(Welcome)
    await peer.sync()
    return peer, welcome


async def test_two_sessions_share_messages_rooms_and_direct_messages(connect, server) -> None:
    first = await connect("ana")
    await _register(first)
    beto = await connect("beto")
    second, welcome = await _session(server.port)
    assert welcome.sessions == 2
    # Nobody was kicked, and beto saw ana arrive only once.
    await first.send({"type": "say", "text": "desde el portátil", "label": "s"})
    assert (await first.expect(Message, label="s")).text == "desde el portátil"
    assert (await second.expect(Message)).label is None
    seen = await beto.sync()
    assert [m.text for m in _of(Message, seen)] == ["desde el portátil"]
    assert _of(System, seen, event="join") == []
    # A join from one session is the user's: both get joined and history, beto one join.
    await beto.send({"type": "join", "room": "dev"})
    await beto.sync()
    await second.send({"type": "join", "room": "dev", "label": "j"})
    assert (await second.expect(Joined, room="dev")).label == "j"
    await first.expect(Joined, room="dev", label=None)
    await first.expect(History, room="dev")
    assert len(_of(System, await beto.sync(), event="join", user="ana")) == 1
    # Direct messages to and from the user reach every session.
    await beto.send({"type": "msg", "to": "ana", "text": "hola"})
    for session in (first, second):
        assert (await session.expect(Message, to="ana")).text == "hola"
    await first.send({"type": "msg", "to": "beto", "text": "adiós", "label": "m"})
    await first.expect(Message, to="beto", label="m")
    assert (await second.expect(Message, to="beto")).label is None
    # Listed once.
    await beto.send({"type": "users", "room": "dev", "label": "u"})
    assert (await beto.expect(Users, label="u")).users == ["ana", "beto"]
    # A part from one session is the user's too; beto sees one leave.
    await first.send({"type": "part", "room": "dev"})
    await first.expect(Parted, room="dev")
    await second.expect(Parted, room="dev")
    assert len(_of(System, await beto.sync(), event="leave", user="ana")) == 1
    await second.close()


async def test_the_user_leaves_when_its_last_session_goes(connect, server) -> None:
    first = await connect("ana")
    await _register(first)
    beto = await connect("beto")
    second, _ = await _session(server.port)
    await second.close()
    await first.send({"type": "say", "text": "sigo aquí"})
    seen = await _until(beto, lambda f: isinstance(f, Message))
    assert _of(System, seen, event="leave") == []  # one session left: still here
    await first.close()
    await beto.expect(System, event="leave", user="ana")
    # The nick is free now: a new session is a new user, announced again.
    third, welcome = await _session(server.port)
    assert welcome.sessions == 1
    await beto.expect(System, event="join", user="ana")
    await third.close()


async def _until(peer: Peer, done: Callable[[ServerFrame], bool]) -> list[ServerFrame]:
    frames: list[ServerFrame] = []
    while not frames or not done(frames[-1]):
        frame = await peer.recv()
        assert frame is not None
        frames.append(frame)
    return frames


async def test_max_sessions(tmp_path) -> None:
    async with running(make_config(tmp_path, max_sessions=2)) as server:
        first = await Peer.connect(server.port)
        await first.hello("ana")
        await _register(first)
        second, _ = await _session(server.port)
        third = await Peer.connect(server.port)
        await third.send({"type": "hello", "nick": "ana", "password": PASSWORD})
        assert (await third.error()).code == "too_many_sessions"
        for peer in (first, second, third):
            await peer.close()


async def test_an_unregistered_nick_still_connects_once(connect) -> None:
    await connect("ana")
    other = await connect()
    await other.send({"type": "hello", "nick": "ana"})
    assert (await other.error()).code == "nick_taken"


async def test_a_wrong_password_attaches_nothing(connect) -> None:
    first = await connect("ana")
    await _register(first)
    other = await connect()
    await other.send({"type": "hello", "nick": "ana", "password": "otra-clave-mala"})
    assert (await other.error()).code == "bad_password"


# --- read markers -------------------------------------------------------------------------


async def test_a_read_marker_reaches_the_other_session_and_comes_back(connect, server) -> None:
    first = await connect("ana")
    await _register(first)
    beto = await connect("beto")
    second, _ = await _session(server.port)
    for text in ("uno", "dos", "ana: ¿vienes?", "tres"):
        await beto.say(text)
    ids = [(await first.expect(Message)).id for _ in range(4)]
    await first.send({"type": "mark_read", "room": "general", "id": ids[1], "label": "k"})
    assert (await first.expect(Read, label="k")).id == ids[1]
    told = await second.expect(Read, room="general")
    assert (told.id, told.label) == (ids[1], None)
    assert _of(Read, await beto.sync()) == []  # nobody else ever sees one
    # Only forward: an older id changes nothing, the answer says where the marker is.
    await second.send({"type": "mark_read", "room": "general", "id": ids[0], "label": "o"})
    assert (await second.expect(Read, label="o")).id == ids[1]
    assert _of(Read, await first.sync()) == []
    await first.close()
    await second.close()
    # The next hello gets it back, and the counts after it.
    again, _ = await _session(server.port, label="h")
    await again.send({"type": "join", "room": "general", "label": "j"})
    assert (await again.expect(Joined, label="j")).read == ids[1]
    await again.send({"type": "rooms", "label": "r"})
    (general,) = (await again.expect(Rooms, label="r")).rooms
    assert (general.unread, general.mentions) == (2, 1)
    await again.close()


async def test_markers_of_an_unregistered_nick_last_for_the_connection(connect) -> None:
    ana = await connect("ana")
    await ana.say("hola")
    message = await ana.expect(Message)
    await ana.send({"type": "mark_read", "room": "general", "id": message.id, "label": "k"})
    assert (await ana.expect(Read, label="k")).id == message.id
    await ana.send({"type": "rooms", "label": "r"})
    assert (await ana.expect(Rooms, label="r")).rooms[0].unread == 0
    await ana.close()
    again = await connect("ana")
    await again.send({"type": "join", "room": "general", "label": "j"})
    assert (await again.expect(Joined, label="j")).read is None


async def test_bad_marks_are_refused(connect) -> None:
    ana = await connect("ana")
    for frame, code in [
        ({"room": "general", "with": "beto", "id": 1}, "bad_arguments"),
        ({"id": 1}, "bad_arguments"),
        ({"room": "otra", "id": 1}, "not_in_room"),
        ({"with": "no valid nick!", "id": 1}, "nick_invalid"),
        ({"room": "general", "id": -1}, "bad_frame"),
    ]:
        await ana.send({"type": "mark_read", "label": "x", **frame})
        assert (await ana.error()).code == code, frame
    # An id from the future is held to what exists.
    await ana.send({"type": "mark_read", "room": "general", "id": 10**9, "label": "f"})
    assert (await ana.expect(Read, label="f")).id == 0


async def test_a_session_change_of_nick_is_refused_while_others_are_on(
    connect, server: ChatServer
) -> None:
    first = await connect("ana")
    await _register(first)
    second, _ = await _session(server.port)
    await second.send({"type": "nick", "nick": "otra"})
    error: Error = await second.error()
    assert error.code == "too_many_sessions"
    await second.close()
