"""Who may read what: the one place that decides it.

Search, history and every later reader of stored messages ask here. A room is readable
unless it is invite-only and the member is not let in (moderation decides). A direct
message is readable by its parties only, and read back later only by a party that was a
registered nick when it was sent (:func:`reader_nick`): an unregistered nick's next holder
is somebody else.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from ..protocol import nick_key

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["may_read", "may_read_direct", "reader_nick"]


def may_read(member: Member, room: str) -> bool:
    """Whether ``member`` may read the stored messages of ``room``: moderation's answer
    (an invite-only room only to who is in it, invited or in charge); called on the
    event loop."""
    return member.hub.moderation.may_read(member, room)


def reader_nick(hub: Hub, member: Member) -> str | None:
    """The nick whose direct messages ``member`` may read back: its own when registered
    (a registered nick is held only by whoever gave its password), else ``None``."""
    nick = member.nick
    if nick is None or not hub.accounts.is_registered(nick):
        return None
    return nick


def may_read_direct(hub: Hub, member: Member, readers: Collection[str]) -> bool:
    """Whether ``member`` may see a stored direct message whose parties that may read it
    back have the nick keys ``readers`` (:attr:`charla.changes.MessageInfo.readers`)."""
    nick = reader_nick(hub, member)
    return nick is not None and nick_key(nick) in readers
