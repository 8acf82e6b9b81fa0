"""The server as a process: SIGTERM/SIGINT say bye to everyone and exit 0."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from charla.protocol import Bye, Message

from ..helpers import Peer, free_port, start_server_process, wait_listening


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_says_bye_stores_and_exits_0(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    proc = start_server_process(tmp_path, port)
    try:
        await wait_listening(port, proc)
        peers = [await Peer.connect(port) for _ in range(3)]
        for i, peer in enumerate(peers):
            await peer.hello(f"user{i}")
        await peers[0].say("antes de cerrar")
        await peers[0].expect(Message)
        proc.send_signal(sig)
        for peer in peers:
            frames = await peer.until_closed()
            assert isinstance(frames[-1], Bye) and frames[-1].reason == "shutdown"
        assert proc.wait(timeout=10) == 0
        output = proc.stdout.read() if proc.stdout else ""
        assert "Traceback" not in output
        assert str(tmp_path / "charla.db") in output  # where history lives is printed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # What was said before the shutdown is there after it.
    proc = start_server_process(tmp_path, port)
    try:
        await wait_listening(port, proc)
        peer = await Peer.connect(port)
        _, (history,) = await peer.hello("later")
        assert [m.text for m in history.messages] == ["antes de cerrar"]
        await peer.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
