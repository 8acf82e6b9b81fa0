"""The IRC listener's sockets: a :class:`~charla.server.connection.Connection` that speaks
IRC on the wire and charla to its member.

Everything below the member is the native path: the hub admits the socket (caps, per
address), the member's :class:`~charla.protocol.ServerConnection` orders, meters and
bounds its requests, and fan-out hands it the same bytes as everybody else. This class
only translates: IRC lines in become the request frames :class:`IrcSession` makes of them
(fed to the member as the bytes a native client would send); frames out (JSON lines)
become IRC lines.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from .. import __version__
from ..protocol import (
    ClientFrame,
    Message,
    ProtocolError,
    ServerFrame,
    decode_server_frame,
    encode,
    nick_key,
    normalize_room,
)
from ..server.connection import Connection
from .messages import IrcLineSplitter
from .session import IrcOptions, IrcSession, Person

if TYPE_CHECKING:
    from ..server.hub import Hub

__all__ = ["IrcConnection", "irc_options", "split_address"]

log = logging.getLogger("charla.irc")

#: The real name ``WHO`` and ``WHOIS`` give a charla client's user (it sent no ``USER``).
NATIVE_REALNAME = "charla user"

#: Room messages as IRC lines, by the bytes fan-out shares and the capabilities they were
#: rendered for: a message to a room of a thousand IRC clients is rendered once per set
#: of capabilities, not once per client (what encode-once is for native clients).
_RENDERED: dict[tuple[bytes, frozenset[str]], bytes] = {}
_RENDERED_MAX = 256
#: The same, by frame: a sender's own copy of a run of messages (its own labelled, the
#: others as everybody got them) is then mostly lines rendered already, so a run with
#: many IRC senders costs each of them a lookup per message, not a rendering.
_LINES: dict[tuple[bytes, frozenset[str]], bytes] = {}
_LINES_MAX = 4096


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:6667``) as host and port."""
    host, _, port = address.rpartition(":")
    return host.removeprefix("[").removesuffix("]") or "0.0.0.0", int(port)


def irc_options(hub: Hub, created: str) -> IrcOptions:
    config = hub.config

    def find_nick(nick: str) -> str | None:
        if not nick or len(nick) > 64:
            return None
        return hub.online_nick(nick)

    def person(nick: str) -> Person | None:
        display = find_nick(nick)
        if display is None:
            return None
        member = hub.nicks.get(nick_key(display))
        if member is None:  # on another node: its nick is all this one knows
            return Person(display, display, NATIVE_REALNAME)
        user = member.user
        away = user.away if user is not None else None
        bot = any(s.bot for s in user.sessions) if user is not None else member.bot
        irc = member.link.session if isinstance(member.link, IrcConnection) else None
        if irc is None or irc.user is None:
            return Person(display, display, NATIVE_REALNAME, away, bot)
        return Person(display, irc.user, irc.realname, away, bot)

    def neighbours(nick: str, limit: int) -> list[str]:
        member = hub.nicks.get(nick_key(nick))
        if member is None:
            return []
        seen = {nick_key(nick): nick}
        for name in sorted(member.rooms):
            room = hub.rooms.get(name)
            for other in [*(room.nicks() if room else []), *hub.presence.users(name)]:
                if len(seen) >= limit:
                    return list(seen.values())
                seen.setdefault(nick_key(other), other)
        return list(seen.values())

    def channel_exists(name: str) -> bool:
        try:
            room = normalize_room(name)
        except ProtocolError:
            return False
        return (
            hub.rooms.get(room) is not None
            or bool(hub.presence.users(room))  # not room_sizes(): every room's
            or hub.moderation.topic(room) is not None
        )

    def in_channel(nick: str, name: str) -> bool:
        try:
            room = normalize_room(name)
        except ProtocolError:
            return False
        # That user alone, here and on each node: answered before charla's rate limit,
        # so never a walk of the room's members in the cluster.
        return hub.users.in_room(nick, room) or hub.presence.in_room(nick, room)

    return IrcOptions(
        server_name=config.name,
        network=config.name,
        version=__version__,
        created=created,
        motd=config.motd,
        max_text=config.max_text,
        max_page=config.max_page,
        server_password=config.server_password is not None,
        is_registered=hub.accounts.is_registered,
        find_nick=find_nick,
        channel_exists=channel_exists,
        in_channel=in_channel,
        person=person,
        neighbours=neighbours,
    )


