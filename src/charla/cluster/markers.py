"""Read markers across the nodes of a cluster: what a registered nick has read, on every node.

A node keeps a marker by publishing it to the stream, under one subject per user
(``<ns>.log.read.<hex of the nick key>``: the stream's per-subject limit then keeps that
many markers per user, not per cluster), and waits for the stream's ack before the user's
next request runs. Every node — the publisher included — receives it in stream order,
stores it in its SQLite index in the same transaction as the messages around it (so the
next ``hello`` on any node reads it from there, and a node rebuilt from the stream has
them all), and hands it to :meth:`~charla.server.markers.Markers.apply`: the user's
sessions on that node get ``read`` at once. Only forward: the store and the sessions
keep the newest id. Unregistering a nick publishes an entry that forgets all of its
markers, everywhere.

A ``hello`` that loads a user's markers first lets the node deliver what the stream held
when it arrived (a short, bounded wait), so a marker kept on another node a moment before
is there.

An entry read from the stream is checked like a client's frame (:func:`mark_problem`);
one that fails is skipped with a warning.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from ..protocol import Code, ProtocolError, nick_key
from .checks import valid_key, valid_nick, valid_room
from .settings import name_token

if TYPE_CHECKING:
    from ..server.hub import Hub
    from .stream import NatsBus

__all__ = ["ClusterMarkerLog", "Mark", "mark_problem"]

log = logging.getLogger("charla.cluster")


class Mark(msgspec.Struct, omit_defaults=True, frozen=True):
    """A read marker as stored in the stream; ``c`` empty forgets every marker of ``k``."""

    #: The user's nick key.
    k: str
    #: The conversation (charla.server.markers.target): ``#room`` or ``@`` + a nick key.
    c: str = ""
    id: int = 0
    #: The other party of a direct conversation, as the user spelled it.
    w: str | None = None
    #: Its place in the stream (never taken from the entry: set when it is read).
    seq: int = 0


_encode = msgspec.json.Encoder().encode


def mark_problem(mark: Mark, subject: str, prefix: str) -> str | None:
    """Why ``mark`` (read from ``subject``) is not one a node would have written, or
    None. ``mark.seq`` is its place in the stream: a marker never points at or past it."""
    if not valid_key(mark.k) or subject != f"{prefix}.{name_token(mark.k)}":
        return "invalid user"
    if not mark.c:
        return None if mark.id == 0 and mark.w is None else "invalid forget"
    if not 0 <= mark.id < mark.seq:
        return "invalid id"
    kind, name = mark.c[0], mark.c[1:]
    if kind == "#":
        return None if valid_room(name) and mark.w is None else "invalid room"
    if kind != "@" or not valid_key(name):
        return "invalid conversation"
    if mark.w is not None and (not valid_nick(mark.w) or nick_key(mark.w) != name):
        return "invalid other party"
    return None


class ClusterMarkerLog:
    """A :class:`~charla.server.markers.MarkerLog` over the stream."""

    def __init__(self, bus: NatsBus, hub: Hub) -> None:
        self._bus = bus
        self._hub = hub
        bus.on_marker = self._delivered

    async def load(self, key: str) -> dict[str, int]:
        await self._bus.delivered_to_end()
        return await self._hub.read(self._hub.store.read_markers, key)

    async def record(self, key: str, target: str, newest: int, with_: str | None) -> None:
        await self._publish(Mark(k=key, c=target, id=newest, w=with_))

    async def forget(self, key: str) -> None:
        await self._publish(Mark(k=key))

    async def _publish(self, mark: Mark) -> None:
        try:
            await self._bus.publish_marker(mark.k, _encode(mark))
        except TimeoutError:
            # Still queued: the stream gets it once NATS is back.
            raise ProtocolError(
                Code.UNAVAILABLE, "the cluster is unreachable: your read marker is kept later"
            ) from None

    def _delivered(self, mark: Mark) -> None:
        markers = self._hub.markers
        if mark.c:
            markers.apply(mark.k, mark.c, mark.id, mark.w)
        else:
            markers.forgotten(mark.k)
