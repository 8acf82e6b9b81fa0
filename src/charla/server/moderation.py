"""Who is in charge: operators, room owners, moderators, voice; bans, mutes, modes, topics.

This module holds the rules and the questions asked of them. The rules of every room
are the fold of one log, the moderation log: each action is a
:class:`~charla.protocol.ModEntry` made durable by a
:class:`~charla.server.modlog.ModerationLog` (:mod:`charla.server.modlog`) and then
:meth:`Moderation.apply`-ed here (the fold functions at the bottom say what each action
changes). On one server the log is the SQLite table ``modlog``; in a cluster each entry
goes through the NATS stream, and every node stores and applies it in the one order of
the stream (:mod:`charla.cluster.moderation`). At start the rules are rebuilt by
replaying the stored log, so every action survives a restart. The requests that make
entries — who may ask, what entry each makes — are :mod:`charla.server.modrequests`.

Roles belong to registered nicks only, and are checked again at each use: a nick whose
registration is dropped holds no role. Ranks: operator > owner > mod > everyone; voice
only lets a user speak in a moderated room. An actor must outrank the user it acts on.

Other features ask two questions here, and nowhere else:

- :meth:`Moderation.may_moderate` — may this member moderate this room (``delete`` any
  message of it, and everything below)?
- :meth:`Moderation.may_read` — may this member read this room (its history, a
  ``watch``, a ``search``)? False only for an invite-only room the member is not
  invited to, nor in, nor holds a role in.

docs/moderation.md describes the whole.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..i18n import N_
from ..modtext import entry_text
from ..protocol import (
    DEFAULT_ROOM,
    Code,
    ModEntry,
    Parted,
    ProtocolError,
    System,
    encode,
    format_ts,
    nick_key,
)
from .modlog import ModerationLog

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = [
    "Moderation",
    "RoomRules",
]

log = logging.getLogger("charla.server")

#: Longest topic, in characters.
MAX_TOPIC = 300
#: Longest reason of a kick, ban, mute or kill.
MAX_REASON = 300

OPERATOR, OWNER, MOD, VOICE = "operator", "owner", "mod", "voice"
RANK = {OPERATOR: 3, OWNER: 2, MOD: 1}

# --- the rules ---------------------------------------------------------------------------


@dataclass(slots=True)
class Sanction:
    """A ban or a mute of one nick (and, for an unregistered nick, one address)."""

    nick: str
    by: str
    until: float | None
    reason: str | None
    address: str | None = None

    def left(self, now: float) -> float | None:
        """Seconds until it ends (None: until lifted); 0 or less once over."""
        return None if self.until is None else self.until - now

    def active(self, now: float) -> bool:
        left = self.left(now)
        return left is None or left > 0

    def applies_to(self, member: Member) -> bool:
        return self.address is None or self.address == member.peer


@dataclass(slots=True)
class RoomRules:
    """One room's rules: everything the log said about it. Keys are nick keys."""

    owner: str | None = None
    mods: set[str] = field(default_factory=set)
    voiced: set[str] = field(default_factory=set)
    invited: set[str] = field(default_factory=set)
    bans: dict[str, Sanction] = field(default_factory=dict)
    mutes: dict[str, Sanction] = field(default_factory=dict)
    topic: str | None = None
    invite_only: bool = False
    moderated: bool = False
    slow: int = 0
    #: The moderators let anyone in the room set its topic (IRC ``-t``).
    open_topic: bool = False

    @property
    def open(self) -> bool:
        """Nobody is in charge: anyone in the room may set its topic."""
        return self.owner is None and not self.mods

    @property
    def topic_open(self) -> bool:
        """Anyone in the room may set its topic: nobody is in charge, or the moderators
        opened it (a room in someone's charge is otherwise IRC's ``+t``)."""
        return self.open or self.open_topic


def _epoch(ts: str | None) -> float | None:
    if ts is None:
        return None
    return datetime.datetime.fromisoformat(ts).timestamp()


