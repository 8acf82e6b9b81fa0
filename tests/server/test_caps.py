"""What one client can make the server hold: rooms, queued requests, held messages."""

from __future__ import annotations

import asyncio
from pathlib import Path

from charla.protocol import Error, History, Joined, Message, Pong, Rooms, Welcome
from charla.server import ChatServer
from charla.server.history import Backlog, with_backlog
from charla.server.rooms import MAX_LISTED

from ..helpers import Peer, make_config, running
from .test_history import _HoldingBus


def _message(id: int, text: str = "x") -> Message:
    return Message(id=id, room="general", user="ana", text=text, ts="2026-01-01T00:00:00Z")


async def _hello_with_rooms(peer: Peer, nick: str, rooms: list[str]) -> list[object]:
    """Send a hello naming ``rooms``; the frames up to the point everything is handled."""
    await peer.send({"type": "hello", "nick": nick, "rooms": rooms})
    await peer.expect(Welcome)
    return await peer.sync()


async def test_a_hello_with_5000_rooms_joins_the_cap_and_is_told_once(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        assert server.hub is not None
        peers = [await Peer.connect(server.port) for _ in range(4)]
        for n, peer in enumerate(peers):
            frames = await _hello_with_rooms(peer, f"u{n}", [f"r{n}x{i}" for i in range(5000)])
            joined = [f for f in frames if isinstance(f, Joined)]
            errors = [f for f in frames if isinstance(f, Error)]
            assert len(joined) == 50  # the default room and 49 of the list
            assert [e.code for e in errors] == ["too_many_rooms"]
        # Four such clients hold 4 × 49 rooms and the default one, not 20 000.
        assert len(server.hub.rooms) == 4 * 49 + 1
        # Past the cap a join is refused too, and a leave frees a place.
        await peers[0].send({"type": "join", "room": "one-more"})
        assert (await peers[0].error()).code == "too_many_rooms"
        await peers[0].send({"type": "part", "room": "r0x0"})
        await peers[0].send({"type": "join", "room": "one-more"})
        await peers[0].expect(Joined, room="one-more")
        for peer in peers:
            await peer.close()


async def test_a_hello_of_invalid_names_is_answered_within_the_cap(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_rooms_per_client=5)) as server:
        peer = await Peer.connect(server.port)
        frames = await _hello_with_rooms(peer, "ana", ["no valid!"] * 5000)
        codes = [f.code for f in frames if isinstance(f, Error)]
        # Five names looked at, not five thousand: one error each, then one for the rest.
        assert codes == ["room_invalid"] * 5 + ["too_many_rooms"]
        await peer.close()


async def test_the_server_wide_room_cap(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_rooms=3)) as server:
        peer = await Peer.connect(server.port)
        frames = await _hello_with_rooms(peer, "ana", ["a", "b", "c", "d"])
        assert len([f for f in frames if isinstance(f, Joined)]) == 3
        assert [f.code for f in frames if isinstance(f, Error)] == ["too_many_rooms"]
        await peer.close()


async def test_a_hellos_rooms_cost_tokens_of_the_rate_limit(tmp_path: Path) -> None:
    # A burst of 20 and almost no refill: a hello of 15 rooms leaves 5 tokens.
    config = make_config(tmp_path, rate_limit=0.001, burst=20)
    async with running(config) as server:
        assert server.hub is not None
        peer = await Peer.connect(server.port)
        _, histories = await peer.hello("ana", rooms=[f"r{i}" for i in range(14)])
        assert len(histories) == 15  # a reconnect rejoining its rooms is never refused
        await peer.send(b"".join(b'{"type":"ping","token":"p%d"}\n' % i for i in range(6)))
        for i in range(5):
            await peer.expect(Pong, token=f"p{i}")
        (member,) = server.hub.admission.members
        assert member.proto.queued == 1  # the sixth waits for a token
        await peer.close()


async def test_room_and_user_lists_are_bounded_with_a_total(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_rooms_per_client=0)) as server:
        peer = await Peer.connect(server.port)
        await _hello_with_rooms(peer, "ana", [f"sala{i}" for i in range(MAX_LISTED + 20)])
        await peer.send({"type": "rooms"})
        rooms = await peer.expect(Rooms)
        assert len(rooms.rooms) == MAX_LISTED
        assert rooms.total == MAX_LISTED + 21
        await peer.close()


async def test_a_ping_streamer_with_a_message_in_flight_is_cut_off(tmp_path: Path) -> None:
    # Pings wait behind a message on its way to the disk; they wait in the bounded
    # inbox (flood_queue), never in a list of their own.
    server = ChatServer(make_config(tmp_path, flood_queue=200))
    bus = server.bus = _HoldingBus(server.store)
    await server.start()
    try:
        assert server.hub is not None
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        streamer = await Peer.connect(server.port)
        await streamer.hello("pinger")
        bus.hold = True
        await streamer.say("in flight")
        await bus.holding.wait()
        pings = b'{"type":"ping"}\n' * 1000
        await streamer.send(pings)
        frames = await streamer.until_closed()
        assert [f.code for f in frames if isinstance(f, Error)] == ["flood"]
        assert not any(isinstance(f, Pong) for f in frames)
        # Bob, on the same server, goes on.
        bus.release()
        await bob.say("still here")
        await bob.expect(Message, text="still here")
        assert len(server.hub.admission) == 1
        await bob.close()
    finally:
        bus.release()
        await server.stop()


def test_a_backlog_that_overflows_becomes_the_history_with_more() -> None:
    history = History(room="general", messages=[_message(1), _message(2)])
    backlog = Backlog(3)
    backlog.extend([_message(2), _message(3)])
    # Within its bound: the history, then what came after it, no duplicate.
    assert [m.id for m in with_backlog(history, backlog).messages] == [1, 2, 3]
    backlog.extend([_message(i) for i in range(4, 10)])
    assert len(backlog) == 3
    overflowed = with_backlog(history, backlog)
    # The newest messages and ``more``: the reader pages back, there is no gap.
    assert [m.id for m in overflowed.messages] == [7, 8, 9]
    assert overflowed.more


async def test_a_joiner_whose_link_is_busy_gets_no_live_message_before_its_history(
    tmp_path: Path,
) -> None:
    async with running(make_config(tmp_path, resume_cap=3)) as server:
        assert server.hub is not None
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        (member,) = (m for m in server.hub.admission.members if m.nick == "bob")
        # Bob's link is full: his next join waits for it, and the room's messages wait
        # for him in a backlog of at most resume_cap.
        busy = asyncio.Event()
        real_drained = member.link.drained

        async def held_drained() -> None:
            await busy.wait()
            await real_drained()

        member.link.drained = held_drained  # type: ignore[method-assign]
        await bob.send({"type": "join", "room": "dev"})
        await bob.expect(Joined, room="dev")
        await ana.send({"type": "join", "room": "dev"})
        await ana.expect(History, room="dev")
        for i in range(10):
            await ana.say(f"m{i}", room="dev")
            await ana.expect(Message, text=f"m{i}")
        busy.set()
        frames = await bob.sync()
        history = next(f for f in frames if isinstance(f, History))
        assert [m.text for m in history.messages] == ["m7", "m8", "m9"]
        assert history.more
        assert not any(isinstance(f, Message) for f in frames)
        await ana.close()
        await bob.close()
