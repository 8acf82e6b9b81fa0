"""Whether a user is there: away (said, or after ``--auto-away`` minutes idle) and typing.

Away belongs to the user, not to a session: ``away`` / ``back`` from any of its sessions
tell all of them (``system`` ``away`` / ``back``), ``users`` answers list who is away, and
a direct message to an away user gets back, at most once an hour per sender, ``system``
{event: "away", user, reason}. Clients that asked in their ``hello`` (``away_notify``: IRC
sessions, for the ``away-notify`` capability) also hear it of the users they share a room
with: ``away`` {user, text} / ``back`` {user} on each change, and ``away`` right after the
join of a user who is away. Every request but pings, pongs, ``away`` and ``back``
counts as activity; a user all of whose sessions stay idle for ``--auto-away`` minutes is
away until its next activity. Time is the hub's clock.

In a cluster the presence carries both to the other nodes: what the user said
(:meth:`Activity.away_elsewhere`), and whether its sessions on each node are idle — a user
is away by itself only when they are idle on every node (:meth:`Activity.idle_changed`).

``typing`` is relayed to the room's members (or the other party's sessions) and never
stored; at most one every :data:`TYPING_EVERY` seconds per user and conversation goes
out, the rest are dropped silently. Clients let an ``active`` lapse after
:data:`TYPING_LASTS` seconds without a refresh.

``tags`` (client-only tags with no message, IRC's ``TAGMSG``) are relayed the same way
and never stored: to the room's members, or to the other party's sessions and the
sender's other ones; at most :data:`TAGS_BURST` every :data:`TYPING_EVERY` seconds per
user and conversation go out, the rest are dropped silently.

In a cluster, what goes out to this node's readers goes to the other nodes too
(``Presence.relay``), whose readers get it from :meth:`Activity.typing_elsewhere` and
:meth:`Activity.tags_elsewhere`; the automatic away reply counts those the other nodes
gave (:meth:`Activity.replied_elsewhere`), so it stays once an hour per sender.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from ..i18n import tr
from ..protocol import (
    Away,
    Back,
    ClientFrame,
    ClientPing,
    ClientPong,
    ClientTags,
    ClientTyping,
    Code,
    ProtocolError,
    RelayedTags,
    System,
    Typing,
    UserAway,
    UserBack,
    check_tags,
    clean_text,
    encode,
    nick_key,
    normalize_nick,
    normalize_room,
)

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member
    from .rooms import Room
    from .users import User

__all__ = [
    "AWAY_REPLY_EVERY",
    "MAX_AWAY",
    "TAGS_BURST",
    "TYPING_EVERY",
    "TYPING_LASTS",
    "Activity",
]

#: Seconds between two relayed ``typing`` of one user in one conversation.
TYPING_EVERY = 3.0
#: Client tags relayed per user and conversation every :data:`TYPING_EVERY` seconds
#: (reactions to unknown messages and other clients' own tags come in short bursts).
TAGS_BURST = 5
#: Seconds an ``active`` lasts without a refresh (clients apply it).
TYPING_LASTS = 6.0
#: Seconds between two automatic replies to one sender about one away user.
AWAY_REPLY_EVERY = 3600.0
#: Longest away message.
MAX_AWAY = 300

#: Requests that say nothing about the person behind the client.
_NOT_ACTIVITY = (ClientPing, ClientPong, Away, Back)


class Activity:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        #: Typing and client tags relayed per (user, conversation): from this node's
        #: sessions, and from other nodes (which throttle their own: twice their rate
        #: here leaves room for the network's jitter, and bounds what a forged relay can
        #: make this node send).
        self._typed = _Throttle(1)
        self._tagged = _Throttle(TAGS_BURST)
        self._typed_elsewhere = _Throttle(2)
        self._tagged_elsewhere = _Throttle(2 * TAGS_BURST)
        #: When each (sender, away user) last got the automatic reply.
        self._replied: dict[tuple[str, str], float] = {}
        #: The sessions that asked to hear away and back (``hello.away_notify``).
        self._listeners: dict[Member, None] = {}

    def listen(self, member: Member) -> None:
        """``member`` asked in its ``hello`` to hear who goes away and comes back."""
        member.away_notify = True
        self._listeners[member] = None

    def forget(self, member: Member) -> None:
        """``member`` is gone."""
        self._listeners.pop(member, None)

    # --- away ------------------------------------------------------------------------------

    def away(self, member: Member, frame: Away) -> None:
        # One line: it is shown beside a name (and an IRC line must not end inside it).
        text = " ".join((frame.text or "").split())
        text = clean_text(text, limit=MAX_AWAY) if text else ""
        self._say(_user(member), text, member, frame.label)

    def back(self, member: Member, frame: Back) -> None:
        self._say(_user(member), None, member, frame.label)

    def _say(self, user: User, text: str | None, actor: Member, label: str | None) -> None:
        self._set(user, text, actor=actor, label=label)
        self._hub.presence.said_away(user.nick, text)

    def away_elsewhere(self, nick: str, text: str | None) -> None:
        """The user said it is away (or back) on another node: its sessions here hear it."""
        user = self._hub.users.get(nick)
        if user is None or (user.away == text and not user.auto_away):
            return
        user.auto_away = False
        self._set(user, text, actor=None)

    def idle_changed(self, nick: str) -> None:
        """The user's sessions on another node became idle, active, or went: whether it
        is away by itself may have changed."""
        user = self._hub.users.get(nick)
        if user is None:
            return
        if user.auto_away and not self._hub.presence.idle_elsewhere(nick):
            user.auto_away = False
            self._set(user, None, actor=None)
        else:
            self._maybe_auto_away(user)

    def _maybe_auto_away(self, user: User) -> None:
        """Away by itself: idle here, and on every other node it has sessions on."""
        if user.away is None and user.idle and self._hub.presence.idle_elsewhere(user.nick):
            user.auto_away = True
            self._set(user, "", actor=None)

    def _set(
        self, user: User, text: str | None, *, actor: Member | None, label: str | None = None
    ) -> None:
        """Set or clear ``user``'s away message and tell each of its sessions (and, when it
        changed, who asked to hear it in the user's rooms)."""
        changed, user.away = user.away != text, text
        event = "back" if text is None else "away"
        message = "{user} is back" if text is None else "{user} is away"
        for session in user.sessions:
            session.send(
                System(
                    event=event,
                    user=user.nick,
                    reason=text or None,
                    text=tr(session.lang, message, user=user.nick),
                    label=label if session is actor else None,
                )
            )
        if changed:
            rooms = {name for session in user.sessions for name in session.rooms}
            self._notify(user, rooms)

    def joined(self, user: User, room: Room) -> None:
        """``user``'s join of ``room`` was announced: if it is away, say so after it."""
        if user.away is not None:
            self._notify(user, {room.name})

    def _notify(self, user: User, rooms: set[str]) -> None:
        """Tell the members of ``rooms`` who asked (``away_notify``), once each, whether
        ``user`` is away; its own sessions have had their ``system`` already.

        Whichever is fewer is walked: the sessions that asked, or the members of the
        rooms. A room of 10 000 where everybody goes away by itself at once would
        otherwise be walked 10 000 times, for nobody when no client there asked."""
        if not self._listeners:
            return
        found = [r for name in sorted(rooms) if (r := self._hub.rooms.get(name)) is not None]
        if sum(len(room.live) + len(room.joining) for room in found) > len(self._listeners):
            candidates: Iterable[Member] = (
                m for m in self._listeners if not m.rooms.isdisjoint(rooms)
            )
        else:
            candidates = (m for room in found for m in room.members() if m.away_notify)
        listeners = dict.fromkeys(m for m in candidates if m.user is not user)
        if not listeners:
            return
        frame = (
            UserBack(user=user.nick)
            if user.away is None
            else UserAway(user=user.nick, text=user.away)
        )
        data = encode(frame)
        for member in listeners:
            member.send_bytes(data)

    def saw(self, member: Member, frame: ClientFrame) -> None:
        """``member`` sent ``frame``: its user is active (and back, if away by itself)."""
        user = member.user
        if user is None or isinstance(frame, _NOT_ACTIVITY):
            return
        user.active_at = self._hub.clock()
        if user.idle:
            user.idle = False
            self._hub.presence.idled(user.nick, False)
        if user.auto_away:
            user.auto_away = False
            self._set(user, None, actor=None)

    def away_among(self, nicks: list[str]) -> list[str] | None:
        """Which of ``nicks`` are away, here or on other nodes (None: nobody)."""
        away = [n for n in nicks if self._away_of(n) is not None]
        return away or None

    def _away_of(self, nick: str) -> str | None:
        """``nick``'s away message ("" for none), None when it is there (or nowhere)."""
        user = self._hub.users.get(nick)
        if user is not None:
            return user.away
        presence = self._hub.presence
        said = presence.away(nick)
        if said is None and presence.find(nick) is not None and presence.idle_elsewhere(nick):
            return ""
        return said

    def reply_if_away(self, member: Member, to: str, label: str | None) -> None:
        """A direct message to an away user: tell its sender, once an hour at most."""
        name = self._hub.online_nick(to)
        away = self._reply_due(member.nick or "", name) if name is not None else None
        if name is None or away is None:
            return
        text = tr(member.lang, "{user} is away", user=name)
        member.send(System(event="away", user=name, reason=away or None, text=text, label=label))

    def replied_elsewhere(self, sender: str, to: str) -> None:
        """``sender`` sent a direct message to ``to`` on another node, which told it if
        ``to`` is away: this node does not tell it again within the hour."""
        self._reply_due(sender, to)

    def _reply_due(self, sender: str, name: str) -> str | None:
        """``name``'s away message ("" for none) when ``sender`` is due the automatic
        reply, which is then counted as told; None when it is not."""
        if nick_key(name) == nick_key(sender):
            return None
        away = self._away_of(name)
        if away is None:
            return None
        key = (nick_key(sender), nick_key(name))
        now = self._hub.clock()
        if now - self._replied.get(key, -math.inf) < AWAY_REPLY_EVERY:
            return None
        self._replied[key] = now
        return away

    def check(self, now: float) -> None:
        """Users idle past ``--auto-away`` become away; old throttle entries go."""
        minutes = self._hub.config.auto_away
        if minutes > 0:
            for user in list(self._hub.users.by_key.values()):
                if not user.idle and now - user.active_at >= minutes * 60:
                    user.idle = True
                    self._hub.presence.idled(user.nick, True)
                self._maybe_auto_away(user)
        for throttle in (self._typed, self._tagged, self._typed_elsewhere, self._tagged_elsewhere):
            throttle.forget_old(now)
        self._replied = {k: t for k, t in self._replied.items() if now - t < AWAY_REPLY_EVERY}

    # --- typing ----------------------------------------------------------------------------

    def typing(self, member: Member, frame: ClientTyping) -> None:
        """Relay ``frame`` to who reads the conversation, here and on the other nodes,
        unless one went out lately."""
        user = _user(member)
        relayed = Typing(user=user.nick, state=frame.state)
        relayed.room, relayed.to = self._conversation(member, frame)
        if frame.label is not None:  # a labelled request gets its echo, relayed or not
            member.send(msgspec.structs.replace(relayed, label=frame.label))
        if self._typed.allow(_key(user.nick, relayed.room, relayed.to), self._hub.clock()):
            readers = self._readers(relayed.room, relayed.to)
            _send(relayed, [r for r in readers if r.user is not user])
            self._hub.presence.relay(relayed)

    def typing_elsewhere(self, relayed: Typing) -> None:
        """Another node relayed a ``typing`` (its fields checked): to who reads the
        conversation here, but the typist's own sessions."""
        typist = self._hub.users.get(relayed.user)
        readers = [r for r in self._readers(relayed.room, relayed.to) if r.user is not typist]
        key = _key(relayed.user, relayed.room, relayed.to)
        # Counted only when it goes out: a forged flood to nobody here keeps nothing.
        if readers and self._typed_elsewhere.allow(key, self._hub.clock()):
            _send(relayed, readers)

    def relay_tags(self, member: Member, frame: ClientTags) -> None:
        """Relay client-only tags to who reads the conversation (the sender's other
        sessions too), here and on the other nodes, unless :data:`TAGS_BURST` went out
        lately."""
        user = _user(member)
        tags = check_tags(frame.tags) or {}
        relayed = RelayedTags(user=user.nick, tags=tags, ref=f"t{secrets.token_hex(8)}")
        if not relayed.tags:
            raise ProtocolError(Code.BAD_ARGUMENTS, "tags needs at least one client tag")
        relayed.room, relayed.to = self._conversation(member, frame)
        if frame.label is not None:  # a labelled request gets its echo, relayed or not
            member.send(msgspec.structs.replace(relayed, label=frame.label))
        if self._tagged.allow(_key(user.nick, relayed.room, relayed.to), self._hub.clock()):
            readers = self._readers(relayed.room, relayed.to, sender=user.nick)
            _send(relayed, [r for r in readers if r is not member])
            self._hub.presence.relay(relayed)

    def tags_elsewhere(self, relayed: RelayedTags) -> None:
        """Another node relayed client tags (their fields checked): to who reads the
        conversation here, the sender's sessions here too."""
        if relayed.to is not None and self._hub.online_nick(relayed.to) is None:
            return  # no node relays tags to nobody: each made-up nick would pass anew
        readers = self._readers(relayed.room, relayed.to, sender=relayed.user)
        key = _key(relayed.user, relayed.room, relayed.to)
        # Counted only when it goes out: a forged flood to nobody here keeps nothing.
        if readers and self._tagged_elsewhere.allow(key, self._hub.clock()):
            _send(relayed, readers)

    def _conversation(
        self, member: Member, frame: ClientTyping | ClientTags
    ) -> tuple[str | None, str | None]:
        """The room (or the other party, on any node) ``frame`` is for."""
        if (frame.room is None) == (frame.to is None):
            raise ProtocolError(
                Code.BAD_ARGUMENTS,
                "{request} needs either room or to",
                request=type(frame).__struct_config__.tag,
            )
        if frame.room is not None:
            room = normalize_room(frame.room)
            if room not in member.rooms:
                raise ProtocolError(Code.NOT_IN_ROOM, "you are not in #{room}", room=room)
            self._hub.moderation.check_voice(member, room)  # the muted do not type either
            return room, None
        name = self._hub.online_nick(normalize_nick(frame.to or ""))
        if name is None:
            raise ProtocolError(
                Code.NO_SUCH_USER, "nobody called {who} is here", who=repr((frame.to or "")[:40])
            )
        return None, name

    def _readers(self, room: str | None, to: str | None, sender: str | None = None) -> list[Member]:
        """The sessions here that read a conversation: the room's members, or the
        sessions of ``to`` (and of ``sender``, when named)."""
        if room is not None:
            found = self._hub.rooms.get(room)
            return list(found.members()) if found is not None else []
        users = self._hub.users
        readers = dict.fromkeys(users.sessions(to or ""))
        if sender is not None:
            readers.update(dict.fromkeys(users.sessions(sender)))
        return list(readers)


