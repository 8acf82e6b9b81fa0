"""Channel operators on IRC as charla's moderation: TOPIC, KICK, INVITE, MODE, prefixes.

Commands become the moderation requests (docs/moderation.md): ``TOPIC`` → ``topic``,
``KICK`` → ``kick``, ``INVITE`` → ``invite``, ``MODE #room +i/-i +m/-m +t/-t`` → ``mode``,
``+o/-o +v/-v nick`` → ``op``/``deop``/``voice``/``devoice``, ``+q nick`` → ``owner``,
``+b/-b nick`` → ``ban``/``unban``, ``MODE #room b`` → ``bans``. Refusals come back as
the standard numerics (``not_allowed`` → 482 and so on, :data:`numerics.ERROR_NUMERICS`).

The moderation ``system`` events become what an IRC server sends: ``TOPIC``, ``KICK``,
``INVITE``, ``MODE`` lines. charla's events carry their human text (in the member's
language), not the topic or the modes themselves: for a change somebody else made, the
session asks for the room's topic or modes once and tells the client from the answer.
"""

from __future__ import annotations

from collections.abc import Callable

from ..protocol import (
    Ban,
    Bans,
    ClientBans,
    ClientFrame,
    ClientMode,
    Deop,
    Devoice,
    Invite,
    Kick,
    Op,
    Owner,
    ProtocolError,
    RoomMode,
    System,
    Topic,
    Unban,
    Voice,
    normalize_room,
)
from . import numerics as n
from .messages import IrcMessage
from .session import IrcSession, Pending, mask

__all__ = [
    "ALL_CHANNEL_MODES",
    "CHANNEL_MODES",
    "COMMANDS",
    "FOLLOW_UPS",
    "MEMBER_PREFIXES",
    "account_tag",
    "channel",
    "follow_up_answered",
    "need",
    "prefixed",
    "render_system",
]

#: Channel mode letters with no parameter: invite-only, moderated, topic set by
#: moderators only (``t``: the room has them and has not opened its topic).
CHANNEL_MODES = "imt"
#: Member prefixes by mode letter, highest first: owner, moderator, voice.
MEMBER_PREFIXES: tuple[tuple[str, str], ...] = (("q", "~"), ("o", "@"), ("v", "+"))
#: Every channel mode letter (``004``): bans, the modes above, the member modes.
ALL_CHANNEL_MODES = "".join(sorted("b" + CHANNEL_MODES + "".join(m for m, _ in MEMBER_PREFIXES)))
#: The member modes each charla role holds: an operator or an owner moderates too.
ROLE_MODES = {"operator": "qo", "owner": "qo", "mod": "o", "voice": "v"}
_PREFIX = dict(MEMBER_PREFIXES)
#: The reads the session makes by itself after somebody else's change.
FOLLOW_UPS = frozenset({"TOPIC_OF", "MODE_OF"})

_Grant = Callable[..., ClientFrame]
#: ``MODE`` letters with a nick, as the charla request that gives (+) or takes (-) it.
_MEMBER_MODES: dict[str, tuple[_Grant | None, _Grant | None]] = {
    "o": (Op, Deop),
    "v": (Voice, Devoice),
    "q": (Owner, None),
    "b": (Ban, Unban),
}
#: charla's role events as the mode change an IRC client shows.
_ROLE_EVENTS = {
    "op": "+o",
    "deop": "-o",
    "voice": "+v",
    "devoice": "-v",
    "owner": "+q",
    "ban": "+b",
    "unban": "-b",
}


def channel(room: str) -> str:
    return f"#{room}"


def account_tag(session: IrcSession, nick: str | None) -> dict[str, str]:
    """The ``account`` tag of a line from ``nick``, with ``account-tag`` (charla's
    accounts are registered nicks)."""
    if nick and "account-tag" in session.caps and session.options.is_registered(nick):
        return {"account": nick}
    return {}


def need(session: IrcSession, message: IrcMessage, count: int, pending: Pending) -> bool:
    """Whether ``message`` has ``count`` parameters; 461 if not."""
    if len([p for p in message.params[:count] if p]) >= count:
        return True
    session.reply(n.ERR_NEEDMOREPARAMS, message.command, "Not enough parameters", pending=pending)
    return False


def prefixed(nick: str, role: str | None, multi: bool) -> str:
    """``nick`` as NAMES lists it: with every prefix of its role (``multi-prefix``) or
    with the highest."""
    prefixes = "".join(_PREFIX[mode] for mode in ROLE_MODES.get(role or "", ""))
    return (prefixes if multi else prefixes[:1]) + nick


