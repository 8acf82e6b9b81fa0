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

``typing`` is relayed to the room's members (or the other party's sessions) and never
stored; at most one every :data:`TYPING_EVERY` seconds per user and conversation goes
out, the rest are dropped silently. Clients let an ``active`` lapse after
:data:`TYPING_LASTS` seconds without a refresh.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import msgspec

from ..i18n import tr
from ..protocol import (
    Away,
    Back,
    ClientFrame,
    ClientPing,
    ClientPong,
    ClientTyping,
    Code,
    ProtocolError,
    System,
    Typing,
    UserAway,
    UserBack,
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

__all__ = ["AWAY_REPLY_EVERY", "TYPING_EVERY", "TYPING_LASTS", "Activity"]

#: Seconds between two relayed ``typing`` of one user in one conversation.
TYPING_EVERY = 3.0
#: Seconds an ``active`` lasts without a refresh (clients apply it).
TYPING_LASTS = 6.0
#: Seconds between two automatic replies to one sender about one away user.
AWAY_REPLY_EVERY = 3600.0

#: Requests that say nothing about the person behind the client.
_NOT_ACTIVITY = (ClientPing, ClientPong, Away, Back)


class Activity:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        #: When each (user, conversation) last had a typing relayed.
        self._typed: dict[tuple[str, str], float] = {}
        #: When each (sender, away user) last got the automatic reply.
        self._replied: dict[tuple[str, str], float] = {}

    # --- away ------------------------------------------------------------------------------

    def away(self, member: Member, frame: Away) -> None:
        text = (frame.text or "").strip()
        text = clean_text(text, limit=300) if text else ""
        self._set(_user(member), text, actor=member, label=frame.label)

    def back(self, member: Member, frame: Back) -> None:
        self._set(_user(member), None, actor=member, label=frame.label)

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
        ``user`` is away; its own sessions have had their ``system`` already."""
        listeners: dict[Member, None] = {}
        for name in sorted(rooms):
            room = self._hub.rooms.get(name)
            if room is not None:
                listeners.update(
                    (m, None) for m in room.members() if m.away_notify and m.user is not user
                )
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
        if user.auto_away:
            user.auto_away = False
            self._set(user, None, actor=None)

    def away_among(self, nicks: list[str]) -> list[str] | None:
        """Which of ``nicks`` are away on this server (None: nobody)."""
        users = self._hub.users
        away = [n for n in nicks if (u := users.get(n)) is not None and u.away is not None]
        return away or None

    def reply_if_away(self, member: Member, to: str, label: str | None) -> None:
        """A direct message to an away user: tell its sender, once an hour at most."""
        target = self._hub.users.get(to)
        if target is None or target.away is None or target is member.user:
            return
        key = (nick_key(member.nick or ""), nick_key(target.nick))
        now = self._hub.clock()
        if now - self._replied.get(key, -math.inf) < AWAY_REPLY_EVERY:
            return
        self._replied[key] = now
        text = tr(member.lang, "{user} is away", user=target.nick)
        member.send(
            System(
                event="away", user=target.nick, reason=target.away or None, text=text, label=label
            )
        )

    def check(self, now: float) -> None:
        """Users idle past ``--auto-away`` become away; old throttle entries go."""
        minutes = self._hub.config.auto_away
        if minutes > 0:
            for user in list(self._hub.users.by_key.values()):
                if user.away is None and now - user.active_at >= minutes * 60:
                    user.auto_away = True
                    self._set(user, "", actor=None)
        self._typed = {k: t for k, t in self._typed.items() if now - t < TYPING_EVERY}
        self._replied = {k: t for k, t in self._replied.items() if now - t < AWAY_REPLY_EVERY}

    # --- typing ----------------------------------------------------------------------------

    def typing(self, member: Member, frame: ClientTyping) -> None:
        """Relay ``frame`` to who reads the conversation, unless one went out lately."""
        if (frame.room is None) == (frame.to is None):
            raise ProtocolError(Code.BAD_ARGUMENTS, "typing needs either room or to")
        user = _user(member)
        relayed = Typing(user=user.nick, state=frame.state)
        if frame.room is not None:
            room = normalize_room(frame.room)
            if room not in member.rooms:
                raise ProtocolError(Code.NOT_IN_ROOM, f"you are not in #{room}")
            self._hub.moderation.check_voice(member, room)  # the muted do not type either
            relayed.room = room
            readers = self._room_readers(room)
        else:
            target = self._hub.users.get(normalize_nick(frame.to or ""))
            if target is None:
                raise ProtocolError(Code.NO_SUCH_USER, f"nobody called {frame.to!r:.40} is here")
            relayed.to = target.nick
            readers = list(target.sessions)
        if frame.label is not None:  # a labelled request gets its echo, relayed or not
            member.send(msgspec.structs.replace(relayed, label=frame.label))
        conversation = f"#{relayed.room}" if relayed.room else f"@{nick_key(relayed.to or '')}"
        key = (nick_key(user.nick), conversation)
        now = self._hub.clock()
        if now - self._typed.get(key, -math.inf) < TYPING_EVERY:
            return
        self._typed[key] = now
        data = encode(relayed)
        for reader in readers:
            if reader.user is not user:
                reader.send_bytes(data)

    def _room_readers(self, name: str) -> list[Member]:
        room = self._hub.rooms.get(name)
        return list(room.members()) if room is not None else []


def _user(member: Member) -> User:
    user = member.user
    assert user is not None, "only welcomed members send these"
    return user
