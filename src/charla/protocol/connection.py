"""The rules of one charla connection, with no I/O: bytes in, frames out, and back.

Both ends keep the same state, moved by the same table (:data:`TRANSITIONS`):

======================  ==========================  ==================================
state                   what the server handles     how it is left
======================  ==========================  ==================================
``NEW``                 ``hello``, ``ping``,        client sends ``hello`` → GREETING;
                        ``pong``, ``quit``          ``quit`` → QUITTING
``GREETING``            nothing yet: the ``hello``  server sends ``welcome`` →
                        is being decided            WELCOMED, or ``error`` → NEW
``WELCOMED``            every request but ``hello`` ``quit`` (``/salir``, end of input)
                                                    → QUITTING
``QUITTING``            ``ping`` only (a client     server sends ``bye`` → CLOSED
                        confirms what it sent)
``CLOSED``              nothing                     —
======================  ==========================  ==================================

Order: the server handles a client's requests one after another, in the order sent, and
answers them in that order. A request waits while an earlier one is still being worked
on (a join reading its history, a password being checked); anything but a message also
waits until the client's earlier messages are stored and delivered, so ``say`` then
``/usuarios`` answers the message first. Messages themselves may follow each other
without waiting: the bus keeps their order.

:class:`ServerConnection` is the server's half: it splits and decodes bytes, turns
``/commands`` into typed requests, checks labels, meters requests through the rate limit
it is given, and hands out the next request only when the rules above let it run.
:class:`ClientConnection` is the client's half: it refuses to send what the server would
refuse, answers the server's keep-alive pings, and gives out labels.
"""

from __future__ import annotations

import enum
import itertools
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import msgspec

from .codec import DEFAULT_MAX_LINE, LineSplitter, decode_client_frame, decode_server_frame
from .codec import encode as _encode
from .errors import Code, ProtocolError
from .frames import (
    Bye,
    ClientFrame,
    ClientPing,
    ClientPong,
    Error,
    Hello,
    Help,
    Ping,
    Quit,
    Say,
    ServerFrame,
    Welcome,
)
from .requests import Request, parse_command, request_for

__all__ = [
    "EOF_REASON",
    "PAUSED",
    "TRANSITIONS",
    "ClientConnection",
    "Goodbye",
    "LocalProtocolError",
    "Meter",
    "Paused",
    "Rejected",
    "ServerConnection",
    "State",
    "Wait",
    "check_label",
]


class State(enum.Enum):
    NEW = "new"
    GREETING = "greeting"
    WELCOMED = "welcomed"
    QUITTING = "quitting"
    CLOSED = "closed"


NEW, GREETING, WELCOMED, QUITTING, CLOSED = State

#: The reason of the ``quit`` the end of the client's input stands for (it said none).
EOF_REASON = "eof"

#: (state, who speaks, frame type) -> next state. A frame not listed leaves the state as
#: it is; what a state lets the server *handle* is :func:`_handled_in`.
TRANSITIONS: dict[tuple[State, str, str], State] = {
    (NEW, "client", "hello"): GREETING,
    (GREETING, "server", "welcome"): WELCOMED,
    (GREETING, "server", "error"): NEW,  # the hello was refused; another may follow
    (NEW, "client", "quit"): QUITTING,
    (GREETING, "client", "quit"): QUITTING,  # a client may send hello + quit at once
    (WELCOMED, "client", "quit"): QUITTING,
    **{(state, "server", "bye"): CLOSED for state in State},
}


def _next_state(state: State, who: str, kind: str) -> State:
    return TRANSITIONS.get((state, who, kind), state)


def _kind(frame: msgspec.Struct) -> str:
    return str(type(frame).__struct_config__.tag)


def check_label(label: str | None) -> None:
    """A label is 1 to 64 printable characters (the length is checked by decoding)."""
    if label is not None and not label.isprintable():
        raise ProtocolError(Code.BAD_FRAME, "a label must be 1 to 64 printable characters")


