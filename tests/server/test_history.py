"""History that is never lost: paging, gap-free resume, ids across restarts, kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from charla.bus import Delivery
from charla.bus.local import LocalBus
from charla.protocol import Error, History, Message, Welcome
from charla.server import ChatServer
from charla.store import Store

from ..helpers import Peer, free_port, make_config, running, start_server_process, wait_listening


async def _fill(peer: Peer, count: int, room: str | None = None, prefix: str = "m") -> list[int]:
    for i in range(count):
        await peer.say(f"{prefix}{i}", room=room)
    return [(await peer.expect(Message, room=room or "general")).id for _ in range(count)]


async def test_paging_back_through_thousands_of_messages(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    ids = await _fill(ana, 2000)
    await _fill(ana, 30, room="dev", prefix="d")  # another room's messages interleave nothing
    seen: list[int] = []
    before = None
    while True:
        request = {"type": "history", "room": "general", "limit": 200}
        if before is not None:
            request["before"] = before
        await ana.send(request)
        page = await ana.expect(History, room="general")
        assert page.before == before
        if not page.messages:
            break
        page_ids = [m.id for m in page.messages]
        assert page_ids == sorted(page_ids) and len(page_ids) <= 200
        seen = page_ids + seen
        before = page_ids[0]
    assert seen == ids


async def test_page_limits(connect) -> None:
    ana = await connect("ana")
    for limit in (0, 201, -1):
        await ana.send({"type": "history", "room": "general", "limit": limit})
        assert (await ana.expect(Error)).code == "limit_invalid"
    await ana.send({"type": "history", "room": "bad room!"})
    assert (await ana.expect(Error)).code == "room_invalid"


async def test_resume_with_since_replays_exactly_what_was_missed(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    ids = await _fill(ana, 10)
    dev_ids = await _fill(ana, 5, room="dev", prefix="d")
    last_seen = ids[3]
    bob = await connect()
    _, (general, dev) = await bob.hello("bob", rooms=["dev"], since=last_seen)
    assert [m.id for m in general.messages] == ids[4:]
    assert [m.id for m in dev.messages] == dev_ids
    assert general.since == last_seen and not general.more


async def test_resume_over_the_cap_says_more_and_pages_back(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, resume_cap=50)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        ids = await _fill(ana, 120)
        bob = await Peer.connect(server.port)
        _, (history,) = await bob.hello("bob", since=ids[9])
        assert history.more and [m.id for m in history.messages] == ids[-50:]
        await bob.send({"type": "history", "room": "general", "before": ids[-50], "limit": 200})
        page = await bob.expect(History, before=ids[-50])
        assert [m.id for m in page.messages if m.id > ids[9]] == ids[10:-50]
        await ana.close()
        await bob.close()


async def test_resume_while_messages_keep_arriving_has_no_gap_and_no_duplicate(connect) -> None:
    ana = await connect("ana")
    ids = await _fill(ana, 20)
    stop = asyncio.Event()

    async def chatter() -> None:
        # Bounded, so that a resume never passes the 500-message cap.
        for i in range(400):
            if stop.is_set():
                return
            await ana.say(f"live{i}")
            await ana.sync()

    task = asyncio.create_task(chatter())
    received: list[int] = []
    for attempt in range(3):
        bob = await connect()
        _, (history,) = await bob.hello(f"bob{attempt}", since=ids[10])
        received = [m.id for m in history.messages]
        for _ in range(30):
            received.append((await bob.expect(Message)).id)
        assert received == sorted(set(received)), "duplicate or out of order"
        assert received[0] == ids[11]
    stop.set()
    await task
    await ana.sync()
    # Everything between the first and the last id received belongs to the room: no gap.
    await ana.send({"type": "history", "room": "general", "limit": 200})
    stored = [m.id for m in (await ana.expect(History, before=None)).messages]
    window = [i for i in stored if received[0] <= i <= received[-1]]
    assert window == received


async def test_ids_never_repeat_after_a_restart_even_for_direct_messages(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running(config) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.say("stored")
        await ana.say("/msg ana not stored")
        first = [(await ana.expect(Message)).id for _ in range(2)]
        await ana.close()
    async with running(config) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.say("after restart")
        assert (await ana.expect(Message)).id > max(first)
        await ana.close()


async def test_kill_9_loses_no_acknowledged_message(tmp_path: Path) -> None:
    port = free_port()
    proc = start_server_process(tmp_path, port, "--rate-limit", "0")
    try:
        await wait_listening(port, proc)
        ana = await Peer.connect(port)
        await ana.hello("ana")
        acked: list[int] = []

        async def reader() -> None:
            while True:
                frame = await ana.recv()
                if frame is None:
                    return
                if isinstance(frame, Message):
                    acked.append(frame.id)

        reading = asyncio.create_task(reader())
        for i in range(400):
            ana.writer.write(f'{{"type":"say","text":"crash {i}"}}\n'.encode())
        await ana.writer.drain()
        while len(acked) < 300:  # kill while messages are still in flight
            await asyncio.sleep(0.001)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        await reading
        seen = list(acked)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(seen) >= 300
    async with running(make_config(tmp_path)) as server:
        bob = await Peer.connect(server.port)
        _, (history,) = await bob.hello("bob", since=0)
        stored = {m.id for m in history.messages}
        assert set(seen) <= stored
        await bob.close()


class _HoldingBus(LocalBus):
    """A local bus whose fan-out can be held back after the commit: the window in which a
    message is on disk (so in any history read) but not yet sent to anyone."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.hold = False
        self.held: list[list[Delivery]] = []
        self.holding = asyncio.Event()

    def _delivered(self, batch: list[Delivery]) -> None:
        if self.hold and batch:
            self.held.append(batch)
            self.holding.set()
            return
        super()._delivered(batch)

    def release(self) -> None:
        self.hold = False
        for batch in self.held:
            super()._delivered(batch)
        self.held.clear()


async def test_a_message_stored_but_not_yet_sent_reaches_a_newcomer_once(
    tmp_path: Path,
) -> None:
    server = ChatServer(make_config(tmp_path))
    bus = server.bus = _HoldingBus(server.store)
    await server.start()
    try:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        bus.hold = True
        await ana.say("in the window")
        await bus.holding.wait()  # committed, not fanned out
        bob = await Peer.connect(server.port)
        await bob.send({"type": "hello", "nick": "bob"})
        await bob.expect(Welcome)
        # Bob's history read finds the message on disk: then either his history is sent
        # at once, or his join waits for the fan-out to catch up.
        history_sent = asyncio.create_task(bob.expect(History))
        assert server.hub is not None
        async with asyncio.timeout(10):
            while not (history_sent.done() or getattr(server.hub.fanout, "_waiters", None)):
                await asyncio.sleep(0.001)
        bus.release()
        history = await history_sent
        assert [m.text for m in history.messages] == ["in the window"]
        await ana.say("after")
        await ana.expect(Message, text="after")
        frames = await bob.sync()
        assert [f.text for f in frames if isinstance(f, Message)] == ["after"]
        await ana.close()
        await bob.close()
    finally:
        bus.release()  # a failed assertion must not leave the server waiting on the bus
        await server.stop()
