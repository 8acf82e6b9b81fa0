"""Registered nicks: argon2id hashes in the store, hashed and verified off the event loop.

The set of registered nick keys is kept in memory, so a ``hello`` for a nick nobody
registered (nearly all of them) is answered without touching the disk or a thread.

:class:`Accounts` is what the hub asks; :class:`LocalAccounts` keeps the hashes in this
server's SQLite file, ``charla.cluster.accounts.ClusterAccounts`` in a NATS bucket. Both
hash on a :class:`HashPool` of their own: each hash takes tens of milliseconds and
64 MiB, so a few at a time is all a server can afford, and history reads (on the default
executor) never wait behind a flood of password attempts.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..protocol import Code, ProtocolError, nick_key
from ..store import Store, StoreError

__all__ = [
    "HASH_QUEUE",
    "HASH_WORKERS",
    "MIN_PASSWORD",
    "Accounts",
    "HashPool",
    "HashedAccounts",
    "LocalAccounts",
]

MIN_PASSWORD = 8
#: Threads hashing at once (each argon2 call holds 64 MiB), and calls that may wait for
#: one; past that a caller gets ``unavailable`` at once instead of a growing wait.
HASH_WORKERS = 2
HASH_QUEUE = 32

_T = TypeVar("_T")

log = logging.getLogger(__name__)


class HashPool:
    """A few threads for argon2, with a bounded queue."""

    def __init__(self, workers: int = HASH_WORKERS, queue: int = HASH_QUEUE) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="charla-argon2")
        self._capacity = workers + queue
        self._pending = 0

    async def run(self, work: Callable[..., _T], *args: object) -> _T:
        if self._pending >= self._capacity:
            raise ProtocolError(
                Code.UNAVAILABLE, "the server is busy checking passwords: try again shortly"
            )
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._pending -= 1

    def close(self) -> None:
        """Drop the waiting calls; the running ones finish on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class Accounts(Protocol):
    """Where registered nicks live."""

    def is_registered(self, nick: str) -> bool:
        """Answered from memory: no disk, no thread, no network."""

    async def verify(self, nick: str, password: str) -> bool: ...

    async def register(self, nick: str, password: str) -> None:
        """Register a nick nobody holds; ``nick_registered`` if somebody does."""

    async def change_password(self, nick: str, password: str) -> None: ...

    async def unregister(self, nick: str) -> None: ...

    def close(self) -> None: ...


class HashedAccounts:
    """Argon2id hashes wherever a subclass keeps them (``_load_hash``, ``_save``,
    ``_delete``), the registered nick keys in memory."""

    def __init__(self, registered: set[str]) -> None:
        self._hasher = PasswordHasher()  # argon2id with the library's current defaults
        self._hashing = HashPool()
        self._registered = registered
        #: Nicks whose registration is being hashed: a second one at once is refused.
        self._registering: set[str] = set()

    def is_registered(self, nick: str) -> bool:
        return nick_key(nick) in self._registered

    async def verify(self, nick: str, password: str) -> bool:
        stored = await self._load_hash(nick_key(nick))
        if stored is None:
            return False
        return await self._hashing.run(self._matches, stored, password)

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    async def register(self, nick: str, password: str) -> None:
        """Register a nick nobody holds; ``nick_registered`` if it is registered already,
        or being registered right now."""
        key = nick_key(nick)
        if key in self._registered or key in self._registering:
            raise ProtocolError(Code.NICK_REGISTERED, "{nick} is already registered", nick=nick)
        self._registering.add(key)
        try:
            await self._save(key, nick, await self._hashing.run(self._hasher.hash, password))
        finally:
            self._registering.discard(key)
        self._registered.add(key)

    async def change_password(self, nick: str, password: str) -> None:
        key = nick_key(nick)
        await self._save(key, nick, await self._hashing.run(self._hasher.hash, password))

    async def unregister(self, nick: str) -> None:
        key = nick_key(nick)
        await self._delete(key)
        self._registered.discard(key)

    def close(self) -> None:
        self._hashing.close()

    # --- where the hashes live ------------------------------------------------------------

    async def _load_hash(self, key: str) -> str | None:
        raise NotImplementedError

    async def _save(self, key: str, nick: str, hashed: str) -> None:
        raise NotImplementedError

    async def _delete(self, key: str) -> None:
        raise NotImplementedError


class LocalAccounts(HashedAccounts):
    """Registered nicks in this server's SQLite file."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.registered_keys())
        self._store = store

    async def _load_hash(self, key: str) -> str | None:
        with _answered():
            return await asyncio.to_thread(self._store.account_hash, key)

    async def _save(self, key: str, nick: str, hashed: str) -> None:
        with _answered():
            await asyncio.to_thread(self._store.set_account, key, nick, hashed)

    async def _delete(self, key: str) -> None:
        with _answered():
            await asyncio.to_thread(self._store.delete_account, key)


@contextmanager
def _answered() -> Iterator[None]:
    """A store that fails (file gone, disk full) is an ``unavailable`` answer to the
    client, never a traceback and silence; the details go to the log only."""
    try:
        yield
    except (StoreError, sqlite3.Error) as exc:
        log.error("accounts: %s", exc)
        raise ProtocolError(
            Code.UNAVAILABLE, "accounts cannot be stored right now: try again later"
        ) from None
