"""Random bytes and random frames from many clients at a real server: no crash, no
traceback, and a well-behaved client keeps chatting throughout."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charla.protocol import Message

from ..helpers import Peer, make_config, running

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
fields = st.dictionaries(
    st.sampled_from(["nick", "text", "room", "rooms", "since", "before", "limit", "token", "x"]),
    scalars | st.lists(scalars, max_size=3),
    max_size=4,
)
frame_lines = st.builds(
    lambda kind, body: msgspec.json.encode({"type": kind, **body}),
    st.sampled_from(["hello", "say", "history", "ping", "pong", "bogus"]),
    fields,
)
commands = st.builds(
    lambda cmd, arg: msgspec.json.encode({"type": "say", "text": f"/{cmd} {arg}"}),
    st.sampled_from(
        [
            "join",
            "part",
            "msg",
            "nick",
            "me",
            "usuarios",
            "rooms",
            "register",
            "passwd",
            "unregister",
            "help",
            "zzz",
        ]
    ),
    st.text(max_size=30),
)
lines = st.lists(
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")) | frame_lines | commands,
    max_size=25,
)


# caplog is cleared at the start of every example, so sharing it across examples is fine.
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines, min_size=1, max_size=6))
def test_random_input_from_many_clients(
    caplog: pytest.LogCaptureFixture, clients: list[list[bytes]]
) -> None:
    caplog.clear()
    with caplog.at_level(logging.INFO), tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_scenario(Path(tmp), clients))
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


async def _scenario(tmp_path: Path, clients: list[list[bytes]]) -> None:
    async with running(make_config(tmp_path, handshake_timeout=2)) as server:
        good = await Peer.connect(server.port)
        await good.hello("good")

        async def noise(lines: list[bytes]) -> None:
            peer = await Peer.connect(server.port)
            peer.writer.write(b"".join(line + b"\n" for line in lines))
            peer.writer.write_eof()  # the server answers what it got, says bye, closes
            # The server must close every one of them: a timeout here is a hang, a failure.
            await peer.until_closed(timeout=10)
            await peer.close()

        await asyncio.gather(*(noise(lines) for lines in clients))
        await good.say("still fine")
        await good.expect(Message, text="still fine")
        await good.close()
