"""Hostile text over a real socket: look-alike and invisible nicks, reserved names,
invisible and Zalgo messages, frames nested ten thousand deep."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from charla.protocol import Error, Message, System, nick_key
from charla.store import _MIGRATIONS, Store

from ..helpers import Peer, make_config, running

IMITATIONS = ["аna", "Αna", "ａｎａ", "ANA"]


@pytest.mark.parametrize("imitation", IMITATIONS)
async def test_a_lookalike_of_a_connected_nick_is_taken(connect, imitation: str) -> None:
    await connect("Ana")
    peer = await connect()
    await peer.send({"type": "hello", "nick": imitation})
    assert (await peer.expect(Error)).code == "nick_taken"
    await peer.send({"type": "hello", "nick": "ana_bis"})
    await peer.say("/nick " + imitation)
    assert (await peer.expect(Error)).code == "nick_taken"


async def test_a_lookalike_of_a_registered_nick_needs_its_password(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("Ana")
        await ana.say("/register una-clave-larga")
        await ana.expect(System, event="registered")
        await ana.close()
        impostor = await Peer.connect(server.port)
        await impostor.send({"type": "hello", "nick": "аna"})  # Cyrillic а
        assert (await impostor.expect(Error)).code == "nick_registered"
        await impostor.close()


@pytest.mark.parametrize(
    "nick", ["Ana\u3164", "\u3164", "\u115f", "\u1160", "Ana\uffa0", "server", "Sуstem", "ADMIN"]
)
async def test_invisible_and_reserved_nicks_are_refused(connect, nick: str) -> None:
    peer = await connect()
    await peer.send({"type": "hello", "nick": nick})
    error = await peer.expect(Error)
    assert error.code == "nick_invalid" and error.message
    welcome, _ = await peer.hello("ana")
    assert welcome.nick == "ana"


async def test_an_invisible_room_is_refused(connect) -> None:
    ana = await connect("ana")
    await ana.say("/join dev\u3164")
    assert (await ana.expect(Error)).code == "room_invalid"


async def test_an_invisible_message_is_empty_and_zalgo_is_cut(connect) -> None:
    watcher = await connect("watcher")
    ana = await connect("ana")
    await ana.say("\u200b\u3164 \u2800\u200d")
    assert (await ana.expect(Error)).code == "text_empty"
    await ana.say("Z" + "\u0336" * 200 + "algo")
    assert (await watcher.expect(Message)).text == "Z" + "\u0336" * 8 + "algo"


async def test_ten_thousand_brackets_get_an_error_and_the_chat_goes_on(connect) -> None:
    watcher = await connect("watcher")
    ana = await connect("ana")
    for line in (b"[" * 10_000, b'{"type":"say","text":"x","v":' + b"[" * 10_000 + b"}"):
        await ana.send(line + b"\n")
        assert (await ana.expect(Error)).code == "bad_frame"
    await ana.say("sigo aquí")
    assert (await watcher.expect(Message)).text == "sigo aquí"


def test_the_store_rekeys_accounts_and_the_first_registered_keeps_a_lookalike(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    # A version-2 file (made by the first two migrations only, whatever came later): keys
    # were only case-folded, so these three were all distinct.
    conn.executescript(_MIGRATIONS[0] + _MIGRATIONS[1])
    conn.executescript(
        """
        INSERT INTO accounts VALUES ('аna', 'аna', 'h-impostor', '2026-02-01T00:00:00.000Z');
        INSERT INTO accounts VALUES ('ana', 'Ana', 'h-ana', '2026-01-01T00:00:00.000Z');
        INSERT INTO accounts VALUES ('bob', 'Bob', 'h-bob', '2026-03-01T00:00:00.000Z');
        PRAGMA user_version = 2;
        """
    )
    conn.close()
    store = Store(path)
    assert store.registered_keys() == {nick_key("Ana"), nick_key("Bob")}
    assert store.account_hash(nick_key("аna")) == "h-ana"
    store.close()
