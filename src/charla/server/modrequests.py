"""The moderation requests: for each, who may ask and what entry it makes.

A request here (``topic``, ``kick``, ``ban``, ``mode``...; docs/moderation.md) checks
its asker against the rules of :mod:`charla.server.moderation` and refuses at once with a
:class:`~charla.protocol.ProtocolError`; allowed, it returns, as the member's work in
progress, the recording of its :class:`~charla.protocol.ModEntry` in the moderation log
(:mod:`charla.server.modlog`), after which the asker gets its answer. What an entry then
changes, and how the members concerned are told, is
:meth:`~charla.server.moderation.Moderation.apply` — the same on every node of a cluster.
A request that only reads (``bans``, ``modlog``, a ``topic`` or ``mode`` without
arguments) answers at once. :data:`MODERATION_HANDLERS` is merged into
:data:`charla.server.handlers.HANDLERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import msgspec

from ..i18n import N_
from ..protocol import (
    DEFAULT_ROOM,
    Ban,
    BanInfo,
    Bans,
    ClientBans,
    ClientFrame,
    ClientMode,
    ClientModlog,
    Code,
    Deop,
    Devoice,
    Invite,
    Kick,
    Kill,
    ModEntry,
    Modlog,
    Mute,
    Op,
    Owner,
    ProtocolError,
    RoomMode,
    System,
    Topic,
    Unban,
    Unmute,
    Voice,
    clean_text,
    describe_modes,
    format_ts,
    nick_key,
    normalize_nick,
    normalize_room,
)
from .moderation import MAX_REASON, MAX_TOPIC, MOD, OPERATOR, OWNER, RANK

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member
    from .moderation import Moderation, Sanction

__all__ = ["MODERATION_HANDLERS"]

Work = Coroutine[Any, Any, None]
Handler = Callable[["Hub", "Member", Any], "Work | None"]


# --- the requests: their checks (raising now), then the entry recorded as the member's work


def request_topic(hub: Hub, member: Member, frame: Topic) -> Work | None:
    mod = hub.moderation
    room = normalize_room(frame.room)
    mod.check_read(member, room)
    if frame.text is None:
        topic = mod.topic(room)
        member.send(System(event="topic", room=room, text=topic or "", label=frame.label))
        return None
    _require(mod.may_set_topic(member, room), MOD, room)
    text = clean_text(frame.text, limit=MAX_TOPIC) if frame.text.strip() else ""
    return _act(mod, member, mod.entry("topic", member, room=room, text=text), frame.label)


def request_kick(hub: Hub, member: Member, frame: Kick) -> Work:
    mod = hub.moderation
    room = normalize_room(frame.room)
    _require_moderator(mod, member, room)
    nick = _spelled(hub, frame.nick)
    _require_outranks(mod, member, room, nick)
    if not _in_room(hub, room, nick):
        raise ProtocolError(Code.NOT_IN_ROOM, "{nick} is not in #{room}", nick=nick, room=room)
    entry = mod.entry("kick", member, room=room, nick=nick, reason=_reason(frame.reason))
    return _act(mod, member, entry, frame.label)


def request_ban(hub: Hub, member: Member, frame: Ban) -> Work:
    room = _scope(frame.room, frame.server)
    _require_in_charge(hub.moderation, member, room)
    return _sanction_request(hub, "ban", member, room, frame)


def request_unban(hub: Hub, member: Member, frame: Unban) -> Work:
    mod = hub.moderation
    room = _scope(frame.room, frame.server)
    bans = _bans_of(mod, member, room)
    nick = normalize_nick(frame.nick)
    if nick_key(nick) not in bans:
        raise ProtocolError(Code.NO_SUCH_USER, "{nick} is not banned there", nick=nick)
    return _act(mod, member, mod.entry("unban", member, room=room, nick=nick), frame.label)


def request_bans(hub: Hub, member: Member, frame: ClientBans) -> None:
    mod = hub.moderation
    room = _scope(frame.room, frame.server)
    bans = _bans_of(mod, member, room)
    now = mod.now()
    operator = mod.is_operator(member.nick)
    infos = [
        BanInfo(
            nick=ban.nick,
            by=ban.by,
            until=None if ban.until is None else format_ts(ban.until),
            reason=ban.reason,
            address=ban.address if operator else None,
        )
        for ban in bans.values()
        if ban.active(now)
    ]
    member.send(Bans(room=room, bans=infos, label=frame.label))


def request_mute(hub: Hub, member: Member, frame: Mute) -> Work:
    room = normalize_room(frame.room)
    _require_moderator(hub.moderation, member, room)
    return _sanction_request(hub, "mute", member, room, frame)


def request_unmute(hub: Hub, member: Member, frame: Unmute) -> Work:
    return _room_nick_action(hub, "unmute", member, frame, require_registered=False)


def request_invite(hub: Hub, member: Member, frame: Invite) -> Work:
    return _room_nick_action(hub, "invite", member, frame, require_registered=False)


def request_voice(hub: Hub, member: Member, frame: Voice) -> Work:
    return _room_nick_action(hub, "voice", member, frame)


def request_devoice(hub: Hub, member: Member, frame: Devoice) -> Work:
    return _room_nick_action(hub, "devoice", member, frame)


def request_op(hub: Hub, member: Member, frame: Op) -> Work:
    return _room_nick_action(hub, "op", member, frame, needs=OWNER)


def request_deop(hub: Hub, member: Member, frame: Deop) -> Work:
    return _room_nick_action(hub, "deop", member, frame, needs=OWNER)


def request_owner(hub: Hub, member: Member, frame: Owner) -> Work:
    return _room_nick_action(hub, "owner", member, frame, needs=OPERATOR)


def request_mode(hub: Hub, member: Member, frame: ClientMode) -> Work | None:
    mod = hub.moderation
    room = normalize_room(frame.room)
    mod.check_read(member, room)
    text = describe_modes(frame)
    if not text:  # no change asked: read them
        rules = mod.rules(room)
        member.send(
            RoomMode(
                room=room,
                invite_only=rules.invite_only,
                moderated=rules.moderated,
                slow=rules.slow,
                open_topic=rules.topic_open,
                label=frame.label,
            )
        )
        return None
    _require_moderator(mod, member, room)
    entry = mod.entry(
        "mode",
        member,
        room=room,
        invite_only=frame.invite_only,
        moderated=frame.moderated,
        slow=frame.slow,
        open_topic=frame.open_topic,
        text=text,
    )
    return _act(mod, member, entry, frame.label)


def request_kill(hub: Hub, member: Member, frame: Kill) -> Work:
    mod = hub.moderation
    _require_operator(mod, member)
    user = _online(hub, frame.nick)
    nick = user if isinstance(user, str) else user.nick or ""
    _require_outranks(mod, member, DEFAULT_ROOM, nick)
    entry = mod.entry("kill", member, nick=nick, reason=_reason(frame.reason))
    return _act(mod, member, entry, frame.label)


def request_modlog(hub: Hub, member: Member, frame: ClientModlog) -> Work:
    room = _scope(frame.room, frame.server)
    _require_in_charge(hub.moderation, member, room)
    if not 1 <= frame.limit <= hub.config.max_page:
        raise ProtocolError(
            Code.LIMIT_INVALID, "limit must be between 1 and {most}", most=hub.config.max_page
        )
    return _send_modlog(hub, member, room, frame)


#: The handlers of the moderation requests (merged into ``handlers.HANDLERS``).
MODERATION_HANDLERS: dict[type[ClientFrame], Handler] = {
    Topic: request_topic,
    Kick: request_kick,
    Ban: request_ban,
    Unban: request_unban,
    ClientBans: request_bans,
    Mute: request_mute,
    Unmute: request_unmute,
    Invite: request_invite,
    ClientMode: request_mode,
    Voice: request_voice,
    Devoice: request_devoice,
    Op: request_op,
    Deop: request_deop,
    Owner: request_owner,
    Kill: request_kill,
    ClientModlog: request_modlog,
}


# --- what several requests share ---------------------------------------------------------


def _sanction_request(
    hub: Hub, action: str, member: Member, room: str | None, frame: Ban | Mute
) -> Work:
    """A ban or mute of ``frame.nick``, who must rank below ``member``."""
    mod = hub.moderation
    nick = _spelled(hub, frame.nick)
    _require_outranks(mod, member, room or DEFAULT_ROOM, nick)
    entry = mod.entry(
        action,
        member,
        room=room,
        nick=nick,
        address=_address(hub, nick),
        until=_until(mod, frame.duration),
        reason=_reason(frame.reason),
    )
    return _act(mod, member, entry, frame.label)


def _room_nick_action(
    hub: Hub,
    action: str,
    member: Member,
    frame: Invite | Unmute | Voice | Devoice | Op | Deop | Owner,
    *,
    needs: str = MOD,
    require_registered: bool = True,
) -> Work:
    mod = hub.moderation
    room = normalize_room(frame.room)
    if needs == MOD:
        _require_moderator(mod, member, room)
    else:
        _require(mod.rank(room, member.nick) >= RANK[needs], needs, room)
    nick = _spelled(hub, frame.nick)
    if require_registered:
        _require_registered(mod, nick)
    if action != "owner":
        _require_outranks(mod, member, room, nick)
    return _act(mod, member, mod.entry(action, member, room=room, nick=nick), frame.label)


def _bans_of(mod: Moderation, member: Member, room: str | None) -> dict[str, Sanction]:
    _require_in_charge(mod, member, room)
    return mod.server_bans if room is None else mod.rules(room).bans


async def _act(mod: Moderation, member: Member, entry: ModEntry, label: str | None) -> None:
    """Record ``entry``, then answer ``member`` (its own answer, with its label)."""
    entry = await mod.log.record(entry)
    member.send(mod.system(entry, member.lang, label))


async def _send_modlog(hub: Hub, member: Member, room: str | None, frame: ClientModlog) -> None:
    entries, more = await hub.read(hub.store.moderation_page, room, frame.before, frame.limit)
    if not hub.moderation.is_operator(member.nick):  # addresses are for operators' eyes
        entries = [msgspec.structs.replace(e, address=None) for e in entries]
    member.send(Modlog(room=room, entries=entries, more=more, label=frame.label))


# --- who may ask -------------------------------------------------------------------------


#: Who may do what the asker may not, by the role it needs.
_ONLY = {
    MOD: N_("only moderators of #{room} may do that"),
    OWNER: N_("only owners of #{room} may do that"),
    OPERATOR: N_("only operators may do that"),
}


def _require(allowed: bool, needs: str, room: str | None = None) -> None:
    if not allowed:
        raise ProtocolError(Code.NOT_ALLOWED, _ONLY[needs], room=room)


def _require_moderator(mod: Moderation, member: Member, room: str) -> None:
    _require(mod.may_moderate(member, room), MOD, room)


def _require_operator(mod: Moderation, member: Member) -> None:
    _require(mod.is_operator(member.nick), OPERATOR)


def _require_in_charge(mod: Moderation, member: Member, room: str | None) -> None:
    """A moderator of ``room``; an operator for the server's own (``room`` None)."""
    if room is None:
        _require_operator(mod, member)
    else:
        _require_moderator(mod, member, room)


