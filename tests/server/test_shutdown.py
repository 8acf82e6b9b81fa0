"""Stopping while history is being read: no crash, exit 0, every time.

``Store.close`` used to close SQLite connections that worker threads were still reading
through, and the process died with a segmentation fault now and then.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from charla.protocol import Message, Welcome
from charla.store import Store

from ..helpers import Peer, free_port, start_server_process, wait_listening

ROOMS = [f"sala{i}" for i in range(10)]
CLIENTS = 50
CYCLES = 20


def _long_histories(path: Path, per_room: int = 1000) -> None:
    store = Store(path)
    messages = [
        Message(id=i + 1, room=ROOMS[i % len(ROOMS)], user="ana", text="x" * 200, ts="2026-01-01")
        for i in range(per_room * len(ROOMS))
    ]
    store.commit_batch(messages, len(messages))
    store.close()


async def _join_everywhere(port: int, nick: str) -> Peer:
    peer = await Peer.connect(port)
    await peer.send({"type": "hello", "nick": nick, "rooms": ROOMS[1:]})
    return peer


async def _stop_while_joining(tmp_path: Path, port: int, cycle: int) -> str:
    proc = start_server_process(tmp_path, port, "--history", "500")
    try:
        await wait_listening(port, proc)
        peers = await asyncio.gather(
            *(_join_everywhere(port, f"u{cycle}x{i}") for i in range(CLIENTS))
        )
        await peers[0].expect(Welcome)  # hellos are being handled: reads are under way
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 20)
        output = proc.stdout.read() if proc.stdout else ""
        for peer in peers:
            await peer.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, f"cycle {cycle}: exit {code}\n{output}"
    return output


async def test_stopping_during_many_history_reads_never_crashes(tmp_path: Path) -> None:
    _long_histories(tmp_path / "charla.db")
    port = free_port()
    for cycle in range(CYCLES):
        output = await _stop_while_joining(tmp_path, port, cycle)
        assert "Fatal Python error" not in output and "Traceback" not in output, output
    # Nothing was lost or damaged by the stops.
    store = Store(tmp_path / "charla.db")
    assert store.count() == 10_000
    store.close()
