"""Password checks and the limits on guessing them, in one place.

Failures are counted in three sliding windows of a minute (docs/security.md):

- per address *and* nick: one person's typos lock out that nick from that address only,
  never a classmate behind the same address who uses another nick;
- per registered nick, from any address: guessing one account from many addresses is
  slow too;
- per address, whatever the nick: far above honest typos, it stops one address from
  trying nick after nick.

A failure is counted *before* the password is checked and given back when it was right
(or the check could not run), so attempts made at the same time cannot all slip under
the limit.
"""

from __future__ import annotations

import hmac
import time

from ..protocol import Code, ProtocolError, nick_key
from .accounts import Accounts
from .config import ServerConfig
from .limits import Clock, FailureWindow

__all__ = ["PasswordGuard"]


class PasswordGuard:
    """Checks the server password and registered nicks' passwords, within the limits."""

    def __init__(
        self, accounts: Accounts, config: ServerConfig, *, clock: Clock = time.monotonic
    ) -> None:
        self._accounts = accounts
        self._server_password = config.server_password
        self._per_address_nick = FailureWindow(config.max_auth_failures, clock=clock)
        self._per_nick = FailureWindow(config.max_auth_failures_per_nick, clock=clock)
        self._per_address = FailureWindow(config.max_auth_failures_per_address, clock=clock)

    def check_server_password(self, peer: str, nick: str, given: str | None) -> None:
        """Let a ``hello`` through, or raise ``too_many_attempts`` / ``bad_password``
        (both close the connection). Nothing to check without a server password."""
        if self._server_password is None:
            return
        # The nick is only a counting key here, so it need not be valid yet.
        windows = self._reserve(peer, (self._per_address_nick, _pair(peer, nick[:64])))
        if not _same_secret(given, self._server_password):
            raise ProtocolError(Code.BAD_PASSWORD, "wrong or missing server password", fatal=True)
        self._release(windows)

    async def verify(self, peer: str, nick: str, password: str) -> bool:
        """Whether ``password`` is ``nick``'s; ``too_many_attempts`` (closing) past a
        limit, ``unavailable`` when the check cannot run now (not counted as a failure)."""
        windows = self._reserve(
            peer,
            (self._per_address_nick, _pair(peer, nick)),
            (self._per_nick, nick_key(nick)),
        )
        try:
            right = await self._accounts.verify(nick, password)
        except BaseException:  # undecided (store unreachable, busy, shutdown): no failure
            self._release(windows)
            raise
        if right:
            self._release(windows)
        return right

    def _reserve(
        self, peer: str, *keyed: tuple[FailureWindow, str]
    ) -> list[tuple[FailureWindow, str, float]]:
        """Count one failure in every window, or in none if any is full."""
        wanted = [*keyed, (self._per_address, peer)]
        if any(window.blocked(key) for window, key in wanted):
            raise ProtocolError(Code.TOO_MANY_ATTEMPTS, "too many failed passwords", fatal=True)
        taken = []
        for window, key in wanted:
            stamp = window.reserve(key)
            if stamp is not None:  # None: the window is switched off
                taken.append((window, key, stamp))
        return taken

    @staticmethod
    def _release(taken: list[tuple[FailureWindow, str, float]]) -> None:
        for window, key, stamp in taken:
            window.release(key, stamp)


def _pair(peer: str, nick: str) -> str:
    return f"{peer} {nick_key(nick)}"  # no nick contains a space, no address either


def _same_secret(given: str | None, expected: str) -> bool:
    """Compare in constant time, so response time tells nothing about the password."""
    return hmac.compare_digest((given or "").encode(), expected.encode())