def _require_outranks(mod: Moderation, member: Member, room: str, nick: str) -> None:
    if mod.rank(room, nick) >= mod.rank(room, member.nick):
        raise ProtocolError(Code.NOT_ALLOWED, "{nick} holds a role as high as yours", nick=nick)


def _require_registered(mod: Moderation, nick: str) -> None:
    if not mod.registered(nick):
        raise ProtocolError(
            Code.NOT_REGISTERED, "{nick} is not registered: roles need it", nick=nick
        )


# --- whom a request is about -------------------------------------------------------------


def _online(hub: Hub, raw: str) -> Member | str:
    """The user called ``raw``: this server's member, or a nick on another node."""
    nick = normalize_nick(raw)
    local = hub.nicks.get(nick_key(nick))
    if local is not None:
        return local
    elsewhere = hub.presence.find(nick)
    if elsewhere is None:
        raise ProtocolError(Code.NO_SUCH_USER, "nobody called {who} is here", who=nick)
    return elsewhere


def _spelled(hub: Hub, raw: str) -> str:
    """``raw`` as its holder spells it when online, else as given (normalized)."""
    try:
        user = _online(hub, raw)
    except ProtocolError as exc:
        if exc.code is Code.NO_SUCH_USER:
            return normalize_nick(raw)
        raise
    return user if isinstance(user, str) else user.nick or ""


def _in_room(hub: Hub, room: str, nick: str) -> bool:
    local = hub.nicks.get(nick_key(nick))
    if local is not None:
        return room in local.rooms
    return nick_key(nick) in {nick_key(n) for n in hub.presence.users(room)}


def _address(hub: Hub, nick: str) -> str | None:
    """The address an unregistered nick is banned with (when it is on this server)."""
    if hub.moderation.registered(nick):
        return None
    member = hub.nicks.get(nick_key(nick))
    return None if member is None else member.peer


# --- the entry's fields ------------------------------------------------------------------


def _scope(room: str | None, server: bool) -> str | None:
    """The room a ban, its list or the log is about; None for the server's own."""
    if server == (room is not None):
        raise ProtocolError(Code.BAD_ARGUMENTS, "give either a room or server: true")
    return None if room is None else normalize_room(room)


def _until(mod: Moderation, duration: int | None) -> str | None:
    return None if duration is None else format_ts(mod.now() + duration)


def _reason(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    return clean_text(text, limit=MAX_REASON)
