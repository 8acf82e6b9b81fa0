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
from dataclasses import dataclass

__all__ = ["CHARLA", "DIALECTS", "IRC", "Dialect", "Login", "marker", "probe_pattern"]

#: Text after the timestamp, so a message is about as long as a short chat line.
FILLER = b" hola a todos, esto es una prueba"


def marker(run: str, step: int) -> bytes:
    """What every message of one step of one run contains exactly once."""
    return f"~{run}.{step}~".encode()


def probe_pattern(run: str, step: int) -> re.Pattern[bytes]:
    """Finds the send time (ns) of each latency probe of one step."""
    return re.compile(re.escape(marker(run, step)) + rb"p(\d+)")


class Login:
    """Where one client is in logging in: fed the lines the server sent, in order."""

    def __init__(self, dialect: Dialect, nick: str) -> None:
        self.dialect = dialect
        self.nick = nick
        self.done = False
        self.error: str | None = None

    def start(self) -> bytes:
        return self.dialect.hello(self.nick)

    def feed(self, line: bytes) -> bytes:
        """One line from the server; returns what to answer (often nothing)."""
        reply = self.dialect.keepalive(line)
        if reply:
            return reply
        step = self.dialect.login_step(line)
        if step is None:
            return b""
        if step.startswith(b"!"):
            said = line.strip().decode(errors="replace")[:200]
            self.error = f"{step[1:].decode()}: {said}"
            return b""
        if step == b"":
            self.done = True
            return b""
        return step


@dataclass(frozen=True, slots=True)
class Dialect:
    """One server's wire format, as far as the bench needs it."""

    name: str
    newline: bytes
    #: Lines that log in ``{nick}``.
    hello_template: bytes
    #: Prefix and suffix of a chat message to the bench room (the text goes between).
    say_prefix: bytes
    say_suffix: bytes
    #: Kind of line (see :meth:`kind`) -> what to answer while logging in; ``b""`` means
    #: logged in and in the room, ``b"!..."`` means refused.
    steps: dict[bytes, bytes]
    #: Whether the sender gets its own message back (charla: that copy is the ack).
    sender_gets_copy: bool
    #: Logins in flight at once per load generator process: ngircd listens with a
    #: backlog of 10, and connections beyond it stall in SYN retransmits for seconds.
    logins_at_once: int = 200

    def hello(self, nick: str) -> bytes:
        return self.hello_template.replace(b"{nick}", nick.encode())

    def message(self, text: bytes) -> bytes:
        return self.say_prefix + text + self.say_suffix

    def kind(self, line: bytes) -> bytes:
        """An IRC line's command or numeric; a charla frame's ``type``."""
        if self.name == "irc":
            words = line.split(b" ", 2)
            return words[1] if line.startswith(b":") and len(words) > 1 else words[0]
        start = line.find(b'"type":"') + 8
        return line[start : line.find(b'"', start)] if start >= 8 else b""

    def login_step(self, line: bytes) -> bytes | None:
        return self.steps.get(self.kind(line))

    def keepalive(self, line: bytes) -> bytes:
        """The answer to a server's ping line, or ``b""``."""
        if self.name == "irc":
            if line.startswith(b"PING"):
                return b"PONG" + line[4:].rstrip(b"\r") + b"\r\n"
            return b""
        if b'"type":"ping"' in line:
            return b'{"type":"pong"}\n'
        return b""

    def pings_in(self, data: bytes) -> list[bytes]:
        """Answers to every ping in a chunk of complete lines (rare: checked cheaply)."""
        needle = b"PING" if self.name == "irc" else b'"type":"ping"'
        if needle not in data:
            return []
        return [a for line in data.split(b"\n") if (a := self.keepalive(line))]


CHARLA = Dialect(
    name="charla",
    newline=b"\n",
    hello_template=b'{"type":"hello","nick":"{nick}","lang":"en"}\n',
    say_prefix=b'{"type":"say","text":"',
    say_suffix=b'"}\n',
    # The history of the first room ends the login: from then on the client is live.
    steps={b"history": b"", b"error": b"!refused"},
    sender_gets_copy=True,
)

IRC = Dialect(
    name="irc",
    newline=b"\r\n",
    hello_template=b"NICK {nick}\r\nUSER {nick} 0 * :charla bench\r\n",
    say_prefix=b"PRIVMSG #bench :",
    say_suffix=b"\r\n",
    steps={
        b"001": b"JOIN #bench\r\n",
        # End of NAMES: the join is complete.
        b"366": b"",
        b"433": b"!nick in use",
        b"ERROR": b"!refused",
    },
    sender_gets_copy=False,
    logins_at_once=4,
)

DIALECTS = {"charla": CHARLA, "irc": IRC}
