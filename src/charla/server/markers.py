"""Read markers: the newest message a user has read, in each room and direct conversation.

``mark_read {room | with, id}`` moves the user's marker forward (an older id changes
nothing) and tells every session of the user with ``read``; nobody else ever sees one.
A registered nick's markers are stored (table ``read_markers``) and come back on its next
``hello``: in each ``joined`` (``read``) and as ``unread`` / ``mentions`` counts in a
``rooms`` answer. An unregistered nick's markers last as long as its connection.

The markers live on the :class:`~charla.server.users.User` (loaded once, when its first
session arrives), so ``joined`` reads them without touching the store.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING

from ..protocol import (
    Code,
    MarkRead,
    ProtocolError,
    Read,
    Rooms,
    nick_key,
    normalize_nick,
    normalize_room,
)
from ..protocol.names import mentions

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member
    from .users import User

__all__ = ["MAX_MARKERS", "UNREAD_CAP", "Markers", "target"]

log = logging.getLogger("charla.server")

#: Conversations one user may hold markers for: bounds what a user can make us store.
MAX_MARKERS = 1000
#: Unread messages are counted up to this many per room (a client shows "999+").
UNREAD_CAP = 999


def target(room: str | None, with_: str | None) -> str:
    """How a conversation is keyed: ``#room``, or ``@`` and the other party's nick key."""
    return f"#{room}" if room is not None else f"@{nick_key(with_ or '')}"


class Markers:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def load(self, nick: str) -> dict[str, int]:
        """The stored markers of ``nick``, arriving as a new user (none for an
        unregistered nick)."""
        hub = self._hub
        if not hub.accounts.is_registered(nick):
            return {}
        try:
            return await hub.read(hub.store.read_markers, nick_key(nick))
        except Exception:  # the chat goes on; markers start afresh for this user
            log.exception("reading the read markers of %s", nick)
            return {}

    def of_room(self, member: Member, room: str) -> int | None:
        user = member.user
        return None if user is None else user.markers.get(target(room, None))

    def mark(self, member: Member, frame: MarkRead) -> None:
        """``mark_read``: move the marker forward, tell every session of the user."""
        room, with_ = self._conversation(member, frame)
        user = member.user
        assert user is not None, "mark_read comes after welcome"
        key = target(room, with_)
        # Nobody has read what does not exist yet: a marker never runs ahead of the chat.
        newest = min(frame.id, self._hub.fanout.delivered_upto)
        current = user.markers.get(key)
        if current is not None and newest <= current:
            member.send(Read(room=room, with_=with_, id=current, label=frame.label))
            return
        if current is None and len(user.markers) >= MAX_MARKERS:
            raise ProtocolError(
                Code.BAD_ARGUMENTS, f"read markers are kept for at most {MAX_MARKERS} conversations"
            )
        user.markers[key] = newest
        for session in user.sessions:
            label = frame.label if session is member else None
            session.send(Read(room=room, with_=with_, id=newest, label=label))
        if user.registered:
            self._hub.spawn(self._save(user.nick, key, newest))

    def _conversation(self, member: Member, frame: MarkRead) -> tuple[str | None, str | None]:
        if (frame.room is None) == (frame.with_ is None):
            raise ProtocolError(Code.BAD_ARGUMENTS, "mark_read needs either room or with")
        if frame.with_ is not None:
            return None, normalize_nick(frame.with_)
        room = normalize_room(frame.room or "")
        if room not in member.rooms and room not in member.watching:
            raise ProtocolError(Code.NOT_IN_ROOM, f"you are not in #{room}")
        return room, None

    async def _save(self, nick: str, key: str, newest: int) -> None:
        await self._hub.write(self._hub.store.set_read_marker, nick_key(nick), key, newest)

    # --- registration --------------------------------------------------------------------

    def registered(self, user: User) -> None:
        """``user`` just registered: what it read on this connection is kept from now on."""
        user.registered = True
        for key, newest in user.markers.items():
            self._hub.spawn(self._save(user.nick, key, newest))

    async def unregistered(self, user: User) -> None:
        """``user`` dropped its registration: its next holder must not inherit markers."""
        user.registered = False
        await self._hub.write(self._hub.store.forget_read_markers, nick_key(user.nick))

    # --- counts ----------------------------------------------------------------------------

    async def count_unread(self, member: Member, listing: Rooms) -> None:
        """Fill in, for each joined room with a marker, the messages after it and how
        many of them name the user."""
        user = member.user
        if user is None:
            return
        wanted = {
            info.name: user.markers[key]
            for info in listing.rooms
            if info.joined and (key := target(info.name, None)) in user.markers
        }
        if not wanted:
            return
        hub = self._hub
        counts = await hub.read(hub.store.query, _unread, wanted, user.nick)
        for info in listing.rooms:
            if info.name in counts:
                info.unread, info.mentions = counts[info.name]


def _unread(
    conn: sqlite3.Connection, markers: dict[str, int], nick: str
) -> dict[str, tuple[int, int]]:
    """Per room: messages after its marker (up to :data:`UNREAD_CAP`) and mentions of
    ``nick`` among them (not the user's own messages)."""
    counts = {}
    own = nick_key(nick)
    for room, after in markers.items():
        rows = conn.execute(
            "SELECT user, text FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?",
            (room, after, UNREAD_CAP),
        ).fetchall()
        others = [text for user, text in rows if nick_key(user) != own]
        counts[room] = (len(others), sum(mentions(text, nick) for text in others))
    return counts
