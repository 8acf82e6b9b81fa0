"""Pacing the fan-out of big rooms: fewer, fuller writes when a room has thousands of readers.

A fan-out costs one write system call per reader — and one read on each reader's side —
whatever it carries. In a room of 10 000, a message written alone is 10 000 system calls
on the server and as many on the readers' machines; at 50 messages a second, each
committed on its own, that is half a million a second before a byte of chat is copied.

So a pass over a room pays for itself in time: after fanning out to N readers, the next
pass that reaches a room that big waits until N × ``pace`` has gone by since, and what
is committed meanwhile is held and goes out with it, one write per reader. The first
message after a quiet spell goes out at once: a calm room pays no latency; a busy room of
10 000 at 4 µs a reader is written at most 25 times a second, each write carrying every
message of the last 40 ms.

:class:`Pacer` only decides (pure, on an injected clock); :class:`~charla.server.fanout.FanOut`
holds the deliveries and sets the timer.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MIN_GAP", "Pacer"]

#: Gaps shorter than this are not worth a timer: the loop's own iterations already
#: gather what arrives that fast. With the default pace, rooms of up to 250 readers are
#: never held.
MIN_GAP = 0.001


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
        gap = readers * pace
        if gap >= MIN_GAP:
            self._free_at = max(self._free_at, self._clock() + gap)
