"""IRC commands as charla requests, and charla frames as IRC lines.

Commands (after registration): each IRC command is one small function that sends the
typed requests a native client would send (``JOIN`` → ``join``, ``PRIVMSG #room`` →
``say``, ``PRIVMSG nick`` → ``msg``, CTCP ``ACTION`` → ``me``, ``NAMES`` → ``users``,
``LIST`` → ``rooms``, ``NICK`` → ``nick``, ``QUIT`` → ``quit``, ``CHATHISTORY`` →
``history``, ``AWAY`` → ``away``/``back``), or answers at once what needs no request
(``PING``, user ``MODE``). Channel operators are :mod:`charla.irc.channels`; replies,
reactions, redaction and read markers :mod:`charla.irc.conversation`.

Frames: :func:`render` turns each frame the member is sent into the lines an IRC client
expects (``message`` → ``PRIVMSG`` with ``time``/``msgid``/``account`` tags as
negotiated; a join or leave → ``JOIN``/``PART``; ``users`` → 353/366; ``error`` → the
standard numeric).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable

import msgspec

from ..protocol import (
    Away,
    Back,
    Bans,
    Bye,
    ClientPong,
    ClientRooms,
    ClientUsers,
    Code,
    Deleted,
    Edited,
    Error,
    History,
    Join,
    Joined,
    Me,
    Message,
    Msg,
    Part,
    Parted,
    Ping,
    Pong,
    Quit,
    Reaction,
    Read,
    RelayedTags,
    RoomMode,
    Rooms,
    Say,
    ServerFrame,
    System,
    Typing,
    UserAway,
    UserBack,
    Users,
    nick_key,
    split_at_wraps,
)
from ..server.rooms import leave_reason
from . import numerics as n
from .channels import (
    CHANNEL_MODES,
    FOLLOW_UPS,
    MEMBER_PREFIXES,
    account_tag,
    channel,
    channel_mode,
    follow_up_answered,
    need,
    prefixed,
    render_bans,
    render_room_mode,
    render_system,
    topic_reply,
)
from .channels import COMMANDS as CHANNEL_COMMANDS
from .chathistory import chathistory
from .conversation import COMMANDS as CONVERSATION_COMMANDS
from .conversation import (
    REPLY,
    client_tags,
    fail_for,
    render_deleted,
    render_edited,
    render_reaction,
    render_read,
    render_tags,
    render_typing,
    reply_to,
    tell_marker,
)
from .messages import MAX_BODY, IrcMessage
from .session import HOST, IrcOptions, IrcSession, OpenBatch, Pending, Person, mask
from .usermodes import BOT_MODE, render_bot, user_mode

__all__ = ["CHANNEL_MODES", "COMMANDS", "MEMBER_PREFIXES", "isupport_tokens", "render"]

#: Longest away message (charla's).
MAX_AWAY = 300
#: Most targets of one PRIVMSG, NOTICE, JOIN or PART.
MAX_TARGETS = 4
#: Most users a ``WHO`` mask lists.
MAX_WHO = 500
#: Messages replayed on join to a client without ``batch``.
SHORT_REPLAY = 10
#: Fewest bytes of text a line carries, whatever its source and target.
MIN_CHUNK = 64
_CTCP = "\x01"
_ACTION_WRAPPING = len(f"{_CTCP}ACTION {_CTCP}")


def isupport_tokens(options: IrcOptions) -> list[str]:
    modes = "".join(m for m, _ in MEMBER_PREFIXES)
    prefixes = "".join(p for _, p in MEMBER_PREFIXES)
    return [
        "CASEMAPPING=rfc8265",
        "CHANTYPES=#",
        "CHANNELLEN=33",
        "NICKLEN=32",
        f"CHANMODES=b,,,{CHANNEL_MODES}",
        f"PREFIX=({modes}){prefixes}",
        f"NETWORK={options.network}",
        f"TARGMAX=PRIVMSG:{MAX_TARGETS},NOTICE:{MAX_TARGETS},JOIN:{MAX_TARGETS},PART:{MAX_TARGETS}",
        f"CHATHISTORY={options.max_page}",
        "MSGREFTYPES=msgid",
        "LINELEN=512",
        "UTF8ONLY",
        f"BOT={BOT_MODE}",
    ]


def _targets(text: str) -> list[str]:
    return [t for t in text.split(",") if t][:MAX_TARGETS]


# --- commands --------------------------------------------------------------------------


def _ping(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not message.params:
        session.reply(n.ERR_NOORIGIN, "No origin specified", pending=pending)
        return
    server = session.options.server_name
    session.emit(IrcMessage("PONG", [server, message.params[0]], server), pending)


def _pong(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    session.request(ClientPong(token=message.param(0)[:64] or None), pending)


def _quit(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    session.request(Quit(reason=message.param(0)[:200]), pending)


def _join(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 1, pending):
        return
    if message.params[0] == "0":
        for room in sorted(session.channels):
            session.request(Part(room=room), pending.part("PART", channel(room)))
        return
    for target in _targets(message.params[0]):
        if not target.startswith("#"):
            session.reply(n.ERR_NOSUCHCHANNEL, target[:64], "No such channel", pending=pending)
            continue
        session.request(Join(room=target), pending.part("JOIN", target))
        # Asked now, so that the names come inside a labelled JOIN's response.
        session.request(ClientUsers(room=target), pending.part("JOIN", target))


def _part(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 1, pending):
        return
    reason = leave_reason(message.param(1))
    for target in _targets(message.params[0]):
        part = pending.part("PART", target)
        part.detail = reason or ""  # our own PART line carries it too
        session.request(Part(room=target, reason=reason), part)


def _privmsg(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    notice = message.command == "NOTICE"
    if not message.params or not message.params[0]:
        if not notice:
            session.reply(n.ERR_NORECIPIENT, "No recipient given (PRIVMSG)", pending=pending)
        return
    batch = message.tags.get("batch")
    if batch is not None:  # a client's batches are multiline ones
        _add_to_multiline(session, batch, message, pending)
        return
    if len(message.params) < 2 or not message.params[1]:
        if not notice:
            session.reply(n.ERR_NOTEXTTOSEND, "No text to send", pending=pending)
        return
    text = message.params[1]
    for target in _targets(message.params[0]):
        part = pending.part(message.command, target)
        tags = client_tags(message, but=REPLY)
        # One line said is one line relayed: cut (as IRC servers do) to what fits in a
        # line from us to the target, which carries our whole mask.
        room = text_room(mask(session.nick), message.command, target)
        fitted = _chunks(text, room)[0]
        _send_text(session, target, fitted, part, reply_to=reply_to(message), tags=tags)


def _send_text(
    session: IrcSession,
    target: str,
    text: str,
    pending: Pending,
    *,
    reply_to: int | None = None,
    tags: dict[str, str] | None = None,
    wraps: list[int] | None = None,
) -> None:
    action = False
    notice = pending.command == "NOTICE"
    if text.startswith(_CTCP):
        verb, _, rest = text.strip(_CTCP).partition(" ")
        if verb.upper() != "ACTION" or notice:
            return  # other CTCP (VERSION, PING...) and CTCP replies have nobody to answer
        text, action, wraps = rest, True, None  # an action is said as one line
    if text.startswith("/"):
        text = "/" + text  # text, never a charla /command
        wraps = [wrap + 1 for wrap in wraps or ()]
    wraps = wraps or None
    if target.startswith("#"):
        frame: Say | Me | Msg = (
            Me(text=text, room=target, reply_to=reply_to, tags=tags)
            if action
            else Say(
                text=text, room=target, reply_to=reply_to, notice=notice, tags=tags, wraps=wraps
            )
        )
    else:
        if action:
            text = f"* {session.nick} {text}"
        frame = Msg(to=target, text=text, reply_to=reply_to, notice=notice, tags=tags, wraps=wraps)
    if reply_to is not None:  # said all the same if charla knows no such message
        pending.without_reply = msgspec.structs.replace(frame, reply_to=None)
    session.request(frame, pending)


def _batch(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    """A client's ``draft/multiline`` batch: one charla message of several lines."""
    ref = message.param(0)
    if ref.startswith("+") and message.param(1) == "draft/multiline" and len(message.params) > 2:
        if "draft/multiline" in session.caps and len(session.multiline) < 4:
            opened = OpenBatch(message.params[2], tags=client_tags(message, but=REPLY))
            if pending.response is not None:  # the echo, when it closes, answers the label
                opened.label, pending.response.label = pending.response.label, None
            session.multiline[ref[1:]] = opened
            return
        _multiline_invalid(session, "Cannot open the batch", pending)
    elif ref.startswith("-") and ref[1:] in session.multiline:
        batch = session.multiline.pop(ref[1:])
        text = "\n".join(batch.lines)
        if batch.invalid or not text.strip():
            _multiline_invalid(session, "Not a message", pending)
            return
        if pending.response is not None:
            pending.response.label = batch.label
        part = pending.part("PRIVMSG", batch.target)
        _send_text(session, batch.target, text, part, tags=batch.tags, wraps=batch.wraps)


