"""A room of long messages: its history goes out in parts, paced by the reader's link."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

from charla.protocol import Error, History, Welcome, decode_server_frame

from ..client.tui_helpers import run_charla, seed
from ..helpers import TIMEOUT, Peer, charla_cmd, make_config, running, subprocess_env

#: 50 messages of 4000 emoji: about 800 KB, three times the default --max-sendq.
TEXTS = [f"{i:02d}" + "😀" * 3998 for i in range(50)]


def _seed_big_room(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", [("big", "bob", text) for text in TEXTS])


async def _slow_peer(port: int) -> Peer:
    """A client on a slow link: a small receive buffer, read a little at a time."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=2**24)
    return _SlowPeer(reader, writer)


class _SlowPeer(Peer):
    async def recv(self, timeout: float = 30.0) -> object:  # type: ignore[override]
        while not self.lines:
            data = await asyncio.wait_for(self.reader.read(2048), timeout)
            if not data:
                return None
            self.lines.extend(self.splitter.feed(data))
            await asyncio.sleep(0)  # let the server see a reader that lags behind
        return decode_server_frame(self.lines.pop(0))


async def _page_back(peer: Peer, first: History) -> list[str]:
    """Every message of the room, paging back from ``first`` while ``more`` says so."""
    texts = [m.text for m in first.messages]
    page = first
    while page.more or (page is not first and page.messages):
        before = page.messages[0].id
        await peer.send({"type": "history", "room": "big", "before": before, "limit": 50})
        page = await peer.expect(History, room="big", before=before)
        texts[:0] = [m.text for m in page.messages]
        if not page.more and len(page.messages) < 50:
            break
    return texts


async def test_a_slow_reader_gets_a_huge_history_in_parts_and_pages_back(
    tmp_path: Path,
) -> None:
    _seed_big_room(tmp_path)
    async with running(make_config(tmp_path)) as server:  # the default --max-sendq
        peer = await _slow_peer(server.port)
        await peer.send({"type": "hello", "nick": "lento", "rooms": ["big"]})
        await peer.expect(Welcome)
        first = await peer.expect(History, room="big")
        assert first.more and 0 < len(first.messages) < 50
        assert await _page_back(peer, first) == TEXTS
        frames = await peer.sync()
        assert not [f for f in frames if isinstance(f, Error)]
        await peer.close()


async def test_a_resume_of_a_huge_room_works(tmp_path: Path) -> None:
    _seed_big_room(tmp_path)
    async with running(make_config(tmp_path)) as server:
        peer = await _slow_peer(server.port)
        await peer.send({"type": "hello", "nick": "vuelve", "rooms": ["big"], "since": 0})
        first = await peer.expect(History, room="big")
        assert first.since == 0 and first.more
        assert await _page_back(peer, first) == TEXTS
        await peer.close()


async def test_tail_since_0_of_a_huge_room_prints_every_message(tmp_path: Path) -> None:
    _seed_big_room(tmp_path)
    async with running(make_config(tmp_path)) as server:
        proc = await asyncio.create_subprocess_exec(
            *charla_cmd("tail", "--port", str(server.port), "--room", "big", "--since", "0"),
            "--json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=subprocess_env(),
        )
        assert proc.stdout is not None and proc.stderr is not None
        lines = [await asyncio.wait_for(proc.stdout.readline(), TIMEOUT) for _ in TEXTS]
        assert [json.loads(line)["text"] for line in lines] == TEXTS
    # The server stopped with a bye: tail ends well.
    assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0


async def test_tail_says_why_it_stopped(tmp_path: Path) -> None:
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b'{"type":"welcome","nick":"t","server":{"name":"x","version":"1"}}\n')
        writer.write(b'{"type":"error","code":"unavailable","message":"no history today"}\n')
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        status, _, err = await run_charla("tail", "--port", str(port), "--since", "0")
    assert status != 0
    assert "no history today" in err
    assert "closed the connection" in err
    assert "Traceback" not in err, err
