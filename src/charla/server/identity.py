"""Who a member is: ``hello``, nicks, and registered accounts.

The nicks of this server's members are in :attr:`Identity.nicks` (by :func:`nick_key`);
in a cluster a free nick must also be claimed from the presence before it is ours. A
registered nick needs its password, verified off the event loop.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .. import __version__
from ..i18n import normalize_lang, tr
from ..protocol import (
    DEFAULT_ROOM,
    Code,
    Hello,
    ProtocolError,
    ServerInfo,
    System,
    Welcome,
    nick_key,
    normalize_nick,
    normalize_room,
)
from . import recall
from .accounts import MIN_PASSWORD
from .auth import PasswordGuard

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["Identity"]

log = logging.getLogger("charla.server")


class Identity:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        config = hub.config
        self.nicks: dict[str, Member] = {}
        self.accounts = hub.presence.accounts(hub.store)
        # Direct messages are stored with whether each party was registered (recall.py).
        hub.store.registered = self.accounts.is_registered
        self.passwords = PasswordGuard(self.accounts, config, clock=hub.clock)
        self.server_info = ServerInfo(name=config.name, version=__version__, node=hub.presence.node)

    # --- hello -------------------------------------------------------------------------

    async def hello(self, member: Member, hello: Hello) -> None:
        """Welcome ``member`` as ``hello.nick`` and join its rooms, or refuse it."""
        member.lang = normalize_lang(hello.lang)  # a refused hello is answered in it too
        try:
            nick, markers = await self._admit(member, hello)
        except ProtocolError as exc:
            self._hub.refuse(member, exc, hello.label)
            return
        cap = self._hub.config.max_rooms_per_client
        rooms, bad, unread = _rooms_of(hello, cap)
        self._welcome(member, hello, nick, markers)
        # Rooms belong to the user: a new session is in its other sessions' rooms too.
        rooms += [r for r in self._hub.users.rooms_of(member) if r not in rooms]
        delivered = self._hub.fanout.delivered_upto  # later direct messages come live
        for raw in bad:
            member.send_error(
                Code.ROOM_INVALID,
                "not a valid room name: {name}",
                values={"name": repr(raw[:40])},
                label=hello.label,
            )
        await self._join_rooms(member, hello, rooms, unread, cap)
        if hello.since is not None:
            await recall.replay(self._hub, member, hello.since, delivered, hello.label)

    async def _join_rooms(
        self, member: Member, hello: Hello, rooms: list[str], unread: bool, cap: int
    ) -> None:
        """Join a hello's rooms, each costing a token of the rate limit. A room refused by
        moderation (banned, not invited) is skipped; a cap stops the rest."""
        try:
            for name in rooms:
                try:
                    self._hub.moderation.check_join(member, name)
                except ProtocolError as exc:
                    member.refuse(exc, hello.label)
                    continue
                await member.spend_token()
                await self._hub.users.join(member, name, label=hello.label, since=hello.since)
            if unread:
                raise ProtocolError(
                    Code.TOO_MANY_ROOMS,
                    "a hello may name at most {most} rooms; the rest: ignored",
                    most=cap,
                )
        except ProtocolError as exc:  # a cap: the rooms after it are not joined either
            member.refuse(exc, hello.label)

    async def _admit(self, member: Member, hello: Hello) -> tuple[str, dict[str, int]]:
        """The nick ``member`` may have, after every check ``hello`` must pass, and its
        stored read markers when it is a registered nick's first session."""
        self.passwords.check_server_password(member.peer, hello.nick, hello.server_password)
        nick = normalize_nick(hello.nick)
        self._hub.moderation.check_hello(member, nick)
        self._check_free(nick, member)
        if self.accounts.is_registered(nick):
            if hello.password is None:
                raise ProtocolError(
                    Code.NICK_REGISTERED, "{nick} is registered: send its password", nick=nick
                )
            if not await self.passwords.verify(member.peer, nick, hello.password):
                raise ProtocolError(Code.BAD_PASSWORD, "wrong password for {nick}", nick=nick)
            self._check_free(nick, member)  # someone may have taken it meanwhile
            user = self._hub.users.get(nick)
            # Sessions on other nodes count too, as far as this node knows them.
            elsewhere = self._hub.presence.sessions(nick)
            if user is not None:  # one more session of a user already here
                self._check_sessions(len(user.sessions) + elsewhere)
                return user.nick, {}
            self._check_sessions(elsewhere)
        markers = await self._hub.markers.load(nick)
        # Last: nothing may wait between it and welcome. A registered nick's sessions on
        # other nodes may hold its claim: the password was proof enough.
        await self._claim(member, nick, shared=self.accounts.is_registered(nick))
        return nick, markers

    def _check_sessions(self, count: int) -> None:
        limit = self._hub.config.max_sessions
        if count >= limit:
            raise ProtocolError(
                Code.TOO_MANY_SESSIONS,
                "this nick has {count} sessions already (at most {limit}): close one first",
                count=count,
                limit=limit,
            )

    def _welcome(self, member: Member, hello: Hello, nick: str, markers: dict[str, int]) -> None:
        member.nick = nick
        member.bot = hello.bot
        if hello.away_notify:
            self._hub.activity.listen(member)
        registered = self.accounts.is_registered(nick)
        user = self._hub.users.attach(member, nick, registered=registered, markers=markers)
        presence = self._hub.presence
        if len(user.sessions) == 1:  # the user arrives: its nick is taken from now on
            self.nicks[nick_key(nick)] = member
            presence.welcomed(nick)
        else:
            presence.counted(nick, len(user.sessions))
        log.info("welcome %s from %s (session %d)", nick, member.peer, len(user.sessions))
        member.send(
            Welcome(
                nick=nick,
                server=self.server_info,
                motd=self._hub.config.motd,
                sessions=len(user.sessions) + presence.sessions(nick) if registered else None,
                label=hello.label,
            )
        )

    def _check_free(self, nick: str, member: Member) -> None:
        """Refuse a nick someone else holds; a registered nick is shared by its sessions
        (its password is checked next)."""
        holder = self.nicks.get(nick_key(nick))
        if holder is None or holder is member or self.accounts.is_registered(nick):
            return
        raise ProtocolError(Code.NICK_TAKEN, "{nick} is already in use", nick=nick)

    async def _claim(self, member: Member, nick: str, *, shared: bool = False) -> None:
        """Make ``nick`` ours cluster-wide (at once on a single server); a ``shared`` nick
        may be held by another node already."""
        presence = self._hub.presence
        if not presence.shared:
            return
        if not await presence.claim(nick) and not shared:
            raise ProtocolError(Code.NICK_TAKEN, "{nick} is already in use", nick=nick)
        if member.closed:  # gone while the claim was on its way
            presence.released(nick)
            raise ProtocolError(Code.NICK_TAKEN, "connection closed")

    def release(self, member: Member) -> None:
        """``member`` is gone: its nick is free, unless another session of its user
        stays (which then stands for the user)."""
        remaining = self._hub.users.detach(member)
        if remaining is not None:
            self._hub.presence.counted(remaining.nick, len(remaining.sessions))
        if member.nick is None or self.nicks.get(nick_key(member.nick)) is not member:
            return
        if remaining is not None:
            self.nicks[nick_key(member.nick)] = remaining.sessions[0]
            return
        del self.nicks[nick_key(member.nick)]
        self._hub.presence.released(member.nick)

    # --- nick changes --------------------------------------------------------------------

    async def rename(self, member: Member, raw: str, *, label: str | None) -> None:
        new = normalize_nick(raw)
        old = member.nick or ""
        same_user = nick_key(new) == nick_key(old)
        others = len(self._hub.users.sessions_of(member)) - 1 + self._hub.presence.sessions(old)
        if others > 0:
            raise ProtocolError(
                Code.TOO_MANY_SESSIONS, "close your other sessions before changing your nick"
            )
        if not same_user:
            self._check_free(new, member)
            if self.accounts.is_registered(new):
                raise ProtocolError(
                    Code.NICK_REGISTERED,
                    "{nick} is registered: reconnect with its password",
                    nick=new,
                )
            await self._claim(member, new)
        del self.nicks[nick_key(old)]
        self.nicks[nick_key(new)] = member
        member.nick = new
        self._hub.users.renamed(member, old, new)
        self._hub.presence.renamed(old, new)
        # A labelled request gets one labelled answer instead of an announcement per room.
        self._hub.rooms.announce_rename(member, old, new, exclude=member if label else None)
        if label is not None:
            self._tell(member, "nick", "{user} is now known as {new}", label, new=new, old=old)

    # --- accounts ------------------------------------------------------------------------

    async def register(self, member: Member, password: str, *, label: str | None) -> None:
        _check_password(password)
        nick = member.nick or ""
        if self.accounts.is_registered(nick):
            raise ProtocolError(Code.NICK_REGISTERED, "{nick} is already registered", nick=nick)
        await self.accounts.register(nick, password)
        if member.user is not None:
            self._hub.markers.registered(member.user)
        self._tell(member, "registered", "{user} is now registered", label)

    async def unregister(self, member: Member, password: str, *, label: str | None) -> None:
        nick = member.nick or ""
        await self._verify(member, nick, password)
        await self.accounts.unregister(nick)
        await recall.forget(self._hub, nick)
        if member.user is not None:
            await self._hub.markers.unregistered(member.user)
        self._tell(member, "unregistered", "{user} is no longer registered", label)

    async def passwd(self, member: Member, old: str, new: str, *, label: str | None) -> None:
        _check_password(new)
        nick = member.nick or ""
        await self._verify(member, nick, old)
        await self.accounts.change_password(nick, new)
        self._tell(member, "password_changed", "password changed", label)

    async def _verify(self, member: Member, nick: str, password: str) -> None:
        if not self.accounts.is_registered(nick):
            raise ProtocolError(Code.NOT_REGISTERED, "{nick} is not registered", nick=nick)
        if not await self.passwords.verify(member.peer, nick, password):
            raise ProtocolError(Code.BAD_PASSWORD, "wrong password")

    def _tell(
        self,
        member: Member,
        event: str,
        message: str,
        label: str | None,
        *,
        new: str | None = None,
        old: str | None = None,
    ) -> None:
        """Confirm a change to its owner, in the owner's language."""
        user = old or member.nick
        text = tr(member.lang, message, user=user, new=new)
        member.send(System(event=event, user=user, new=new, text=text, label=label))


def _rooms_of(hello: Hello, cap: int) -> tuple[list[str], list[str], bool]:
    """The rooms a ``hello`` asks for (the default room first, unless it asks not to join
    it), the invalid names, and whether names were left unread: past ``cap`` rooms and
    invalid names together (0 = no cap) the rest of the list is not even looked at, so a
    hello of thousands of names costs no more than one of ``cap``."""
    # An ordered set: a long list stays linear.
    rooms: dict[str, None] = {DEFAULT_ROOM: None} if hello.join_default else {}
    bad: list[str] = []
    for raw in [*([hello.room] if hello.room else []), *hello.rooms]:
        if cap and len(rooms) + len(bad) > cap:
            return list(rooms), bad, True
        try:
            rooms[normalize_room(raw)] = None
        except ProtocolError:
            bad.append(raw)
    return list(rooms), bad, False


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ProtocolError(
            Code.PASSWORD_TOO_SHORT,
            "a password needs at least {least} characters",
            least=MIN_PASSWORD,
        )
