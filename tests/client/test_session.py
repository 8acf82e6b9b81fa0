"""The reconnecting session against a real server: resume without gap or duplicate, the
outgoing queue while disconnected, backoff."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

from charla.client.connection import ConnectOptions
from charla.client.session import (
    Backoff,
    Confirmed,
    Connected,
    Disconnected,
    Ended,
    Event,
    Incoming,
    Session,
    Unsent,
)
from charla.protocol import History, Joined, Message, Parted, System

from ..helpers import TIMEOUT, Peer, free_port, make_config, running
from .tui_helpers import seed


class Recorder:
    """Collects a session's events; ``await wait(pred)`` until one matches."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait(self, predicate, timeout: float = TIMEOUT) -> Event:  # type: ignore[no-untyped-def]
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

    def texts(self) -> list[str]:
        out: list[str] = []
        for event in self.events:
            if isinstance(event, Incoming):
                frame = event.frame
                if isinstance(frame, Message):
                    out.append(frame.text)
                elif isinstance(frame, History):
                    out.extend(m.text for m in frame.messages)
        return out


def fast_backoff() -> Backoff:
    return Backoff(minimum=0.05, maximum=0.2, rng=lambda: 0.0)


@contextlib.asynccontextmanager
async def session_on(port: int, nick: str, **kw: object) -> AsyncIterator[tuple[Session, Recorder]]:
    rec = Recorder()
    session = Session(
        ConnectOptions(port=port, timeout=2), nick=nick, emit=rec, backoff=fast_backoff(), **kw
    )  # type: ignore[arg-type]
    task = asyncio.ensure_future(session.run())
    try:
        yield session, rec
    finally:
        session.close()
        await asyncio.wait_for(task, TIMEOUT)


def is_message(text: str):  # type: ignore[no-untyped-def]
    return lambda e: (
        isinstance(e, Incoming) and isinstance(e.frame, Message) and e.frame.text == text
    )


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    low = Backoff(rng=lambda: 0.0)
    assert [low.next() for _ in range(9)] == [0.25, 0.5, 1, 2, 4, 8, 15, 15, 15]
    high = Backoff(rng=lambda: 0.999999)
    assert round(high.next(), 3) == 0.5 and round([high.next() for _ in range(10)][-1]) == 30
    high.reset()
    assert round(high.next(), 3) == 0.5


async def test_resume_after_restart_has_no_gap_and_no_duplicate(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, port=port)
    async with running(config) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana", rooms=["dev"])
        await ana.say("before")
        await ana.sync()
        async with session_on(port, "bob", rooms=["dev"]) as (session, rec):
            await rec.wait(lambda e: isinstance(e, Connected))
            await rec.wait(
                lambda e: (
                    isinstance(e, Incoming)
                    and isinstance(e.frame, History)
                    and e.frame.room == "dev"
                )
            )
            await ana.say("live", room="dev")
            await rec.wait(is_message("live"))
            await ana.close()
            await server.stop()
            await rec.wait(lambda e: isinstance(e, Disconnected))
            # Typed while the server is down: waits in the queue.
            session.say("typed offline", "dev")
            assert not session.connected
            seed(config.db, [("dev", "cleo", "while away")])
            async with running(config) as again:
                other = await Peer.connect(again.port)
                await other.hello("cleo", rooms=["dev"])
                await rec.wait(lambda e: isinstance(e, Connected) and e.resumed)
                await rec.wait(is_message("typed offline"))
                await rec.wait(lambda e: session.pending == 0)
                texts = rec.texts()
                assert texts.count("before") == 1 and texts.count("live") == 1
                assert texts.count("while away") == 1
                assert texts.index("while away") < texts.index("typed offline")
                assert session.rooms == ["general", "dev"]
                await other.close()


