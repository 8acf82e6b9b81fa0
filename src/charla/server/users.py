"""Users: a nick and every session (connection) it has on this server.

A registered nick may be connected several times at once (``--max-sessions``): each
connection is a :class:`~charla.server.member.Member`, and the :class:`User` ties them
together. Rooms belong to the user — a join or part from one session applies to all of
them — and the user is announced once: ``join`` when its first session arrives in a room,
``leave`` when its last one goes. What the user has read (read markers, see
:mod:`charla.server.markers`) is the user's too.

An unregistered nick is a user with exactly one session, as before.

In a cluster a registered nick may also have sessions on other nodes: the presence says
how many and in which rooms, a join or part of the user here is told to them
(:meth:`Presence.moved <charla.server.presence.Presence.moved>`), and one of theirs is
followed here (:meth:`Users.follow`).

:attr:`Identity.nicks <charla.server.identity.Identity.nicks>` keeps pointing at one
session of each user (the oldest still connected): what needs *a* session of a nick
(moderation, the cluster's roster) reads it unchanged; what must reach *every* session
(direct messages, kicks, kills) asks :meth:`Users.sessions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import ProtocolError, nick_key

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["User", "Users"]


class User:
    __slots__ = (
        "active_at",
        "auto_away",
        "away",
        "idle",
        "markers",
        "nick",
        "registered",
        "sessions",
    )

    def __init__(self, nick: str, *, registered: bool, markers: dict[str, int], now: float) -> None:
        self.nick = nick
        self.registered = registered
        #: Oldest first: the first one is the session :attr:`Identity.nicks` points at.
        self.sessions: list[Member] = []
        #: The newest id read, by conversation (see :func:`charla.server.markers.target`).
        self.markers = markers
        #: Away (server/activity.py): the away message ("" for none), None when here;
        #: whether it was set by idleness; the last request that shows someone is there.
        self.away: str | None = None
        self.auto_away = False
        self.active_at = now
        #: Every session here has been idle for ``--auto-away`` minutes (and the other
        #: nodes of a cluster were told so).
        self.idle = False

    def __repr__(self) -> str:
        return f"<User {self.nick} ×{len(self.sessions)}>"


class Users:
    """Every user of this server, by :func:`~charla.protocol.nick_key`."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.by_key: dict[str, User] = {}

    def __len__(self) -> int:
        return len(self.by_key)

    def get(self, nick: str) -> User | None:
        return self.by_key.get(nick_key(nick))

    def sessions(self, nick: str) -> list[Member]:
        """Every session of ``nick`` on this server (none when it is not here)."""
        user = self.get(nick)
        return list(user.sessions) if user is not None else []

    def sessions_of(self, member: Member) -> list[Member]:
        """``member`` and its user's other sessions."""
        return list(member.user.sessions) if member.user is not None else [member]

    def others(self, member: Member) -> list[Member]:
        """The other sessions of ``member``'s user."""
        return [s for s in self.sessions_of(member) if s is not member]

    def in_room(self, nick: str, room: str) -> bool:
        """Whether a session of ``nick`` here is in ``room``."""
        return any(room in s.rooms for s in self.sessions(nick))

    def others_in(self, member: Member, room: str) -> bool:
        """Whether another session of ``member``'s user is in ``room`` (so the user is
        there whatever ``member`` does: nothing to announce)."""
        return any(room in s.rooms for s in self.others(member))

    # --- sessions come and go ------------------------------------------------------------

    def attach(
        self, member: Member, nick: str, *, registered: bool, markers: dict[str, int]
    ) -> User:
        """``member`` is welcomed as ``nick``: a new user, or one more session of it."""
        key = nick_key(nick)
        user = self.by_key.get(key)
        if user is None:
            user = self.by_key[key] = User(
                nick, registered=registered, markers=markers, now=self._hub.clock()
            )
            if registered:  # away as its sessions on other nodes said it
                user.away = self._hub.presence.away(nick)
        user.sessions.append(member)
        member.user = user
        return user

    def detach(self, member: Member) -> User | None:
        """``member`` is gone: the user it leaves behind, None when it was the last."""
        user = member.user
        if user is None:
            return None
        if member in user.sessions:
            user.sessions.remove(member)
        if user.sessions:
            return user
        if self.by_key.get(nick_key(user.nick)) is user:
            del self.by_key[nick_key(user.nick)]
        return None

    def renamed(self, member: Member, old: str, new: str) -> None:
        """A one-session user changed its nick (or only how it is spelled)."""
        user = member.user
        if user is None:
            return
        user.nick = new
        if nick_key(old) == nick_key(new):
            return
        del self.by_key[nick_key(old)]
        # Only a nick nobody registered may be taken by a rename: what was read under
        # the old one is not the new one's.
        user.registered = False
        user.markers = {}
        self.by_key[nick_key(new)] = user

    def rooms_of(self, member: Member) -> list[str]:
        """The rooms of ``member``'s user, as its other sessions are in them, here and
        on other nodes."""
        others = self.others(member)
        rooms = set(others[0].rooms) if others else set()
        if member.user is not None and member.user.registered:
            rooms |= self._hub.presence.rooms_of(member.user.nick)
        return sorted(rooms)

    # --- rooms belong to the user --------------------------------------------------------

    async def join(
        self, member: Member, name: str, *, label: str | None = None, since: int | None = None
    ) -> None:
        """``member`` joins ``name``, and so do its user's other sessions (unlabelled:
        each gets its own ``joined`` and history)."""
        rooms = self._hub.rooms
        self._moved(member, name, joined=True)
        await rooms.join(member, name, label=label, since=since)
        # One after the other, before the next request of ``member``: a part right
        # after this join finds every session in the room.
        for other in self.others(member):
            if name not in other.rooms and not other.closed:
                try:
                    await rooms.join(other, name)
                except ProtocolError as exc:  # that session's own cap, or the store
                    other.refuse(exc)

    def part(
        self, member: Member, name: str, *, label: str | None = None, reason: str | None = None
    ) -> None:
        """``member`` leaves ``name``, and so do its user's other sessions."""
        rooms = self._hub.rooms
        if name not in member.rooms:
            rooms.part(member, name, label=label)  # which refuses it
            return
        # The others first: the room is told of the leave (with its reason) once, when
        # the last session leaves.
        for other in self.others(member):
            if name in other.rooms:
                rooms.part(other, name)
        rooms.part(member, name, label=label, reason=reason)
        self._moved(member, name, joined=False)

    def _moved(self, member: Member, room: str, *, joined: bool) -> None:
        """Tell the user's sessions on other nodes (only a registered nick has any)."""
        user = member.user
        if user is not None and user.registered:
            self._hub.presence.moved(user.nick, room, joined)

    def follow(self, nick: str, room: str, *, joined: bool) -> None:
        """The user joined or parted ``room`` on another node: its sessions here do the
        same (each gets its own ``joined`` and history, or ``parted``)."""
        user = self.get(nick)
        if user is None or not user.registered:
            return
        for session in list(user.sessions):
            if session.closed:
                continue
            if joined and room not in session.rooms:
                self._hub.spawn(self._follow_join(session, room))
            elif not joined and room in session.rooms:
                self._hub.rooms.part(session, room)

    async def _follow_join(self, session: Member, room: str) -> None:
        try:
            await self._hub.rooms.join(session, room)
        except ProtocolError as exc:  # that session's own cap, or the store
            session.refuse(exc)
