"""A client session that survives dropped connections.

:class:`Session` owns one connection at a time. When it drops, it retries with exponential
backoff and jitter, and on success says ``hello`` again with the rooms it was in and
``since`` = the last room message id it saw, so the server replays exactly what was
missed. Messages are de-duplicated per room by id (ids are global across rooms and
increase within a room), so a replay never shows anything twice.

What the user types goes through an outgoing queue. While connected it is sent at once,
each ``say`` followed by a ``ping`` barrier: the server answers the ``pong`` only once the
``say`` is fully handled, which is how the session knows a line made it. While
disconnected lines wait in the queue and go out after the reconnect. A line that was sent
but not confirmed when the connection dropped is looked for in the replay: found, it was
delivered; not found, it is sent again. Commands in that state cannot be checked (direct
messages are not replayed, ``/nick`` is not idempotent), so they are reported as not sent
rather than guessed at. Nothing typed is ever dropped silently.

The session knows nothing about screens: it reports :data:`Event` values through a
callback, and front-ends (the Textual app) turn them into what they show.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from ..protocol import (
    DEFAULT_ROOM,
    Bye,
    Change,
    ClientFrame,
    ClientHistory,
    ClientPing,
    Code,
    Error,
    Hello,
    History,
    Joined,
    LocalProtocolError,
    Message,
    Parted,
    Passwd,
    Pong,
    ProtocolError,
    Quit,
    Register,
    Say,
    ServerFrame,
    System,
    Welcome,
    clean_text,
    nick_key,
)
from .commands import request_of
from .connection import ClosedBeforeWelcome, ConnectOptions, HelloRefused, Link, connect

__all__ = [
    "DEFAULT_MAX_DELAY",
    "DEFAULT_MIN_DELAY",
    "DEFAULT_QUEUE_LIMIT",
    "Backoff",
    "Confirmed",
    "Connected",
    "Connecting",
    "Disconnected",
    "Ended",
    "Event",
    "Incoming",
    "Session",
    "Unsent",
]

DEFAULT_MIN_DELAY = 0.5
DEFAULT_MAX_DELAY = 30.0
#: Lines held while disconnected; past this a new line is refused at once.
DEFAULT_QUEUE_LIMIT = 500
#: After this long without a frame the session pings the server; after as long again
#: it gives the connection up (a server that vanished without closing it).
DEFAULT_KEEPALIVE = 30.0
_RESUME_TOKEN = "resume"
#: Page size when fetching what a capped resume left out (the server's largest page).
BACKFILL_PAGE = 200


class Backoff:
    """Delays for reconnect attempts: doubling from ``minimum`` up to ``maximum``, each
    drawn at random in its upper half so that clients dropped together do not all come
    back at the same instant."""

    def __init__(
        self,
        *,
        minimum: float = DEFAULT_MIN_DELAY,
        maximum: float = DEFAULT_MAX_DELAY,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self._rng = rng
        self._attempt = 0

    def next(self) -> float:
        ceiling: float = min(self.maximum, self.minimum * 2.0**self._attempt)
        self._attempt += 1
        return ceiling / 2 + self._rng() * ceiling / 2

    def reset(self) -> None:
        self._attempt = 0


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connecting:
    attempt: int


@dataclass(frozen=True)
class Connected:
    welcome: Welcome
    resumed: bool


@dataclass(frozen=True)
class Disconnected:
    reason: str
    retry_in: float


@dataclass(frozen=True)
class Incoming:
    """A frame from the server, already de-duplicated (a ``history`` holds only the
    messages not seen before)."""

    frame: ServerFrame


@dataclass(frozen=True)
class Confirmed:
    """The server confirmed lines; ``pending`` are still waiting."""

    pending: int


@dataclass(frozen=True)
class Unsent:
    """A line that will not be sent: the user should know, and may type it again."""

    text: str
    room: str
    reason: str


@dataclass(frozen=True)
class Ended:
    """The session is over: after ``/salir`` (``ok``), or a refusal that retrying cannot
    fix (a wrong password, a bad nick on the first connect)."""

    ok: bool
    reason: str = ""
    code: str | None = None


Event = Connecting | Connected | Disconnected | Incoming | Confirmed | Unsent | Ended


#: The events that confirm a password this connection gave (``/registrar``, ``/clave``).
_PASSWORD_TAKEN = ("registered", "password_changed")


@dataclass
class _Line:
    seq: int
    text: str
    room: str

    @property
    def is_command(self) -> bool:
        return self.text.startswith("/") and not self.text.startswith("//")

    @property
    def is_quit(self) -> bool:
        return isinstance(request_of(self.text, self.room), Quit)

    def as_stored(self) -> str:
        """The text as the server would store it, to recognise it in a replay."""
        text = self.text[1:] if self.text.startswith("//") else self.text
        try:
            return clean_text(text)
        except ProtocolError:
            return text


@dataclass
class _Rooms:
    """Rooms joined, in joining order, and the newest message id seen in each."""

    joined: list[str] = field(default_factory=list)
    newest: dict[str, int] = field(default_factory=dict)
    #: The newest change (reaction, edit, delete) seen in each room, by its ``seq``: a
    #: resume replays changes after the history, so they are counted apart.
    newest_change: dict[str, int] = field(default_factory=dict)

    def fresh(self, message: Message) -> bool:
        """Whether ``message`` is new (and remember it). Direct messages are never replayed,
        so they are always new."""
        return _first_time(self.newest, message.room, message.id)

    def fresh_change(self, change: Change) -> bool:
        """Whether ``change`` is new (and remember it)."""
        return _first_time(self.newest_change, change.room, change.seq)


def _first_time(newest: dict[str, int], room: str | None, position: int) -> bool:
    """Whether ``position`` is past the newest seen in ``room`` (and remember it); what
    has no room is never replayed, so it is always new."""
    if room is None:
        return True
    if position <= newest.get(room, 0):
        return False
    newest[room] = position
    return True


class Session:
    """A reconnecting chat session. ``await run()`` until it ends; call :meth:`say` and
    :meth:`quit` from the same event loop."""

    def __init__(
        self,
        options: ConnectOptions,
        *,
        nick: str,
        emit: Callable[[Event], None],
        lang: str = "es",
        rooms: list[str] | None = None,
        password: str | None = None,
        server_password: str | None = None,
        backoff: Backoff | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        keepalive: float = DEFAULT_KEEPALIVE,
    ) -> None:
        self.options = options
        self.nick = nick
        self.lang = lang
        self._emit = emit
        self._wanted_rooms = list(rooms or [])
        self._password = password
        self._server_password = server_password
        #: The password a ``/registrar`` or ``/clave`` line gave, until the server says
        #: whether it took it.
        self._offered_password: str | None = None
        self._backoff = backoff or Backoff()
        self._queue_limit = queue_limit
        self._keepalive = keepalive
        self._rooms = _Rooms()
        #: The newest room message id seen anywhere: the ``since`` of a resume.
        self.last_id: int | None = None
        self._queue: deque[_Line] = deque()
        self._in_flight: deque[_Line] = deque()
        self._unconfirmed: list[_Line] = []
        self._replayed_own: Counter[tuple[str, str]] = Counter()
        self._seq = 0
        #: Pages asked for because a resume was capped (``more``): the label of the page
        #: -> the ``since`` to page back to.
        self._backfill: dict[str, int] = {}
        #: Frames for this connection only (pages, queries): never confirmed, never
        #: re-sent, dropped with the connection.
        self._requests: deque[ClientFrame] = deque()
        self._link: Link | None = None
        self._ready = False
        self._welcomed_once = False
        self._quitting = False
        self._ended = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    # --- what the front-end calls ----------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ready

    @property
    def rooms(self) -> list[str]:
        return list(self._rooms.joined)

    @property
    def pending(self) -> int:
        """Lines typed but not yet confirmed by the server."""
        return len(self._queue) + len(self._in_flight) + len(self._unconfirmed)

    def say(self, text: str, room: str) -> None:
        """Send ``text`` (a message or a ``/command``) to ``room`` now, or after the
        reconnect when the connection is down. A blank ``text`` has nothing to send."""
        words = text.split(maxsplit=1)
        if not words:
            return
        if self._ended:
            self._emit(Unsent(text, room, "ended"))
            return
        if self.pending >= self._queue_limit:
            self._emit(Unsent(text, room, "queue_full"))
            return
        self._seq += 1
        line = _Line(self._seq, text, room)
        self._queue.append(line)
        if line.is_quit:
            self._quitting = True
        self._wake.set()

    def older(self, room: str, before: int, limit: int = BACKFILL_PAGE) -> str | None:
        """Ask for the messages of ``room`` before id ``before`` (scrolling back past the
        start of the log); the page arrives as an ``Incoming`` ``history`` with ``before``
        and the label returned (``None``: not connected, nothing asked)."""
        return self.query(ClientHistory(room=room, before=before, limit=limit))

    def query(self, request: ClientFrame) -> str | None:
        """Send ``request`` (``users {room}``...) with a fresh label on the current
        connection only, outside the user's queue: it is not counted as pending nor
        reported as unsent, and a dropped connection just forgets it. Its answers arrive
        as ``Incoming`` frames carrying the label returned (``None``: not connected)."""
        if self._link is None:
            return None
        label = self._link.next_label()
        self._requests.append(msgspec.structs.replace(request, label=label))
        self._wake.set()
        return label

    def quit(self) -> None:
        """Leave: once connected, after the server has confirmed every line sent before;
        at once when there is no connection."""
        if self._link is None:
            self._finish(Ended(ok=True))
            return
        if not self._quitting:
            self.say("/salir", self._rooms.joined[0] if self._rooms.joined else DEFAULT_ROOM)

    def close(self) -> None:
        """Stop without saying goodbye (the app is going away)."""
        self._ended = True
        self._stop.set()
        if self._link is not None:
            self._link.close()

    # --- the connection loop ---------------------------------------------------------

    async def run(self) -> None:
        attempt = 0
        while not self._ended:
            attempt += 1
            self._emit(Connecting(attempt))
            reason = await self._attempt()
            if self._ended:
                return
            delay = self._backoff.next()
            self._emit(Disconnected(reason, delay))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def _attempt(self) -> str:
        """One connection, from connect to drop. Returns why it ended."""
        try:
            link = await connect(self.options)
        except (OSError, TimeoutError) as exc:
            return str(exc) or type(exc).__name__
        self._link = link
        try:
            await self._hello(link)
            return await self._converse(link)
        except HelloRefused as exc:
            if exc.code == Code.NICK_TAKEN and self._welcomed_once:
                # Our own old connection may still hold the nick until the server
                # notices it is gone: try again later.
                return exc.message
            self._finish(Ended(ok=False, reason=exc.message, code=exc.code))
            return exc.message
        except ClosedBeforeWelcome:
            return ClosedBeforeWelcome.explain(self.lang, tls=self.options.tls)
        except (OSError, ConnectionError, ProtocolError) as exc:
            return str(exc) or type(exc).__name__
        finally:
            self._ready = False
            self._link = None
            await link.aclose()
            self._connection_lost()

    async def _hello(self, link: Link) -> None:
        resuming = self._welcomed_once
        rooms = self._rooms.joined if resuming else self._wanted_rooms
        since = (self.last_id or 0) if resuming else None
        # A resume joins the default room only if the user was still in it.
        hello = Hello(
            nick=self.nick,
            rooms=[r for r in rooms if r != DEFAULT_ROOM],
            join_default=not resuming or DEFAULT_ROOM in rooms,
            since=since,
            lang=self.lang,
            password=self._password,
            server_password=self._server_password,
        )
        welcome, early = await link.hello(hello)
        self.nick = welcome.nick
        self._welcomed_once = True
        self._backoff.reset()
        self._rooms.joined.clear()
        self._replayed_own.clear()
        self._emit(Connected(welcome, resumed=resuming))
        for frame in early:
            self._handle(frame)
        # The pong to this ping comes after every room's history (a join counts as work
        # in flight on the server): then the replay is complete and lines can go out.
        await link.send(ClientPing(token=_RESUME_TOKEN))

    async def _converse(self, link: Link) -> str:
        sender = asyncio.ensure_future(self._send_loop(link))
        try:
            while (frame := await self._recv(link)) is not None:
                if isinstance(frame, Bye) and self._quitting:
                    self._finish(Ended(ok=True, reason=frame.reason))
                    return frame.reason
                self._handle(frame)
                if isinstance(frame, Bye):
                    return frame.reason
            return "connection closed"
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, ConnectionError):
                await sender

    async def _recv(self, link: Link) -> ServerFrame | None:
        """The next frame; pings a silent server once, and gives up if it stays silent."""
        try:
            return await asyncio.wait_for(link.recv(), self._keepalive)
        except TimeoutError:
            await link.send(ClientPing(token="keepalive"))
        try:
            return await asyncio.wait_for(link.recv(), self._keepalive)
        except TimeoutError:
            raise ConnectionError("no answer from the server") from None

    async def _send_loop(self, link: Link) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._requests:
                with contextlib.suppress(LocalProtocolError):  # asked after quitting
                    await link.send(self._requests.popleft())
            while self._ready and self._queue:
                line = self._queue.popleft()
                try:
                    await link.send(Say(text=line.text, room=line.room))
                except LocalProtocolError:
                    self._emit(Unsent(line.text, line.room, "ended"))  # typed after /salir
                    continue
                self._in_flight.append(line)
                self._offer_password(line)
                await link.send(ClientPing(token=str(line.seq)))

    def _offer_password(self, line: _Line) -> None:
        """Keep the password a ``/registrar`` or ``/clave`` line gives: once the server
        takes it, the reconnects' ``hello`` must carry it (the nick is registered now)."""
        if not line.is_command:
            return
        request = request_of(line.text, line.room)
        if isinstance(request, Register):
            self._offered_password = request.password
        elif isinstance(request, Passwd):
            self._offered_password = request.new

    # --- frames ----------------------------------------------------------------------

    def _handle(self, frame: ServerFrame) -> None:
        if isinstance(frame, Pong):
            self._confirmed(frame.token)
            return
        if isinstance(frame, Message):
            if not self._rooms.fresh(frame):
                return
            self._saw(frame)
        elif isinstance(frame, Change):
            if not self._rooms.fresh_change(frame):
                return
            if frame.room is not None:
                self.last_id = max(self.last_id or 0, frame.seq)
        elif isinstance(frame, History) and (
            frame.around is not None or frame.with_ or frame.thread is not None
        ):
            pass  # context, a conversation or a thread asked for: shown as it is
        elif isinstance(frame, History) and frame.before is not None:
            frame = self._backfilled(frame)
        elif isinstance(frame, History):
            fresh = [m for m in frame.messages if self._rooms.fresh(m)]
            for message in fresh:
                self._saw(message)
            if frame.more and frame.since is not None and frame.messages:
                self._page_back(frame.room, frame.messages[0].id, floor=frame.since)
            frame = msgspec.structs.replace(frame, messages=fresh)
        elif isinstance(frame, Joined):
            if frame.room not in self._rooms.joined:
                self._rooms.joined.append(frame.room)
        elif isinstance(frame, Parted):
            if frame.room in self._rooms.joined:
                self._rooms.joined.remove(frame.room)
        elif isinstance(frame, System) and frame.event in _PASSWORD_TAKEN:
            if self._offered_password is not None:
                self._password, self._offered_password = self._offered_password, None
        elif isinstance(frame, System) and frame.event == "unregistered":
            self._password = None
        elif isinstance(frame, System) and frame.event == "nick":
            if frame.user is not None and nick_key(frame.user) == nick_key(self.nick):
                self.nick = frame.new or self.nick
        elif isinstance(frame, Error) and frame.code == Code.UNAVAILABLE and frame.text:
            # The server could not store it; it gave the text back so it is not lost.
            self._emit(Unsent(frame.text, DEFAULT_ROOM, "unavailable"))
            return
        self._emit(Incoming(frame))

    def _page_back(self, room: str, before: int, *, floor: int) -> None:
        """Ask for the page before ``before``: a capped resume sent only the newest
        messages, and the ones down to ``floor`` (the ``since``) are still missing."""
        label = self.older(room, before)
        if label is not None:
            self._backfill[label] = floor

    def _backfilled(self, page: History) -> History:
        """A page of older messages: keep what is above the resume's floor, and ask for
        the next page until the floor is reached. Pages the session did not ask for
        itself (the user scrolling back) pass through as they are."""
        floor = self._backfill.pop(page.label or "", None)
        if floor is None:
            return page
        fresh = [m for m in page.messages if m.id > floor]
        if len(fresh) == len(page.messages) == BACKFILL_PAGE:
            self._page_back(page.room, fresh[0].id, floor=floor)
        return msgspec.structs.replace(page, messages=fresh)

    def _saw(self, message: Message) -> None:
        if message.room is None:
            return
        self.last_id = max(self.last_id or 0, message.id)
        if self._unconfirmed and nick_key(message.user) == nick_key(self.nick):
            self._replayed_own[(message.room, message.text)] += 1

    def _confirmed(self, token: str | None) -> None:
        if token == _RESUME_TOKEN:
            self._resume_sending()
            return
        try:
            seq = int(token or "")
        except ValueError:
            return
        while self._in_flight and self._in_flight[0].seq <= seq:
            self._in_flight.popleft()
        self._emit(Confirmed(self.pending))

    def _resume_sending(self) -> None:
        """The replay is complete: drop the unconfirmed lines it contains, send the rest
        again ahead of what was typed since."""
        again = []
        for line in self._unconfirmed:
            key = (line.room, line.as_stored())
            if self._replayed_own[key] > 0:
                self._replayed_own[key] -= 1
            else:
                again.append(line)
        self._unconfirmed.clear()
        self._replayed_own.clear()
        self._queue.extendleft(reversed(again))
        self._ready = True
        self._wake.set()

    def _connection_lost(self) -> None:
        for line in self._in_flight:
            if line.is_command:
                if not line.is_quit:
                    self._emit(Unsent(line.text, line.room, "connection_lost"))
            else:
                self._unconfirmed.append(line)
        self._in_flight.clear()
        self._requests.clear()
        self._backfill.clear()
        # The user asked to leave: a dropped connection is as good as the goodbye.
        if self._quitting and not self._ended:
            self._finish(Ended(ok=True, reason="connection_lost"))

    def _finish(self, event: Ended) -> None:
        if self._ended:
            return
        self._ended = True
        self._stop.set()
        self._emit(event)
