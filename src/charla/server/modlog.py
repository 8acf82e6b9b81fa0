"""The moderation log: where a moderation entry becomes durable before it counts.

Every moderation action is a :class:`~charla.protocol.ModEntry`: made by a request
(:mod:`charla.server.modrequests`), recorded by a :class:`ModerationLog`, then folded
into the rules by :meth:`~charla.server.moderation.Moderation.apply`
(:mod:`charla.server.moderation`). The server's presence chooses the log
(``Presence.moderation_log``): one server's is :class:`LocalModerationLog`, a row of the
store's ``modlog`` table; a cluster's is
:class:`~charla.cluster.moderation.ClusterModerationLog`, through the NATS stream.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from ..protocol import ModEntry

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["LocalModerationLog", "ModerationLog"]


class ModerationLog(Protocol):
    """Where moderation entries become durable, and from where they are applied."""

    async def record(self, entry: ModEntry) -> ModEntry:
        """Make ``entry`` durable (everywhere, in a cluster) and return it with its id,
        once :meth:`~charla.server.moderation.Moderation.apply` has run for it on this
        server."""


class LocalModerationLog:
    """One server: the entry is a row of the store's ``modlog``, applied at once."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        # One at a time: entries are applied in the order of their ids, as at a replay.
        self._lock = asyncio.Lock()

    async def record(self, entry: ModEntry) -> ModEntry:
        hub = self._hub
        async with self._lock:
            # A small write, on the hub's store threads (the loop never blocks on SQLite).
            entry = await hub.write(hub.store.add_moderation, entry)
            hub.moderation.apply(entry)
        return entry