class _Throttle:
    """At most ``burst`` per :data:`TYPING_EVERY` seconds for each key; what goes over
    is dropped."""

    def __init__(self, burst: int) -> None:
        self._burst = burst
        #: When each key last went out, newest last.
        self._times: dict[tuple[str, str], list[float]] = {}

    def __len__(self) -> int:
        """How many keys it keeps."""
        return len(self._times)

    def allow(self, key: tuple[str, str], now: float) -> bool:
        recent = [t for t in self._times.get(key, ()) if now - t < TYPING_EVERY]
        if len(recent) >= self._burst:
            return False
        self._times[key] = [*recent, now]
        return True

    def forget_old(self, now: float) -> None:
        self._times = {k: t for k, t in self._times.items() if now - t[-1] < TYPING_EVERY}


def _send(frame: Typing | RelayedTags, readers: list[Member]) -> None:
    data = encode(frame)
    for reader in readers:
        reader.send_bytes(data)


def _key(user: str, room: str | None, to: str | None) -> tuple[str, str]:
    """A throttle's key: the user, and the conversation (``#room`` or ``@nick``)."""
    return nick_key(user), f"#{room}" if room else f"@{nick_key(to or '')}"


def _user(member: Member) -> User:
    user = member.user
    assert user is not None, "only welcomed members send these"
    return user
