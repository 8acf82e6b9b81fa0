"""PasswordGuard with a fake clock and fake accounts: who is refused, and when."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from charla.protocol import Code, ProtocolError
from charla.server.auth import PasswordGuard
from charla.server.config import ServerConfig


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeAccounts:
    """``right`` is every nick's password; ``gate`` (when set) holds every check."""

    def __init__(self, right: str = "la-buena") -> None:
        self.right = right
        self.checked = 0
        self.gate: asyncio.Event | None = None
        self.fail_with: BaseException | None = None

    async def verify(self, nick: str, password: str) -> bool:
        self.checked += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return password == self.right


def _guard(accounts: FakeAccounts, clock: FakeClock, **limits: Any) -> PasswordGuard:
    config = dataclasses.replace(ServerConfig(), **limits)
    return PasswordGuard(accounts, config, clock=clock)  # type: ignore[arg-type]


async def _code(attempt: Any) -> str:
    try:
        return "ok" if await attempt else "bad_password"
    except ProtocolError as exc:
        return str(exc.code)


async def test_the_limit_is_per_address_and_nick_and_expires() -> None:
    accounts, clock = FakeAccounts(), FakeClock()
    guard = _guard(accounts, clock, max_auth_failures=3)
    codes = [await _code(guard.verify("10.0.0.1", "ana", "nope")) for _ in range(4)]
    assert codes == ["bad_password"] * 3 + ["too_many_attempts"]
    assert accounts.checked == 3  # the refused attempt was never verified
    # A classmate behind the same address, another nick: not affected.
    assert await _code(guard.verify("10.0.0.1", "bob", "la-buena")) == "ok"
    # The same nick from another address: not affected either.
    assert await _code(guard.verify("10.0.0.2", "ANA", "la-buena")) == "ok"
    clock.now += 60.0
    assert await _code(guard.verify("10.0.0.1", "ana", "la-buena")) == "ok"


async def test_concurrent_attempts_cannot_slip_under_the_limit() -> None:
    accounts, clock = FakeAccounts(), FakeClock()
    accounts.gate = asyncio.Event()
    guard = _guard(accounts, clock, max_auth_failures=10)
    attempts = [asyncio.ensure_future(_code(guard.verify("a", "ana", "x"))) for _ in range(40)]
    await asyncio.sleep(0)  # every attempt has started and is waiting for its check
    accounts.gate.set()
    codes = await asyncio.gather(*attempts)
    assert codes.count("bad_password") == 10 and codes.count("too_many_attempts") == 30
    assert accounts.checked == 10


async def test_a_right_password_or_an_undecided_check_is_no_failure() -> None:
    accounts, clock = FakeAccounts(), FakeClock()
    guard = _guard(accounts, clock, max_auth_failures=2)
    for _ in range(5):
        assert await _code(guard.verify("a", "ana", "la-buena")) == "ok"
    accounts.fail_with = ProtocolError(Code.UNAVAILABLE, "busy")
    for _ in range(5):
        assert await _code(guard.verify("a", "ana", "x")) == "unavailable"
    accounts.fail_with = None
    assert await _code(guard.verify("a", "ana", "x")) == "bad_password"
    assert await _code(guard.verify("a", "ana", "x")) == "bad_password"
    assert await _code(guard.verify("a", "ana", "x")) == "too_many_attempts"


async def test_one_nick_from_many_addresses_and_one_address_over_many_nicks() -> None:
    accounts, clock = FakeAccounts(), FakeClock()
    guard = _guard(accounts, clock, max_auth_failures_per_nick=5, max_auth_failures_per_address=8)
    codes = [await _code(guard.verify(f"10.0.0.{i}", "ana", "x")) for i in range(6)]
    assert codes == ["bad_password"] * 5 + ["too_many_attempts"]
    codes = [await _code(guard.verify("10.9.9.9", f"nick{i}", "x")) for i in range(9)]
    assert codes == ["bad_password"] * 8 + ["too_many_attempts"]


def test_server_password_failures_count_per_address_and_nick() -> None:
    accounts, clock = FakeAccounts(), FakeClock()
    guard = _guard(accounts, clock, server_password="s3cret", max_auth_failures=2)
    for _ in range(2):
        with pytest.raises(ProtocolError, match="wrong or missing"):
            guard.check_server_password("a", "ana", "nope")
    with pytest.raises(ProtocolError, match="too many"):
        guard.check_server_password("a", "ana", "s3cret")
    guard.check_server_password("a", "bob", "s3cret")  # a classmate typed it right
    for _ in range(5):
        guard.check_server_password("a", "carla", "s3cret")  # right: nothing counted
    _guard(accounts, clock).check_server_password("a", "ana", None)  # no server password
