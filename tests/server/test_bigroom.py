"""Big rooms: joins and leaves go quiet past --announce-max; users comes in pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from charla.protocol import System, Users
from charla.server import rooms
from charla.server.bigroom import announces, users_page

from ..helpers import Peer, make_config, running


def test_a_room_announces_up_to_announce_max_members_counting_the_one_it_is_about() -> None:
    assert announces("join", 3, 3)
    assert not announces("join", 4, 3)
    assert not announces("leave", 4, 3)
    assert announces("nick", 10_000, 3)  # renames are rare: always told
    assert announces("join", 10_000, 0)  # 0: no limit


def test_users_pages_follow_each_other_without_gap_or_overlap() -> None:
    names = ["eva", "Bob", "ana", "carl", "Dan", "bob"]
    first = users_page(names, after=None, size=4)
    assert first.names == ["ana", "Bob", "bob", "carl"]
    assert (first.total, first.more) == (6, True)
    second = users_page(names, after=first.names[-1], size=4)
    assert second.names == ["Dan", "eva"]
    assert (second.total, second.more) == (6, False)


def test_a_room_that_fits_in_one_page_has_no_total() -> None:
    page = users_page(["ana", "bob"], after=None, size=2)
    assert (page.names, page.total, page.more) == (["ana", "bob"], None, False)
    assert users_page(["ana"], after="zz", size=2).names == []


async def _join(port: int, nick: str) -> Peer:
    peer = await Peer.connect(port)
    await peer.hello(nick, rooms=["aula"])
    return peer


async def test_past_announce_max_joins_and_leaves_are_not_announced(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, announce_max=2)) as server:
        ana = await _join(server.port, "ana")
        bob = await _join(server.port, "bob")
        await ana.expect(System, event="join", user="bob", room="aula")
        carl = await _join(server.port, "carl")  # the third: quiet
        await carl.say("/part aula")
        await bob.say("/part aula")  # two members again, bob among them: told
        left = await ana.expect(System, room="aula")
        assert (left.event, left.user) == ("leave", "bob")
        for peer in (ana, bob, carl):
            await peer.close()


async def test_users_of_a_big_room_come_in_pages_with_the_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rooms, "MAX_LISTED", 2)
    async with running(make_config(tmp_path)) as server:
        peers = [await _join(server.port, nick) for nick in ("dan", "ana", "carl")]
        ana = peers[1]
        await ana.send({"type": "users", "room": "aula"})
        first = await ana.expect(Users)
        assert (first.users, first.total, first.more) == (["ana", "carl"], 3, True)
        await ana.send({"type": "users", "room": "aula", "after": "carl"})
        second = await ana.expect(Users)
        assert (second.users, second.total, second.more) == (["dan"], 3, False)
        for peer in peers:
            await peer.close()
