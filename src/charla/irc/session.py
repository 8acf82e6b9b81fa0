"""One IRC client's session, with no I/O: IRC lines in, charla requests and IRC lines out.

The session is the IRC client's half of a charla member. What the client sends becomes
the typed request frames a native client would send (:mod:`charla.irc.translate`), and
the frames the member is sent become the IRC lines a good IRC server would send; nothing
here decides anything about the chat.

Registration follows "Modern IRC": ``CAP LS 302`` … ``CAP END``, ``PASS``, ``NICK``,
``USER``, ``AUTHENTICATE PLAIN``. It ends in one charla ``hello`` (its refusals are the
IRC numerics for a taken, invalid or registered nick, or a wrong password); SASL sends
that ``hello`` with the account's password, so the password is checked exactly as for a
native client, and the account's nick is the nick.

Every request carries a label of the session's own (the client's IRCv3 ``label`` never
reaches charla): the answers find their way back to the IRC command that asked, and a
labelled command's answers are held until a ``ping`` sent behind it is answered — which,
since charla answers in order, means they are complete — and then sent as one
``labeled-response``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..protocol import (
    ClientFrame,
    ClientPing,
    ClientPong,
    Error,
    Hello,
    Me,
    Message,
    Msg,
    Say,
    ServerFrame,
)
from . import numerics as n
from .messages import (
    IrcMessage,
    IrcParseError,
    NotUtf8,
    TooLong,
    client_tags_too_long,
    parse,
    serialize,
)

if TYPE_CHECKING:
    from .chathistory import Window

__all__ = ["CAPS", "IrcOptions", "IrcSession", "Pending", "Person", "Response"]

#: Every capability offered, with its ``CAP LS 302`` value.
CAPS: dict[str, str] = {
    "message-tags": "",
    "server-time": "",
    "echo-message": "",
    "labeled-response": "",
    "batch": "",
    "draft/chathistory": "",
    "sasl": "PLAIN",
    "account-tag": "",
    "away-notify": "",
    "multi-prefix": "",
    "cap-notify": "",
    "draft/multiline": "",  # filled in by IrcOptions: max-bytes, max-lines
    "draft/message-redaction": "",
    "draft/read-marker": "",
}
#: Most frames held between a SASL welcome and ``CAP END``.
MAX_HELD = 1000
#: Most lines held while charla answers the ``hello`` (more are refused with 451).
MAX_EARLY_LINES = 32
#: Most requests whose answers are still told apart by label.
MAX_PENDING = 4096
#: Requests whose last answer is the sender's copy of the message (or its refusal; an
#: away notice for a direct message comes before the copy).
_ANSWERED_BY_THEIR_MESSAGE = (Say, Me, Msg)
#: Most messages whose time is kept to turn a ``MARKREAD`` timestamp into an id.
MAX_SHOWN = 2000
#: Longest SASL payload (base64), as 400-byte chunks.
MAX_SASL = 1200
#: Longest username and real name kept from ``USER``.
USERLEN = 16
REALNAMELEN = 100
#: What a username may not hold: it is shown in ``user@host`` masks.
_NOT_IN_USERNAME = str.maketrans("", "", " !@*?,:#")
_HELLO = "hello"


@dataclass(frozen=True, slots=True)
class Person:
    """What ``WHO`` and ``WHOIS`` tell of a user: its ``USER`` line for an IRC user; its
    nick and :data:`NATIVE_REALNAME` for a charla client's."""

    nick: str
    username: str
    realname: str
    #: Its away message, if it is away.
    away: str | None = None
    #: A session of it is a program (bot mode, ``+B``).
    bot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class IrcOptions:
    """What the session needs to know about its server."""

    server_name: str
    network: str
    version: str
    created: str
    motd: str | None
    max_text: int
    max_page: int
    server_password: bool
    #: Whether a nick is a registered account (answered from memory).
    is_registered: Callable[[str], bool]
    #: A nick's display form if somebody has it here or in the cluster.
    find_nick: Callable[[str], str | None]
    #: Whether a channel exists: somebody is in it (here or in the cluster), or it has
    #: a topic. charla has every room name; IRC has the channels in use.
    channel_exists: Callable[[str], bool]
    #: Whether a nick is in a channel (here or in the cluster): what the hub's rooms say.
    in_channel: Callable[[str, str], bool]
    #: Who somebody online is (None: nobody has that nick).
    person: Callable[[str], Person | None]
    #: A nick and the nicks it shares a room with, at most ``limit`` of them: whom a
    #: ``WHO`` mask may list (every charla user is invisible, ``+i``).
    neighbours: Callable[[str, int], list[str]]

    @property
    def max_lines(self) -> int:
        return 100