class LocalProtocolError(Exception):
    """This side tried to send what the protocol does not allow in its state."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A request that cannot be handled: answer ``error`` (with the request's label)."""

    error: ProtocolError
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """The next request is over the rate limit: look again in ``seconds``."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Goodbye:
    """The client quit and everything before it is answered: send ``bye`` and close."""

    reason: str
    label: str | None = None


class Paused:
    """Nothing can run now; :meth:`ServerConnection.next_event` is worth asking again
    after the work in progress ends (or more bytes arrive)."""

    def __repr__(self) -> str:
        return "PAUSED"


PAUSED = Paused()

Event = ClientFrame | Rejected | Wait | Goodbye | Paused


class Meter(Protocol):
    """The rate limit a server puts on one client (a token bucket)."""

    def take(self) -> bool: ...

    def wait_time(self) -> float: ...


class _Unmetered:
    def take(self) -> bool:
        return True

    def wait_time(self) -> float:
        return 0.0


_Entry = ClientFrame | Rejected
#: How a rejected line is treated: answered in its turn, like any request.
_REJECTION = Request(frame=Help, metered=False)


class ServerConnection:
    """The server's half of one connection.

    Feed it bytes with :meth:`receive_data`; take requests with :meth:`next_event` until
    it says :data:`PAUSED` (or :class:`Wait`); report work with :meth:`begin_work` /
    :meth:`end_work` and messages with :meth:`published` / :meth:`settled`; turn answers
    into bytes with :meth:`send`.

    Args:
        max_line: longest line accepted, in bytes (``line_too_long`` is fatal).
        max_queued: most requests that may wait here (behind the rate limit or earlier
            work); one more is ``flood`` (fatal). 0 = no bound.
        meter: the rate limit metered requests pass through.
    """

    def __init__(
        self,
        *,
        max_line: int = DEFAULT_MAX_LINE,
        max_queued: int = 0,
        meter: Meter | None = None,
    ) -> None:
        self.state = NEW
        self.max_queued = max_queued
        self._splitter = LineSplitter(max_line)
        self._meter: Meter = meter if meter is not None else _Unmetered()
        self._inbox: deque[_Entry] = deque()
        #: Requests handed out and not finished (a join reading its history...).
        self._working = 0
        #: Messages published and not yet stored and delivered (or refused).
        self._in_flight = 0
        self._eof = False
        self._quit: Quit | None = None

    # --- bytes in --------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Split and decode ``data``; raises a fatal :class:`ProtocolError` for a line too
        long, after which the connection must close."""
        if self.state is CLOSED:
            return
        for line in self._splitter.feed(data):
            self._inbox.append(_decode(line))

    def check_backlog(self) -> None:
        """Raise a fatal ``flood`` when more requests wait than ``max_queued``. Asked after
        handling what could run, so a burst handled at once is no flood."""
        if self.max_queued and len(self._inbox) > self.max_queued:
            raise ProtocolError(Code.FLOOD, "too many messages too fast", fatal=True)

    def receive_eof(self) -> None:
        """The client will send nothing more: it quits once its requests are answered."""
        if not self._eof:
            self._eof = True
            self._inbox.append(Quit(reason=EOF_REASON))

    @property
    def queued(self) -> int:
        """Requests received and not handed out yet."""
        return len(self._inbox)

    # --- requests out ----------------------------------------------------------------

    def next_event(self) -> Event:
        """The next request the server may handle now, or why none can run."""
        while True:
            if self.state is CLOSED or self.state is GREETING or self._working:
                return PAUSED
            if not self._inbox:
                if self.state is QUITTING and not self._in_flight:
                    return self._goodbye()
                return PAUSED
            entry = self._inbox[0]
            request = _REJECTION if isinstance(entry, Rejected) else request_for(entry)
            if self._in_flight and not request.publishes:
                return PAUSED  # its answer must come after those messages'
            if self.state is QUITTING and not isinstance(entry, ClientPing):
                self._inbox.popleft()  # nothing is said after /salir
                continue
            if isinstance(entry, Rejected):
                return self._inbox.popleft()
            if request.metered and self.state is WELCOMED and not self._meter.take():
                return Wait(self._meter.wait_time())
            self._inbox.popleft()
            return self._admit(entry)

    def _admit(self, frame: ClientFrame) -> Event:
        kind = _kind(frame)
        if self.state is NEW and not request_for(frame).before_welcome:
            return Rejected(ProtocolError(Code.NOT_WELCOMED, 'send "hello" first'), frame.label)
        if self.state is WELCOMED and isinstance(frame, Hello):
            return Rejected(
                ProtocolError(Code.ALREADY_WELCOMED, "hello was already accepted"), frame.label
            )
        if isinstance(frame, Quit):
            self._quit = frame
        self.state = _next_state(self.state, "client", kind)
        return frame

    def _goodbye(self) -> Goodbye:
        quit = self._quit or Quit()
        return Goodbye(reason=quit.reason, label=quit.label)

    # --- work in progress --------------------------------------------------------------

    def begin_work(self) -> None:
        """The request just handed out goes on after its handler returned: nothing after
        it runs until :meth:`end_work`."""
        self._working += 1

    def end_work(self) -> None:
        self._working -= 1

    def published(self) -> None:
        """A message of this client's is on its way to the disk."""
        self._in_flight += 1

    def settled(self, count: int = 1) -> None:
        """``count`` of its messages were delivered (or refused)."""
        self._in_flight -= count

    @property
    def idle(self) -> bool:
        """Nothing of this client's is waiting or being worked on."""
        return not self._inbox and not self._working and not self._in_flight

    # --- bytes out -------------------------------------------------------------------

    def send(self, frame: ServerFrame) -> bytes:
        """``frame`` as bytes, moving the state (``welcome``, a refused ``hello``, ``bye``)."""
        self.state = _next_state(self.state, "server", _kind(frame))
        return _encode(frame)

    def close(self) -> None:
        self.state = CLOSED
        self._inbox.clear()


