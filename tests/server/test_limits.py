"""Abuse and faults: floods, slow readers, silent sockets, caps (real sockets, real time,
short limits so that nothing waits long)."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from charla.protocol import Bye, Code, Error, Message, Ping, System

from ..helpers import Peer, make_config, running


async def _welcomed(port: int, nick: str, **kw: object) -> Peer:
    peer = await Peer.connect(port, **kw)
    await peer.hello(nick)
    return peer


async def test_a_15_line_paste_passes_at_once_with_the_defaults(tmp_path: Path) -> None:
    # Default rate limit: 5/s after a burst of 20. Fifteen lines at once all pass, and
    # are acknowledged before the 1-token refill could have mattered (no queueing).
    async with running(make_config(tmp_path, rate_limit=5.0, burst=20)) as server:
        ana = await _welcomed(server.port, "ana")
        bob = await _welcomed(server.port, "bob")
        for i in range(15):
            ana.writer.write(f'{{"type":"say","text":"línea {i}"}}\n'.encode())
        got = [(await bob.expect(Message)).text for _ in range(15)]
        assert got == [f"línea {i}" for i in range(15)]
        connection = next(c for c in server.hub.admission.members if c.nick == "ana")
        assert connection.proto.idle
        await ana.close()
        await bob.close()


async def test_excess_waits_in_order_and_nothing_is_dropped(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, rate_limit=100.0, burst=5)) as server:
        ana = await _welcomed(server.port, "ana")
        for i in range(40):
            ana.writer.write(f'{{"type":"say","text":"{i}"}}\n'.encode())
        frames = await ana.sync()  # the barrier waits behind the queued messages
        texts = [f.text for f in frames if isinstance(f, Message)]
        assert texts == [str(i) for i in range(40)]
        await ana.close()


async def test_a_flood_is_cut_off_and_others_keep_chatting(tmp_path: Path) -> None:
    config = make_config(tmp_path, rate_limit=20.0, burst=5, flood_queue=50)
    async with running(config) as server:
        bob = await _welcomed(server.port, "bob")
        flooder = await _welcomed(server.port, "flooder")
        flooder.writer.write(b'{"type":"say","text":"spam"}\n' * 2000)
        frames = await flooder.until_closed()
        assert any(isinstance(f, Error) and f.code == "flood" for f in frames)
        await bob.say("sigo")
        texts = []
        while "sigo" not in texts:
            message = await bob.expect(Message)
            texts.append(message.text)
        # At most the burst plus what the queue let through reached the others.
        assert texts.count("spam") <= 5 + 50
        assert server.hub.metrics.cut_offs["flood"] == 1
        await bob.close()


async def test_commands_count_against_the_rate_limit(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, rate_limit=1.0, burst=2, flood_queue=3)) as server:
        peer = await _welcomed(server.port, "ana")
        peer.writer.write(b'{"type":"say","text":"/usuarios"}\n' * 10)
        frames = await peer.until_closed()
        assert any(isinstance(f, Error) and f.code == "flood" for f in frames)


async def test_a_reader_that_never_reads_is_cut_off_and_others_get_everything(
    tmp_path: Path,
) -> None:
    # The bound is well above what the test's own readers ever lag behind by (they sync
    # every 25 messages: 100 KB), so only the sleeper can pass it, even on a busy machine.
    async with running(make_config(tmp_path, max_sendq=1024 * 1024)) as server:
        sleeper = socket.socket()
        sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sleeper.connect(("127.0.0.1", server.port))
        sleeper.sendall(b'{"type":"hello","nick":"sleeper"}\n')
        ana = await _welcomed(server.port, "ana")
        bob = await _welcomed(server.port, "bob")
        watcher = await _welcomed(server.port, "watcher")
        text = "x" * 4000
        cut = asyncio.create_task(watcher.expect(System, event="leave", user="sleeper", timeout=30))
        sent = 0
        while not cut.done() and sent < 3000:
            await ana.say(text)
            sent += 1
            if sent % 25 == 0:
                await ana.sync()
        await cut
        await ana.sync()
        received = 0
        while received < sent:
            await bob.expect(Message, timeout=30)
            received += 1
        assert server.hub.metrics.cut_offs["slow_consumer"] == 1
        assert all(c.nick != "sleeper" for c in server.hub.admission.members)
        sleeper.close()
        await watcher.close()
        await ana.close()
        await bob.close()


async def test_silent_socket_is_closed_after_the_handshake_timeout(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, handshake_timeout=0.3)) as server:
        silent = await Peer.connect(server.port)
        frames = await silent.until_closed()
        assert [f.code for f in frames if isinstance(f, Error)] == ["handshake_timeout"]
        # A prompt client is not affected by the timer.
        ana = await _welcomed(server.port, "ana")
        await asyncio.sleep(0.4)  # past the timeout: ana must still be here
        await ana.say("aquí")
        assert (await ana.expect(Message)).text == "aquí"
        await ana.close()


async def test_dead_peer_is_pinged_then_dropped_and_announced(tmp_path: Path) -> None:
    config = make_config(tmp_path, ping_interval=0.2, ping_timeout=0.6)
    async with running(config) as server:
        watcher = await _welcomed(server.port, "watcher")
        mute = await _welcomed(server.port, "mute")

        async def keep_alive() -> None:
            while True:
                frame = await watcher.recv()
                if isinstance(frame, Ping):
                    await watcher.send({"type": "pong"})
                if isinstance(frame, System) and frame.event == "leave":
                    return

        alive = asyncio.create_task(keep_alive())
        frames = await mute.until_closed()
        assert isinstance(frames[0], Ping)
        assert any(isinstance(f, Error) and f.code == "ping_timeout" for f in frames)
        await asyncio.wait_for(alive, 10)
        assert [c.nick for c in server.hub.admission.members] == ["watcher"]
        await watcher.close()


async def test_per_ip_cap_and_its_slot_freed(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_per_ip=3)) as server:
        peers = [await _welcomed(server.port, f"u{i}") for i in range(3)]
        extra = await Peer.connect(server.port)
        frames = await extra.until_closed()
        assert [f.code for f in frames if isinstance(f, Error)] == ["too_many_connections"]
        await peers[0].close()
        async with asyncio.timeout(10):
            while len(server.hub.admission.members) > 2:
                await asyncio.sleep(0.01)
        again = await _welcomed(server.port, "again")
        await again.close()
        for peer in peers[1:]:
            await peer.close()


async def test_max_clients(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_clients=2)) as server:
        a = await _welcomed(server.port, "a")
        b = await _welcomed(server.port, "b")
        extra = await Peer.connect(server.port)
        frames = await extra.until_closed()
        assert [f.code for f in frames if isinstance(f, Error)] == ["server_full"]
        await a.close()
        await b.close()


async def test_bad_clients_never_log_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = make_config(tmp_path, max_line=4096, handshake_timeout=0.5)
    async with running(config) as server:
        ana = await _welcomed(server.port, "ana")

        async def abuse(i: int) -> None:
            peer = await Peer.connect(server.port)
            junk = [
                bytes(range(256)),
                b'{"type":"hello","nick":"' + b"\xff" * 10 + b'"}',
                b'{"type":"say","text":"x"}',
                b"{" * 5000,
            ]
            for data in junk:
                peer.writer.write(data + b"\n")
            await peer.until_closed()

        await asyncio.gather(*(abuse(i) for i in range(30)))
        await ana.say("ok")
        await ana.expect(Message, text="ok")
        await ana.close()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert any("cut off" in r.getMessage() for r in caplog.records)


async def test_metrics_endpoint_counts(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, metrics_port=0, max_clients=1)) as server:
        ana = await _welcomed(server.port, "ana")
        await ana.say("uno")
        await ana.expect(Message)
        refused = await Peer.connect(server.port)
        await refused.until_closed()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.metrics_port)
        writer.write(b"GET /metrics HTTP/1.0\r\n\r\n")
        response = (await reader.read()).decode()
        assert response.startswith("HTTP/1.0 200")
        assert "charla_clients 1" in response
        assert "charla_messages_total 1" in response
        assert "charla_refused_total 1" in response
        await ana.close()


assert Code.FLOOD == "flood"


async def test_quit_from_the_rate_limit_queue_says_bye_with_a_frame_behind_it(
    tmp_path: Path,
) -> None:
    # /salir waits in the queue behind the burst; the pong after it is not metered, so
    # the queue empties right after /salir is handled. The goodbye must still come.
    async with running(make_config(tmp_path, rate_limit=50.0, burst=2)) as server:
        ana = await _welcomed(server.port, "ana")
        lines = [b'{"type":"say","text":"m%d"}\n' % i for i in range(3)]
        ana.writer.write(b"".join(lines) + b'{"type":"say","text":"/salir"}\n{"type":"pong"}\n')
        frames = await ana.until_closed()
        assert [f.text for f in frames if isinstance(f, Message)] == ["m0", "m1", "m2"]
        assert isinstance(frames[-1], Bye)