# --- commands --------------------------------------------------------------------------


def _topic(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 1, pending):
        return
    target = message.params[0]
    part = pending.part("TOPIC", target[:64])
    if len(message.params) == 1 and not _exists(session, target, pending):
        return
    if len(message.params) > 1:
        part.detail = message.params[1]
        session.request(Topic(room=target, text=message.params[1]), part)
    else:
        session.request(Topic(room=target), part)


def _exists(session: IrcSession, target: str, pending: Pending) -> bool:
    """Whether channel ``target`` exists (somebody is in it, or it has a topic); 403 if
    not: charla has every room name, IRC only the channels in use."""
    if session.options.channel_exists(target):
        return True
    session.reply(n.ERR_NOSUCHCHANNEL, target[:64], "No such channel", pending=pending)
    return False


def _kick(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 2, pending):
        return
    room, nick = message.params[0], message.params[1]
    if not _exists(session, room, pending):
        return
    reason = message.param(2)[:300] or None
    session.request(Kick(room=room, nick=nick, reason=reason), pending.part("KICK", room[:64]))


def _invite(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 2, pending):
        return
    nick, room = message.params[0], message.params[1]
    if not _on(session, room):  # "only members of the channel are allowed to invite"
        session.reply(n.ERR_NOTONCHANNEL, room[:64], "You're not on that channel", pending=pending)
        return
    if session.options.in_channel(nick, room):  # "Modern IRC": MUST be refused, before 482
        session.reply(
            n.ERR_USERONCHANNEL, nick[:64], room[:64], "is already on channel", pending=pending
        )
        return
    session.request(Invite(room=room, nick=nick), pending.part("INVITE", room[:64]))


def _on(session: IrcSession, room: str) -> bool:
    """Whether the client is in ``room`` (a name charla refuses: charla answers it)."""
    try:
        return normalize_room(room) in session.channels
    except ProtocolError:
        return True