def _multiline_invalid(session: IrcSession, why: str, pending: Pending | None) -> None:
    session.emit(IrcMessage("FAIL", ["BATCH", "MULTILINE_INVALID", why]), pending)


def _add_to_multiline(session: IrcSession, ref: str, message: IrcMessage, pending: Pending) -> None:
    """A line of an open batch; one that names no open batch is refused at once."""
    batch = session.multiline.get(ref)
    if batch is None:
        _multiline_invalid(session, "No such batch", pending)
        return
    text, lines = message.param(1), batch.lines
    concat = "draft/multiline-concat" in message.tags
    batch.invalid |= concat and not text  # only text is concatenated
    if concat and lines:
        if lines[-1]:  # kept, so that its readers get the same lines
            batch.wraps.append(sum(map(len, lines)) + len(lines) - 1)
        lines[-1] += text
    else:
        lines.append(text)
    # A concatenated piece is a line of the batch too: uncounted, a client could grow
    # one line (and its wraps) without end.
    too_big = (
        len(lines) + len(batch.wraps) > session.options.max_lines
        or sum(map(len, lines)) > session.options.max_text
    )
    if too_big:
        del session.multiline[ref]
        session.emit(IrcMessage("FAIL", ["BATCH", "MULTILINE_MAX_BYTES", "Batch too long"]))