@dataclass(slots=True)
class OpenBatch:
    """A client's ``draft/multiline`` batch being received."""

    target: str
    lines: list[str] = field(default_factory=list)
    #: Where a ``draft/multiline-concat`` line met the line before it, in the joined text.
    wraps: list[int] = field(default_factory=list)
    #: The opening's label: the message's echo answers it, when the batch closes.
    label: str | None = None
    #: The opening's client-only tags: the message's.
    tags: dict[str, str] | None = None
    #: A line broke the batch's rules: it is refused when it closes.
    invalid: bool = False


@dataclass(slots=True)
class Response:
    """The lines of one IRC command, held until all of it is answered: sent together,
    after the answers of the commands before it, as one labelled response if asked."""

    label: str | None
    lines: list[IrcMessage] = field(default_factory=list)
    open: bool = True
    #: Barriers sent behind its requests and not answered yet: sent when the last is.
    barriers: int = 0
    #: Waiting in line behind the responses of the commands before it, and answered.
    queued: bool = False
    ready: bool = False


@dataclass(slots=True)
class Pending:
    """The IRC command a charla request was sent for."""

    command: str
    target: str = ""
    response: Response | None = None
    #: What the command said that charla's answer does not repeat (a topic set, a mode
    #: string), or who made the change a follow-up read was asked for.
    detail: str = ""
    #: For a barrier: how many requests had been sent before it.
    barrier_at: int = 0
    #: The request is a message: its copy (or its refusal) is its last answer.
    ends_with_message: bool = False
    #: For ``CHATHISTORY``: what to keep of the page charla answers with.
    window: Window | None = None
    #: What to send instead if charla refuses the message a ``+draft/reply`` names (for a
    #: ``TAGMSG``: if it refuses the reaction, the tags to relay).
    without_reply: ClientFrame | None = None

    def part(self, command: str, target: str) -> Pending:
        """One of several requests sent for this command: its lines join this one's."""
        return Pending(command, target, self.response)


