"""What the load generator says to each kind of server, as bytes (no I/O here).

A :class:`Dialect` knows how to log a client in and join the bench room, what one chat
message looks like on the wire, and how to answer a server's keep-alive. charla speaks
its JSON lines; :data:`IRC` speaks RFC 1459 to ngircd. Everything else — pacing, counting,
latency — is the same code for both, so the two servers get the identical workload.

Every bench message carries a *marker* ``~RUN.STEP~`` followed by ``p`` (a latency probe)
or ``m`` and the sender's monotonic clock in nanoseconds. A receiver counts deliveries of
a step with one ``bytes.count`` of the marker over everything it read, and measures
latency only on probes with one regex scan: no per-line Python work on the hot path.
"""

from __future__ import annotations

import re

from ..protocol import ClientPong, Hello, Say, encode

__all__ = ["CHARLA", "DIALECTS", "IRC", "Dialect", "Login", "marker", "probe_pattern"]

#: Text after the timestamp, so a message is about as long as a short chat line.
FILLER = b" hola a todos, esto es una prueba"


def marker(run: str, step: int) -> bytes:
    """What every message of one step of one run contains exactly once."""
    return f"~{run}.{step}~".encode()


def probe_pattern(run: str, step: int) -> re.Pattern[bytes]:
    """Finds the send time (ns) of each latency probe of one step."""
    return re.compile(re.escape(marker(run, step)) + rb"p(\d+)")


class Dialect:
    """One server's wire format, as far as the bench needs it."""

    name = ""
    #: Whether the sender gets its own message back (charla: that copy is the ack).
    sender_gets_copy = False
    #: Logins in flight at once per load generator process.
    logins_at_once = 200
    #: What a server's keep-alive line contains.
    ping_needle = b""
    #: What a client sends now and then so that a server never needs to ping it.
    keepalive_frame = b""

    def hello(self, nick: str, room: str | None) -> bytes:
        raise NotImplementedError

    def message(self, room: str | None, text: bytes) -> bytes:
        raise NotImplementedError

    def kind(self, line: bytes) -> bytes:
        raise NotImplementedError

    def keepalive(self, line: bytes) -> bytes:
        """The answer to a server's ping line, or ``b""``."""
        raise NotImplementedError

    def login_step(self, login: Login, kind: bytes, line: bytes) -> bytes:
        """Advance ``login`` on a line of ``kind``; returns what to send back."""
        raise NotImplementedError


class Login:
    """Where one client is in logging in: fed the lines the server sent, in order."""

    def __init__(self, dialect: Dialect, nick: str, room: str | None = None) -> None:
        self.dialect = dialect
        self.nick = nick
        self.room = room
        self.done = False
        self.error: str | None = None
        self.histories = 0

    def start(self) -> bytes:
        return self.dialect.hello(self.nick, self.room)

    def feed(self, line: bytes) -> bytes:
        """One line from the server; returns what to answer (often nothing)."""
        reply = self.dialect.keepalive(line)
        if reply:
            return reply
        return self.dialect.login_step(self, self.dialect.kind(line), line)

    def fail(self, why: str, line: bytes) -> bytes:
        said = line.strip().decode(errors="replace")[:200]
        self.error = f"{why}: {said}"
        return b""


class Charla(Dialect):
    """charla's JSON lines, written and read with the protocol's codec. A client with a
    room of its own joins only that room (``join_default`` off); the others join the
    default room.

    The bench clients do not go through :class:`~charla.protocol.ClientConnection`:
    its state check parses every ``say`` for a ``/command`` (about 2 µs a message
    against 0.5 µs for :func:`~charla.protocol.encode`, measured), and its per-line
    decoding would replace the single ``bytes.count`` receivers rely on (2.6 µs a line
    against 0.1 µs). A bench client sends only ``hello``, then ``say`` and ``pong``,
    which every state after ``welcome`` allows.
    """

    name = "charla"
    sender_gets_copy = True
    ping_needle = b'"type":"ping"'
    # Any frame proves a client alive; a pong needs no answer.
    keepalive_frame = encode(ClientPong())

    def hello(self, nick: str, room: str | None) -> bytes:
        rooms = [room] if room else []
        return encode(Hello(nick=nick, lang="en", rooms=rooms, join_default=room is None))

    def message(self, room: str | None, text: bytes) -> bytes:
        return encode(Say(room=room, text=text.decode()))

    def kind(self, line: bytes) -> bytes:
        start = line.find(b'"type":"') + 8
        return line[start : line.find(b'"', start)] if start >= 8 else b""

    def keepalive(self, line: bytes) -> bytes:
        return self.keepalive_frame if self.ping_needle in line else b""

    def login_step(self, login: Login, kind: bytes, line: bytes) -> bytes:
        if kind == b"error":
            return login.fail("refused", line)
        if kind == b"history":
            # One room joined: its history ends the join.
            login.done = True
        return b""


class Irc(Dialect):
    """RFC 1459, as ngircd speaks it."""

    name = "irc"
    ping_needle = b"PING"
    keepalive_frame = b"PING :bench\r\n"
    # ngircd listens with a backlog of 10: connections beyond it stall in SYN
    # retransmits for seconds.
    logins_at_once = 4

    def hello(self, nick: str, room: str | None) -> bytes:
        return f"NICK {nick}\r\nUSER {nick} 0 * :charla bench\r\n".encode()

    def message(self, room: str | None, text: bytes) -> bytes:
        return f"PRIVMSG #{room or 'bench'} :".encode() + text + b"\r\n"

    def kind(self, line: bytes) -> bytes:
        """The command or numeric: the first word, or the second after a prefix."""
        words = line.split(b" ", 2)
        return words[1] if line.startswith(b":") and len(words) > 1 else words[0]

    def keepalive(self, line: bytes) -> bytes:
        if line.startswith(b"PING"):
            return b"PONG" + line[4:].rstrip(b"\r") + b"\r\n"
        return b""

    def login_step(self, login: Login, kind: bytes, line: bytes) -> bytes:
        if kind == b"001":
            return f"JOIN #{login.room or 'bench'}\r\n".encode()
        # End of NAMES of the bench room (not of the #general charla joins first).
        if kind == b"366" and f" #{login.room or 'bench'} ".encode() in line:
            login.done = True
        elif kind in (b"433", b"ERROR"):
            return login.fail("nick in use" if kind == b"433" else "refused", line)
        return b""


CHARLA = Charla()
IRC = Irc()
DIALECTS: dict[str, Dialect] = {"charla": CHARLA, "irc": IRC}
