"""Who may edit or delete a message: the tokens stored with it and held by members.

A message is stored with one token saying who wrote it:

- ``a:<nick key>`` when its nick was registered: only a session that proved the password
  can hold a registered nick, so any such session may change it, from anywhere;
- ``c:<random>`` otherwise: the connection that sent it, and only that one. Whoever takes
  the nick once it is free holds another token, so cannot rewrite what the first one said.

A member asking for a change presents every token it holds (its connection's, and its
account's while its nick is registered); the change applies if the message's token is one
of them. A moderator deleting someone else's message presents
:data:`~charla.changes.MODERATOR` as well, which allows a delete and nothing else. Tokens
never leave the server.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ..protocol import nick_key

if TYPE_CHECKING:
    from .member import Member

__all__ = ["author_of", "connection_token", "tokens_of"]


def connection_token() -> str:
    """A new connection's own token."""
    return "c:" + secrets.token_hex(8)


def _account(member: Member) -> str | None:
    nick = member.nick
    if nick is None or not member.hub.accounts.is_registered(nick):
        return None
    return "a:" + nick_key(nick)


def author_of(member: Member) -> str:
    """The token stored with a message ``member`` sends now."""
    return _account(member) or member.token


def tokens_of(member: Member) -> str:
    """Every token ``member`` holds, space-separated (what a change is checked against)."""
    account = _account(member)
    return member.token if account is None else f"{member.token} {account}"