class Moderation:
    """The rules of every room and of the server: the fold of the moderation log."""

    def __init__(self, hub: Hub, *, now: Callable[[], float] = time.time) -> None:
        self._hub = hub
        #: Wall clock (epoch seconds) of bans and mutes: their end survives a restart.
        self.now = now
        self.rooms: dict[str, RoomRules] = {}
        #: Operators granted with ``charla admin op`` (besides the config file's).
        self.granted: set[str] = set()
        self.server_bans: dict[str, Sanction] = {}
        #: When each (nick key, room) last spoke, for slow mode (the hub's clock).
        self._last_said: dict[tuple[str, str], float] = {}
        self.log: ModerationLog = hub.presence.moderation_log(hub)
        for entry in hub.store.moderation_entries():
            self.apply(entry, live=False)

    # --- questions other parts ask ---------------------------------------------------------

    def rules(self, room: str) -> RoomRules:
        """The rules of ``room`` (empty ones for a room the log never mentioned)."""
        return self.rooms.get(room) or RoomRules()

    def registered(self, nick: str | None) -> bool:
        return nick is not None and self._hub.accounts.is_registered(nick)

    def is_operator(self, nick: str | None) -> bool:
        if not self.registered(nick):
            return False
        key = nick_key(nick or "")
        return key in self.granted or key in {nick_key(n) for n in self._hub.config.operators}

    def role(self, room: str, nick: str | None) -> str | None:
        """The highest role ``nick`` holds in ``room``: operator, owner, mod, voice."""
        if not self.registered(nick):
            return None
        if self.is_operator(nick):
            return OPERATOR
        rules = self.rules(room)
        key = nick_key(nick or "")
        if rules.owner == key:
            return OWNER
        if key in rules.mods:
            return MOD
        return VOICE if key in rules.voiced else None

    def rank(self, room: str, nick: str | None) -> int:
        return RANK.get(self.role(room, nick) or "", 0)

    def may_moderate(self, member: Member, room: str) -> bool:
        """May ``member`` moderate ``room``: kick, ban, mute, ``delete`` any message..."""
        return self.rank(room, member.nick) >= RANK[MOD]

    def may_read(self, member: Member, room: str) -> bool:
        """May ``member`` read ``room`` (join, watch, history, search)? Only an
        invite-only room refuses, to whoever is not in it, invited, or in charge."""
        rules = self.rooms.get(room)
        if rules is None or not rules.invite_only or room in member.rooms:
            return True
        return nick_key(member.nick or "") in rules.invited or self.role(room, member.nick) in (
            OPERATOR,
            OWNER,
            MOD,
        )

    def may_set_topic(self, member: Member, room: str) -> bool:
        """May ``member`` set the topic of ``room``: its moderators may; anyone in it
        may while the topic is open (:attr:`RoomRules.topic_open`)."""
        if self.may_moderate(member, room):
            return True
        return self.rules(room).topic_open and room in member.rooms

    def topic(self, room: str) -> str | None:
        rules = self.rooms.get(room)
        return None if rules is None else rules.topic

    def roles(self, room: str, nicks: Iterable[str]) -> dict[str, str] | None:
        """The role of each of ``nicks`` holding one (for ``users``), or None."""
        roles = {nick: role for nick in nicks if (role := self.role(room, nick)) is not None}
        return roles or None

    # --- checks on joins and messages ----------------------------------------------------

    def check_hello(self, member: Member, nick: str) -> None:
        """Refuse a nick banned from the whole server (fatal)."""
        ban = self._active(self.server_bans, nick, member)
        if ban is not None:
            raise self._banned_error(ban, None, fatal=True)

    def check_join(self, member: Member, room: str) -> None:
        """Refuse a join (or watch) of ``room``: banned, or invite-only and not invited."""
        rules = self.rooms.get(room)
        if rules is None:
            return
        ban = self._active(rules.bans, member.nick or "", member)
        if ban is not None and self.rank(room, member.nick) == 0:
            raise self._banned_error(ban, room)
        if not self.may_read(member, room):
            raise ProtocolError(
                Code.INVITE_ONLY, "#{room} is invite-only: ask for an invite", room=room
            )

    def check_read(self, member: Member, room: str) -> None:
        if not self.may_read(member, room):
            raise ProtocolError(Code.NOT_ALLOWED, "#{room} is invite-only", room=room)

    def check_say(self, member: Member, room: str) -> None:
        """Refuse a message in ``room``: muted, moderated without voice, or too soon."""
        if self.check_voice(member, room):
            self._check_slow(member, room, self.rooms[room].slow)

    def check_voice(self, member: Member, room: str) -> bool:
        """Refuse ``member`` a voice in ``room`` (muted, or moderated without voice),
        recording nothing; True when slow mode still applies to what it says."""
        rules = self.rooms.get(room)
        if rules is None:
            return False
        role = self.role(room, member.nick)
        if RANK.get(role or "", 0) >= RANK[MOD]:
            return False
        mute = self._active(rules.mutes, member.nick or "", member)
        if mute is not None:
            left = mute.left(self.now())
            raise ProtocolError(
                Code.MUTED,
                "you are muted in #{room}"
                if left is None
                else "you are muted in #{room} for {seconds} more seconds",
                retry_after=left,
                room=room,
                seconds=_seconds(left),
            )
        if rules.moderated and role != VOICE:
            raise ProtocolError(
                Code.MUTED, "#{room} is moderated: only voiced users speak", room=room
            )
        return bool(rules.slow)

    def _check_slow(self, member: Member, room: str, slow: int) -> None:
        now = self._hub.clock()
        key = (nick_key(member.nick or ""), room)
        last = self._last_said.get(key)
        if last is not None and now - last < slow:
            left = slow - (now - last)
            raise ProtocolError(
                Code.SLOW_MODE,
                "#{room} is in slow mode: wait {seconds:.0f} s",
                retry_after=left,
                room=room,
                seconds=left,
            )
        if len(self._last_said) > 10_000:  # forget who spoke long ago
            self._last_said = {k: t for k, t in self._last_said.items() if now - t < 86400}
        self._last_said[key] = now

    def _active(self, sanctions: dict[str, Sanction], nick: str, member: Member) -> Sanction | None:
        sanction = sanctions.get(nick_key(nick))
        if sanction is None or not sanction.applies_to(member):
            return None
        return sanction if sanction.active(self.now()) else None

    def _banned_error(
        self, ban: Sanction, room: str | None, *, fatal: bool = False
    ) -> ProtocolError:
        """The refusal of a ban from ``room`` (None: the server)."""
        left = ban.left(self.now())
        return ProtocolError(
            Code.BANNED,
            _BANNED[room is None, left is not None, bool(ban.reason)],
            fatal=fatal,
            retry_after=left,
            room=room,
            seconds=_seconds(left),
            reason=ban.reason,
        )

    # --- applying the log ----------------------------------------------------------------

    def apply(self, entry: ModEntry, *, live: bool = True) -> None:
        """Fold ``entry`` into the rules; when ``live`` (not a replay at start), act on
        this server's members and tell them."""
        apply = _APPLY.get(entry.action)
        if apply is None:
            log.warning("moderation entry %d: unknown action %r", entry.id, entry.action)
            return
        apply(self, entry)
        if live:
            self._enforce(entry)
            self._announce(entry)

    def _room(self, entry: ModEntry) -> RoomRules:
        return self.rooms.setdefault(entry.room or DEFAULT_ROOM, RoomRules())

    def _sanction(self, entry: ModEntry) -> Sanction:
        return Sanction(
            nick=entry.nick or "",
            by=entry.by,
            until=_epoch(entry.until),
            reason=entry.reason,
            address=entry.address,
        )

    def _enforce(self, entry: ModEntry) -> None:
        """What an action does to this server's members beyond the rules."""
        for target in self._hub.users.sessions(entry.nick or ""):
            self._enforce_on(target, entry)
        if entry.room is not None and entry.action in ("ban", "mode"):
            self._stop_unwelcome_watchers(entry.room)

    def _stop_unwelcome_watchers(self, name: str) -> None:
        """A watcher reads a room only while it could start watching it: a ban or ``+i``
        ends the watch of who could not (it is told ``unwatched``)."""
        room = self._hub.rooms.get(name)
        for watcher in [] if room is None else list(room.watchers):
            try:
                self.check_join(watcher, name)
            except ProtocolError:
                self._hub.rooms.unwatch(watcher, name)

    def _enforce_on(self, target: Member, entry: ModEntry) -> None:
        """What ``entry`` does to one session of its nick."""
        hub = self._hub
        if entry.action == "kill" or (entry.action == "ban" and entry.room is None):
            if entry.address is None or entry.address == target.peer:
                code = Code.KILLED if entry.action == "kill" else Code.BANNED
                hub.cut_off(
                    target,
                    code,
                    "disconnected by {by}: {reason}" if entry.reason else "disconnected by {by}",
                    values={"by": entry.by, "reason": entry.reason},
                )
        elif entry.action in ("kick", "ban") and entry.room in target.rooms:
            if entry.address is None or entry.address == target.peer:
                self._put_out(target, entry)
        elif entry.action == "invite" and entry.by != target.nick:
            target.send(self.system(entry, target.lang))

    def _put_out(self, target: Member, entry: ModEntry) -> None:
        room = entry.room or DEFAULT_ROOM
        target.send(self.system(entry, target.lang))  # told why before the rest
        self._hub.rooms.leave(target, room)
        target.send(Parted(room=room))

    def _announce(self, entry: ModEntry) -> None:
        """Tell the room's members here (each in its language); the actor gets its own
        answer from the request, and a user put out was told already."""
        # A deleted message is told to the room by its ``deleted`` frame.
        if entry.room is None or entry.action in ("invite", "unban", "delete"):
            return
        room = self._hub.rooms.get(entry.room)
        if room is None:
            return
        encoded: dict[str, bytes] = {}
        for member in room.members():
            if member.nick == entry.by:
                continue
            data = encoded.get(member.lang)
            if data is None:
                data = encoded[member.lang] = encode(self.system(entry, member.lang))
            member.send_bytes(data)

    def system(self, entry: ModEntry, lang: str, label: str | None = None) -> System:
        """What ``entry`` tells a user reading ``lang`` (the actor's answer has ``label``)."""
        text = entry_text(entry, lang)
        return System(
            event=entry.action,
            text=text,
            user=entry.nick,
            room=entry.room,
            by=entry.by,
            reason=entry.reason,
            until=entry.until,
            label=label,
        )

    # --- entries: made by the requests (modrequests.py), and for a join or a delete ------

    def entry(self, action: str, member: Member, **fields: Any) -> ModEntry:
        """A new entry of ``action`` by ``member``, stamped now (not yet recorded)."""
        return ModEntry(ts=format_ts(self.now()), action=action, by=member.nick or "", **fields)

    async def record_delete(self, member: Member, room: str, message_id: int, author: str) -> None:
        """Log that ``member``, moderating ``room``, deletes message ``message_id`` of
        ``author`` (before the delete is published: the log never misses one)."""
        entry = self.entry("delete", member, room=room, nick=author, text=str(message_id))
        await self.log.record(entry)

    def may_claim(self, member: Member, room: str) -> bool:
        """Would ``member`` own ``room`` by creating it: registered, the room nobody's,
        empty everywhere, and not the default room (everybody's)."""
        hub = self._hub
        return (
            room != DEFAULT_ROOM
            and self.registered(member.nick)
            and self.rules(room).owner is None
            and hub.rooms.get(room) is None
            and not hub.presence.room_sizes().get(room)
        )

    async def claim(self, member: Member, room: str) -> None:
        """``member`` created ``room``: it owns it (the first claim in the log wins)."""
        entry = self.entry("owner", member, room=room, nick=member.nick)
        entry = await self.log.record(entry)
        if self.rules(room).owner == nick_key(member.nick or ""):
            member.send(self.system(entry, member.lang))


