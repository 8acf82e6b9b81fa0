"""Random bytes and random IRC lines at a real server's IRC port: no traceback, and a
well-behaved IRC client keeps chatting throughout."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..helpers import Peer
from .helpers import RawIrc, irc_server
from .test_session import irc_lines

streams = st.lists(
    st.binary(max_size=120) | irc_lines.map(lambda line: line.encode() + b"\r\n"),
    max_size=20,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(streams, min_size=1, max_size=4))
def test_random_irc_input_from_many_clients(
    caplog: pytest.LogCaptureFixture, clients: list[list[bytes]]
) -> None:
    caplog.clear()

    async def scenario() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            async with irc_server(Path(tmp)) as server:
                good = await RawIrc.connect(server.irc_ports[0])
                await good.register("good")
                bob = await Peer.connect(server.port)
                await bob.hello("bob")
                writers = []
                for chunks in clients:
                    _, writer = await asyncio.open_connection("127.0.0.1", server.irc_ports[0])
                    for chunk in chunks:
                        writer.write(chunk)
                    writers.append(writer)
                await asyncio.gather(*(w.drain() for w in writers))
                await bob.say("still here")
                said = await good.expect("PRIVMSG", lambda m: m.params[1] == "still here")
                assert said.source is not None and said.source.startswith("bob!")
                for writer in writers:
                    writer.close()
                await good.close()
                await bob.close()

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]
