"""Rate limiting with an injected clock, so tests can be exact without sleeping.

:class:`TokenBucket` is the per-client flood guard: ``burst`` messages at once, then
``rate`` per second. :class:`FailureWindow` counts failed password attempts per key.
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
    """At most ``limit`` failures per key within ``window`` seconds (a sliding window).
    ``limit <= 0`` never blocks.

    A failure is counted *before* the attempt is decided (:meth:`reserve`), and given back
    when it turns out not to be one (:meth:`release`): attempts that run at the same time
    cannot all slip under the limit.
    """

    def __init__(self, limit: int, window: float = 60.0, *, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        #: Past this many keys, forget the ones whose failures all expired.
        self._sweep_at = 1024

    def _recent(self, key: str) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        cutoff = self._clock() - self.window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def blocked(self, key: str) -> bool:
        return self.limit > 0 and len(self._recent(key)) >= self.limit

    def reserve(self, key: str) -> float | None:
        """Count a failure for ``key`` now; None (nothing counted) if it is at its limit
        or the window is off. Returns what :meth:`release` needs to give it back."""
        if self.limit <= 0 or self.blocked(key):
            return None
        stamp = self._clock()
        self._failures.setdefault(key, deque()).append(stamp)
        if len(self._failures) > self._sweep_at:
            self._sweep()
        return stamp

    def release(self, key: str, stamp: float) -> None:
        """The attempt reserved at ``stamp`` was not a failure after all."""
        stamps = self._failures.get(key)
        if stamps is not None and stamp in stamps:
            stamps.remove(stamp)
            if not stamps:
                del self._failures[key]

    def _sweep(self) -> None:
        for key in list(self._failures):
            self._recent(key)
        self._sweep_at = max(1024, 2 * len(self._failures))
