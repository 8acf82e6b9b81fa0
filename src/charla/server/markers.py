"""Read markers: the newest message a user has read, in each room and direct conversation.

``mark_read {room | with, id}`` moves the user's marker forward (an older id changes
nothing) and tells every session of the user with ``read``; nobody else ever sees one.
A registered nick's markers are stored (table ``read_markers``) and come back on its next
``hello``: in each ``joined`` (``read``) and as ``unread`` / ``mentions`` counts in a
``rooms`` answer. An unregistered nick's markers last as long as its connection.

The markers live on the :class:`~charla.server.users.User` (loaded once, when its first
session arrives), so ``joined`` reads them without touching the store. Where they are kept
is the presence's :class:`MarkerLog`: the store of a single server, the stream of a
cluster (:mod:`charla.cluster.markers`), whose nodes hand each marker kept elsewhere to
:meth:`Markers.apply`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

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

__all__ = ["MAX_MARKERS", "UNREAD_CAP", "LocalMarkerLog", "MarkerLog", "Markers", "target"]

log = logging.getLogger("charla.server")

#: Conversations one user may hold markers for: bounds what a user can make us store.
MAX_MARKERS = 1000
#: Unread messages are counted up to this many per room (a client shows "999+").
UNREAD_CAP = 999


def target(room: str | None, with_: str | None) -> str:
    """How a conversation is keyed: ``#room``, or ``@`` and the other party's nick key."""
    return f"#{room}" if room is not None else f"@{nick_key(with_ or '')}"


class MarkerLog(Protocol):
    """Where the read markers of registered nicks are kept, by nick key."""

    async def load(self, key: str) -> dict[str, int]:
        """Every marker kept for ``key``, by target."""

    async def record(self, key: str, target: str, newest: int, with_: str | None) -> None:
        """Keep a marker (``with_``: the other party of a direct conversation, as the user
        spelled it); raises :class:`ProtocolError` when it cannot be kept."""

    async def forget(self, key: str) -> None:
        """Drop every marker of ``key`` (its nick was unregistered)."""


class LocalMarkerLog:
    """One server: the store's ``read_markers`` table."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def load(self, key: str) -> dict[str, int]:
        return await self._hub.read(self._hub.store.read_markers, key)

    async def record(self, key: str, target: str, newest: int, with_: str | None) -> None:
        await self._hub.write(self._hub.store.set_read_marker, key, target, newest)

    async def forget(self, key: str) -> None:
        await self._hub.write(self._hub.store.forget_read_markers, key)


class Markers:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.log = hub.presence.marker_log(hub)

    async def load(self, nick: str) -> dict[str, int]:
        """The stored markers of ``nick``, arriving as a new user (none for an
        unregistered nick)."""
        if not self._hub.accounts.is_registered(nick):
            return {}
        try:
            return await self.log.load(nick_key(nick))
        except Exception:  # the chat goes on; markers start afresh for this user
            log.exception("reading the read markers of %s", nick)
            return {}

    def of_room(self, member: Member, room: str) -> int | None:
        user = member.user
        return None if user is None else user.markers.get(target(room, None))

    def mark(self, member: Member, frame: MarkRead) -> Coroutine[Any, Any, None] | None:
        """``mark_read``: move the marker forward, tell every session of the user; a
        registered nick's marker is then kept (the member's next request waits for it,
        so a client that reconnects after its answers finds the marker there)."""
        room, with_ = self._conversation(member, frame)
        user = member.user
        assert user is not None, "mark_read comes after welcome"
        key = target(room, with_)
        # Nobody has read what does not exist yet: a marker never runs ahead of the chat.
        newest = min(frame.id, self._hub.fanout.delivered_upto)
        current = user.markers.get(key)
        if current is not None and newest <= current:
            member.send(Read(room=room, with_=with_, id=current, label=frame.label))
            return None
        if current is None and len(user.markers) >= MAX_MARKERS:
            raise ProtocolError(
                Code.BAD_ARGUMENTS,
                "read markers are kept for at most {most} conversations",
                most=MAX_MARKERS,
            )
        user.markers[key] = newest
        for session in user.sessions:
            label = frame.label if session is member else None
            session.send(Read(room=room, with_=with_, id=newest, label=label))
        if user.registered:
            return self.log.record(nick_key(user.nick), key, newest, with_)
        return None

    def _conversation(self, member: Member, frame: MarkRead) -> tuple[str | None, str | None]:
        if (frame.room is None) == (frame.with_ is None):
            raise ProtocolError(Code.BAD_ARGUMENTS, "mark_read needs either room or with")
        if frame.with_ is not None:
            return None, normalize_nick(frame.with_)
        room = normalize_room(frame.room or "")
        if room not in member.rooms and room not in member.watching:
            raise ProtocolError(Code.NOT_IN_ROOM, "you are not in #{room}", room=room)
        return room, None

    # --- markers kept on another node ------------------------------------------------------

    def apply(self, key: str, conversation: str, newest: int, with_: str | None) -> None:
        """A marker of user ``key`` kept on another node: its sessions here learn it
        (only forward; nobody else ever sees it)."""
        user = self._hub.users.by_key.get(key)
        if user is None or not user.registered:
            return
        current = user.markers.get(conversation)
        if current is not None and newest <= current:
            return
        if current is None and len(user.markers) >= MAX_MARKERS:
            return
        user.markers[conversation] = newest
        room = conversation[1:] if conversation.startswith("#") else None
        if room is None and with_ is None:
            return  # nothing to name the conversation by: counted, not told
        read = Read(room=room, with_=None if room is not None else with_, id=newest)
        for session in user.sessions:
            session.send(read)

    def forgotten(self, key: str) -> None:
        """User ``key`` was unregistered on another node: nothing more is kept for it."""
        user = self._hub.users.by_key.get(key)
        if user is not None:
            user.registered = False

    # --- registration --------------------------------------------------------------------

    def registered(self, user: User) -> None:
        """``user`` just registered: what it read on this connection is kept from now on."""
        user.registered = True
        for key, newest in user.markers.items():
            self._hub.spawn(self._keep(nick_key(user.nick), key, newest))

    async def _keep(self, key: str, conversation: str, newest: int) -> None:
        try:  # how the other party of a direct conversation was spelled is not kept
            await self.log.record(key, conversation, newest, None)
        except ProtocolError as exc:
            log.warning("keeping a read marker of %s: %s", key, exc.message)

    async def unregistered(self, user: User) -> None:
        """``user`` dropped its registration: its next holder must not inherit markers."""
        user.registered = False
        await self.log.forget(nick_key(user.nick))

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