def _names(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not message.params:
        session.reply(n.RPL_ENDOFNAMES, "*", "End of /NAMES list.", pending=pending)
        return
    for target in _targets(message.params[0]):
        if target.startswith("#"):
            session.request(ClientUsers(room=target), pending.part("NAMES", target))
        else:  # not a channel name: nobody is in it, and it is named as it was given
            session.reply(n.RPL_ENDOFNAMES, target[:64], "End of /NAMES list.", pending=pending)


def _list(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    pending.detail = message.param(0)  # "LIST #a,#b" lists only those
    session.request(ClientRooms(), pending)


def _who(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    """``WHO #room``, ``WHO nick``, or ``WHO mask`` (``*`` and ``?``; ``0`` is ``*``):
    the users matching it by nick, username or real name among those sharing a room with
    the asker — every charla user is invisible (``+i``) to masks, not to its nick."""
    mask_ = message.param(0) or "*"
    if mask_.startswith("#"):
        session.request(ClientUsers(room=mask_), pending.part("WHO", mask_))
        return
    options = session.options
    if mask_ == "0" or any(c in mask_ for c in "*?"):
        match = _glob(mask_[:64] if mask_ != "0" else "*")
        found = map(options.person, options.neighbours(session.nick, MAX_WHO))
        people = [p for p in found if p is not None and _matches(match, p)]
    else:
        people = [p for p in [options.person(mask_)] if p is not None]
    for person in people:
        _who_reply(session, "*", person, "", pending)
    session.reply(n.RPL_ENDOFWHO, mask_[:64], "End of WHO list", pending=pending)


def _glob(mask_: str) -> Callable[[str], bool]:
    """An IRC mask (``*`` any run, ``?`` any one character) as a caseless test.

    The pieces between the stars are found one after the other, each at its leftmost
    place: each costs a search of the text at most. (One regular expression of many
    ``.*`` backtracks through every way to split a text that almost matches: a ``WHO``
    mask of a dozen stars held the server for minutes.)
    """
    pieces = [
        re.compile("".join("." if c == "?" else re.escape(c) for c in piece), _CASELESS)
        for piece in mask_.split("*")
    ]
    if len(pieces) == 1:
        return lambda text: pieces[0].fullmatch(text) is not None
    first, *middle, last = pieces
    last_length = len(mask_) - mask_.rindex("*") - 1

    def matches(text: str) -> bool:
        found = first.match(text)
        at = found.end() if found is not None else -1
        for piece in middle:
            if at < 0:
                return False
            found = piece.search(text, at)
            at = found.end() if found is not None else -1
        tail = len(text) - last_length
        return 0 <= at <= tail and last.fullmatch(text, tail) is not None

    return matches


#: An IRC mask matches any case, and ``?`` any character.
_CASELESS = re.IGNORECASE | re.DOTALL


def _matches(match: Callable[[str], bool], person: Person) -> bool:
    return any(map(match, (person.nick, person.username, person.realname)))


def _who_reply(
    session: IrcSession, where: str, person: Person, prefixes: str, pending: Pending
) -> None:
    """``352``: flags ``H`` (here) or ``G`` (gone: away), the channel prefixes, and
    ``B`` for a bot."""
    flags = ("G" if person.away is not None else "H") + prefixes + BOT_MODE * person.bot
    session.reply(
        n.RPL_WHOREPLY,
        where,
        person.username,
        HOST,
        session.options.server_name,
        person.nick,
        flags,
        f"0 {person.realname}",
        pending=pending,
    )


def _whois(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 1, pending):
        return
    wanted = message.params[-1].split(",")[0]
    person = session.options.person(wanted)
    if person is None:
        session.reply(n.ERR_NOSUCHNICK, wanted[:64], "No such nick/channel", pending=pending)
    else:
        nick, server = person.nick, session.options.server_name
        reply = functools.partial(session.reply, pending=pending)
        reply(n.RPL_WHOISUSER, nick, person.username, HOST, "*", person.realname)
        reply(n.RPL_WHOISSERVER, nick, server, session.options.network)
        if person.bot:
            reply(n.RPL_WHOISBOT, nick, f"is a bot on {session.options.network}")
        if person.away is not None:
            reply(n.RPL_AWAY, nick, person.away or "away")
        if session.options.is_registered(nick):
            reply(n.RPL_WHOISACCOUNT, nick, nick, "is logged in as")
    session.reply(n.RPL_ENDOFWHOIS, wanted[:64], "End of /WHOIS list", pending=pending)


def _mode(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 1, pending):
        return
    target = message.params[0][:64]
    if target.startswith("#"):
        channel_mode(session, message, pending)
    elif target.casefold() != session.nick.casefold():
        session.reply(n.ERR_USERSDONTMATCH, "Cannot change mode for other users", pending=pending)
    else:
        user_mode(session, message.param(1), pending)


def _away(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    text = message.param(0)[:MAX_AWAY]
    session.request(Away(text=text) if text else Back(), pending)


def _motd(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    motd = session.options.motd
    if not motd:
        session.reply(n.ERR_NOMOTD, "MOTD File is missing", pending=pending)
        return
    session.reply(
        n.RPL_MOTDSTART, f"- {session.options.server_name} Message of the day -", pending=pending
    )
    for line in motd.splitlines():
        session.reply(n.RPL_MOTD, f"- {line}", pending=pending)
    session.reply(n.RPL_ENDOFMOTD, "End of /MOTD command.", pending=pending)


def _version(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    o = session.options
    session.reply(n.RPL_VERSION, f"charla-{o.version}", o.server_name, "", pending=pending)


def _ison(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    wanted = " ".join(message.params).split()[:32]
    online = [nick for nick in map(session.options.find_nick, wanted) if nick is not None]
    session.reply(n.RPL_ISON, " ".join(online), pending=pending)


def _userhost(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    """``nick=+user@host`` for each nick online: ``-`` instead of ``+`` if it is away."""
    found = [p for p in map(session.options.person, message.params[:5]) if p is not None]
    replies = [f"{p.nick}={'-' if p.away is not None else '+'}{p.username}@{HOST}" for p in found]
    session.reply(n.RPL_USERHOST, " ".join(replies), pending=pending)


def _count(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 6 else 0


def _registered_already(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    session.reply(n.ERR_ALREADYREGISTERED, "You may not reregister", pending=pending)


_Handler = Callable[[IrcSession, IrcMessage, Pending], None]
COMMANDS: dict[str, _Handler] = {
    "PING": _ping,
    "PONG": _pong,
    "QUIT": _quit,
    "JOIN": _join,
    "PART": _part,
    "PRIVMSG": _privmsg,
    "NOTICE": _privmsg,
    "BATCH": _batch,
    "NAMES": _names,
    "LIST": _list,
    "WHO": _who,
    "WHOIS": _whois,
    "MODE": _mode,
    **CHANNEL_COMMANDS,
    **CONVERSATION_COMMANDS,
    "AWAY": _away,
    "MOTD": _motd,
    "VERSION": _version,
    "ISON": _ison,
    "USERHOST": _userhost,
    "CHATHISTORY": chathistory,
}


# --- frames ----------------------------------------------------------------------------


def render(session: IrcSession, frame: ServerFrame) -> None:
    """Tell the IRC client what ``frame`` tells a native one."""
    pending = session.pending_for(frame)
    renderer = _RENDERERS.get(type(frame))
    if renderer is not None:
        renderer(session, frame, pending)


def _render_message(session: IrcSession, frame: Message, pending: Pending | None) -> None:
    if frame.deleted:
        return  # a deleted message in a history: nothing left to say
    # Only the sender's own copy carries our label: its echo, with echo-message.
    if pending is not None and "echo-message" in session.caps:
        for line in message_lines(session, frame):
            session.emit(line, pending)
    to_self = frame.to is not None and nick_key(frame.to) == nick_key(session.nick)
    if pending is None or to_self:  # a message to yourself is delivered too, as on IRC
        for line in message_lines(session, frame):
            session.emit(line)


def message_lines(
    session: IrcSession, frame: Message, batch: str | None = None
) -> list[IrcMessage]:
    """``frame`` as PRIVMSGs (NOTICEs for a notice): one per line of its text (cut to
    fit 512 bytes), or one ``draft/multiline`` batch for a client that asked for it."""
    command = "NOTICE" if frame.notice else "PRIVMSG"
    caps = session.caps
    tags: dict[str, str] = {}
    if "server-time" in caps:
        tags["time"] = frame.ts
    if "message-tags" in caps:
        tags.update(frame.tags or {})
        tags["msgid"] = str(frame.id)
        if frame.reply_to is not None:
            tags[REPLY] = str(frame.reply_to)
        if frame.bot:
            tags["bot"] = ""  # IRCv3 bot mode: sent by a program
    tags.update(account_tag(session, frame.user))
    if batch is not None:
        tags["batch"] = batch
    target = channel(frame.room) if frame.room is not None else frame.to or session.nick
    session.saw(frame.id, _conversation(session, frame), frame.ts)
    source = mask(frame.user)
    room = text_room(source, command, target) - (_ACTION_WRAPPING if frame.action else 0)
    # Inside another batch (a history), a multiline batch nests in it.
    as_batch = {"draft/multiline", "batch"} <= caps
    pieces = _pieces(frame, room, keep_blank=as_batch)
    if len(pieces) > 1 and as_batch:
        ref = session.new_batch()
        opening = IrcMessage("BATCH", [f"+{ref}", "draft/multiline", target], source, tags)
        lines = [
            IrcMessage(command, [target, piece], source, _batched(ref, continues))
            for piece, continues in pieces
        ]
        outer = {"batch": batch} if batch is not None else {}
        return [opening, *lines, IrcMessage("BATCH", [f"-{ref}"], source, outer)]
    first = IrcMessage(command, [target, pieces[0][0]], source, tags)
    rest_tags = {k: v for k, v in tags.items() if k not in ("msgid", REPLY)}
    rest = [IrcMessage(command, [target, p], source, dict(rest_tags)) for p, _ in pieces[1:]]
    return [first, *rest]


def _pieces(frame: Message, room: int, *, keep_blank: bool) -> list[tuple[str, bool]]:
    """The lines ``frame`` is sent in: its author's lines (cut where it wrapped them,
    :mod:`charla.protocol.wraps`), each cut again to fit ``room`` bytes; with each,
    whether it continues the line before it. A blank line is kept in a multiline batch;
    other clients cannot be sent one."""
    lines = [line for line in split_at_wraps(frame.text, frame.wraps) if keep_blank or line[0]]
    pieces = [
        (piece, continues or index > 0)
        for text, continues in lines or [(" ", False)]
        for index, piece in enumerate(_chunks(text, room))
    ]
    if frame.action:
        return [(f"{_CTCP}ACTION {piece}{_CTCP}", continues) for piece, continues in pieces]
    return pieces


def _batched(ref: str, continues: bool) -> dict[str, str]:
    """The tags of a line of multiline batch ``ref``."""
    return {"batch": ref, "draft/multiline-concat": ""} if continues else {"batch": ref}


def _conversation(session: IrcSession, frame: Message) -> str:
    """The IRC target a client marks ``frame`` read in: the channel, or the other nick."""
    if frame.room is not None:
        return channel(frame.room)
    return (frame.to or session.nick) if frame.user == session.nick else frame.user


def text_room(source: str, command: str, target: str) -> int:
    """Bytes of text one line from ``source`` to ``target`` can carry within 512."""
    overhead = len(f":{source} {command} {target} :\r\n".encode())
    return max(MAX_BODY - overhead, MIN_CHUNK)


def _chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` UTF-8 bytes, never splitting a character."""
    data = text.encode()
    if len(data) <= size:
        return [text]
    pieces: list[str] = []
    while data:
        cut = data[:size].decode(errors="ignore")
        pieces.append(cut)
        data = data[len(cut.encode()) :]
    return pieces


def _render_history(session: IrcSession, frame: History, pending: Pending | None) -> None:
    requested = pending is not None and pending.command == "CHATHISTORY"
    messages = frame.messages
    if pending is not None and pending.window is not None:
        messages = pending.window.cut(messages)
    if "batch" not in session.caps:
        if requested:
            return  # CHATHISTORY needs batch; without it, nothing to frame the answer
        messages = messages[-SHORT_REPLAY:]
        for message in messages:
            for line in message_lines(session, message):
                session.emit(line, pending)
        _marker_after_history(session, frame, pending)
        return
    ref = session.new_batch()
    session.emit(
        IrcMessage(
            "BATCH",
            [f"+{ref}", "chathistory", _history_target(frame, pending)],
            session.options.server_name,
        ),
        pending,
    )
    for message in messages:
        for line in message_lines(session, message, batch=ref):
            session.emit(line, pending)
    session.emit(IrcMessage("BATCH", [f"-{ref}"], session.options.server_name), pending)
    _marker_after_history(session, frame, pending)


def _history_target(frame: History, pending: Pending | None) -> str:
    """The channel, or the nick a client asked the direct conversation with."""
    if frame.room or pending is None:
        return channel(frame.room)
    return pending.target


def _marker_after_history(session: IrcSession, frame: History, pending: Pending | None) -> None:
    marker = session.markers.pop(frame.room, None) if frame.room else None
    if marker is not None:
        tell_marker(session, channel(frame.room), marker, pending)


def _render_joined(session: IrcSession, frame: Joined, pending: Pending | None) -> None:
    if frame.room in session.channels:
        return
    session.channels.add(frame.room)
    session.emit(IrcMessage("JOIN", [channel(frame.room)], session.source), pending)
    if frame.topic:
        topic_reply(session, channel(frame.room), frame.topic, pending)
    # Told after the history, whose times it refers to (0, none: ``*``), before the names.
    session.markers[frame.room] = frame.read or 0
    if pending is None or pending.command != "JOIN":  # a room joined with the hello
        session.request(ClientUsers(room=frame.room), Pending("NAMES", channel(frame.room)))


def _render_parted(session: IrcSession, frame: Parted, pending: Pending | None) -> None:
    if frame.room not in session.channels:
        return  # put out: the KICK said so
    session.channels.discard(frame.room)
    reason = [pending.detail] if pending is not None and pending.detail else []
    session.emit(IrcMessage("PART", [channel(frame.room), *reason], session.source), pending)


def _render_users(session: IrcSession, frame: Users, pending: Pending | None) -> None:
    where = channel(frame.room)
    command = pending.command if pending is not None else "NAMES"
    if command == "JOIN" and frame.room not in session.channels:
        return  # the join was refused: its error said so
    roles = frame.roles or {}
    multi = "multi-prefix" in session.caps
    if command == "WHO":
        away = set(frame.away or ())
        for nick in frame.users:
            found = session.options.person(nick) or Person(nick, nick, nick)
            person = dataclasses.replace(found, away=(found.away or "") if nick in away else None)
            prefixes = prefixed("", roles.get(nick), multi)
            _who_reply(session, where, person, prefixes, pending or Pending("WHO"))
        session.reply(n.RPL_ENDOFWHO, where, "End of WHO list", pending=pending)
        return
    line: list[str] = []
    for nick in frame.users:
        line.append(prefixed(nick, roles.get(nick), multi))
        if sum(len(x) + 1 for x in line) > 400:
            session.reply(n.RPL_NAMREPLY, "=", where, " ".join(line), pending=pending)
            line = []
    if line:
        session.reply(n.RPL_NAMREPLY, "=", where, " ".join(line), pending=pending)
    session.reply(n.RPL_ENDOFNAMES, where, "End of /NAMES list.", pending=pending)


def _render_rooms(session: IrcSession, frame: Rooms, pending: Pending | None) -> None:
    session.reply(n.RPL_LISTSTART, "Channel", "Users  Name", pending=pending)
    wanted = {t.casefold() for t in _targets(pending.detail)} if pending is not None else set()
    for room in frame.rooms:
        name = channel(room.name)
        if not wanted or name.casefold() in wanted:
            session.reply(n.RPL_LIST, name, str(room.users), "", pending=pending)
    session.reply(n.RPL_LISTEND, "End of /LIST", pending=pending)


def _render_system(session: IrcSession, frame: System, pending: Pending | None) -> None:
    user = frame.user or ""
    if render_system(session, frame, pending) or _render_away(session, frame, pending):
        return
    if render_bot(session, frame, pending):
        return
    if frame.event == "join" and frame.room:
        if session.last_quit == user:
            session.last_quit = None  # back: a later quit is told again
        session.emit(IrcMessage("JOIN", [channel(frame.room)], mask(user)), pending)
    elif frame.event == "leave" and frame.room and frame.quit:
        if session.last_quit == user:
            return  # told already, for another room
        session.last_quit = user
        session.emit(IrcMessage("QUIT", [frame.reason or "Connection closed"], mask(user)))
    elif frame.event == "leave" and frame.room:
        reason = [frame.reason] if frame.reason else []
        session.emit(IrcMessage("PART", [channel(frame.room), *reason], mask(user)), pending)
    elif frame.event == "nick" and frame.new:
        if (user, frame.new) == session.last_rename and pending is None:
            return  # told already, for another room
        session.last_rename = (user, frame.new)
        if pending is not None:  # our own rename
            session.nick = frame.new
        session.emit(IrcMessage("NICK", [frame.new], mask(user)), pending)
    else:
        session.notice(frame.text, pending)


def _render_away(session: IrcSession, frame: System, pending: Pending | None) -> bool:
    """Our own away state (305/306), or 301 for a message to an away user."""
    user = frame.user or ""
    if frame.event not in ("away", "back"):
        return False
    if user != session.nick:
        if pending is not None and frame.event == "away":
            session.reply(n.RPL_AWAY, user, frame.reason or "away", pending=pending)
    elif frame.event == "away":
        session.reply(n.RPL_NOWAWAY, "You have been marked as being away", pending=pending)
    else:
        session.reply(n.RPL_UNAWAY, "You are no longer marked as being away", pending=pending)
    return True


def _render_away_notify(
    session: IrcSession, frame: UserAway | UserBack, pending: Pending | None
) -> None:
    """``away-notify``: somebody in one of our channels went away or came back."""
    if "away-notify" in session.caps:
        params = [frame.text or "away"] if isinstance(frame, UserAway) else []
        session.emit(IrcMessage("AWAY", params, mask(frame.user)))


def _render_error(session: IrcSession, frame: Error, pending: Pending | None) -> None:
    if pending is None:
        session.notice(f"{frame.code}: {frame.message}")
        return
    try:
        code: Code | None = Code(frame.code)
    except ValueError:
        code = None
    refused_reply = code is Code.NO_SUCH_MESSAGE or pending.command == "TAGMSG"
    if refused_reply and pending.without_reply is not None:
        # A server relaying client tags passes a reply to an unknown message on (and a
        # reaction it does not take, as tags): so does charla, without the reply.
        retry, pending.without_reply = pending.without_reply, None
        session.send_again(retry, pending)
        return
    if pending.command == "NOTICE":
        return  # NOTICE is never answered with an error
    numeric = n.ERROR_NUMERICS.get(code) if code is not None else None
    if pending.command in ("PRIVMSG", "NOTICE") and code is Code.NOT_IN_ROOM:
        numeric = n.ERR_CANNOTSENDTOCHAN
    if pending.command in FOLLOW_UPS:  # a read of our own, not the client's
        follow_up_answered(session, pending.command, pending.target)
        return
    if fail_for(session, frame.code, pending):
        return
    if pending.command == "CHATHISTORY":
        session.emit(
            IrcMessage("FAIL", ["CHATHISTORY", "MESSAGE_ERROR", pending.target, frame.message]),
            pending,
        )
    elif numeric is None:
        session.reply(n.ERR_UNKNOWNERROR, pending.command, frame.message, pending=pending)
    elif numeric in _NO_TARGET:
        session.reply(numeric, frame.message, pending=pending)
    elif numeric in _COMMAND_TARGET:
        session.reply(numeric, pending.command, frame.message, pending=pending)
    else:
        session.reply(numeric, pending.target[:64] or "*", frame.message, pending=pending)


_NO_TARGET = frozenset(
    {
        n.ERR_NOTEXTTOSEND,
        n.ERR_INPUTTOOLONG,
        n.ERR_PASSWDMISMATCH,
        n.ERR_NOTREGISTERED,
        n.ERR_ALREADYREGISTERED,
    }
)
_COMMAND_TARGET = frozenset({n.ERR_UNKNOWNCOMMAND, n.ERR_NEEDMOREPARAMS})


def _render_ping(session: IrcSession, frame: Ping, pending: Pending | None) -> None:
    session.emit(IrcMessage("PING", [frame.token or session.options.server_name]))


def _render_bye(session: IrcSession, frame: Bye, pending: Pending | None) -> None:
    session.error(frame.reason or "bye")


def _render_pong(session: IrcSession, frame: Pong, pending: Pending | None) -> None:
    session.barrier_answered(frame.label)


_RENDERERS: dict[type, Callable[[IrcSession, object, Pending | None], None]] = {
    Message: _render_message,  # type: ignore[dict-item]
    History: _render_history,  # type: ignore[dict-item]
    Joined: _render_joined,  # type: ignore[dict-item]
    Parted: _render_parted,  # type: ignore[dict-item]
    Users: _render_users,  # type: ignore[dict-item]
    Rooms: _render_rooms,  # type: ignore[dict-item]
    System: _render_system,  # type: ignore[dict-item]
    Error: _render_error,  # type: ignore[dict-item]
    Ping: _render_ping,  # type: ignore[dict-item]
    Pong: _render_pong,  # type: ignore[dict-item]
    Bye: _render_bye,  # type: ignore[dict-item]
    RoomMode: render_room_mode,  # type: ignore[dict-item]
    Bans: render_bans,  # type: ignore[dict-item]
    Reaction: render_reaction,  # type: ignore[dict-item]
    Edited: render_edited,  # type: ignore[dict-item]
    Deleted: render_deleted,  # type: ignore[dict-item]
    Read: render_read,  # type: ignore[dict-item]
    RelayedTags: render_tags,  # type: ignore[dict-item]
    Typing: render_typing,  # type: ignore[dict-item]
    UserAway: _render_away_notify,  # type: ignore[dict-item]
    UserBack: _render_away_notify,  # type: ignore[dict-item]
}
