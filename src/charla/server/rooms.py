"""Rooms: who is in them, who only reads them, and how a newcomer gets their history.

A room's readers are either *live* (receive every message as it is delivered) or
*joining*: their history is being read from the store, and messages delivered meanwhile
are held in a buffer. When the history arrives, the buffer is replayed after it, minus
what the history already held; so a join, a watch or a resume with ``since`` has no gap
and no duplicate however many messages arrive during it.

Members are announced and listed; *watchers* (``watch``: ``charla tail``) read the same
stream but are never announced, never listed, and cannot speak there.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..i18n import tr
from ..protocol import (
    Change,
    Code,
    History,
    Joined,
    Parted,
    ProtocolError,
    RoomInfo,
    Rooms,
    System,
    Unwatched,
    Users,
    Watching,
    clean_text,
    encode,
)
from ..protocol.names import strip_unsafe
from .bigroom import announces, users_page
from .history import Backlog, cut, late_changes, with_backlog

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["MAX_LISTED", "Room", "RoomDirectory"]

log = logging.getLogger("charla.server")

#: Most names a ``users`` answer lists, and most rooms a ``rooms`` answer lists; past it
#: the answer carries ``total``.
MAX_LISTED = 1000

#: Longest part or quit message told (longer ones are cut, as IRC servers cut them).
MAX_LEAVE_REASON = 300

_ANNOUNCEMENTS = {
    "join": "{user} joined #{room}",
    "leave": "{user} left #{room}",
    "nick": "{user} is now known as {new}",
}


def leave_reason(text: str | None) -> str | None:
    """A part or quit message as the room is told it: one line, cut, cleaned; None when
    nothing visible is left."""
    if text is None:
        return None
    # Unsafe characters go before the spaces are folded and the cut's trailing space
    # after it: what comes out comes out the same again, as the other nodes of a
    # cluster check it (charla.cluster.checks.valid_leave_reason).
    line = " ".join(strip_unsafe(text).split())[:MAX_LEAVE_REASON].rstrip()
    try:
        return clean_text(line, limit=MAX_LEAVE_REASON)
    except ProtocolError:  # nothing visible in it
        return None


class Room:
    __slots__ = ("joining", "live", "name", "watchers")

    def __init__(self, name: str) -> None:
        self.name = name
        # dicts as ordered sets: iteration order is join order, removal is O(1).
        self.live: dict[Member, None] = {}
        self.joining: dict[Member, Backlog] = {}
        self.watchers: set[Member] = set()

    def __len__(self) -> int:
        """Users: readers who joined (watchers do not count), each user once however
        many of its sessions are here."""
        return self.count_users()

    def count_users(self, upto: int | None = None) -> int:
        """:func:`len`, but counting stops at ``upto``: whether a room of 10 000 is
        past a limit of 200 is known after 201 names, and a join asks it every time."""
        nicks: set[str | None] = set()
        for member in itertools.chain(self.live, self.joining):  # no copy: nothing is sent
            if member not in self.watchers:
                nicks.add(member.nick)
                if len(nicks) == upto:
                    break
        return len(nicks)

    def __contains__(self, member: object) -> bool:
        return member in self.live or member in self.joining

    @property
    def empty(self) -> bool:
        return not self.live and not self.joining

    def members(self) -> Iterator[Member]:
        for reader in (*self.live, *self.joining):
            if reader not in self.watchers:
                yield reader

    def nicks(self) -> list[str]:
        return sorted({m.nick for m in self.members() if m.nick}, key=str.casefold)

    def start_reading(self, member: Member, limit: int) -> Backlog:
        """Hold up to ``limit`` messages for ``member`` until its history is sent; the
        returned backlog stands for this join (see :meth:`finish_reading`)."""
        held = Backlog(limit)
        self.joining[member] = held
        return held

    def finish_reading(self, member: Member, held: Backlog) -> bool:
        """Make ``member`` live; False when this join was undone (left, perhaps joined
        again, or disconnected) while its history was read: that history is wanted by
        nobody."""
        if self.joining.get(member) is not held:
            return False
        del self.joining[member]
        self.live[member] = None
        return True

    def remove(self, member: Member) -> None:
        self.live.pop(member, None)
        self.joining.pop(member, None)
        self.watchers.discard(member)


class RoomDirectory:
    """Every room of this server: join, part, watch, announce, list."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.by_name: dict[str, Room] = {}

    def __len__(self) -> int:
        return len(self.by_name)

    def get(self, name: str) -> Room | None:
        return self.by_name.get(name)

    # --- joining and leaving -------------------------------------------------------------

    def _open(self, member: Member, name: str) -> Room:
        """The room ``member`` is about to read, created if new, within the caps."""
        config = self._hub.config
        if config.max_rooms_per_client and member.room_count >= config.max_rooms_per_client:
            raise ProtocolError(
                Code.TOO_MANY_ROOMS,
                "you are in {count} rooms already (at most {limit}): leave one first",
                count=member.room_count,
                limit=config.max_rooms_per_client,
            )
        room = self.by_name.get(name)
        if room is None:
            if config.max_rooms and len(self.by_name) >= config.max_rooms:
                raise ProtocolError(Code.TOO_MANY_ROOMS, "the server has too many rooms")
            room = self.by_name[name] = Room(name)
        return room

    async def join(
        self, member: Member, name: str, *, label: str | None = None, since: int | None = None
    ) -> None:
        """Put ``member`` in room ``name``: ``joined``, its history, then live messages."""
        if name in member.rooms:
            member.send(self._joined(member, name, label))
            return
        if name in member.watching:
            self._stop_reading(member, name)
        room = self._open(member, name)
        held = room.start_reading(member, self._hub.config.resume_cap)
        member.rooms.add(name)
        member.send(self._joined(member, name, label))
        nick = member.nick or ""
        if not self._hub.users.others_in(member, name):  # the user's first session here
            in_cluster = self._hub.presence.in_room(nick, name)
            announced = not in_cluster and self.announce(room, "join", nick, exclude=member)
            if announced and member.user is not None:
                self._hub.activity.joined(member.user, room)
            self._hub.presence.joined(nick, name)
        await self._send_history(member, room, held, since, label)

    def _joined(self, member: Member, name: str, label: str | None) -> Joined:
        """The answer to a join: the topic, and what the user has read there."""
        hub = self._hub
        read = hub.markers.of_room(member, name)
        return Joined(room=name, topic=hub.moderation.topic(name), read=read, label=label)

    async def watch(self, member: Member, name: str, *, label: str | None = None) -> None:
        """Let ``member`` read room ``name`` without joining it."""
        if name in member.rooms or name in member.watching:
            member.send(Watching(room=name, label=label))
            return
        room = self._open(member, name)
        held = room.start_reading(member, self._hub.config.resume_cap)
        room.watchers.add(member)
        member.watching.add(name)
        member.send(Watching(room=name, label=label))
        await self._send_history(member, room, held, None, label)

    def unwatch(self, member: Member, name: str, *, label: str | None = None) -> None:
        if name not in member.watching:
            raise ProtocolError(Code.NOT_WATCHING, "you are not watching #{room}", room=name)
        self._stop_reading(member, name)
        member.send(Unwatched(room=name, label=label))

    def _stop_reading(self, member: Member, name: str) -> None:
        member.watching.discard(name)
        room = self.by_name.get(name)
        if room is not None:
            room.remove(member)
            self._drop_if_empty(room)

    async def _send_history(
        self,
        member: Member,
        room: Room,
        held: Backlog,
        since: int | None,
        label: str | None,
    ) -> None:
        hub = self._hub
        changes: list[Change] = []
        try:
            if since is None:
                messages = await hub.read(hub.store.recent, room.name, hub.config.history)
                capped = False
            else:
                # Changes first: any committed between the two reads is in the held
                # buffer, numbered above the last change read.
                changes = await hub.read(
                    hub.store.changes_since, room.name, since, hub.config.resume_cap
                )
                messages, capped = await hub.read(
                    hub.store.since, room.name, since, hub.config.resume_cap
                )
            newest = max(messages[-1].id if messages else 0, changes[-1].seq if changes else 0)
            if newest:
                # The history may hold messages committed but not yet fanned out: wait
                # until they are, so they land in the held buffer (and are dropped there)
                # instead of reaching this member a second time once it is live.
                await hub.fanout.delivered_through(newest)
        except Exception:
            log.exception("reading the history of #%s", room.name)
            if room.joining.get(member) is not held:
                return  # nobody waits for it any more
            # Undo the join as a leave, so the members who saw it announced see it end.
            self.leave(member, room.name)
            raise ProtocolError(
                Code.UNAVAILABLE,
                "could not read the history of #{room}; join again",
                room=room.name,
            ) from None
        # Paced by the reader's link before it goes live: a live message must not
        # overtake the history, so what arrives meanwhile waits in the backlog.
        await member.link.drained()
        if not room.finish_reading(member, held):
            return
        history = History(room=room.name, messages=messages, since=since, more=capped, label=label)
        member.send(cut(with_backlog(history, held)))
        # What changed in messages the client had before it left, then while it joined.
        late = late_changes(held, changes[-1].seq if changes else (since or 0))
        if changes or late:
            member.send_bytes(b"".join(map(encode, [*changes, *late])))

    def part(
        self, member: Member, name: str, *, label: str | None = None, reason: str | None = None
    ) -> None:
        if name not in member.rooms:
            raise ProtocolError(Code.NOT_IN_ROOM, "you are not in #{room}", room=name)
        self.leave(member, name, reason=reason)
        member.send(Parted(room=name, label=label))

    def leave(
        self, member: Member, name: str, *, reason: str | None = None, quit: bool = False
    ) -> None:
        """``member`` is no longer in ``name`` (parted, undone, or gone: ``quit``)."""
        member.rooms.discard(name)
        room = self.by_name.get(name)
        if room is None:
            return
        room.remove(member)
        nick = member.nick or ""
        if not self._hub.users.others_in(member, name):  # the user's last session here
            told = leave_reason(reason)
            if not self._hub.presence.in_room(nick, name):  # ... and in the cluster
                self.announce(room, "leave", nick, reason=told, quit=quit)
            self._hub.presence.left(nick, name, reason=told, quit=quit)
        self._drop_if_empty(room)

    def leave_all(self, member: Member, *, reason: str | None = None) -> None:
        """``member`` is gone: it leaves every room (its user quits those it was the last
        session in)."""
        for name in sorted(member.rooms):
            self.leave(member, name, reason=reason, quit=True)
        for name in sorted(member.watching):
            self._stop_reading(member, name)

    def _drop_if_empty(self, room: Room) -> None:
        if room.empty:
            del self.by_name[room.name]

    # --- announcements -----------------------------------------------------------------

    def announce(
        self,
        room: Room,
        event: str,
        user: str,
        *,
        new: str | None = None,
        exclude: Member | None = None,
        reason: str | None = None,
        quit: bool = False,
    ) -> bool:
        """Tell a room's members about ``user``, each in its own language (one encoding
        per language, not per member). False when the room is too big to announce it."""
        # The one who leaves is out of the room already: count it, as a join counts the
        # one who joins, so a join and its leave are either both announced or neither.
        announce_max = self._hub.config.announce_max
        members = room.count_users(upto=announce_max + 1 if announce_max else None)
        if not announces(event, members + (event == "leave"), announce_max):
            return False
        encoded: dict[str, bytes] = {}
        for member in room.members():
            if member is exclude:
                continue
            data = encoded.get(member.lang)
            if data is None:
                text = tr(member.lang, _ANNOUNCEMENTS[event], user=user, room=room.name, new=new)
                if reason is not None:
                    text = f"{text} ({reason})"
                data = encoded[member.lang] = encode(
                    System(
                        event=event,
                        user=user,
                        room=room.name,
                        new=new,
                        text=text,
                        reason=reason,
                        quit=quit,
                    )
                )
            member.send_bytes(data)
        return True

    def announce_rename(
        self, member: Member, old: str, new: str, *, exclude: Member | None = None
    ) -> None:
        for name in sorted(member.rooms):
            room = self.by_name.get(name)
            if room is not None:
                self.announce(room, "nick", old, new=new, exclude=exclude)

    # --- lists ---------------------------------------------------------------------------

    def users(self, name: str, *, after: str | None = None, label: str | None = None) -> Users:
        """Members of room ``name`` here and on the other nodes (any room, joined or not),
        a page of at most :data:`MAX_LISTED` after ``after``."""
        room = self.by_name.get(name)
        here = room.nicks() if room is not None else []
        page = users_page([*here, *self._hub.presence.users(name)], after=after, size=MAX_LISTED)
        return Users(room=name, users=page.names, total=page.total, more=page.more, label=label)

    def listing(self, member: Member, *, label: str | None = None) -> Rooms:
        elsewhere = self._hub.presence.room_sizes()
        sizes = {name: len(room) for name, room in self.by_name.items() if len(room)}
        for name, count in elsewhere.items():
            sizes[name] = sizes.get(name, 0) + count
        names = sorted({*sizes, *member.rooms})
        infos = [
            RoomInfo(name=n, users=sizes.get(n, 0), joined=n in member.rooms)
            for n in names[:MAX_LISTED]
        ]
        total = len(names) if len(names) > MAX_LISTED else None
        return Rooms(rooms=infos, total=total, label=label)
