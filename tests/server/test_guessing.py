"""Password guessing over real sockets: the limit holds under concurrency, classmates
are not locked out, and history never waits behind argon2."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path

import pytest

from charla.protocol import Error, Message, System
from charla.server import ChatServer
from charla.server.accounts import HASH_QUEUE, HASH_WORKERS

from ..helpers import Peer, make_config, running


async def _register(port: int, nick: str, password: str) -> None:
    owner = await Peer.connect(port)
    await owner.hello(nick)
    await owner.say(f"/register {password}")
    await owner.expect(System, event="registered")
    await owner.close()


def _count_verifications(server: ChatServer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    assert server.hub is not None
    accounts = server.hub.accounts
    calls = [0]
    matches = accounts._matches

    def counted(stored: str, password: str) -> bool:
        calls[0] += 1
        return matches(stored, password)

    monkeypatch.setattr(accounts, "_matches", counted)
    return calls


async def _first_error(peer: Peer) -> str:
    return str((await peer.expect(Error, timeout=30)).code)


async def test_forty_concurrent_wrong_passwords_verify_only_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(make_config(tmp_path)) as server:  # the default limit: 10
        await _register(server.port, "ana", "la-buena-clave")
        verified = _count_verifications(server, monkeypatch)
        guessers = [await Peer.connect(server.port) for _ in range(40)]
        hello = b'{"type":"hello","nick":"ana","password":"adivina-1"}\n'
        for guesser in guessers:
            guesser.writer.write(hello)
        codes = Counter(await asyncio.gather(*map(_first_error, guessers)))
        assert codes == {"bad_password": 10, "too_many_attempts": 30}
        assert verified[0] == 10
        for guesser in guessers:
            await guesser.close()


async def test_a_classmate_behind_the_same_address_still_gets_in(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_auth_failures=3)) as server:
        await _register(server.port, "ana", "la-buena-clave")
        await _register(server.port, "carla", "otra-buena-clave")
        typist = await Peer.connect(server.port)
        for _ in range(3):
            await typist.send({"type": "hello", "nick": "ana", "password": "mal-escrita"})
            assert (await typist.expect(Error)).code == "bad_password"
        await typist.send({"type": "hello", "nick": "ana", "password": "la-buena-clave"})
        assert [f.code for f in await typist.until_closed() if isinstance(f, Error)] == [
            "too_many_attempts"
        ]
        # Same address (127.0.0.1), other nicks: an unregistered one and a registered one.
        bob = await Peer.connect(server.port)
        welcome, _ = await bob.hello("bob")
        assert welcome.nick == "bob"
        carla = await Peer.connect(server.port)
        welcome, _ = await carla.hello("carla", password="otra-buena-clave")
        assert welcome.nick == "carla"
        await bob.close()
        await carla.close()


async def test_a_join_gets_its_history_while_every_password_check_is_stuck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(
        tmp_path,
        max_auth_failures=0,
        max_auth_failures_per_nick=0,
        max_auth_failures_per_address=0,
    )
    async with running(config) as server:
        assert server.hub is not None
        accounts = server.hub.accounts
        await _register(server.port, "ana", "la-buena-clave")
        said = await Peer.connect(server.port)
        await said.hello("said")
        await said.say("antes")
        await said.expect(Message)
        # Every argon2 check blocks until released: the flood fills the pool and its queue.
        release = threading.Event()

        def stuck_check(stored: str, password: str) -> bool:
            release.wait(30)
            return False

        monkeypatch.setattr(accounts, "_matches", stuck_check)
        flood = [await Peer.connect(server.port) for _ in range(40)]
        for guesser in flood:
            guesser.writer.write(b'{"type":"hello","nick":"ana","password":"adivina-1"}\n')
        answers = [asyncio.ensure_future(_first_error(guesser)) for guesser in flood]
        try:
            async with asyncio.timeout(10):
                while sum(a.done() for a in answers) < 40 - HASH_WORKERS - HASH_QUEUE:
                    await asyncio.wait(answers, return_when=asyncio.FIRST_COMPLETED)
            # No check has finished, yet a join's history comes at once.
            joiner = await Peer.connect(server.port)
            _, (history,) = await joiner.hello("bob")
            assert [m.text for m in history.messages] == ["antes"]
            assert not release.is_set()
        finally:
            release.set()
        # Past the pool and its queue: "unavailable" at once; every queued check ran.
        codes = Counter(await asyncio.gather(*answers))
        assert codes == {
            "unavailable": 40 - HASH_WORKERS - HASH_QUEUE,
            "bad_password": HASH_WORKERS + HASH_QUEUE,
        }
        await joiner.close()
        await said.close()
        for guesser in flood:
            await guesser.close()


async def test_two_registrations_of_one_nick_at_once_one_wins(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        ana.writer.write(
            b'{"type":"say","text":"/register primera-clave"}\n'
            b'{"type":"say","text":"/register segunda-clave"}\n'
        )
        frames = await ana.sync()
        assert [f.event for f in frames if isinstance(f, System)] == ["registered"]
        assert [f.code for f in frames if isinstance(f, Error)] == ["nick_registered"]
        await ana.close()
        again = await Peer.connect(server.port)
        welcome, _ = await again.hello("ana", password="primera-clave")
        assert welcome.nick == "ana"
        await again.close()