def channel_mode(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    """``MODE #room [changes [nicks...]]``: read, list bans, or change modes and roles."""
    target = message.params[0][:64]
    changes, args = message.param(1), message.params[2:]
    part = pending.part("MODE", target)
    if not changes:
        session.request(ClientMode(room=target), part)
        return
    if changes.lstrip("+") == "b" and not args:
        session.request(ClientBans(room=target), part)
        return
    flags: dict[str, bool] = {}
    on = True
    for letter in changes[:16]:
        if letter in "+-":
            on = letter == "+"
        elif letter in CHANNEL_MODES:
            flags[letter] = on
        elif letter in _MEMBER_MODES and args:
            _member_mode(session, target, letter, on, args.pop(0), part)
        else:
            session.reply(n.ERR_UNKNOWNMODE, letter, "is unknown mode char to me", pending=part)
    if flags:
        part.detail = "".join(("+" if v else "-") + k for k, v in flags.items())
        topic_locked = flags.get("t")
        frame = ClientMode(
            room=target,
            invite_only=flags.get("i"),
            moderated=flags.get("m"),
            open_topic=None if topic_locked is None else not topic_locked,
        )
        session.request(frame, part)


def _member_mode(
    session: IrcSession, room: str, letter: str, on: bool, nick: str, pending: Pending
) -> None:
    grant, take = _MEMBER_MODES[letter]
    make = grant if on else take
    if make is None:
        session.reply(n.ERR_UNKNOWNMODE, letter, "cannot be taken back here", pending=pending)
        return
    session.request(make(room=room, nick=nick.split("!")[0]), pending)


COMMANDS = {"TOPIC": _topic, "KICK": _kick, "INVITE": _invite}


# --- frames ----------------------------------------------------------------------------


def render_system(session: IrcSession, frame: System, pending: Pending | None) -> bool:
    """Tell a moderation ``system`` event the IRC way; False if it is not one."""
    if frame.room is None:
        return False
    where = channel(frame.room)
    by = mask(frame.by) if frame.by else session.options.server_name
    user = frame.user or ""
    event = frame.event
    if event == "topic":
        _render_topic(session, frame, where, pending)
    elif event == "kick":
        _render_kick(session, frame.room, user, by, frame.reason, pending)
    elif event == "invite":
        if pending is not None:
            session.reply(n.RPL_INVITING, user, where, pending=pending)
        else:
            tags = account_tag(session, frame.by)
            session.emit(IrcMessage("INVITE", [session.nick, where], by, tags))
    elif event == "mode":
        _render_mode_change(session, where, frame.by or "", pending)
    elif event in _ROLE_EVENTS:
        mode = _ROLE_EVENTS[event]
        nick = f"{user}!*@*" if mode.endswith("b") else user
        session.emit(IrcMessage("MODE", [where, mode, nick], by), pending)
        if event == "ban" and user == session.nick and frame.room in session.channels:
            _render_kick(session, frame.room, user, by, frame.reason, pending)
    else:
        return False
    return True


def _render_kick(
    session: IrcSession, room: str, user: str, by: str, reason: str | None, pending: Pending | None
) -> None:
    if user == session.nick:  # its ``parted`` follows: the KICK says it all
        session.channels.discard(room)
    session.emit(IrcMessage("KICK", [channel(room), user, reason or user], by), pending)


def _render_topic(session: IrcSession, frame: System, where: str, pending: Pending | None) -> None:
    command, detail = (pending.command, pending.detail) if pending is not None else ("", "")
    if frame.by is None and command == "TOPIC":  # the answer to a TOPIC read
        topic_reply(session, where, frame.text, pending)
    elif frame.by is None and command == "TOPIC_OF":  # the read behind somebody's change
        session.emit(IrcMessage("TOPIC", [where, frame.text], mask(detail)))
        follow_up_answered(session, command, where)
    elif command == "TOPIC":  # our own change
        session.emit(IrcMessage("TOPIC", [where, detail.strip()], session.source), pending)
    elif frame.by is not None:
        _follow_up(session, "TOPIC_OF", where, frame.by)


def topic_reply(
    session: IrcSession, where: str, topic: str | None, pending: Pending | None
) -> None:
    """332, or 331 for a room without a topic."""
    if topic:
        session.reply(n.RPL_TOPIC, where, topic, pending=pending)
    else:
        session.reply(n.RPL_NOTOPIC, where, "No topic is set", pending=pending)


def _render_mode_change(session: IrcSession, where: str, by: str, pending: Pending | None) -> None:
    if pending is not None and pending.command == "MODE":  # our own change
        session.emit(IrcMessage("MODE", [where, pending.detail], session.source), pending)
    else:
        _follow_up(session, "MODE_OF", where, by)


def _follow_up(session: IrcSession, kind: str, where: str, by: str) -> None:
    """Ask for the topic (``TOPIC_OF``) or modes (``MODE_OF``) ``by`` just changed.

    One read per room and kind at a time: the reads are the IRC user's requests, under
    its rate limit, so changes made faster than they are answered cost one more read,
    not one each (a room where anyone may set the topic cannot flood its IRC members)."""
    key = (kind, where)
    if key in session.follow_ups:
        session.follow_ups[key] = by  # read again once the current read is answered
        return
    session.follow_ups[key] = ""
    frame = Topic(room=where) if kind == "TOPIC_OF" else ClientMode(room=where)
    session.request(frame, Pending(kind, where, detail=by))


def follow_up_answered(session: IrcSession, kind: str, where: str) -> None:
    """A follow-up read is answered (or refused): ask again if a change came meanwhile."""
    newer = session.follow_ups.pop((kind, where), "")
    if newer:
        _follow_up(session, kind, where, newer)


def render_room_mode(session: IrcSession, frame: RoomMode, pending: Pending | None) -> None:
    where = channel(frame.room)
    flags = _channel_flags(frame)
    if pending is not None and pending.command == "MODE_OF":
        modes = "".join(("+" if on else "-") + letter for letter, on in flags.items())
        session.emit(IrcMessage("MODE", [where, modes], mask(pending.detail)))
        follow_up_answered(session, pending.command, pending.target)
        return
    letters = "".join(letter for letter, on in flags.items() if on)
    session.reply(n.RPL_CHANNELMODEIS, where, f"+{letters}", pending=pending)


def _channel_flags(frame: RoomMode) -> dict[str, bool]:
    """The room's modes by :data:`CHANNEL_MODES` letter: ``t`` while only moderators
    may set the topic."""
    return {"i": frame.invite_only, "m": frame.moderated, "t": not frame.open_topic}


def render_bans(session: IrcSession, frame: Bans, pending: Pending | None) -> None:
    where = channel(frame.room or "")
    for ban in frame.bans:
        session.reply(n.RPL_BANLIST, where, f"{ban.nick}!*@*", ban.by, pending=pending)
    session.reply(n.RPL_ENDOFBANLIST, where, "End of channel ban list", pending=pending)
