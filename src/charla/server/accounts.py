"""Registered nicks: argon2id hashes in the store, verified off the event loop.

The set of registered nick keys is kept in memory, so a ``hello`` for a nick nobody
registered (nearly all of them) is answered without touching the disk or a thread.

:class:`Accounts` is what the hub asks; :class:`LocalAccounts` keeps them in this
server's SQLite file (a cluster keeps them in NATS: ``charla.cluster.accounts``).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..protocol import nick_key
from ..store import Store

__all__ = ["MIN_PASSWORD", "Accounts", "LocalAccounts"]

MIN_PASSWORD = 8


class Accounts(Protocol):
    """Where registered nicks live."""

    def is_registered(self, nick: str) -> bool:
        """Answered from memory: no disk, no thread, no network."""

    async def verify(self, nick: str, password: str) -> bool: ...

    async def register(self, nick: str, password: str) -> None: ...

    async def unregister(self, nick: str) -> None: ...


class LocalAccounts:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._hasher = PasswordHasher()  # argon2id with the library's current defaults
        self._registered = store.registered_keys()

    def is_registered(self, nick: str) -> bool:
        return nick_key(nick) in self._registered

    async def verify(self, nick: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, nick_key(nick), password)

    def _verify(self, key: str, password: str) -> bool:
        stored = self._store.account_hash(key)
        if stored is None:
            return False
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def register(self, nick: str, password: str) -> None:
        key = nick_key(nick)
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        await asyncio.to_thread(self._store.set_account, key, nick, hashed)
        self._registered.add(key)

    async def unregister(self, nick: str) -> None:
        key = nick_key(nick)
        await asyncio.to_thread(self._store.delete_account, key)
        self._registered.discard(key)
