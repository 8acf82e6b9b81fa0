"""The cluster bus: one NATS JetStream stream is the order every node delivers in.

Only :mod:`charla.cluster` knows NATS; the server sees a :class:`~charla.bus.Bus`.

- **One stream** (file storage) holds everything that needs one order: room messages (and
  the reactions, edits and deletes of their messages, in order with them) under
  ``<ns>.log.room.<hex of the room name>`` (a room name may hold ``.``, which would split a
  subject token), direct messages under ``<ns>.log.dm``, presence events under
  ``<ns>.log.presence``, moderation entries under ``<ns>.log.moderation``
  (:mod:`charla.cluster.moderation`) and read markers under ``<ns>.log.read.<hex of the
  nick key>`` (:mod:`charla.cluster.markers`). A message's id is its stream sequence,
  the same on every node.
- **Publishing** goes through one queue per node, pipelined: everything queued is published
  at once (async acks), in order on one connection. Each publish carries ``Nats-Msg-Id`` =
  node + boot + counter, so a publish retried after a lost ack is stored once. A draft
  whose ack does not come within ``publish_timeout`` is rejected: its sender gets
  ``unavailable`` and nobody saw it.
- **Delivering**: each node has its own ordered consumer of the whole stream, starting after
  the last sequence its SQLite store holds. Whatever arrives is stored in the local index
  in one transaction per batch (group commit, as the local bus), then handed to the sink in
  stream order; the sender's own copy comes this way too, so it is the proof that the
  stream stored it. Sequences already delivered are skipped, so a consumer recreated after
  an outage never delivers anything twice.
- **Catching up**: :meth:`NatsBus.start` returns only when the index has reached the end of
  the stream as it was at start, so a node started from an empty disk accepts clients only
  once it can answer history; one restarted with its disk replays only what it missed.
- **Trusting nothing**: an entry read from the stream is checked as a client's frame would
  be (:mod:`charla.cluster.checks`); one that fails is skipped, and no client sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from ..bus import BusUnavailable, Draft, Event, InFlight, Kind, Sink, position, refused
from ..bus import stamp as _stamp
from ..changes import Refusal
from ..protocol import ModEntry, format_ts, valid_wraps
from ..store import Store
from .checks import (
    SkipLog,
    valid_authors,
    valid_emoji,
    valid_nick,
    valid_room,
    valid_tags,
    valid_text,
    valid_ts,
)
from .connect import connect_nats
from .markers import Mark, mark_problem
from .moderation import entry_problem
from .settings import ClusterSettings

__all__ = ["NatsBus"]

log = logging.getLogger("charla.cluster")

MSG_ID = "Nats-Msg-Id"


class _Entry(msgspec.Struct, omit_defaults=True, frozen=True):
    """A chat message as stored in the stream (its id is the stream sequence)."""

    u: str
    t: str
    ts: str
    r: str | None = None
    to: str | None = None
    a: bool = False
    #: Posted by a program (an incoming webhook).
    b: bool = False
    #: A notice (IRC's ``NOTICE``).
    n: bool = False
    #: Client-only tags (``+name`` -> value).
    ct: dict[str, str] | None = None
    #: Where the author's lines were cut without a line feed (charla.protocol.wraps).
    w: list[int] | None = None
    #: What it is: "" for a message, or the kind of change to message ``tg``.
    k: str = ""
    tg: int = 0
    #: The emoji of a reaction.
    e: str = ""
    #: The message a message answers.
    rt: int | None = None
    #: Who may change the message, or who asks for the change (charla.server.authors).
    au: str = ""
    #: Wall-clock deadline (epoch seconds): its sender was told ``unavailable`` then, so
    #: a copy that reaches the stream later (flushed after a reconnect) is skipped by
    #: every node alike — they compare it with the stream's own timestamp.
    dl: float = 0.0


_encode = msgspec.json.Encoder().encode
_decode_entry = msgspec.json.Decoder(_Entry).decode
_decode_moderation = msgspec.json.Decoder(ModEntry).decode
_decode_mark = msgspec.json.Decoder(Mark).decode

#: Longest wait of a ``hello`` for the stream to be delivered up to its end.
CATCH_UP_WAIT = 2.0


@dataclass(slots=True)
class _Outgoing:
    subject: str
    payload: bytes
    msg_id: str
    #: None for presence events: they are retried until stored, never refused.
    deadline: float | None
    draft: Draft | None = None
    #: Told the entry's sequence once the stream acknowledged it.
    acked: asyncio.Future[int] | None = None


#: What the consumer hands on, in stream order: a chat message or a change to one, a
#: presence event (its sequence and payload) for the presence handler, a moderation
#: entry, or a read marker.
_Item = tuple[Event, object] | tuple[int, bytes] | tuple[ModEntry, None] | tuple[Mark, None]
_KINDS: frozenset[str] = frozenset({"react", "edit", "delete"})

EventHandler = Callable[[int, bytes], None]

_NOT_MINE = object()


class NatsBus:
    """A :class:`~charla.bus.Bus` over one JetStream stream, indexed into SQLite."""

    def __init__(self, store: Store, settings: ClusterSettings) -> None:
        self.store = store
        self.settings = settings
        self.node = settings.node
        #: Changes every start: message ids from an earlier run of a node of the same name
        #: must never be taken for duplicates.
        self.boot = secrets.token_hex(4)
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None
        self.on_event: EventHandler | None = None
        self.on_moderation: Callable[[ModEntry], None] | None = None
        self.on_marker: Callable[[Mark], None] | None = None
        #: Readers waiting until a sequence is handed on.
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.on_disconnect: Callable[[], None] | None = None
        self.on_reconnect: Callable[[], None] | None = None
        self.connected = False
        self._skips = SkipLog(log)
        self._sink: Sink | None = None
        self._counter = 0
        self._outbox: deque[_Outgoing] = deque()
        self._outbox_ready = asyncio.Event()
        self._publishing = False
        self._origins: dict[str, object] = {}
        #: Sequence at which the stream stored each of our drafts not delivered yet.
        self._stored_at: dict[str, tuple[int, Draft]] = {}
        self._in_flight = InFlight()
        self._incoming: list[_Item] = []
        self._incoming_mine = 0
        #: Author tokens of the entries received and not indexed yet, by sequence.
        self._authors: dict[int, str] = {}
        self._last_queued = store.last_id
        self._incoming_ready = asyncio.Event()
        self._delivered = store.last_id
        self._caught_up = asyncio.Event()
        self._target = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._commit: asyncio.Future[dict[int, Refusal]] | None = None
        self._sub: JetStreamContext.PushSubscription | None = None
        #: Batches indexed and messages indexed, for the metrics.
        self.commits = 0
        self.committed = 0

    # --- lifecycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and make sure the stream exists (before presence starts)."""
        if self.nc is not None:
            return
        self.nc = await connect_nats(
            self.settings, on_disconnect=self._disconnected, on_reconnect=self._reconnected
        )
        self.connected = True
        self.js = self.nc.jetstream(timeout=5)
        try:
            await self._ensure_stream()
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            raise BusUnavailable(
                f"cannot open stream {self.settings.stream} on NATS: "
                f"{str(exc) or type(exc).__name__} (do this node's NATS permissions "
                "allow it? see docs/cluster.md)"
            ) from None

    async def _ensure_stream(self) -> None:
        assert self.js is not None
        settings = self.settings
        config = api.StreamConfig(
            name=settings.stream,
            subjects=[f"{settings.log_prefix}.>"],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            discard=api.DiscardPolicy.OLD,
            duplicate_window=120.0,
            # Each room is a subject of its own, so per-room retention is the stream's.
            max_age=settings.retain_days * 86400 if settings.retain_days else None,
            max_msgs_per_subject=settings.retain_messages or -1,
        )
        try:
            info = await self.js.stream_info(settings.stream)
        except nats.js.errors.NotFoundError:
            await self.js.add_stream(config)
            return
        # Change only the retention limits of an existing stream: an operator may have
        # raised its replicas or other settings, which must stay as they are.
        current = info.config
        limits = {"max_age": config.max_age, "max_msgs_per_subject": config.max_msgs_per_subject}
        if any(_differs(getattr(current, k), v) for k, v in limits.items()):
            log.info("updating the retention limits of stream %s: %s", settings.stream, limits)
            await self.js.update_stream(current.evolve(**limits))

    async def start(self, sink: Sink) -> None:
        await self.connect()
        assert self.js is not None
        self._sink = sink
        loop = asyncio.get_running_loop()
        info = await self.js.stream_info(self.settings.stream)
        # A stream whose every message expired keeps its last sequence but has nothing
        # left to deliver: nothing to catch up with.
        self._target = info.state.last_seq if info.state.messages else self._delivered
        if self._delivered > self._target:
            raise BusUnavailable(
                f"the local index ({self.store.path}) is ahead of stream "
                f"{self.settings.stream} ({self._delivered} > {self._target}): "
                "the stream was recreated; start this node with an empty --db"
            )
        self._tasks.append(loop.create_task(self._index_forever()))
        self._tasks.append(loop.create_task(self._publish_forever()))
        await self._subscribe()
        if self._delivered >= self._target:
            self._caught_up.set()
        else:
            log.info("catching up with the stream: %d to %d", self._delivered + 1, self._target)
            await self._wait_caught_up()

    async def _subscribe(self) -> None:
        assert self.js is not None
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self._delivered + 1,
        )
        self._sub = await self.js.subscribe(
            f"{self.settings.log_prefix}.>",
            stream=self.settings.stream,
            cb=self._on_msg,
            ordered_consumer=True,
            idle_heartbeat=1.0,
            config=config,
            pending_msgs_limit=1_000_000,
            pending_bytes_limit=1 << 30,
        )

    async def _wait_caught_up(self) -> None:
        started = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(self._caught_up.wait(), 2.0)
            except TimeoutError:
                log.info(
                    "catching up: %d of %d (%.0f%%)",
                    self._delivered,
                    self._target,
                    100 * self._delivered / max(1, self._target),
                )
                continue
            log.info(
                "caught up with the stream at %d in %.1f s",
                self._delivered,
                time.monotonic() - started,
            )
            return

    async def close(self) -> None:
        await self.drain()
        # Last presence events (this node leaving) go out before the connection closes.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                while self.connected and (self._outbox or self._publishing):
                    await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._commit is not None:
            await asyncio.wait([self._commit])
        if self.nc is not None:
            try:
                await asyncio.wait_for(self.nc.close(), 5)
            except Exception as exc:
                log.debug("closing nats: %s", exc)

    def _disconnected(self) -> None:
        self.connected = False
        if self.on_disconnect is not None:
            self.on_disconnect()

    def _reconnected(self) -> None:
        self.connected = True
        self._outbox_ready.set()
        if self.on_reconnect is not None:
            self.on_reconnect()

    # --- publishing ----------------------------------------------------------------------

    def _next_msg_id(self) -> str:
        self._counter += 1
        return f"{self.node}.{self.boot}.{self._counter}"

    def publish(self, draft: Draft) -> None:
        now = time.time()
        entry = _Entry(
            u=draft.user,
            t=draft.text,
            ts=format_ts(now),
            r=draft.room,
            to=draft.to,
            a=draft.action,
            b=draft.bot,
            n=draft.notice,
            ct=draft.tags,
            w=draft.wraps,
            k="" if draft.kind == "message" else draft.kind,
            tg=draft.target,
            e=draft.emoji,
            rt=draft.reply_to,
            au=draft.author,
            dl=now + self.settings.publish_timeout,
        )
        subject = (
            self.settings.room_subject(draft.room)
            if draft.room is not None
            else self.settings.dm_subject
        )
        msg_id = self._next_msg_id()
        self._origins[msg_id] = draft.origin
        self._in_flight.count += 1
        deadline = time.monotonic() + self.settings.publish_timeout
        self._enqueue(_Outgoing(subject, _encode(entry), msg_id, deadline, draft))

    def publish_event(self, payload: bytes, *, msg_id: str | None = None) -> None:
        """Queue a presence event; it is retried until the stream has it. A given
        ``msg_id`` makes the same event from several nodes stored once."""
        self._enqueue(
            _Outgoing(self.settings.presence_subject, payload, msg_id or self._next_msg_id(), None)
        )

    def _enqueue(self, item: _Outgoing) -> None:
        self._outbox.append(item)
        self._outbox_ready.set()

    async def _publish_forever(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            if not self._outbox:
                continue
            batch = list(self._outbox)
            self._outbox.clear()
            self._publishing = True
            try:
                failed = await self._publish_batch(batch)
            finally:
                self._publishing = False
            if failed:
                self._retry_or_reject(failed)
                # Give a NATS that is down a moment before trying again.
                await asyncio.sleep(0.2)
                self._outbox_ready.set()

    async def _publish_batch(self, batch: list[_Outgoing]) -> list[_Outgoing]:
        """Publish all of ``batch`` in order, pipelined; returns what was not acked."""
        assert self.js is not None
        futures: list[asyncio.Future[api.PubAck] | None] = []
        for item in batch:
            if not self.connected:
                # Not into the client's reconnect buffer: it would be flushed after the
                # reconnect, however late, and the sender may have been refused by then.
                futures.append(None)
                continue
            try:
                future = await self.js.publish_async(
                    item.subject, item.payload, headers={MSG_ID: item.msg_id}
                )
            except nats.errors.MaxPayloadError:
                # Never going to fit: give up on it now rather than retry it forever.
                log.error("message %s is larger than NATS accepts: dropped", item.msg_id)
                item.deadline = 0.0
                future = None
            except Exception as exc:
                log.debug("publish %s: %s", item.msg_id, exc)
                future = None
            futures.append(future)
        pending = [f for f in futures if f is not None]
        if pending:
            timeout = max(0.5, min(2.0, self.settings.publish_timeout / 2))
            await asyncio.wait(pending, timeout=timeout)
        failed = []
        for item, future in zip(batch, futures, strict=True):
            if future is None or not future.done():
                if future is not None:
                    future.cancel()
                failed.append(item)
            elif future.cancelled() or future.exception() is not None:
                failed.append(item)
            elif item.draft is not None and item.msg_id in self._origins:
                self._stored_at[item.msg_id] = (future.result().seq, item.draft)
            elif item.acked is not None and not item.acked.done():
                item.acked.set_result(future.result().seq)
        return failed

    def _retry_or_reject(self, failed: list[_Outgoing]) -> None:
        now = time.monotonic()
        retry: list[_Outgoing] = []
        rejected: list[Draft] = []
        for item in failed:
            if item.deadline is None or now < item.deadline:
                retry.append(item)
                continue
            if item.draft is None:
                continue  # an event that can never be stored
            if item.draft is not None and item.msg_id in self._origins:
                item.draft.origin = self._origins.pop(item.msg_id)
                rejected.append(item.draft)
        # Retries go first, in their order: they were published before what is queued.
        self._outbox.extendleft(reversed(retry))
        if rejected:
            log.warning("nats unreachable: refused %d messages", len(rejected))
            self._refuse(rejected)

    def _refuse(self, drafts: list[Draft], reason: str = "NATS is unreachable") -> None:
        assert self._sink is not None
        self._in_flight.settled(len(drafts))
        self._sink.reject(drafts, reason)

    def _refuse_trimmed(self) -> None:
        """Drafts the stream stored but dropped (retention limits) before our consumer
        got to them: nobody saw them, so their senders are told so."""
        trimmed: list[Draft] = []
        for msg_id, (seq, draft) in list(self._stored_at.items()):
            if seq <= self._delivered:
                del self._stored_at[msg_id]
                if msg_id in self._origins:
                    draft.origin = self._origins.pop(msg_id)
                    trimmed.append(draft)
        if trimmed:
            self._refuse(trimmed, "dropped by the retention limit before delivery")

    async def drain(self) -> None:
        await self._in_flight.drained()

    async def publish_moderation(self, payload: bytes) -> int:
        """Store a moderation entry in the stream now; returns its sequence. Raises
        when NATS does not ack it within the publish timeout."""
        if self.js is None or not self.connected:
            raise ConnectionError("disconnected from NATS")
        ack = await self.js.publish(
            self.settings.moderation_subject,
            payload,
            timeout=self.settings.publish_timeout,
            headers={MSG_ID: self._next_msg_id()},
        )
        return int(ack.seq)

    async def publish_marker(self, key: str, payload: bytes) -> int:
        """Queue a read marker of user ``key`` (retried until the stream has it, in
        order with the presence events) and return its sequence once stored. Raises
        TimeoutError when that takes longer than the publish timeout."""
        acked: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        subject = self.settings.read_subject(key)
        self._enqueue(_Outgoing(subject, payload, self._next_msg_id(), None, acked=acked))
        async with asyncio.timeout(self.settings.publish_timeout):
            return await asyncio.shield(acked)

    async def delivered_to_end(self) -> None:
        """Return once what the stream holds now was handed on: at most
        :data:`CATCH_UP_WAIT` seconds (its last entry may have expired, and will then
        never come), and at once when NATS is unreachable."""
        if self.js is None or not self.connected:
            return
        try:
            async with asyncio.timeout(CATCH_UP_WAIT):
                info = await self.js.stream_info(self.settings.stream)
                if info.state.messages:
                    await self.delivered_through(info.state.last_seq)
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            log.debug("catching up with the end of the stream: %r", exc)

    async def delivered_through(self, seq: int) -> None:
        """Return once everything up to ``seq`` was handed on (applied, delivered)."""
        if seq <= self._delivered:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((seq, waiter))
        await waiter

    def _wake_waiters(self) -> None:
        waiting = []
        for seq, waiter in self._waiters:
            if seq > self._delivered:
                waiting.append((seq, waiter))
            elif not waiter.done():
                waiter.set_result(None)
        self._waiters = waiting

    # --- consuming -----------------------------------------------------------------------

    async def _on_msg(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq <= self._last_queued:
            return  # a recreated consumer starting before what we already have
        self._last_queued = seq
        if msg.subject == self.settings.presence_subject:
            self._incoming.append((seq, msg.data))
        elif msg.subject == self.settings.moderation_subject:
            self._incoming.append(self._moderation(seq, msg.data))
        elif msg.subject.startswith(self.settings.read_prefix + "."):
            self._incoming.append(self._marker(seq, msg.subject, msg.data))
        else:
            self._incoming.append(self._message(seq, msg))
        self._incoming_ready.set()

    def _moderation(self, seq: int, data: bytes) -> _Item:
        try:
            entry = _decode_moderation(data)
        except msgspec.DecodeError:
            self._skips.skipped("moderation entry", seq, "not a charla entry")
            return (seq, b"")
        problem = entry_problem(entry)
        if problem is not None:
            self._skips.skipped("moderation entry", seq, problem)
            return (seq, b"")
        return (msgspec.structs.replace(entry, id=seq), None)

    def _marker(self, seq: int, subject: str, data: bytes) -> _Item:
        try:
            mark = msgspec.structs.replace(_decode_mark(data), seq=seq)
        except msgspec.DecodeError:
            self._skips.skipped("read marker", seq, "not a charla marker")
            return (seq, b"")
        problem = mark_problem(mark, subject, self.settings.read_prefix)
        if problem is not None:
            self._skips.skipped("read marker", seq, problem)
            return (seq, b"")
        return (mark, None)

    def _message(self, seq: int, msg: Msg) -> _Item:
        try:
            entry = _decode_entry(msg.data)
        except msgspec.DecodeError:  # not JSON, or not the shape (ValidationError)
            self._skips.skipped("stream message", seq, "not a charla message")
            return (seq, b"")
        msg_id = (msg.headers or {}).get(MSG_ID, "")
        self._stored_at.pop(msg_id, None)
        problem = self._problem(entry, msg.subject)
        if problem is not None:
            self._skips.skipped("stream message", seq, problem)
            self._refuse_mine(msg_id, entry)
            return (seq, b"")
        if entry.dl and msg.metadata.timestamp.timestamp() > entry.dl:
            log.info("skipping message %d: stored after its deadline", seq)
            self._refuse_mine(msg_id, entry)  # clocks apart: its sender is still waiting
            return (seq, b"")
        event = _stamp(_draft(entry), seq, entry.ts)
        if entry.au:
            self._authors[seq] = entry.au
        origin = self._origins.pop(msg_id, _NOT_MINE)
        if origin is _NOT_MINE:
            return (event, None)
        self._incoming_mine += 1
        return (event, origin)

    def _problem(self, entry: _Entry, subject: str) -> str | None:
        """Why ``entry`` (read from ``subject``) is not something a node wrote, or None.
        The same rules as a client's ``say`` and ``msg`` frames."""
        settings = self.settings
        if not valid_nick(entry.u):
            return "invalid sender"
        problem = _change_problem(entry, settings.max_text)
        if problem is not None:
            return problem
        if not valid_ts(entry.ts):
            return "invalid time stamp"
        if entry.r is not None:
            if entry.to is not None or not valid_room(entry.r):
                return "invalid room"
            if subject != settings.room_subject(entry.r):
                return "room and subject disagree"
        elif entry.to is None or not valid_nick(entry.to):
            return "invalid recipient"
        elif subject != settings.dm_subject:
            return "direct message outside the DM subject"
        return None

    def _refuse_mine(self, msg_id: str, entry: _Entry) -> None:
        """A skipped entry that was one of our drafts: its sender is told, not left
        waiting."""
        origin = self._origins.pop(msg_id, _NOT_MINE)
        if origin is not _NOT_MINE:
            draft = _draft(entry)
            draft.origin = origin
            self._refuse([draft])

    async def _index_forever(self) -> None:
        """Store what the consumer received (one transaction per batch), then deliver."""
        while True:
            await self._incoming_ready.wait()
            self._incoming_ready.clear()
            if not self._incoming:
                continue
            batch, self._incoming = self._incoming, []
            mine, self._incoming_mine = self._incoming_mine, 0
            refusals = await self._index(batch)
            self._hand_on(batch, mine, refusals)

    async def _index(self, batch: list[_Item]) -> dict[int, Refusal]:
        """Store ``batch``; returns the changes the store refused."""
        events = [head for head, _ in batch if isinstance(head, Event)]
        moderation = [head for head, _ in batch if isinstance(head, ModEntry)]
        markers = [(m.k, m.c, m.id) for m, _ in batch if isinstance(m, Mark)]
        authors, self._authors = self._authors, {}
        last = _seq(batch[-1])
        commit = functools.partial(self.store.commit_batch, markers=markers)
        while True:
            # Shielded: a commit in its thread must finish before the store may close.
            self._commit = asyncio.ensure_future(
                asyncio.to_thread(commit, events, last, authors, moderation)
            )
            try:
                refusals = await asyncio.shield(self._commit)
                break
            except Exception as exc:  # disk full, I/O error: the stream keeps it; retry
                log.error("could not index %d messages: %s; retrying", len(events), exc)
                await asyncio.sleep(1.0)
        self.commits += 1
        self.committed += len(events)
        return refusals

    def _hand_on(self, batch: list[_Item], mine: int, refusals: dict[int, Refusal]) -> None:
        """Deliver runs of messages and apply presence events, all in stream order."""
        assert self._sink is not None
        run: list[tuple[Event, object]] = []
        for head, tail in batch:
            if isinstance(head, Event):
                run.append((head, tail))
                continue
            if run:
                self._sink.deliver(refused(run, refusals))
                run = []
            if isinstance(head, ModEntry):
                self._apply_moderation(head)
            elif isinstance(head, Mark):
                self._apply_marker(head)
            elif tail and self.on_event is not None:
                try:
                    self.on_event(head, tail)  # type: ignore[arg-type]
                except Exception:
                    log.exception("presence event %d", head)
        if run:
            self._sink.deliver(refused(run, refusals))
        self._delivered = _seq(batch[-1])
        if self._stored_at:
            self._refuse_trimmed()
        if mine:
            self._in_flight.settled(mine)
        if self._delivered >= self._target:
            self._caught_up.set()
        if self._waiters:
            self._wake_waiters()

    def _apply_moderation(self, entry: ModEntry) -> None:
        if self.on_moderation is None:
            return
        try:
            self.on_moderation(entry)
        except Exception:
            log.exception("moderation entry %d", entry.id)

    def _apply_marker(self, mark: Mark) -> None:
        if self.on_marker is None:
            return
        try:
            self.on_marker(mark)
        except Exception:
            log.exception("read marker %d", mark.seq)


def _differs(current: float | None, wanted: float | None) -> bool:
    """Two stream limits differ? 0, -1 and None all mean "no limit"."""
    a = current if current and current > 0 else 0.0
    b = wanted if wanted and wanted > 0 else 0.0
    return abs(a - b) > 1e-3


def _seq(item: _Item) -> int:
    head = item[0]
    if isinstance(head, ModEntry):
        return head.id
    if isinstance(head, Mark):
        return head.seq
    return head if isinstance(head, int) else position(head)


def _draft(entry: _Entry) -> Draft:
    """The draft a stream entry was made from (its origin is not in the stream)."""
    kind: Kind = "message" if not entry.k else entry.k  # type: ignore[assignment]
    return Draft(
        user=entry.u,
        text=entry.t,
        room=entry.r,
        to=entry.to,
        action=entry.a,
        bot=entry.b,
        notice=entry.n,
        tags=entry.ct,
        wraps=entry.w or None,  # none, as the history gives it
        reply_to=entry.rt,
        author=entry.au,
        kind=kind,
        target=entry.tg,
        emoji=entry.e,
    )


def _change_problem(entry: _Entry, max_text: int) -> str | None:
    """Why the parts of ``entry`` that say what it is cannot be what a node wrote."""
    if not valid_authors(entry.au):
        return "invalid author"
    if not entry.k:
        if entry.tg or entry.e or (entry.rt is not None and entry.rt <= 0):
            return "invalid message"
        if not valid_text(entry.t, max_text):
            return "invalid text"
        if not valid_tags(entry.ct):
            return "invalid client tags"
        return None if valid_wraps(entry.t, entry.w or ()) else "invalid wraps"
    if entry.ct is not None or entry.w is not None:
        return "invalid change"
    if entry.k not in _KINDS or entry.tg <= 0 or entry.r is None or entry.rt is not None:
        return "invalid change"
    if entry.k == "edit":
        return None if valid_text(entry.t, max_text) and not entry.e else "invalid edit"
    if entry.k == "react":
        return None if valid_emoji(entry.e) and not entry.t else "invalid reaction"
    return None if not entry.t and not entry.e else "invalid delete"