class IrcSession:
    """Feed it lines (:meth:`receive_line`) and frames (:meth:`receive_frame`); take the
    IRC bytes for the client and the frames for the member with :meth:`take`."""

    def __init__(self, options: IrcOptions) -> None:
        self.options = options
        self.nick = "*"
        #: The username and real name of ``USER``.
        self.user: str | None = None
        self.realname = ""
        self.caps: set[str] = set()
        #: ``caps`` frozen, for caches keyed by what a client negotiated.
        self.caps_key: frozenset[str] = frozenset()
        self.cap_version = 0
        self.negotiating = False
        self.registered = False
        self.welcomed = False
        self.hello_sent = False
        self.pass_: str | None = None
        self.account: str | None = None
        #: Bot mode (``+B``), as charla last answered it.
        self.bot = False
        self.channels: set[str] = set()
        self.closing = False
        self._sasl: list[str] | None = None
        self._to_client: list[bytes] = []
        self._to_server: list[ClientFrame] = []
        self._pending: OrderedDict[str, Pending] = OrderedDict()
        self._labels = itertools.count(1)
        self._batches = itertools.count(1)
        self._held: list[ServerFrame] = []
        #: Lines that came while charla was answering the ``hello``: a script may send
        #: NICK, USER, JOIN and PRIVMSG at once, as to any IRC server, and they are read
        #: in order once the ``hello`` is answered.
        self._early: list[str | NotUtf8 | TooLong] = []
        #: Responses waiting for barriers, in the order of their commands: each is sent
        #: once it and those before it are answered.
        self._waiting: deque[Response] = deque()
        #: Requests sent that get an answer, and how many of them are known answered.
        self._sent = 0
        self._settled = 0
        #: Open ``draft/multiline`` batches of the client, by reference.
        self.multiline: dict[str, OpenBatch] = {}
        #: The last rename told: charla tells it once per shared room, IRC once.
        self.last_rename: tuple[str, str] | None = None
        #: The last user whose quit was told: charla tells it once per shared room.
        self.last_quit: str | None = None
        #: With ``draft/read-marker``: the messages shown, id -> (target, time), oldest
        #: first, and each joined room's marker until its history has been shown.
        self.shown: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self.markers: dict[str, int] = {}
        #: Follow-up reads asked, (kind, channel) -> who made a change since ("": nobody).
        self.follow_ups: dict[tuple[str, str], str] = {}

    # --- output ------------------------------------------------------------------------

    def take(self) -> tuple[list[bytes], list[ClientFrame]]:
        """The bytes owed to the IRC client and the frames owed to the member."""
        out, self._to_client = self._to_client, []
        frames, self._to_server = self._to_server, []
        return out, frames

    @property
    def source(self) -> str:
        return mask(self.nick)

    def emit(self, message: IrcMessage, pending: Pending | None = None) -> None:
        """Send ``message``, or hold it for its labelled command's response."""
        response = pending.response if pending is not None else None
        if response is not None and response.open:
            response.lines.append(message)
        else:
            self._to_client.append(serialize(message))

    def reply(self, numeric: str, *params: str, pending: Pending | None = None) -> None:
        """A numeric from the server to this client."""
        self.emit(
            IrcMessage(numeric, [self.nick, *params], source=self.options.server_name), pending
        )

    def notice(self, text: str, pending: Pending | None = None) -> None:
        for line in text.splitlines() or [""]:
            self.emit(
                IrcMessage("NOTICE", [self.nick, line or " "], source=self.options.server_name),
                pending,
            )

    def request(self, frame: ClientFrame, pending: Pending) -> None:
        """Send ``frame`` to the member, answers coming back to ``pending``."""
        label = f"i{next(self._labels)}"
        self._pending[label] = pending
        pending.ends_with_message = isinstance(frame, _ANSWERED_BY_THEIR_MESSAGE)
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)
        frame.label = label
        self._to_server.append(frame)
        if not isinstance(frame, ClientPong):
            self._sent += 1

    def saw(self, msgid: int, target: str, ts: str) -> None:
        """The client was shown message ``msgid`` (kept only for read markers)."""
        if "draft/read-marker" in self.caps:
            self.shown[msgid] = (target.casefold(), ts)
            while len(self.shown) > MAX_SHOWN:
                self.shown.popitem(last=False)

    def message_at(self, target: str, stamp: str) -> int | None:
        """The newest message of ``target`` shown at or before the time ``stamp``."""
        key = target.casefold()
        at = [i for i, (where, ts) in self.shown.items() if where == key and ts <= stamp]
        return max(at, default=None)

    @property
    def unanswered(self) -> int:
        """Requests whose answers are still awaited (and kept)."""
        return len(self._pending)

    def pending_for(self, frame: ServerFrame) -> Pending | None:
        """The command ``frame`` answers, if it answers one. A message's entry goes with
        its last answer: a bot saying thousands of lines keeps none of them."""
        if frame.label is None:
            return None
        pending = self._pending.get(frame.label)
        if pending is not None and pending.ends_with_message and isinstance(frame, Message | Error):
            del self._pending[frame.label]
        return pending

    def new_batch(self) -> str:
        return f"b{next(self._batches)}"

    def error(self, reason: str) -> None:
        """Tell the client the link is closing (``ERROR``); the transport closes it."""
        if not self.closing:
            self.closing = True
            self._to_client.append(serialize(IrcMessage("ERROR", [f"Closing link: {reason}"])))

    # --- lines in ----------------------------------------------------------------------

    def receive_line(self, line: str | NotUtf8 | TooLong) -> None:
        if self.closing:
            return
        if self.hello_sent and not self.welcomed and len(self._early) < MAX_EARLY_LINES:
            self._early.append(line)
            return
        text = line.text if isinstance(line, NotUtf8) else line
        if isinstance(text, TooLong) or client_tags_too_long(text):
            self.reply(n.ERR_INPUTTOOLONG, "Input line was too long")
            return
        try:
            message = parse(text)
        except IrcParseError:
            return  # an empty or tag-only line: ignored, as servers do
        irc_label = message.tags.get("label") if "labeled-response" in self.caps else None
        response = Response(irc_label[:64] if irc_label else None)
        pending = Pending(message.command, response=response)
        busy = self.registered and self._sent > self._settled
        sent = self._sent
        if isinstance(line, NotUtf8):  # UTF8ONLY: refused, never relayed
            why = "Message rejected: it is not UTF-8"
            self.emit(IrcMessage("FAIL", [message.command, "INVALID_UTF8", why]), pending)
        else:
            self._dispatch(message, pending)
        asked = self._sent > sent
        if response.label is None and not (busy and response.lines):
            self._respond(pending)  # nothing to wait for: lines now, answers as they come
        elif asked or busy:
            self._barrier(pending)
        else:
            self._respond(pending)

    def _barrier(self, pending: Pending) -> None:
        """Answer ``pending`` once a ping sent now is answered: charla answers in order."""
        pending.barrier_at = self._sent
        response = pending.response
        if response is not None:
            if not response.queued:
                response.queued = True
                self._waiting.append(response)
            response.barriers += 1
        self.request(ClientPing(token="barrier"), pending)

    def send_again(self, frame: ClientFrame, pending: Pending) -> None:
        """Send ``frame`` for a command that is partly answered already: a response still
        held waits for its answers too."""
        self.request(frame, pending)
        response = pending.response
        if response is not None and response.open:
            self._barrier(Pending(pending.command, pending.target, response))

    def _dispatch(self, message: IrcMessage, pending: Pending) -> None:
        from .translate import COMMANDS

        command = message.command
        if command in _REGISTRATION:
            _REGISTRATION[command](self, message, pending)
        elif not self.registered:
            if command in ("PING", "QUIT"):
                COMMANDS[command](self, message, pending)
            else:
                self.reply(n.ERR_NOTREGISTERED, "You have not registered", pending=pending)
        elif command in COMMANDS:
            COMMANDS[command](self, message, pending)
        else:
            self.reply(n.ERR_UNKNOWNCOMMAND, command[:32], "Unknown command", pending=pending)

    def _respond(self, pending: Pending) -> None:
        """A command is answered: its lines go out after those of the commands before it."""
        response = pending.response
        if response is None or not response.open:
            return
        if not response.queued:
            self._send_response(response)
            return
        response.ready = True
        waiting = self._waiting
        # A barrier lost to MAX_PENDING never comes: past that many, the oldest goes.
        while waiting and (waiting[0].ready or len(waiting) > MAX_PENDING):
            self._send_response(waiting.popleft())

    def _send_response(self, response: Response) -> None:
        """A command's lines (labelled, as one response, if asked)."""
        if not response.open:
            return
        response.open = False
        lines, label = response.lines, response.label
        if label is None:
            for line in lines:
                self.emit(line)
            return
        if not lines:
            lines = [IrcMessage("ACK", source=self.options.server_name)]
        if len(lines) == 1 or "batch" not in self.caps or _one_batch(lines):
            lines[0].tags["label"] = label
            for line in lines:
                self.emit(line)
            return
        ref = self.new_batch()
        opening = IrcMessage(
            "BATCH", [f"+{ref}", "labeled-response"], self.options.server_name, {"label": label}
        )
        self.emit(opening)
        for line in lines:
            line.tags.setdefault("batch", ref)  # a line of a nested batch stays in it
            self.emit(line)
        self.emit(IrcMessage("BATCH", [f"-{ref}"], self.options.server_name))

    # --- frames in ---------------------------------------------------------------------

    def receive_frame(self, frame: ServerFrame) -> None:
        from .translate import render

        if self.closing:
            return
        if not self.registered and self._closes(frame):
            return
        if not self.registered and not self._registering(frame):
            if len(self._held) >= MAX_HELD:
                self.error("registration not completed")
                return
            self._held.append(frame)
            return
        if self.registered:
            render(self, frame)

    def barrier_answered(self, label: str | None) -> None:
        pending = self._pending.pop(label, None) if label else None
        if pending is None:
            return
        self._settled = max(self._settled, pending.barrier_at)
        response = pending.response
        if response is not None:
            response.barriers -= 1
            if response.barriers > 0:
                return  # a request sent again after this barrier is still unanswered
        self._respond(pending)

    # --- registration ------------------------------------------------------------------

    def _closes(self, frame: ServerFrame) -> bool:
        """A refusal before registration (server full, no hello in time) ends it."""
        from ..protocol import Bye, Error

        if isinstance(frame, Bye):
            self.error(frame.reason or "bye")
            return True
        if isinstance(frame, Error) and frame.label is None:
            self.error(frame.message)
            return True
        return False

    def _registering(self, frame: ServerFrame) -> bool:
        """Handle a frame that answers the ``hello``; False for anything else."""
        from ..protocol import Error, Welcome

        if frame.label not in (_HELLO, "sasl"):
            return False
        if isinstance(frame, Welcome) and not self.welcomed:
            self.welcomed = True
            self.nick = frame.nick
            if frame.label == "sasl":
                self.account = frame.nick
                self.reply(
                    n.RPL_LOGGEDIN,
                    self.source,
                    frame.nick,
                    f"You are now logged in as {frame.nick}",
                )
                self.reply(n.RPL_SASLSUCCESS, "SASL authentication successful")
            self.try_register()
            self._read_early_lines()
            return True
        if isinstance(frame, Error) and not self.welcomed:
            self.hello_sent = False
            self._hello_refused(frame.code, frame.message, sasl=frame.label == "sasl")
            self._read_early_lines()
            return True
        return False

    def _read_early_lines(self) -> None:
        """The ``hello`` is answered: read the lines that came meanwhile, in order (one
        that sends another ``hello``, a new NICK after a refusal, holds those after it)."""
        early, self._early = self._early, []
        for line in early:
            self.receive_line(line)

    def _hello_refused(self, code: str, message: str, *, sasl: bool) -> None:
        from ..protocol import Code

        if sasl:
            self.reply(n.ERR_SASLFAIL, f"SASL authentication failed: {message}")
        elif code in (Code.BAD_PASSWORD, Code.TOO_MANY_ATTEMPTS):
            self.reply(n.ERR_PASSWDMISMATCH, message)
        else:
            numeric = n.ERROR_NUMERICS.get(Code(code), n.ERR_ERRONEUSNICKNAME)
            self.reply(numeric, self.nick, message)
            self.nick = "*"

    def try_register(self) -> None:
        """Finish registration once NICK, USER and CAP END (and SASL) are through."""
        if self.registered or self.negotiating or self.user is None or self.nick == "*":
            return
        if not self.welcomed:
            if not self.hello_sent:
                self._send_hello(self.nick, label=_HELLO)
            return
        self.registered = True
        self._welcome_burst()
        held, self._held = self._held, []
        for frame in held:
            self.receive_frame(frame)

    def _send_hello(self, nick: str, *, label: str, password: str | None = None) -> None:
        """The charla ``hello``: PASS is the server password, or, on a server without one,
        the password of a registered nick (as many IRC clients send it)."""
        if password is None and not self.options.server_password:
            password = self.pass_
        server_password = self.pass_ if self.options.server_password else None
        self.hello_sent = True
        # away-notify is always asked (the capability may be requested after registration
        # too); no room is: an IRC server never joins anybody anywhere.
        hello = Hello(
            nick=nick,
            password=password,
            server_password=server_password,
            away_notify=True,
            join_default=False,
            lang="en",  # IRC numerics and clients are English: so are charla's texts here
            label=label,
        )
        self._to_server.append(hello)

    def _welcome_burst(self) -> None:
        from .channels import ALL_CHANNEL_MODES
        from .translate import isupport_tokens
        from .usermodes import USER_MODES

        o = self.options
        self.reply(n.RPL_WELCOME, f"Welcome to the {o.network} IRC network, {self.nick}")
        self.reply(n.RPL_YOURHOST, f"Your host is {o.server_name}, running charla {o.version}")
        self.reply(n.RPL_CREATED, f"This server was created {o.created}")
        self.reply(
            n.RPL_MYINFO, o.server_name, f"charla-{o.version}", USER_MODES, ALL_CHANNEL_MODES
        )
        tokens = isupport_tokens(o)
        for start in range(0, len(tokens), 12):
            self.reply(n.RPL_ISUPPORT, *tokens[start : start + 12], "are supported by this server")
        if o.motd:
            self.reply(n.RPL_MOTDSTART, f"- {o.server_name} Message of the day -")
            for line in o.motd.splitlines():
                self.reply(n.RPL_MOTD, f"- {line}")
            self.reply(n.RPL_ENDOFMOTD, "End of /MOTD command.")
        else:
            self.reply(n.ERR_NOMOTD, "MOTD File is missing")

    # --- the registration commands -------------------------------------------------------

    def cap(self, message: IrcMessage, pending: Pending) -> None:
        sub = message.param(0).upper()
        if sub == "LS":
            if not self.registered:
                self.negotiating = True
            self.cap_version = max(self.cap_version, _int(message.param(1), 0))
            if self.cap_version >= 302:
                self.caps.add("cap-notify")
                self.caps_key = frozenset(self.caps)
            self._cap_reply("LS", self.offered(), pending)
        elif sub == "LIST":
            self._cap_reply("LIST", sorted(self.caps), pending)
        elif sub == "REQ":
            if not self.registered:
                self.negotiating = True
            self._cap_req(message.param(1), pending)
        elif sub == "END":
            self.negotiating = False
            self.try_register()
        else:
            self.reply("410", sub[:32] or "*", "Invalid CAP command", pending=pending)

    def offered(self) -> list[str]:
        values = dict(CAPS)
        values["draft/multiline"] = (
            f"max-bytes={self.options.max_text},max-lines={self.options.max_lines}"
        )
        if self.cap_version < 302:
            return list(values)
        return [f"{name}={value}" if value else name for name, value in values.items()]

    def _cap_reply(self, sub: str, caps: list[str], pending: Pending) -> None:
        self.emit(
            IrcMessage("CAP", [self.nick, sub, " ".join(caps)], self.options.server_name),
            pending,
        )

    def _cap_req(self, wanted: str, pending: Pending) -> None:
        names = wanted.split()
        known = all(name.removeprefix("-") in CAPS for name in names)
        if not names or not known:
            self._cap_reply("NAK", [wanted[:400]], pending)
            return
        for name in names:
            if name.startswith("-"):
                self.caps.discard(name[1:])
            else:
                self.caps.add(name)
        self.caps_key = frozenset(self.caps)
        self._cap_reply("ACK", [wanted], pending)

    def pass_command(self, message: IrcMessage, pending: Pending) -> None:
        if self.registered or self.hello_sent:
            self.reply(n.ERR_ALREADYREGISTERED, "You may not reregister", pending=pending)
        elif not message.params:
            self.reply(n.ERR_NEEDMOREPARAMS, "PASS", "Not enough parameters", pending=pending)
        else:
            self.pass_ = message.params[0]

    def nick_command(self, message: IrcMessage, pending: Pending) -> None:
        wanted = message.param(0).strip()
        if not wanted:
            self.reply(n.ERR_NONICKNAMEGIVEN, "No nickname given", pending=pending)
        elif self.registered:
            from ..protocol import Nick

            pending.target = wanted
            self.request(Nick(nick=wanted), pending)
        elif not self.welcomed and not self.hello_sent:
            self.nick = wanted[:64]
            self.try_register()

    def user_command(self, message: IrcMessage, pending: Pending) -> None:
        if self.registered or self.user is not None:
            self.reply(n.ERR_ALREADYREGISTERED, "You may not reregister", pending=pending)
        elif len(message.params) < 4 or not message.params[0] or not message.params[3]:
            # "Modern IRC": an empty username (or real name) is not enough parameters.
            self.reply(n.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters", pending=pending)
        else:
            username = _username(message.params[0])
            self.user = username or _username(self.nick) or "user"
            realname = _printable(message.params[3])
            self.realname = " ".join(realname.split())[:REALNAMELEN] or self.user
            self.try_register()

    def authenticate(self, message: IrcMessage, pending: Pending) -> None:
        data = message.param(0)
        if self.account is not None:
            self.reply(n.ERR_SASLALREADY, "You have already authenticated", pending=pending)
        elif self.registered or self.welcomed:  # charla has no SASL after registration
            self.reply(n.ERR_ALREADYREGISTERED, "You may not reregister", pending=pending)
        elif data == "*":
            self._sasl = None
            self.reply(n.ERR_SASLABORTED, "SASL authentication aborted", pending=pending)
        elif self._sasl is None:
            if data.upper() != "PLAIN" or self.hello_sent:
                self.reply(n.RPL_SASLMECHS, "PLAIN", "are available SASL mechanisms")
                self.reply(n.ERR_SASLFAIL, "SASL authentication failed", pending=pending)
                return
            self._sasl = []
            self.emit(IrcMessage("AUTHENTICATE", ["+"]), pending)
        else:
            self._sasl_chunk(data, pending)

    def _sasl_chunk(self, data: str, pending: Pending) -> None:
        assert self._sasl is not None
        if data != "+":
            self._sasl.append(data)
        if sum(map(len, self._sasl)) > MAX_SASL:
            self._sasl = None
            self.reply(n.ERR_SASLTOOLONG, "SASL message too long", pending=pending)
            return
        if len(data) == 400:
            return  # more to come
        payload, self._sasl = "".join(self._sasl), None
        credentials = _plain_credentials(payload)
        if credentials is None or not self.options.is_registered(credentials[0]):
            self.reply(n.ERR_SASLFAIL, "SASL authentication failed", pending=pending)
            return
        account, password = credentials
        self._send_hello(account, label="sasl", password=password)


def _plain_credentials(payload: str) -> tuple[str, str] | None:
    """(account, password) of a SASL PLAIN payload, or None if it is not one."""
    try:
        raw = base64.b64decode(payload, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split("\0")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        return None
    authzid, authcid, password = parts
    if authzid and authzid != authcid:
        return None  # nobody may act as another account
    return authcid, password


def _printable(text: str) -> str:
    """``text`` without control, format (bidi) or unassigned characters: others see it."""
    return "".join(c for c in text if c.isprintable())


def _username(text: str) -> str:
    """A ``USER`` username as others see it in ``WHO`` and ``WHOIS``."""
    return _printable(text).translate(_NOT_IN_USERNAME)[:USERLEN]


def _int(text: str, default: int) -> int:
    return int(text) if text.isdigit() and len(text) < 6 else default


#: The host every charla user has on IRC (charla tells nobody's address).
HOST = "charla"


def mask(nick: str) -> str:
    """The ``nick!user@host`` a charla user has on IRC."""
    return f"{nick}!{nick}@{HOST}"


_Handler = Callable[[IrcSession, IrcMessage, Pending], None]
_REGISTRATION: dict[str, _Handler] = {
    "CAP": IrcSession.cap,
    "PASS": IrcSession.pass_command,
    "NICK": IrcSession.nick_command,
    "USER": IrcSession.user_command,
    "AUTHENTICATE": IrcSession.authenticate,
}


def _one_batch(lines: list[IrcMessage]) -> bool:
    """Whether ``lines`` are one batch, opening to end: its opening carries the label.
    Batches opened inside it (a history's multiline messages) are in it too."""
    first, last = lines[0], lines[-1]
    ref = first.param(0)[1:]
    if not (
        first.command == last.command == "BATCH"
        and first.param(0) == f"+{ref}"
        and last.param(0) == f"-{ref}"
    ):
        return False
    inside = {ref}
    for line in lines[1:-1]:
        if line.tags.get("batch") not in inside:
            return False
        if line.command == "BATCH" and line.param(0).startswith("+"):
            inside.add(line.param(0)[1:])
    return True