def _decode(line: bytes) -> _Entry:
    """One line as the typed request it stands for, or why it is not one."""
    try:
        frame = decode_client_frame(line)
        check_label(frame.label)
    except ProtocolError as exc:
        return Rejected(exc)  # a label that is not one is not echoed either
    if not isinstance(frame, Say):
        return frame
    try:
        return parse_command(frame)
    except ProtocolError as exc:
        return Rejected(exc, frame.label)


def _request_of(frame: ClientFrame) -> ClientFrame:
    """The request ``frame`` stands for. A ``/command`` this side cannot parse is still
    sent as typed: the server's answer (``unknown_command``, the usage) is the one the
    user should see, in the user's language."""
    if not isinstance(frame, Say):
        return frame
    try:
        return parse_command(frame)
    except ProtocolError:
        return frame


class ClientConnection:
    """The client's half of one connection.

    :meth:`send` turns a frame into bytes, refusing (``LocalProtocolError``) what the
    server would not handle: anything but ``hello`` (or ``ping``) first, a second
    ``hello`` unless the first was refused, anything but ``ping`` after quitting, a label
    that is not one. Requests may follow ``hello`` before its ``welcome``: the server
    handles them after it, in order.
    :meth:`receive_data` turns bytes into server frames; the server's keep-alive ``ping``
    is answered by itself (take the answer with :meth:`data_to_send`), and frames of a type
    this client does not know (a newer server) are skipped.
    """

    def __init__(self, *, max_line: int) -> None:
        self.state = NEW
        self._splitter = LineSplitter(max_line)
        self._outgoing: list[bytes] = []
        self._labels = itertools.count(1)

    def next_label(self) -> str:
        """A label no earlier request of this connection carried."""
        return f"c{next(self._labels)}"

    def send(self, frame: ClientFrame) -> bytes:
        """``frame`` as bytes; raises :class:`LocalProtocolError` when the state forbids
        it (or its label is not one), before anything is written."""
        if self.state in (QUITTING, CLOSED) and not isinstance(frame, ClientPing | ClientPong):
            raise LocalProtocolError(f"cannot send {_kind(frame)!r} after quitting")
        request = _request_of(frame)
        if self.state is NEW and not request_for(request).before_welcome:
            raise LocalProtocolError(f"send hello before {_kind(frame)!r}")
        if self.state is not NEW and isinstance(request, Hello):
            raise LocalProtocolError("hello was already sent")
        try:
            check_label(frame.label)
        except ProtocolError as exc:
            raise LocalProtocolError(exc.message) from None
        self.state = _next_state(self.state, "client", _kind(request))
        return _encode(frame)

    def receive_data(self, data: bytes) -> list[ServerFrame]:
        frames: list[ServerFrame] = []
        for line in self._splitter.feed(data):
            try:
                frame = decode_server_frame(line)
            except ProtocolError as exc:
                if exc.code is Code.UNKNOWN_TYPE:
                    continue
                raise
            if isinstance(frame, Ping):
                self._outgoing.append(_encode(ClientPong(token=frame.token)))
                continue
            self._receive(frame)
            frames.append(frame)
        return frames

    def _receive(self, frame: ServerFrame) -> None:
        if isinstance(frame, Welcome | Error | Bye):
            self.state = _next_state(self.state, "server", _kind(frame))

    def data_to_send(self) -> bytes:
        """Bytes this side owes the server (answers to its pings)."""
        out, self._outgoing = b"".join(self._outgoing), []
        return out
