"""What is unread where: the user's read markers and the messages after them.

A conversation is a room (``#general``) or a direct conversation (``@bob``, by nick key).
Its marker is the newest id the user has read, on this terminal or another: ``joined``
carries it, a ``read`` frame moves it, and marking here moves it at once (the server
answers with the same ``read``). What arrived after the marker, not written by the user,
is unread; the server's ``rooms`` answer counts what happened before this client held any
of it (a capped history after a long absence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...protocol import Message, nick_key

__all__ = ["Counts", "Unread", "conversation_of", "dm_key", "room_key"]


def room_key(room: str) -> str:
    return f"#{room}"


def dm_key(nick: str) -> str:
    return f"@{nick_key(nick)}"


def conversation_of(message: Message, me: str) -> str:
    """The conversation ``message`` belongs to, seen by ``me``."""
    if message.to is None:
        return room_key(message.room or "")
    mine = nick_key(message.user) == nick_key(me)
    return dm_key(message.to if mine else message.user)


@dataclass(frozen=True)
class Counts:
    unread: int = 0
    mentions: int = 0


@dataclass
class _Conversation:
    marker: int | None = None
    #: Unread messages held here: id -> whether it names the user.
    held: dict[int, bool] = field(default_factory=dict)
    #: Unread messages the server counted that this client never held (older ones).
    older: Counts = Counts()
    newest: int | None = None


class Unread:
    """Markers and unread counts of every conversation the client saw."""

    def __init__(self) -> None:
        self._conversations: dict[str, _Conversation] = {}

    def _get(self, key: str) -> _Conversation:
        return self._conversations.setdefault(key, _Conversation())

    def joined(self, key: str, marker: int | None) -> None:
        """A (re)join carrying the marker: what it covers is read (the rest still
        counts: after a reconnect only the messages missed come again)."""
        if marker is not None:
            self.read(key, marker)

    def arrived(
        self, key: str, message_id: int, *, own: bool, mention: bool, count: bool = True
    ) -> None:
        """A message of ``key``; ``count``: unread unless the marker covers it (history
        before any marker is not counted, as the server does not count it)."""
        conversation = self._get(key)
        conversation.newest = max(conversation.newest or 0, message_id)
        if count and not own and not self.is_read(key, message_id):
            conversation.held[message_id] = mention

    def read(self, key: str, marker: int) -> bool:
        """The marker moved to ``marker`` (here or on another terminal); False when it
        was already there or past it."""
        conversation = self._get(key)
        if conversation.marker is not None and marker <= conversation.marker:
            return False
        conversation.marker = marker
        covered = [i for i in conversation.held if i <= marker]
        if covered or (conversation.newest is not None and marker >= conversation.newest):
            # The server's older unread come before anything held: read along with it.
            conversation.older = Counts()
        for i in covered:
            del conversation.held[i]
        return True

    def counted(self, key: str, counts: Counts) -> None:
        """The server's counts (a ``rooms`` answer): the part this client does not hold
        is older than what it holds."""
        conversation = self._get(key)
        conversation.older = Counts(
            unread=max(0, counts.unread - len(conversation.held)),
            mentions=max(0, counts.mentions - sum(conversation.held.values())),
        )

    def has_marker(self, key: str) -> bool:
        return self._get(key).marker is not None

    def is_read(self, key: str, message_id: int) -> bool:
        marker = self._get(key).marker
        return marker is not None and message_id <= marker

    def counts(self, key: str) -> Counts:
        conversation = self._get(key)
        return Counts(
            unread=conversation.older.unread + len(conversation.held),
            mentions=conversation.older.mentions + sum(conversation.held.values()),
        )

    def newest_unread(self, key: str) -> int | None:
        """The newest id held after the marker, when there is one."""
        conversation = self._get(key)
        newest = conversation.newest
        if newest is None or self.is_read(key, newest):
            return None
        return newest

    def forget(self, key: str) -> None:
        self._conversations.pop(key, None)
