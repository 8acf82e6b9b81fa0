"""The chat itself: who is here, which rooms exist, and what each frame does.

The hub runs entirely on the event loop and never blocks: storage goes through the bus
(a writer thread), history reads and password hashing through worker threads. Frames
arrive already decoded from :class:`~charla.server.connection.Connection`; commands typed
as ``/word`` are dispatched by :mod:`charla.server.commands`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from .. import __version__
from ..bus import Bus, Delivery, Draft
from ..i18n import normalize_lang, tr
from ..protocol import (
    DEFAULT_ROOM,
    Bye,
    ClientFrame,
    ClientHistory,
    ClientPing,
    ClientPong,
    Code,
    Hello,
    History,
    Joined,
    Message,
    Parted,
    Ping,
    ProtocolError,
    Say,
    ServerInfo,
    System,
    Welcome,
    clean_text,
    encode,
    nick_key,
    normalize_nick,
    normalize_room,
)
from ..store import Store
from .accounts import Accounts
from .auth import PasswordGuard
from .commands import run_command
from .config import ServerConfig
from .connection import Connection
from .metrics import Metrics
from .presence import LocalPresence, Presence
from .rooms import Room

__all__ = ["Hub"]

log = logging.getLogger("charla.server")


class Hub:
    """All chat state of one server, and the handlers that change it."""

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
        self.accounts: Accounts = self.presence.accounts(store)
        self.passwords = PasswordGuard(self.accounts, config, clock=clock)
        self.connections: set[Connection] = set()
        self.nicks: dict[str, Connection] = {}
        self.rooms: dict[str, Room] = {}
        self.per_ip: Counter[str] = Counter()
        self.server_info = ServerInfo(
            name=config.name, version=__version__, node=self.presence.node
        )
        self._dirty: list[Connection] = []
        #: The highest id fanned out so far (everything stored at start counts as such),
        #: and the joins waiting for an id to be fanned out.
        self._delivered_upto = store.last_id
        self._delivery_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepting = True

    # --- connections ---------------------------------------------------------------------

    def accept(self, conn: Connection) -> None:
        """A socket connected: admit it, or tell it why not and close."""
        config = self.config
        self.metrics.connections += 1
        if not self.accepting:
            conn.send_frame(Bye(reason="shutdown"))
            conn.close()
            return
        if config.max_clients and len(self.connections) >= config.max_clients:
            self._refuse(conn, Code.SERVER_FULL, "the server is full, try again later")
            return
        if config.max_per_ip and self.per_ip[conn.peer] >= config.max_per_ip:
            self._refuse(conn, Code.TOO_MANY_CONNECTIONS, "too many connections from your address")
            return
        self.connections.add(conn)
        self.per_ip[conn.peer] += 1
        if config.handshake_timeout > 0:
            conn.handshake_timer = self.loop.call_later(
                config.handshake_timeout, self._handshake_expired, conn
            )

    def _refuse(self, conn: Connection, code: Code, message: str) -> None:
        log.info("refused %s: %s", conn.peer, code)
        self.metrics.refused += 1
        conn.send_error(code, message)
        conn.close()

    def _handshake_expired(self, conn: Connection) -> None:
        if not conn.welcomed and not conn.closed:
            self.cut_off(conn, Code.HANDSHAKE_TIMEOUT, "no valid hello in time")

    def cut_off(self, conn: Connection, code: Code, message: str, *, tell: bool = True) -> None:
        """Disconnect a client for ``code``: one log line, a counter, no traceback."""
        if conn.closed:
            return
        log.warning("cut off %r: %s", conn, code)
        self.metrics.cut_offs[code] += 1
        if code is Code.SLOW_CONSUMER:
            conn.close(abort=True)  # it does not read, so nothing more is worth writing
            return
        if tell:
            conn.send_error(code, message)
        conn.close()

    def remove(self, conn: Connection) -> None:
        """The socket is gone, however it went: free the nick, tell the rooms."""
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        self.per_ip[conn.peer] -= 1
        if self.per_ip[conn.peer] <= 0:
            del self.per_ip[conn.peer]
        if conn.nick is None:
            return
        for name in sorted(conn.rooms):
            self._leave_room(conn, name)
        if self.nicks.get(nick_key(conn.nick)) is conn:
            del self.nicks[nick_key(conn.nick)]
            self.presence.released(conn.nick)

    def quit(self, conn: Connection, reason: str) -> None:
        """Say goodbye once everything the client sent before is delivered."""
        if conn.quitting or conn.closed:
            return
        conn.quitting = True
        conn.quit_reason = reason
        if conn.idle:
            self.finish_quit(conn)

    def finish_quit(self, conn: Connection) -> None:
        conn.send_frame(Bye(reason=conn.quit_reason))
        conn.close()

    # --- outgoing bytes, coalesced per loop iteration -------------------------------------

    def mark_dirty(self, conn: Connection) -> None:
        if not self._dirty:
            self.loop.call_soon(self._flush)
        self._dirty.append(conn)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for conn in dirty:
            conn.flush()

    # --- incoming frames -----------------------------------------------------------------

    def handle(self, conn: Connection, frame: ClientFrame) -> None:
        if conn.quitting and not isinstance(frame, ClientPing):
            # After /salir nothing more is said, even what was already on its way; a ping
            # is still answered (before the bye) so the client can confirm what it sent.
            return
        try:
            if isinstance(frame, Say):
                self._on_say(conn, frame)
            elif isinstance(frame, ClientPing):
                conn.ping_barrier(frame.token)
            elif isinstance(frame, ClientPong):
                pass  # any frame proves the client alive; data_received noted it
            elif isinstance(frame, Hello):
                self._on_hello(conn, frame)
            elif isinstance(frame, ClientHistory):
                self._on_history(conn, frame)
        except ProtocolError as exc:
            conn.fail(exc)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a handler's slow part as a task that cannot leak an exception."""
        task = self.loop.create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def spawn_for(self, conn: Connection, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as work in flight for ``conn``: its ping barrier and its goodbye
        wait for it, like for a message being stored."""
        conn.in_flight += 1

        async def counted() -> None:
            try:
                await coro
            finally:
                conn.acked()

        return self.spawn(counted())

    async def _guard(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except Exception:
            log.exception("internal error")

    def _require_welcome(self, conn: Connection) -> str:
        if conn.nick is None:
            raise ProtocolError(Code.NOT_WELCOMED, 'send "hello" first')
        return conn.nick

    # --- hello -------------------------------------------------------------------------

    def _on_hello(self, conn: Connection, hello: Hello) -> None:
        if conn.welcomed:
            raise ProtocolError(Code.ALREADY_WELCOMED, "hello was already accepted")
        self.passwords.check_server_password(conn.peer, hello.nick, hello.server_password)
        nick = normalize_nick(hello.nick)
        self._check_nick_free(nick, conn)
        if self.accounts.is_registered(nick):
            # Verifying an argon2 hash takes tens of milliseconds: do it off the loop,
            # and read nothing more from this client until it is decided.
            conn.pause_reading()
            self.spawn(self._hello_registered(conn, hello, nick))
            return
        self.with_nick(conn, nick, lambda: self._welcome(conn, hello, nick))

    async def _hello_registered(self, conn: Connection, hello: Hello, nick: str) -> None:
        try:
            if hello.password is None:
                raise ProtocolError(
                    Code.NICK_REGISTERED, f"{nick} is registered: send its password"
                )
            if not await self.passwords.verify(conn.peer, nick, hello.password):
                raise ProtocolError(Code.BAD_PASSWORD, f"wrong password for {nick}")
            if not conn.closed:
                self._check_nick_free(nick, conn)
                await self._claim(conn, nick)
                self._welcome(conn, hello, nick)
        except ProtocolError as exc:
            conn.fail(exc)
        finally:
            conn.resume_reading()

    def with_nick(self, conn: Connection, nick: str, then: Callable[[], None]) -> None:
        """Run ``then`` once ``nick`` is ours cluster-wide: at once on a single server;
        after a claim in a cluster, reading nothing more from this client meanwhile."""
        if not self.presence.shared:
            then()
            return
        conn.pause_reading()

        async def claim_then() -> None:
            try:
                await self._claim(conn, nick)
                then()
            except ProtocolError as exc:
                conn.fail(exc)
            finally:
                conn.resume_reading()

        self.spawn(claim_then())

    async def _claim(self, conn: Connection, nick: str) -> None:
        if not self.presence.shared:
            return
        if not await self.presence.claim(nick):
            raise ProtocolError(Code.NICK_TAKEN, f"{nick} is already in use")
        if conn.closed:  # gone while the claim was on its way
            self.presence.released(nick)
            raise ProtocolError(Code.NICK_TAKEN, "connection closed")

    def _check_nick_free(self, nick: str, conn: Connection) -> None:
        holder = self.nicks.get(nick_key(nick))
        if holder is not None and holder is not conn:
            raise ProtocolError(Code.NICK_TAKEN, f"{nick} is already in use")

    def _welcome(self, conn: Connection, hello: Hello, nick: str) -> None:
        rooms = [DEFAULT_ROOM]
        bad: list[str] = []
        for raw in [*([hello.room] if hello.room else []), *hello.rooms]:
            try:
                name = normalize_room(raw)
            except ProtocolError:
                bad.append(raw)
                continue
            if name not in rooms:
                rooms.append(name)
        if conn.handshake_timer is not None:
            conn.handshake_timer.cancel()
            conn.handshake_timer = None
        conn.nick = nick
        conn.lang = normalize_lang(hello.lang)
        self.nicks[nick_key(nick)] = conn
        self.presence.welcomed(nick)
        log.info("welcome %s from %s", nick, conn.peer)
        conn.send_frame(Welcome(nick=nick, server=self.server_info, motd=self.config.motd))
        for raw in bad:
            conn.send_error(Code.ROOM_INVALID, f"not a valid room name: {raw[:40]!r}")
        for name in rooms:
            self.join(conn, name, since=hello.since)

    # --- rooms -------------------------------------------------------------------------

    def join(self, conn: Connection, name: str, *, since: int | None = None) -> None:
        """Put ``conn`` in room ``name``: ``joined``, its history, then live messages."""
        if name in conn.rooms:
            conn.send_frame(Joined(room=name))
            return
        room = self.rooms.get(name)
        if room is None:
            room = self.rooms[name] = Room(name)
        held = room.start_join(conn)
        conn.rooms.add(name)
        conn.send_frame(Joined(room=name))
        self._announce(room, "join", conn.nick or "", exclude=conn)
        self.presence.joined(conn.nick or "", name)
        # Until its history is sent, the join is work in flight (a ping barrier or a
        # goodbye waits for it); histories go out in the order of the joins.
        conn.last_join = self.spawn_for(
            conn, self._send_join_history(conn, room, held, since, previous=conn.last_join)
        )

    async def _send_join_history(
        self,
        conn: Connection,
        room: Room,
        held: list[Message],
        since: int | None,
        *,
        previous: asyncio.Task[None] | None,
    ) -> None:
        more = False
        try:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            if since is None:
                messages = await asyncio.to_thread(
                    self.store.recent, room.name, self.config.history
                )
            else:
                messages, more = await asyncio.to_thread(
                    self.store.since, room.name, since, self.config.resume_cap
                )
            if messages:
                # The history may hold messages committed but not yet fanned out: wait
                # until they are, so they land in the held buffer (and are dropped there)
                # instead of reaching this member a second time once it is live.
                await self._delivered_through(messages[-1].id)
            after = messages[-1].id if messages else (since or 0)
            late = room.finish_join(conn, held, after)
            if late is None:
                return
            conn.send_frame(History(room=room.name, messages=messages, since=since, more=more))
            if late:
                conn.send(b"".join(map(encode, late)))
        except Exception:
            if room.joining.get(conn) is held:
                # Undo the join as a leave, so the members who saw it announced see it end.
                self._leave_room(conn, room.name)
                conn.send_error(
                    Code.UNAVAILABLE, f"could not read the history of #{room.name}; join again"
                )
            raise

    def part(self, conn: Connection, name: str) -> None:
        if name not in conn.rooms:
            raise ProtocolError(Code.NOT_IN_ROOM, f"you are not in #{name}")
        self._leave_room(conn, name)
        conn.send_frame(Parted(room=name))

    def _leave_room(self, conn: Connection, name: str) -> None:
        conn.rooms.discard(name)
        room = self.rooms.get(name)
        if room is None:
            return
        room.remove(conn)
        self._announce(room, "leave", conn.nick or "")
        self.presence.left(conn.nick or "", name)
        if not room:
            del self.rooms[name]

    def _announce(
        self,
        room: Room,
        event: str,
        user: str,
        *,
        new: str | None = None,
        exclude: Connection | None = None,
    ) -> None:
        """Tell a room's members about ``user``, each in its own language (one encoding
        per language, not per member)."""
        encoded: dict[str, bytes] = {}
        texts = {
            "join": "{user} joined #{room}",
            "leave": "{user} left #{room}",
            "nick": "{user} is now known as {new}",
        }
        for member in room.members():
            if member is exclude:
                continue
            data = encoded.get(member.lang)
            if data is None:
                text = tr(member.lang, texts[event], user=user, room=room.name, new=new)
                data = encoded[member.lang] = encode(
                    System(event=event, user=user, room=room.name, new=new, text=text)
                )
            member.send(data)

    def rename(self, conn: Connection, new: str) -> None:
        old = self._require_welcome(conn)
        key = nick_key(new)
        del self.nicks[nick_key(old)]
        self.nicks[key] = conn
        conn.nick = new
        self.presence.renamed(old, new)
        for name in sorted(conn.rooms):
            room = self.rooms.get(name)
            if room is not None:
                self._announce(room, "nick", old, new=new)

    def announce_elsewhere(
        self, event: str, user: str, room: str, *, new: str | None = None
    ) -> None:
        """Something happened on another node: tell this node's members of ``room``."""
        local = self.rooms.get(room)
        if local is not None:
            self._announce(local, event, user, new=new)

    def room_users(self, name: str) -> list[str]:
        """Members of room ``name`` here and on the other nodes."""
        room = self.rooms.get(name)
        here = room.nicks() if room is not None else []
        return sorted([*here, *self.presence.users(name)], key=str.casefold)

    # --- messages ------------------------------------------------------------------------

    def _on_say(self, conn: Connection, say: Say) -> None:
        self._require_welcome(conn)
        text = say.text
        room = DEFAULT_ROOM if say.room is None else normalize_room(say.room)
        if text.startswith("/") and not text.startswith("//"):
            run_command(self, conn, text, room)
            return
        if text.startswith("//"):
            text = text[1:]
        self.say(conn, room, text)

    def say(self, conn: Connection, room: str, text: str, *, action: bool = False) -> None:
        if room not in conn.rooms:
            raise ProtocolError(Code.NOT_IN_ROOM, f"you are not in #{room}")
        text = clean_text(text, limit=self.config.max_text)
        self._publish(conn, Draft(user=conn.nick or "", room=room, text=text, action=action))

    def direct(self, conn: Connection, to: str, text: str) -> None:
        target = self.nicks.get(nick_key(to))
        name = target.nick if target is not None else self.presence.find(to)
        if name is None:
            raise ProtocolError(Code.NO_SUCH_USER, f"nobody called {to[:40]!r} is here")
        text = clean_text(text, limit=self.config.max_text)
        self._publish(conn, Draft(user=conn.nick or "", to=name, text=text))

    def _publish(self, conn: Connection, draft: Draft) -> None:
        draft.origin = conn
        conn.in_flight += 1
        self.metrics.messages_in += 1
        self.bus.publish(draft)

    def deliver(self, batch: list[Delivery]) -> None:
        """Fan out messages that are now durable, in id order for every client.

        Consecutive messages of one room are joined into one ``bytes`` and each member
        gets a reference to it: encoding and copying are paid once per run, not once
        per recipient.
        """
        rooms = self.rooms
        start = 0
        while start < len(batch):
            first = batch[start][0]
            end = start + 1
            if first.room is not None:
                while end < len(batch) and batch[end][0].room == first.room:
                    end += 1
                run = [message for message, _ in batch[start:end]]
                room = rooms.get(first.room)
                if room is not None:
                    data = b"".join(map(encode, run))
                    for member in room.live:
                        member.send(data)
                    for held in room.joining.values():
                        held.extend(run)
                    self.metrics.deliveries += len(run) * len(room)
            else:
                self._deliver_direct(first, batch[start][1])
            start = end
        for _, origin in batch:
            if isinstance(origin, Connection):
                origin.acked()
        if batch:
            self._delivered_upto = batch[-1][0].id
        if self._delivery_waiters:
            self._wake_delivery_waiters()

    async def _delivered_through(self, message_id: int) -> None:
        """Return once every message up to ``message_id`` has been through ``deliver``."""
        if message_id <= self._delivered_upto:
            return
        waiter = self.loop.create_future()
        self._delivery_waiters.append((message_id, waiter))
        await waiter

    def _wake_delivery_waiters(self) -> None:
        waiting = []
        for message_id, waiter in self._delivery_waiters:
            if message_id <= self._delivered_upto:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                waiting.append((message_id, waiter))
        self._delivery_waiters = waiting

    def _deliver_direct(self, message: Message, origin: object) -> None:
        data = encode(message)
        target = self.nicks.get(nick_key(message.to or ""))
        if target is not None:
            target.send(data)
        if isinstance(origin, Connection) and origin is not target:
            origin.send(data)
        self.metrics.deliveries += 2

    def reject(self, drafts: list[Draft], reason: str) -> None:
        for draft in drafts:
            origin = draft.origin
            if isinstance(origin, Connection):
                origin.send_error(
                    Code.UNAVAILABLE, f"message not stored: {reason}", text=draft.text
                )
                origin.acked()

    # --- history pages -----------------------------------------------------------------

    def _on_history(self, conn: Connection, request: ClientHistory) -> None:
        self._require_welcome(conn)
        room = normalize_room(request.room)
        if not 1 <= request.limit <= self.config.max_page:
            raise ProtocolError(
                Code.LIMIT_INVALID, f"limit must be between 1 and {self.config.max_page}"
            )
        self.spawn_for(conn, self._send_page(conn, room, request.before, request.limit))

    async def _send_page(self, conn: Connection, room: str, before: int | None, limit: int) -> None:
        if before is None:
            messages = await asyncio.to_thread(self.store.recent, room, limit)
        else:
            messages = await asyncio.to_thread(self.store.before, room, before, limit)
        conn.send_frame(History(room=room, messages=messages, before=before))

    # --- liveness ----------------------------------------------------------------------

    def check_idle(self) -> None:
        """Ping quiet clients; drop the ones that stay silent (no ghost users)."""
        now = self.clock()
        config = self.config
        for conn in list(self.connections):
            if not conn.welcomed:
                continue
            silent = now - conn.last_seen
            if silent >= config.ping_timeout:
                self.cut_off(conn, Code.PING_TIMEOUT, "no answer to ping")
            elif silent >= config.ping_interval and not conn.pinged:
                conn.pinged = True
                conn.send_frame(Ping())

    # --- shutdown ----------------------------------------------------------------------

    async def shutdown(self, reason: str = "shutdown") -> None:
        """Deliver what is in flight, say goodbye to everyone, close every socket."""
        self.accepting = False
        await self.bus.drain()
        bye = encode(Bye(reason=reason))
        for conn in list(self.connections):
            conn.send(bye)
            conn.close()
        # Cancel the handlers' slow parts and wait until they have ended, so none still
        # uses the store when the server closes it.
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
