from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from charla.server import ChatServer

from .helpers import Peer, make_config, running

# Shared 2-core machines: a slow example is load, not a bug. Derandomized, so a CI failure
# reproduces.
settings.register_profile("charla", deadline=None, derandomize=True)
settings.load_profile("charla")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ChatServer]:
    async with running(make_config(tmp_path)) as srv:
        yield srv


@pytest.fixture
async def connect(server: ChatServer) -> AsyncIterator[object]:
    """``await connect("ana")``: a welcomed peer (its welcome and history consumed)."""
    peers: list[Peer] = []

    async def make(nick: str | None = None, **extra: object) -> Peer:
        peer = await Peer.connect(server.port)
        peers.append(peer)
        if nick is not None:
            await peer.hello(nick, **extra)
        return peer

    yield make
    for peer in peers:
        await peer.close()
