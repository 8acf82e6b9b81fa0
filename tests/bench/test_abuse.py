"""``charla bench attack`` and ``charla bench soak``, briefly: behaviour, not timings."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from charla.bench import abuse, attack, soak


def test_a_well_behaved_client_chats_through_every_attack() -> None:
    with abuse.limited_server(("--handshake-timeout=1",), tls=True) as server:
        outcome = asyncio.run(attack.run(server, seconds=4))
    assert outcome.joins and outcome.round_trips, attack.report(outcome)
    assert not outcome.failures, attack.report(outcome)
    assert outcome.tracebacks == 0
    codes = outcome.tally.codes
    assert codes["flood"] > 0  # the ping streamers were cut off
    assert codes["big history: parts"] > 0 and not codes["big: whole"]
    assert codes["too_many_attempts"] > 0


def test_a_short_soak_loses_no_acknowledged_message() -> None:
    run = soak.Soak(clients=20, seconds=4, rooms=3, every=0.3)
    with tempfile.TemporaryDirectory() as tmp:
        with abuse.limited_server(workdir=Path(tmp)) as server:
            asyncio.run(soak.run(server, run, abusers=1))
        missing = soak.missing_from(server.db, run.acked)
        tracebacks = server.tracebacks()
    assert len(run.acked) > 20, soak.summary(run, missing, tracebacks)
    assert missing == []
    assert tracebacks == 0
    assert len(run.rss) >= 2
