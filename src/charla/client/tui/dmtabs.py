"""Direct conversations as tabs of their own (``→ beto``), beside the rooms.

A conversation's tab is keyed like its unread counts (``@`` and the nick's key,
:func:`~.unread.dm_key`): ``@`` cannot start a room name, so the app keeps rooms and
conversations in one list of tabs. A tab opens on ``/msg beto …``, on a direct message
that arrives, and on a search result that was one; for a registered user it fills with
the conversation's history (``history {with}``). A line typed in it goes to the other
party as ``msg {to}``; a ``/command`` typed in it acts on the first room's tab, but ``/part``
without a room closes it.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from ...protocol import ClientFrame, ClientHistory, History, Message, nick_key
from ..format import sanitize_line
from .unread import dm_key

__all__ = ["DIRECT_PAGE", "DirectTabs", "peer_of"]

#: How many messages of a conversation its tab opens with.
DIRECT_PAGE = 50


def _is_command(line: str) -> bool:
    return line.startswith("/") and not line.startswith("//")


def peer_of(message: Message, me: str) -> str:
    """The other party of a direct message, seen by ``me``."""
    mine = nick_key(message.user) == nick_key(me)
    return message.to if mine and message.to is not None else message.user


class DirectTabs:
    """Which tabs are direct conversations, with whom, and what goes through them."""

    def __init__(
        self,
        *,
        has_tab: Callable[[str], bool],
        add_tab: Callable[[str], object],
        show: Callable[[str], None],
        query: Callable[[ClientFrame], None],
    ) -> None:
        self._has_tab = has_tab
        self._add_tab = add_tab
        self._show = show
        self._query = query
        #: tab key -> the other party's nick, as last written.
        self._peers: dict[str, str] = {}
        #: Whether the server keeps this user's conversations (a registered nick).
        self.registered = False

    def is_direct(self, key: str) -> bool:
        return key in self._peers

    def peer(self, key: str) -> str | None:
        return self._peers.get(key)

    def title(self, key: str) -> str:
        return f"→ {sanitize_line(self._peers[key])}"

    def open(self, nick: str, *, show: bool = False, history: bool = True) -> str:
        """The tab of the conversation with ``nick``, opened (with its newest page when
        the server keeps it) unless it is open already."""
        key = dm_key(nick)
        self._peers[key] = nick
        if not self._has_tab(key):
            self._add_tab(key)
            if history:
                self._ask_page(nick, before=None)
        if show:
            self._show(key)
        return key

    def closed(self, key: str) -> None:
        """The tab ``key`` was closed (a new message opens it again)."""
        self._peers.pop(key, None)

    def arrived(self, message: Message, me: str) -> str:
        """The tab a direct message belongs in; a new one asks for what came before it."""
        other = peer_of(message, me)
        key = dm_key(other)
        if self._has_tab(key):
            self._peers[key] = other
            return key
        self.open(other, history=False)
        self._ask_page(other, before=message.id)
        return key

    def older(self, key: str, before: int) -> None:
        """PgUp at the top of a conversation's tab: the page before ``before``."""
        nick = self._peers.get(key)
        if nick is not None:
            self._ask_page(nick, before=before)

    def _ask_page(self, nick: str, *, before: int | None) -> None:
        # An unregistered nick's conversations are live only: nothing to ask for.
        if self.registered:
            self._query(ClientHistory(with_=nick, before=before, limit=DIRECT_PAGE))

    def as_tab(self, frame: History, known: set[int]) -> History:
        """A conversation's page addressed to its tab (``room`` is the tab key), without
        the messages the tab shows already: a live one may come before the page, which
        then goes before it, like a page scrolled back to."""
        nick = frame.with_ or ""
        key = dm_key(nick)
        self._peers.setdefault(key, nick)
        fresh = [m for m in frame.messages if m.id not in known]
        before = frame.before if frame.before is not None or not known else min(known)
        return msgspec.structs.replace(frame, room=key, messages=fresh, before=before)

    def outgoing(self, line: str, key: str) -> str:
        """What a line typed in tab ``key`` sends: to the other party when it is a
        conversation and the line is not a ``/command``."""
        nick = self._peers.get(key)
        if nick is None or _is_command(line) or not line.strip():
            return line
        return f"/msg {nick} {line.removeprefix('/')}"
