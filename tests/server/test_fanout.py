"""Coalesced fan-out: per-client order survives batching, and a client that never reads
holds up nobody."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from charla.protocol import Message, Pong

from ..helpers import Peer, make_config, running


async def _messages(peer: Peer, count: int) -> list[Message]:
    return [await peer.expect(Message) for _ in range(count)]


async def test_every_client_sees_one_order_and_each_senders_own_order(connect) -> None:
    senders = [await connect(f"s{i}") for i in range(3)]
    readers = [await connect(f"r{i}") for i in range(3)]
    # Interleaved bursts written without waiting: they arrive in one read, are stored in
    # shared batches and reach every client as coalesced runs.
    for n in range(40):
        for i, peer in enumerate(senders):
            peer.writer.write(b'{"type":"say","text":"s%d-%d"}\n' % (i, n))
    for peer in senders:
        await peer.writer.drain()
    seen = [await _messages(peer, 120) for peer in readers + senders]
    orders = [[m.id for m in messages] for messages in seen]
    assert orders[0] == sorted(orders[0]) and len(set(orders[0])) == 120
    assert all(order == orders[0] for order in orders)
    for i in range(3):
        mine = [m.text for m in seen[0] if m.user == f"s{i}"]
        assert mine == [f"s{i}-{n}" for n in range(40)]


async def _stalled_reader(port: int, nick: str) -> socket.socket:
    """A client that says hello and then never reads again (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    sock.sendall(b'{"type":"hello","nick":"%s"}\n' % nick.encode())
    return sock


async def _flood(sender: Peer, count: int) -> None:
    # 4000-character texts: far more than the kernel's socket buffers hold.
    text = "x" * 3990
    for i in range(count):
        sender.writer.write(b'{"type":"say","text":"%d %s"}\n' % (i, text.encode()))
    await sender.writer.drain()


async def test_a_client_that_never_reads_does_not_hold_up_the_others(tmp_path: Path) -> None:
    # A sendq big enough that the stalled client is never cut off: the server keeps its
    # backlog and goes on serving everyone else.
    async with running(make_config(tmp_path, max_sendq=64 * 1024 * 1024)) as server:
        sender, fast = Peer(*await _open(server.port)), Peer(*await _open(server.port))
        await sender.hello("sender")
        await fast.hello("fast")
        slow = await _stalled_reader(server.port, "slow")
        await fast.sync("slow-joined")  # the slow one's hello was handled by now
        await _flood(sender, 3000)
        got = await _messages(fast, 3000)
        assert [m.text.split()[0] for m in got] == [str(i) for i in range(3000)]
        await fast.sync()
        stalled = [c for c in server.hub.admission.members if c.nick == "slow"]
        assert stalled and not stalled[0].closed
        assert stalled[0].link.transport.get_write_buffer_size() > 1024 * 1024
        slow.close()
        await sender.close()
        await fast.close()


async def test_a_client_past_its_sendq_is_cut_off_and_the_others_get_everything(
    tmp_path: Path,
) -> None:
    async with running(make_config(tmp_path, max_sendq=256 * 1024)) as server:
        sender, fast = Peer(*await _open(server.port)), Peer(*await _open(server.port))
        await sender.hello("sender")
        await fast.hello("fast")
        slow = await _stalled_reader(server.port, "slow")
        await fast.sync("slow-joined")
        # In steps the fast reader keeps up with (40 x 4 KB, under the sendq), while the
        # stalled one falls ever further behind.
        for _ in range(75):
            await _flood(sender, 40)
            assert len(await _messages(fast, 40)) == 40
        await fast.send({"type": "ping", "token": "done"})
        await fast.expect(Pong, token="done")
        assert server.hub.metrics.cut_offs["slow_consumer"] == 1
        assert "slow" not in {c.nick for c in server.hub.admission.members}
        slow.close()
        await sender.close()
        await fast.close()


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, limit=2**24)