async def test_quit_waits_for_acknowledgements(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        peer = await Peer.connect(server.port)
        await peer.hello("ana")
        async with session_on(server.port, "bob") as (session, rec):
            await rec.wait(lambda e: isinstance(e, Connected))
            for i in range(20):
                session.say(f"m{i}", "general")
            session.quit()
            ended = await rec.wait(lambda e: isinstance(e, Ended))
            assert isinstance(ended, Ended) and ended.ok
            assert session.pending == 0
        got = [(await peer.expect(Message)).text for _ in range(20)]
        assert got == [f"m{i}" for i in range(20)]
        await peer.close()


async def test_bad_nick_ends_the_first_connect(tmp_path: Path) -> None:
    async with (
        running(make_config(tmp_path)) as server,
        session_on(server.port, "no spaces") as (_, rec),
    ):
        ended = await rec.wait(lambda e: isinstance(e, Ended))
        assert isinstance(ended, Ended) and not ended.ok and ended.code == "nick_invalid"


async def test_queue_limit_refuses_clearly(tmp_path: Path) -> None:
    rec = Recorder()
    session = Session(ConnectOptions(port=free_port()), nick="x", emit=rec, queue_limit=2)
    for text in ("a", "b", "c"):
        session.say(text, "general")
    assert [e for e in rec.events if isinstance(e, Unsent)] == [
        Unsent("c", "general", "queue_full")
    ]
    assert dataclasses.is_dataclass(rec.events[0])


async def test_a_blank_line_is_not_sent_and_does_not_break_the_session(tmp_path: Path) -> None:
    # A paste of only line breaks and spaces reaches say() as "\n " (the input line
    # shows it as "↵"): it used to raise IndexError and take the full-screen app down.
    async with (
        running(make_config(tmp_path)) as server,
        session_on(server.port, "bob") as (session, rec),
    ):
        await rec.wait(lambda e: isinstance(e, Connected))
        session.say("\n \n", "general")
        session.say("hola", "general")
        assert session.pending == 1
        await rec.wait(is_message("hola"))


async def test_capped_resume_pages_back_to_since(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, port=port, resume_cap=5)
    seed(config.db, [("general", "bob", "old")])
    async with running(config) as server, session_on(port, "ana") as (_, rec):
        await rec.wait(is_message_in_history("old"))
        await server.stop()
        await rec.wait(lambda e: isinstance(e, Disconnected))
        # Twelve messages while away: more than the server replays at once.
        seed(config.db, [("general", "bob", f"away {i}") for i in range(12)])
        async with running(config):
            await rec.wait(is_message_in_history("away 0"))
            texts = rec.texts()
            assert sorted(t for t in texts if t.startswith("away")) == sorted(
                f"away {i}" for i in range(12)
            )
            assert texts.count("old") == 1


def is_message_in_history(text: str):  # type: ignore[no-untyped-def]
    return lambda e: (
        isinstance(e, Incoming)
        and isinstance(e.frame, History)
        and any(m.text == text for m in e.frame.messages)
    )


async def test_a_silent_server_is_given_up(tmp_path: Path) -> None:
    """A server that stops answering (gone without closing the socket) is noticed."""
    welcome = b'{"type":"welcome","nick":"ana","server":{"name":"mute","version":"0"}}\n'
    pings: list[bytes] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(welcome)
        while line := await reader.readline():
            pings.append(line)

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rec = Recorder()
    session = Session(
        ConnectOptions(port=port), nick="ana", emit=rec, backoff=fast_backoff(), keepalive=0.1
    )
    task = asyncio.ensure_future(session.run())
    event = await rec.wait(lambda e: isinstance(e, Disconnected))
    assert isinstance(event, Disconnected) and event.reason == "no answer from the server"
    assert any(b"keepalive" in line for line in pings)
    session.close()
    await asyncio.wait_for(task, TIMEOUT)
    server.close()


async def test_lines_cut_off_by_a_drop_are_checked_against_the_replay() -> None:
    """Three lines sent, then the connection drops before any is confirmed. After the
    reconnect the replay shows one of them arrived: it is not sent twice; the other
    message is sent again; the command, which cannot be checked, is reported unsent."""
    says: list[list[str]] = [[], []]
    hellos: list[dict[str, object]] = []
    connection = 0

    def frame(**fields: object) -> bytes:
        return json.dumps(fields).encode() + b"\n"

    async def scripted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connection
        mine = connection
        connection += 1
        hellos.append(json.loads(await reader.readline()))
        replay = (
            [{"id": 7, "room": "general", "user": "ana", "text": "hola", "ts": "x"}] if mine else []
        )
        writer.write(
            frame(type="welcome", nick="ana", server={"name": "s", "version": "0"})
            + frame(type="joined", room="general")
            + frame(type="history", room="general", messages=replay)
        )
        while line := await reader.readline():
            sent = json.loads(line)
            if sent["type"] == "ping" and sent.get("token") == "resume":
                writer.write(frame(type="pong", token="resume"))
            elif sent["type"] == "say":
                says[mine].append(sent["text"])
                if mine == 0 and len(says[0]) == 3:
                    writer.close()  # gone before confirming anything
                    return
                if mine == 1:
                    writer.close()
                    return

    server = await asyncio.start_server(scripted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rec = Recorder()
    session = Session(ConnectOptions(port=port), nick="ana", emit=rec, backoff=fast_backoff())
    task = asyncio.ensure_future(session.run())
    await rec.wait(lambda e: isinstance(e, Connected))
    for text in ("hola", "/nick nuevo", "adiós"):
        session.say(text, "general")
    unsent = await rec.wait(lambda e: isinstance(e, Unsent))
    assert unsent == Unsent("/nick nuevo", "general", "connection_lost")
    await rec.wait(lambda e: isinstance(e, Connected) and e.resumed)
    async with asyncio.timeout(TIMEOUT):
        while not says[1]:
            await asyncio.sleep(0.01)
    assert says == [["hola", "/nick nuevo", "adiós"], ["adiós"]]
    assert hellos[1]["since"] == 0
    session.close()
    await asyncio.wait_for(task, TIMEOUT)
    server.close()


async def test_a_room_left_stays_left_after_a_reconnect(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, port=port)
    async with running(config) as server, session_on(port, "ana", rooms=["dev"]) as (s, rec):
        await rec.wait(lambda e: isinstance(e, Connected))
        s.say("/dejar general", "general")
        await rec.wait(lambda e: isinstance(e, Incoming) and isinstance(e.frame, Parted))
        assert s.rooms == ["dev"]
        await server.stop()
        await rec.wait(lambda e: isinstance(e, Disconnected))
        seen = len(rec.events)
        async with running(config):
            await rec.wait(lambda e: isinstance(e, Connected) and e.resumed)
            s.say("sigo aquí", "dev")
            await rec.wait(
                lambda e: isinstance(e, Confirmed) and any(x is e for x in rec.events[seen:])
            )
            assert s.rooms == ["dev"]
            # Not joined and left again: nobody in general saw the reconnect.
            frames = [e.frame for e in rec.events[seen:] if isinstance(e, Incoming)]
            assert not [f for f in frames if isinstance(f, Joined | Parted) and f.room == "general"]


async def test_a_nick_registered_in_the_session_reconnects_with_its_password(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = make_config(tmp_path, port=port)
    async with running(config) as server, session_on(port, "ana") as (s, rec):
        await rec.wait(lambda e: isinstance(e, Connected))
        s.say("/registrar primera-clave", "general")
        s.say("/clave primera-clave segunda-clave", "general")
        await rec.wait(
            lambda e: (
                isinstance(e, Incoming)
                and isinstance(e.frame, System)
                and e.frame.event == "password_changed"
            )
        )
        await server.stop()
        await rec.wait(lambda e: isinstance(e, Disconnected))
        async with running(config):
            await rec.wait(lambda e: isinstance(e, Connected) and e.resumed)
        assert not [e for e in rec.events if isinstance(e, Ended)]
