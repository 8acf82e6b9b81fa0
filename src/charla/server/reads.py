"""Store reads off the event loop, shared by everyone who asks the same while it waits.

When 10 000 clients come back at once after a restart, each ``hello`` reads the history
of its rooms with ``since``; the members of one room ask for the same rows with the same
``since``. Reads wait in a queue for a reader thread, and a request identical to one
still *waiting* joins it instead of queueing a copy: one SQLite query and one thread
hand-off for the whole room.

Only a read that has not started may be joined: a join starts holding the messages
delivered to the room before it asks for the history, so the rows must be read after
that moment — a read already running may have missed a message the newcomer's buffer
did not hold either. When idle nothing waits, nothing is shared, and a read costs what
it did before.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["SharedReads"]

T = TypeVar("T")

_Key = tuple[Callable[..., Any], tuple[Hashable, ...]]


class SharedReads:
    """``await reads.read(fn, *args)`` runs ``fn(*args)`` on one of ``threads`` threads;
    callers with the same ``fn`` and ``args`` while it waits get the same result."""

    def __init__(self, loop: asyncio.AbstractEventLoop, threads: int, *, name: str) -> None:
        self._loop = loop
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
        #: Reads queued and not started yet, by what they read; guarded by the lock
        #: because a reader thread removes its read as it starts.
        self._waiting: dict[_Key, asyncio.Future[Any]] = {}
        self._lock = threading.Lock()
        #: Reads that joined one already waiting (for the metrics and the benchmarks).
        self.shared = 0

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, shared with an identical read still waiting. Only for reads:
        a write must be done once per caller (:meth:`run`)."""
        key: _Key = (fn, args)
        try:
            hash(key)
        except TypeError:  # arguments that cannot be compared cheaply: a read of its own
            return await self.run(fn, *args)
        with self._lock:
            result = self._waiting.get(key)
            if result is not None:
                self.shared += 1
            else:
                result = self._waiting[key] = self._loop.create_future()
                self._pool.submit(self._run, key, result)
        # One caller cancelled (its client left) must not cancel the others' read.
        return await asyncio.shield(result)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a reader thread, never shared (a write, or a one-off)."""
        return await asyncio.wrap_future(self._pool.submit(fn, *args), loop=self._loop)

    def _run(self, key: _Key, result: asyncio.Future[Any]) -> None:
        """In a reader thread: from now on a new caller needs a read of its own."""
        with self._lock:
            del self._waiting[key]
        fn, args = key
        try:
            value = fn(*args)
        except Exception as exc:  # handed to the callers, who log it
            self._loop.call_soon_threadsafe(_settle, result, None, exc)
        else:
            self._loop.call_soon_threadsafe(_settle, result, value, None)

    def close(self) -> None:
        """Cancel what has not started and wait for reads still running (a store may
        close after this)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        for result in waiting.values():
            self._loop.call_soon_threadsafe(result.cancel)


def _settle(result: asyncio.Future[Any], value: Any, exc: Exception | None) -> None:
    if result.done():
        return
    if exc is not None:
        result.set_exception(exc)
    else:
        result.set_result(value)