# --- the fold: what each action changes ----------------------------------------------------


def _set_owner(mod: Moderation, entry: ModEntry) -> None:
    rules = mod._room(entry)
    # A creator's claim counts only for a room nobody owns (two nodes may both claim it:
    # the first in the log wins); an operator's choice always counts.
    if entry.by == entry.nick and rules.owner is not None:
        return
    rules.owner = nick_key(entry.nick or "")


def _toggle(attribute: str, on: bool) -> Callable[[Moderation, ModEntry], None]:
    def apply(mod: Moderation, entry: ModEntry) -> None:
        keys: set[str] = getattr(mod._room(entry), attribute)
        key = nick_key(entry.nick or "")
        if on:
            keys.add(key)
        else:
            keys.discard(key)

    return apply


def _set_topic(mod: Moderation, entry: ModEntry) -> None:
    mod._room(entry).topic = entry.text or None


def _ban(mod: Moderation, entry: ModEntry) -> None:
    bans = mod.server_bans if entry.room is None else mod._room(entry).bans
    bans[nick_key(entry.nick or "")] = mod._sanction(entry)


def _unban(mod: Moderation, entry: ModEntry) -> None:
    bans = mod.server_bans if entry.room is None else mod._room(entry).bans
    bans.pop(nick_key(entry.nick or ""), None)