def _same_for_everyone(frame: ServerFrame) -> bool:
    """A room message nobody's label is on renders the same for every client with the
    same capabilities."""
    return isinstance(frame, Message) and frame.label is None and frame.room is not None


class IrcConnection(Connection):
    """One IRC client's socket."""

    def __init__(self, hub: Hub, created: str = "") -> None:
        super().__init__(hub)
        self.session = IrcSession(irc_options(hub, created or time.strftime("%Y-%m-%d")))
        self._lines = IrcLineSplitter()
        self._requests_scheduled = False
        #: Requests the session made while frames were being rendered, for the member.
        self._requests: list[ClientFrame] = []

    # --- IRC lines in --------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.member is None or self.closed:
            return
        for line in self._lines.feed(data):
            self.session.receive_line(line)
        self._forward()

    def _forward(self) -> None:
        """Write the session's IRC lines; hand its requests to the member."""
        self._requests_scheduled = False
        out, frames = self.session.take()
        frames, self._requests = self._requests + frames, []
        if out:
            super().send(b"".join(out))
        if frames and self.member is not None and not self.closed:
            self.member.receive_data(b"".join(map(encode, frames)))
        elif self.member is not None and not self.closed:
            self.member.last_seen = self._hub.clock()  # a PING answered here is life too
            self.member.pinged = False
        if self.session.closing:
            super().close()

    # --- charla frames out -----------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Frames for the member, as IRC lines."""
        if self.closed:
            return
        session = self.session
        key = (data, session.caps_key)
        rendered = _RENDERED.get(key)
        if rendered is not None and session.registered:
            super().send(rendered)
            return
        out: list[bytes] = []
        frames: list[ClientFrame] = []
        shared = session.registered
        for line in data.split(b"\n"):
            if line:
                shared = self._render_line(line, out, frames) and shared
        if out:
            rendered = b"".join(out)
            if shared:
                _remember(_RENDERED, _RENDERED_MAX, key, rendered)
            super().send(rendered)
        if frames:
            # A request made while the hub is handing out frames runs after it: never
            # inside the hub's own loop over this member's requests.
            self._requests.extend(frames)
            if not self._requests_scheduled:
                self._requests_scheduled = True
                self._hub.loop.call_soon(self._forward)
        if self.session.closing:
            self.close()

    def _render_line(self, line: bytes, out: list[bytes], frames: list[ClientFrame]) -> bool:
        """Add the IRC lines of one frame to ``out`` (and the requests rendering it made
        to ``frames``); whether every client with these capabilities gets the same."""
        session = self.session
        key = (line, session.caps_key)
        rendered = _LINES.get(key)
        if rendered is not None and session.registered:
            out.append(rendered)
            return True
        try:
            frame = decode_server_frame(line)
        except ProtocolError:  # a frame type this front-end does not render
            return True
        shared = session.registered and _same_for_everyone(frame)
        session.receive_frame(frame)
        lines, requests = session.take()
        out.extend(lines)
        frames.extend(requests)
        if shared and not requests:
            _remember(_LINES, _LINES_MAX, key, b"".join(lines))
        return shared and not requests

    def close(self, *, abort: bool = False) -> None:
        if not abort and not self.session.closing:
            self.session.error("closed")
            out, _ = self.session.take()
            if out:
                super().send(b"".join(out))
        super().close(abort=abort)


def _remember(
    cache: dict[tuple[bytes, frozenset[str]], bytes],
    most: int,
    key: tuple[bytes, frozenset[str]],
    rendered: bytes,
) -> None:
    """Keep ``rendered`` for ``key``; a full cache starts over (what it holds is only
    ever the last few runs of messages)."""
    if len(cache) >= most:
        cache.clear()
    cache[key] = rendered
