"""Registered nicks of a cluster: argon2id hashes in a KV bucket every node shares.

Each node keeps the set of registered nick keys in memory (loaded at start, kept current
by ``account`` events in the stream), so a ``hello`` for an unregistered nick is answered
without asking NATS. A record read from the bucket is checked before use: a key that is not
a nick key, a record that is not ``{nick, hash}``, or a hash whose argon2 costs are beyond
what charla writes (a forged record must not make a node spend gigabytes) counts as no
account and is logged, never a crash.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import argon2
import msgspec
import nats.errors
import nats.js.errors
from argon2.exceptions import InvalidHashError
from nats.js.kv import KeyValue

from ..protocol import nick_key
from ..server.accounts import HashedAccounts
from .checks import SkipLog, valid_key, valid_nick
from .connect import unreachable
from .settings import name_token

__all__ = ["ClusterAccounts"]

log = logging.getLogger("charla.cluster")

#: A stored hash may cost at most this many times what this node's hasher costs.
_COST_SLACK = 4


class _Account(msgspec.Struct, frozen=True):
    nick: str
    hash: str


#: Tell the other nodes that a nick key was registered (True) or unregistered (False).
Announce = Callable[[str, bool], None]


class ClusterAccounts(HashedAccounts):
    """:class:`~charla.server.accounts.Accounts` over the ``<ns>_accounts`` bucket."""

    def __init__(self, announce: Announce) -> None:
        super().__init__(set())
        self._announce = announce
        self._kv: KeyValue | None = None
        self._skips = SkipLog(log)

    async def open(self, kv: KeyValue) -> None:
        """Use bucket ``kv`` and load the registered nick keys from it."""
        self._kv = kv
        try:
            keys = await kv.keys()
        except nats.js.errors.NoKeysError:
            keys = []
        registered = set()
        for token in keys:
            key = self._key(token)
            if key is not None and name_token(key) != token:
                await self._rekey(token, key)
            if key is not None:
                registered.add(key)
        self._registered = registered

    def _key(self, token: str) -> str | None:
        """The nick key a bucket key stands for (rewritten as today's ``nick_key`` when
        it was stored under an older one), or None when it stands for none."""
        try:
            key = bytes.fromhex(token).decode()
        except (ValueError, UnicodeDecodeError):
            key = ""
        if key and valid_nick(key):
            key = nick_key(key)  # a key of an older nick_key is a valid nick
        if not valid_key(key):
            self._skips.skipped("account key", repr(token[:80]), "not a nick key")
            return None
        return key

    async def _rekey(self, token: str, key: str) -> None:
        """Move an account stored under a key of an older ``nick_key`` (before look-alikes
        were folded together) to its current key. The store's migration does the same for
        a single server; here the first node to start does it, and a look-alike already
        holding the new key keeps it."""
        kv = self._bucket_kv
        try:
            entry = await kv.get(token)
        except nats.js.errors.NotFoundError:
            return  # another node moved it a moment ago
        with contextlib.suppress(nats.js.errors.KeyWrongLastSequenceError):
            await kv.create(name_token(key), entry.value or b"")
        await kv.delete(token)
        log.info("registered nick moved to its look-alike key: %s", key)

    def note(self, key: str, on: bool) -> None:
        if on:
            self._registered.add(key)
        else:
            self._registered.discard(key)

    async def _load_hash(self, key: str) -> str | None:
        try:
            entry = await self._bucket_kv.get(name_token(key))
        except nats.js.errors.NotFoundError:
            return None
        except (nats.errors.Error, OSError) as exc:
            raise unreachable(exc) from None
        return self._stored_hash(key, entry.value or b"")

    def _stored_hash(self, key: str, value: bytes) -> str | None:
        try:
            account = msgspec.json.decode(value, type=_Account)
            params = argon2.extract_parameters(account.hash)
        except (msgspec.DecodeError, InvalidHashError):
            self._skips.skipped("account record of", repr(key), "malformed")
            return None
        if not valid_nick(account.nick) or nick_key(account.nick) != key:
            self._skips.skipped("account record of", repr(key), "nick does not match its key")
            return None
        ours = self._hasher
        if (
            params.memory_cost > _COST_SLACK * ours.memory_cost
            or params.time_cost > _COST_SLACK * ours.time_cost
            or params.parallelism > _COST_SLACK * ours.parallelism
        ):
            self._skips.skipped("account record of", repr(key), "argon2 costs out of bounds")
            return None
        return account.hash

    async def _save(self, key: str, nick: str, hashed: str) -> None:
        try:
            await self._bucket_kv.put(name_token(key), _encode(_Account(nick=nick, hash=hashed)))
        except (nats.errors.Error, OSError) as exc:
            raise unreachable(exc) from None
        self._announce(key, True)

    async def _delete(self, key: str) -> None:
        try:
            await self._bucket_kv.delete(name_token(key))
        except (nats.errors.Error, OSError) as exc:
            raise unreachable(exc) from None
        self._announce(key, False)

    @property
    def _bucket_kv(self) -> KeyValue:
        assert self._kv is not None, "ClusterAccounts.open first"
        return self._kv


_encode = msgspec.json.Encoder().encode
