"""Moderation across the nodes of a cluster: one order for every ban, role and mode.

A node publishes each moderation entry to the stream's moderation subject
(``<ns>.log.moderation``) and waits for the stream's ack; every node — the publisher
included — receives it in stream order, stores it in its SQLite index in the same
transaction as the messages around it (so a node restarted from its disk resumes after
it, never missing one), and applies it (:meth:`~charla.server.moderation.Moderation.apply`).
The entry's id is its stream sequence, the same everywhere; a ban made on one node holds
on every other as soon as the stream delivers it (well under a second).

An entry read from the stream is checked like a client's frame (:func:`entry_problem`);
one that fails is skipped with a warning.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
import nats.errors

from ..protocol import Code, ModEntry, ProtocolError
from ..server.moderation import ACTIONS, MAX_REASON, MAX_TOPIC
from .checks import valid_nick, valid_room, valid_text, valid_ts

if TYPE_CHECKING:
    from ..server.hub import Hub
    from .stream import NatsBus

__all__ = ["ClusterModerationLog", "entry_problem"]

log = logging.getLogger("charla.cluster")

_encode = msgspec.json.Encoder().encode

#: Longest address an entry may carry (an IPv6 address with its zone fits).
MAX_ADDRESS = 64


def entry_problem(entry: ModEntry) -> str | None:
    """Why ``entry`` is not one a node would have written, or None."""
    if entry.action not in ACTIONS:
        return "unknown action"
    if not valid_ts(entry.ts) or (entry.until is not None and not valid_ts(entry.until)):
        return "invalid time stamp"
    if not valid_nick(entry.by) or (entry.nick is not None and not valid_nick(entry.nick)):
        return "invalid nick"
    if entry.room is not None and not valid_room(entry.room):
        return "invalid room"
    if entry.reason is not None and not valid_text(entry.reason, MAX_REASON):
        return "invalid reason"
    if entry.text and not valid_text(entry.text, MAX_TOPIC):
        return "invalid text"
    if entry.address is not None and not 0 < len(entry.address) <= MAX_ADDRESS:
        return "invalid address"
    if entry.slow is not None and not 0 <= entry.slow <= 86400:
        return "invalid slow mode"
    if (entry.action == "mode") != _changes_modes(entry):
        return "invalid modes"
    return None


def _changes_modes(entry: ModEntry) -> bool:
    """Whether ``entry`` sets a mode: a node writes modes in ``mode`` entries only, and
    always at least one there."""
    modes = (entry.invite_only, entry.moderated, entry.slow, entry.open_topic)
    return any(mode is not None for mode in modes)


class ClusterModerationLog:
    """A :class:`~charla.server.modlog.ModerationLog` over the stream."""

    def __init__(self, bus: NatsBus, hub: Hub) -> None:
        self._bus = bus
        self._hub = hub
        bus.on_moderation = self._delivered

    async def record(self, entry: ModEntry) -> ModEntry:
        try:
            seq = await self._bus.publish_moderation(_encode(entry))
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            log.warning("could not publish a moderation entry: %s", exc)
            raise ProtocolError(Code.UNAVAILABLE, "the cluster is unreachable: try again") from None
        await self._bus.delivered_through(seq)
        return msgspec.structs.replace(entry, id=seq)

    def _delivered(self, entry: ModEntry) -> None:
        self._hub.moderation.apply(entry)