def _mute(mod: Moderation, entry: ModEntry) -> None:
    mod._room(entry).mutes[nick_key(entry.nick or "")] = mod._sanction(entry)


def _unmute(mod: Moderation, entry: ModEntry) -> None:
    mod._room(entry).mutes.pop(nick_key(entry.nick or ""), None)


def _set_mode(mod: Moderation, entry: ModEntry) -> None:
    rules = mod._room(entry)
    if entry.invite_only is not None:
        rules.invite_only = entry.invite_only
    if entry.moderated is not None:
        rules.moderated = entry.moderated
    if entry.slow is not None:
        rules.slow = entry.slow
    if entry.open_topic is not None:
        rules.open_topic = entry.open_topic


def _grant(on: bool) -> Callable[[Moderation, ModEntry], None]:
    def apply(mod: Moderation, entry: ModEntry) -> None:
        key = nick_key(entry.nick or "")
        if on:
            mod.granted.add(key)
        else:
            mod.granted.discard(key)

    return apply


def _nothing(mod: Moderation, entry: ModEntry) -> None:
    """Kicks, kills and deletes change no rule: they act on the members or the messages
    (and are logged)."""


_APPLY: dict[str, Callable[[Moderation, ModEntry], None]] = {
    "owner": _set_owner,
    "op": _toggle("mods", True),
    "deop": _toggle("mods", False),
    "voice": _toggle("voiced", True),
    "devoice": _toggle("voiced", False),
    "invite": _toggle("invited", True),
    "topic": _set_topic,
    "ban": _ban,
    "unban": _unban,
    "mute": _mute,
    "unmute": _unmute,
    "mode": _set_mode,
    "kick": _nothing,
    "kill": _nothing,
    "delete": _nothing,
    "operator": _grant(True),
    "deoperator": _grant(False),
}
#: Every action an entry may name (what a cluster node accepts from the stream).
ACTIONS = frozenset(_APPLY)


# --- helpers -----------------------------------------------------------------------------


def _seconds(left: float | None) -> int | None:
    """The whole seconds a sanction has left, as its refusal says them."""
    return None if left is None else max(1, round(left))


#: A ban's refusal by (from the server?, timed?, with a reason?).
_BANNED = {
    (False, False, False): N_("you are banned from #{room}"),
    (False, False, True): N_("you are banned from #{room}: {reason}"),
    (False, True, False): N_("you are banned from #{room} for {seconds} more seconds"),
    (False, True, True): N_("you are banned from #{room} for {seconds} more seconds: {reason}"),
    (True, False, False): N_("you are banned from the server"),
    (True, False, True): N_("you are banned from the server: {reason}"),
    (True, True, False): N_("you are banned from the server for {seconds} more seconds"),
    (True, True, True): N_("you are banned from the server for {seconds} more seconds: {reason}"),
}
