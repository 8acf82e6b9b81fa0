"""Pacing a big room's fan-out: held passes keep every order and every acknowledgement.

A pace of a second per reader makes a room of two a "big room" whose next pass waits the
longest a pass is ever held (a second): long enough that the tests see a pass held, and
short next to their timeouts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from charla.protocol import Bye, Message
from charla.server.pacing import MAX_GAP, MIN_GAP, Pacer

from ..helpers import Peer, frames_of, make_config, running
from .fakes import FakeClock

SLOW = 1_000_000.0  # µs per reader: every pass over two readers waits MAX_GAP for the next


def test_a_pass_waits_for_the_gap_of_the_big_pass_before_it() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    pace = 4e-6
    assert pacer.wait(10_000, pace) == 0  # the first pass after a quiet spell goes at once
    pacer.passed(10_000, pace)
    assert pacer.wait(10_000, pace) == pytest.approx(0.04)  # 10 000 readers × 4 µs
    clock.advance(0.03)
    assert pacer.wait(10_000, pace) == pytest.approx(0.01)
    clock.advance(0.01)
    assert pacer.wait(10_000, pace) == 0


def test_small_passes_are_never_held_and_do_not_shorten_a_big_gap() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    pace = 4e-6
    small = int(MIN_GAP / pace) - 1
    pacer.passed(10_000, pace)
    assert pacer.wait(small, pace) == 0  # a small room is not held behind a big one
    pacer.passed(small, pace)
    assert pacer.wait(10_000, pace) == pytest.approx(0.04)
    assert pacer.wait(10_000, 0) == 0  # pace 0: off


def test_no_pace_holds_a_pass_longer_than_max_gap() -> None:
    clock = FakeClock()
    pacer = Pacer(clock)
    pacer.passed(10_000, 1.0)  # an operator's typo: a second per reader
    assert pacer.wait(10_000, 1.0) == pytest.approx(MAX_GAP)


async def _in_aula(port: int, nick: str, *rooms: str) -> Peer:
    peer = await Peer.connect(port)
    await peer.hello(nick, rooms=["aula", *rooms])
    return peer


async def test_a_held_pass_keeps_order_acks_and_the_requests_behind_them(
    tmp_path: Path,
) -> None:
    async with running(make_config(tmp_path, fanout_pace_us=SLOW)) as server:
        ana = await _in_aula(server.port, "ana")
        bob = await _in_aula(server.port, "bob", "sala")
        await ana.send({"type": "say", "room": "aula", "text": "uno", "label": "1"})
        await ana.expect(Message, text="uno", label="1")  # the first pass goes at once
        # The next pass over aula is held (a second); what follows must wait behind it.
        await ana.send({"type": "say", "room": "aula", "text": "dos", "label": "2"})
        await bob.send({"type": "say", "room": "sala", "text": "tres"})
        frames = await ana.sync()  # ana's ping is answered only after her message
        assert [m.text for m in frames_of(Message, frames)] == ["dos"]
        seen = await bob.sync()
        texts = [m.text for m in frames_of(Message, seen)]
        assert texts == ["uno", "dos", "tres"]  # one order, whichever room
        ids = [m.id for m in frames_of(Message, seen)]
        assert ids == sorted(ids)
        for peer in (ana, bob):
            await peer.close()


async def test_a_pass_held_when_the_server_stops_goes_out_before_the_goodbye(
    tmp_path: Path,
) -> None:
    server_cm = running(make_config(tmp_path, fanout_pace_us=SLOW))
    server = await server_cm.__aenter__()
    ana = await _in_aula(server.port, "ana")
    bob = await _in_aula(server.port, "bob")
    await ana.say("uno", room="aula")
    for peer in (ana, bob):
        await peer.expect(Message, text="uno")
    await ana.send({"type": "say", "room": "aula", "text": "dos", "label": "2"})
    await ana.send({"type": "ping", "token": "t"})
    await server_cm.__aexit__(None, None, None)  # stops while "dos" is held
    for peer in (ana, bob):
        frames = await peer.until_closed()
        assert [m.text for m in frames_of(Message, frames)] == ["dos"]
        assert isinstance(frames[-1], Bye)
        await peer.close()
