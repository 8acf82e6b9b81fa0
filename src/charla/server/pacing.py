"""Pacing the fan-out of big rooms: fewer, fuller writes when a room has thousands of readers.

A fan-out costs one write system call per reader — and one read on each reader's side —
whatever it carries. In a room of 10 000, a message written alone is 10 000 system calls
on the server and as many on the readers' machines; at 50 messages a second, each
committed on its own, that is half a million a second before a byte of chat is copied.

So a pass over a room pays for itself in time: after fanning out to N readers, the next
pass that reaches a room that big waits until N × ``pace`` has gone by since, and what
is committed meanwhile is held and goes out with it, one write per reader. The first
message after a quiet spell goes out at once; a busy room of 10 000 at 10 µs a reader is
written at most 10 times a second, each write carrying every message of the last 100 ms.

Why only big rooms, and why so long a gap: a busy server coalesces by itself (what is
committed while it writes goes out in the next pass), and in a room of 1 000 that is
enough — holding its passes even 4 ms made its p99 worse (docs/performance.md). In a
room of 10 000 a pass is 10 000 system calls at ~6 µs each on a small machine: passes
that follow each other as fast as they can take the whole loop, and every other room
waits behind them. At 50 messages a second there, a 100 ms gap cut the server's CPU from
98 % to 66 % and its p99 from 238 to 164 ms — but at 10 messages a second, when passes
keep up anyway, it raised the p99 from 70 to 152 ms. Hence a setting, off by default, for
the operator of a lecture hall who would rather spend latency than the loop.

:class:`Pacer` only decides (pure, on an injected clock); :class:`~charla.server.fanout.FanOut`
holds the deliveries and sets the timer.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MAX_GAP", "MIN_GAP", "Pacer"]

#: Gaps shorter than this are not worth holding for: the loop's own passes already
#: gather what arrives that fast. At 10 µs a reader, rooms under 2 000 readers are never
#: held.
MIN_GAP = 0.02
#: The longest a pass is held, whatever the pace and the room: everything said meanwhile
#: (in every room: later batches wait behind a held one) is held with it.
MAX_GAP = 1.0


class Pacer:
    """When the next pass over a big room may go out."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._free_at = 0.0

    def wait(self, readers: int, pace: float) -> float:
        """Seconds a pass over ``readers`` must wait (0: it may go now).

        ``pace`` is the time a pass costs per reader (0: never wait). A pass too small
        to be paced never waits, even right after a big one: holding it would gather
        nothing.
        """
        if readers * pace < MIN_GAP:
            return 0.0
        return max(0.0, self._free_at - self._clock())

    def passed(self, readers: int, pace: float) -> None:
        """A pass over ``readers`` went out now: the next big one waits its gap."""
        gap = min(readers * pace, MAX_GAP)
        if gap >= MIN_GAP:
            self._free_at = max(self._free_at, self._clock() + gap)
