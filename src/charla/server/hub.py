"""The chat of one server: the parts that hold its state, and the loop that feeds them.

A request's path: :class:`~charla.server.connection.Connection` hands bytes to
:meth:`Hub.receive`; the member's :class:`~charla.protocol.ServerConnection` splits,
decodes and orders them; :meth:`Hub.pump` takes every request that may run now and gives
it to its handler (:mod:`charla.server.handlers`); handlers act through the parts:

- :class:`~charla.server.admission.Admission` — who is connected, caps, cut-offs;
- :class:`~charla.server.identity.Identity` — hello, nicks, accounts;
- :class:`~charla.server.rooms.RoomDirectory` — rooms, members, watchers, histories;
- :class:`~charla.server.fanout.FanOut` — messages to the bus and back to every reader.

The hub runs entirely on the event loop and never blocks: storage goes through the bus
(a writer thread), history reads through the hub's reader threads, password hashing
through the accounts' own threads.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from ..bus import Bus, Delivery, Draft
from ..i18n import tr
from ..protocol import (
    Bye,
    ClientFrame,
    Code,
    Goodbye,
    Paused,
    ProtocolError,
    Rejected,
    Wait,
    check_tags,
    clean_wrapped,
    encode,
    nick_key,
)
from ..store import Store
from .accounts import Accounts
from .activity import Activity
from .admission import Admission
from .config import ServerConfig
from .connection import Connection, Flusher
from .fanout import FanOut
from .handlers import HANDLERS
from .identity import Identity
from .markers import Markers
from .member import Member
from .metrics import Metrics
from .moderation import Moderation
from .presence import LocalPresence, Presence
from .reads import SharedReads
from .rooms import RoomDirectory
from .users import Users

__all__ = ["Hub"]

log = logging.getLogger("charla.server")

T = TypeVar("T")

#: Threads reading history: enough to overlap a few reads, few enough to stay small.
READER_THREADS = 4


class Hub:
    """All chat state of one server, and the loop that hands requests to handlers."""

    def __init__(
        self,
        config: ServerConfig,
        store: Store,
        bus: Bus,
        *,
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float] = time.monotonic,
        presence: Presence | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        self.loop = loop
        self.clock = clock
        self.metrics = Metrics()
        #: Everybody on other nodes of a cluster; nobody on a single server.
        self.presence: Presence = presence if presence is not None else LocalPresence()
        self.flusher = Flusher(loop)
        self.admission = Admission(self)
        self.identity = Identity(self)
        self.users = Users(self)
        self.markers = Markers(self)
        self.activity = Activity(self)
        self.rooms = RoomDirectory(self)
        self.fanout = FanOut(self)
        self.moderation: Moderation = Moderation(self)
        self.reads = SharedReads(loop, READER_THREADS, name="charla-read")
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def nicks(self) -> dict[str, Member]:
        """This server's members by :func:`~charla.protocol.nick_key`."""
        return self.identity.nicks

    def online_nick(self, nick: str) -> str | None:
        """``nick`` as its user spells it, online here or on another node; None when
        nobody online has it."""
        member = self.nicks.get(nick_key(nick))
        return member.nick if member is not None else self.presence.find(nick)

    @property
    def accounts(self) -> Accounts:
        return self.identity.accounts

    # --- connections ---------------------------------------------------------------------

    def accept(self, conn: Connection) -> Member | None:
        """A socket connected: its member, or ``None`` when it was refused."""
        member = self.admission.accept(conn)
        if member is not None:
            conn.max_sendq = self.config.max_sendq
            conn.on_overflow = functools.partial(
                self.cut_off, member, Code.SLOW_CONSUMER, "not reading fast enough"
            )
        return member

    def cut_off(
        self,
        member: Member,
        code: Code,
        message: str,
        *,
        values: Mapping[str, object] | None = None,
        tell: bool = True,
    ) -> None:
        """Disconnect ``member``, telling it ``message`` (English, with ``{name}`` fields
        from ``values``) in its language; the rooms hear the English as its quit reason."""
        values = values or {}
        member.quit_reason = member.quit_reason or (message.format(**values) if values else message)
        self.admission.cut_off(member, code, tr(member.lang, message, **values), tell=tell)

    def remove(self, member: Member) -> None:
        """The socket is gone, however it went: free the nick, tell the rooms."""
        if member.wait_timer is not None:
            member.wait_timer.cancel()
            member.wait_timer = None
        if not self.admission.remove(member):
            return
        member.proto.close()
        self.activity.forget(member)
        self.rooms.leave_all(member, reason=member.quit_reason)
        self.identity.release(member)

    # --- requests --------------------------------------------------------------------

    def receive(self, member: Member, data: bytes) -> None:
        try:
            member.proto.receive_data(data)
            self.pump(member)
            member.proto.check_backlog()
        except ProtocolError as exc:  # a line too long, a flood: fatal
            self.refuse(member, exc)

    def pump(self, member: Member) -> None:
        """Handle every request of ``member`` that may run now, in order."""
        proto = member.proto
        while not member.closed:
            event = proto.next_event()
            if isinstance(event, Paused):
                return
            if isinstance(event, Wait):
                if member.wait_timer is None:
                    member.wait_timer = self.loop.call_later(
                        event.seconds, self._after_wait, member
                    )
                return
            if isinstance(event, Goodbye):
                member.send(Bye(reason=event.reason, label=event.label))
                member.link.close()
                return
            if isinstance(event, Rejected):
                self.refuse(member, event.error, event.label)
            else:
                self._dispatch(member, event)

    def _after_wait(self, member: Member) -> None:
        member.wait_timer = None
        self.pump(member)

    def _dispatch(self, member: Member, frame: ClientFrame) -> None:
        self.activity.saw(member, frame)
        try:
            work = HANDLERS[type(frame)](self, member, frame)
        except ProtocolError as exc:
            self.refuse(member, exc, frame.label)
            return
        if work is not None:
            self._run_work(member, work, frame.label)

    def _run_work(self, member: Member, work: Coroutine[Any, Any, None], label: str | None) -> None:
        """Run a handler's slow part; the member's next request waits until it ends."""
        member.proto.begin_work()

        async def run() -> None:
            try:
                await work
            except ProtocolError as exc:
                self.refuse(member, exc, label)
            except Exception:
                log.exception("internal error handling a request of %r", member)
                member.send_error(Code.INTERNAL, "internal error", label=label)
            finally:
                member.proto.end_work()
                self.pump(member)

        self.spawn(run())

    def refuse(self, member: Member, exc: ProtocolError, label: str | None = None) -> None:
        """Answer a refused request; a fatal refusal also closes the connection."""
        member.refuse(exc, label)
        if exc.fatal:
            self.cut_off(member, exc.code, exc.message, tell=False)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task the hub owns (cancelled at shutdown); it cannot leak an
        exception."""
        task = self.loop.create_task(_logged(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking store read on the hub's reader threads (shared with identical
        reads still waiting: :mod:`charla.server.reads`)."""
        return await self.reads.read(fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking store write (or any job that must run once per caller) on the
        hub's reader threads: never shared with another caller's."""
        return await self.reads.run(fn, *args)

    # --- messages ------------------------------------------------------------------------

    def say(
        self,
        member: Member,
        room: str,
        text: str,
        *,
        label: str | None,
        action: bool = False,
        notice: bool = False,
        tags: dict[str, str] | None = None,
        wraps: list[int] | None = None,
        reply_to: int | None = None,
    ) -> None:
        if room not in member.rooms:
            raise ProtocolError(Code.NOT_IN_ROOM, "you are not in #{room}", room=room)
        self._publish_said(
            member,
            text,
            label,
            room=room,
            action=action,
            notice=notice,
            tags=tags,
            wraps=wraps,
            reply_to=reply_to,
        )

    def direct(
        self,
        member: Member,
        to: str,
        text: str,
        *,
        label: str | None,
        reply_to: int | None = None,
        notice: bool = False,
        tags: dict[str, str] | None = None,
        wraps: list[int] | None = None,
    ) -> None:
        name = self.online_nick(to)
        if name is None:
            raise ProtocolError(Code.NO_SUCH_USER, "nobody called {who} is here", who=repr(to[:40]))
        self._publish_said(
            member, text, label, to=name, notice=notice, tags=tags, wraps=wraps, reply_to=reply_to
        )

    def _publish_said(
        self,
        member: Member,
        text: str,
        label: str | None,
        *,
        room: str | None = None,
        to: str | None = None,
        action: bool = False,
        notice: bool = False,
        tags: dict[str, str] | None,
        wraps: list[int] | None,
        reply_to: int | None,
    ) -> None:
        """What ``member`` said in ``room`` (or to ``to``), cleaned and checked, to the
        bus: the one way a room message and a direct message take."""
        text, wraps = clean_wrapped(text, wraps, limit=self.config.max_text)
        draft = Draft(
            user=member.nick or "",
            bot=member.bot,
            room=room,
            to=to,
            text=text,
            action=action,
            notice=notice,
            tags=check_tags(tags),
            wraps=wraps,
            reply_to=reply_to,
        )
        self.fanout.publish(member, draft, label)

    # The bus reports here (the :class:`~charla.bus.Sink` interface).

    def deliver(self, batch: list[Delivery]) -> None:
        self.fanout.deliver(batch)

    def reject(self, drafts: list[Draft], reason: str) -> None:
        self.fanout.reject(drafts, reason)

    def announce_elsewhere(
        self,
        event: str,
        user: str,
        room: str,
        *,
        new: str | None = None,
        reason: str | None = None,
        quit: bool = False,
    ) -> None:
        """Something happened on another node: tell this node's members of ``room``
        (a join or leave of a user who is in the room here changes nothing for them)."""
        if event != "nick" and self.users.in_room(user, room):
            return
        local = self.rooms.get(room)
        if local is not None:
            self.rooms.announce(local, event, user, new=new, reason=reason, quit=quit)

    # --- time ------------------------------------------------------------------------

    def check_timeouts(self) -> None:
        """Handshake and ping timeouts, auto-away, by the hub's clock (a duty calls this)."""
        self.admission.check_timeouts(self.clock())
        self.activity.check(self.clock())

    # --- shutdown ----------------------------------------------------------------------

    async def shutdown(self, reason: str = "shutdown") -> None:
        """Deliver what is in flight, say goodbye to everyone, close every socket, and
        stop every task and reader thread: after this the store may close."""
        self.admission.accepting = False
        await self.bus.drain()
        self.fanout.release()  # a big room's held pass goes out before the goodbye
        bye = encode(Bye(reason=reason))
        for member in list(self.admission.members):
            member.send_bytes(bye)
            member.link.close()
        # Cancel the handlers' slow parts and wait until they have ended (a cancelled
        # one may start another as it ends), so none still uses the store after this.
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        # A cancelled read goes on in its thread: wait for it before the store closes.
        await asyncio.to_thread(self.reads.close)


async def _logged(coro: Coroutine[Any, Any, None]) -> None:
    try:
        await coro
    except Exception:
        log.exception("internal error")
