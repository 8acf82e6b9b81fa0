"""The single-machine bus: ids from a counter, durability from SQLite group commit.

The event loop stamps each draft with the next id and collects the drafts of one loop
iteration; at the end of the iteration it hands them to the writer thread in one go (one
lock, one wake-up, however many messages). The writer takes *everything* queued since
its last commit and stores it in one transaction (group commit): under load a commit
covers hundreds of messages, so storage keeps up with the fan-out, and when idle a
message waits for one commit only. Committed batches go back to the loop the same way:
the loop is woken once and takes every batch committed since it last looked, and
delivers them as one, so the hub fans a room out once per pick-up, not once per commit.
A message is seen by anyone, its sender included (that copy is the acknowledgement),
only once it is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from ..protocol import format_ts
from ..store import Store, StoreError
from . import Delivery, Draft, Event, InFlight, Sink, position, refused, stamp

__all__ = ["LocalBus"]

log = logging.getLogger(__name__)

#: A stamped draft on its way to the disk, with the draft it came from.
_Queued = tuple[Event, Draft]


class LocalBus:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._next_id = store.last_id + 1
        self._cond = threading.Condition()
        self._queue: list[_Queued] = []
        #: Drafts published in this loop iteration, not yet handed to the writer.
        self._drafts: list[_Queued] = []
        #: Commit outcomes the loop has not picked up yet: what to deliver, or the batch
        #: that could not be stored and why.
        self._done: list[tuple[list[Delivery], list[Draft], str | None]] = []
        self._done_lock = threading.Lock()
        self._closing = False
        self._in_flight = InFlight()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sink: Sink | None = None
        #: Commits made and messages committed, for the metrics and the benchmarks.
        self.commits = 0
        self.committed = 0

    async def start(self, sink: Sink) -> None:
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._write_forever, name="charla-writer")
        self._thread.start()

    def publish(self, draft: Draft) -> None:
        event = stamp(draft, self._next_id, format_ts(time.time()))
        self._next_id += 1
        self._in_flight.count += 1
        if not self._drafts:
            assert self._loop is not None
            self._loop.call_soon(self._hand_over)
        self._drafts.append((event, draft))

    def _hand_over(self) -> None:
        """Give the writer this iteration's drafts: one lock and one notify for all."""
        drafts, self._drafts = self._drafts, []
        with self._cond:
            self._queue += drafts
            self._cond.notify()

    async def drain(self) -> None:
        await self._in_flight.drained()

    async def close(self) -> None:
        await self.drain()
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    # --- writer thread -------------------------------------------------------------------

    def _write_forever(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
            self._commit(batch)

    def _commit(self, batch: list[_Queued]) -> None:
        assert self._loop is not None
        events = [event for event, _ in batch]
        authors = {position(event): draft.author for event, draft in batch if draft.author}
        error = None
        delivered: list[Delivery] = []
        try:
            refusals = self._store.commit_batch(events, position(events[-1]), authors)
            delivered = refused([(event, draft.origin) for event, draft in batch], refusals)
        except StoreError as exc:  # the file is gone (logged once, by StoreHealth)
            error = str(exc)
        except Exception as exc:  # disk full, I/O error: refuse, never pretend
            log.error("could not store %d messages: %s", len(batch), exc)
            error = str(exc)
        else:
            self.commits += 1
            self.committed += len(batch)
        with self._done_lock:
            wake = not self._done
            self._done.append((delivered, [draft for _, draft in batch], error))
        if wake:  # otherwise the loop was woken already and will take this one too
            self._loop.call_soon_threadsafe(self._pick_up)

    # --- back on the loop ----------------------------------------------------------------

    def _pick_up(self) -> None:
        """Deliver every batch committed since the last pick-up as one, in order."""
        with self._done_lock:
            done, self._done = self._done, []
        delivered: list[Delivery] = []
        for batch, drafts, error in done:
            if error is None:
                delivered += batch
                continue
            self._delivered(delivered)
            delivered = []
            self._rejected(drafts, error)
        self._delivered(delivered)

    def _delivered(self, batch: list[Delivery]) -> None:
        if not batch:
            return
        assert self._sink is not None
        self._in_flight.settled(len(batch))
        self._sink.deliver(batch)

    def _rejected(self, drafts: list[Draft], reason: str) -> None:
        assert self._sink is not None
        self._in_flight.settled(len(drafts))
        self._sink.reject(drafts, reason)
