"""Rate limiting with an injected clock, so tests can be exact without sleeping.

:class:`TokenBucket` is the per-client flood guard: ``burst`` messages at once, then
``rate`` per second. :class:`FailureWindow` counts failed password attempts per address.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["Clock", "FailureWindow", "TokenBucket"]

Clock = Callable[[], float]


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second. ``rate <= 0`` never limits."""

    __slots__ = ("_clock", "_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, *, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._stamp = clock()

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self) -> bool:
        """Spend one token if there is one."""
        if self.unlimited:
            return True
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until the next token."""
        if self.unlimited:
            return 0.0
        self._refill()
        return max(0.0, (1 - self._tokens) / self.rate)


class FailureWindow:
    """At most ``limit`` failures per key within ``window`` seconds (a sliding window)."""

    def __init__(self, limit: int, window: float = 60.0, *, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        cutoff = self._clock() - self.window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        return stamps

    def blocked(self, key: str) -> bool:
        if self.limit <= 0:
            return False
        blocked = len(self._recent(key)) >= self.limit
        if not self._failures.get(key):
            self._failures.pop(key, None)
        return blocked

    def record(self, key: str) -> None:
        self._recent(key).append(self._clock())
