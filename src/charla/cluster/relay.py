"""Typing and client tags alone across the nodes: plain NATS, never stored.

A node that relays a ``typing`` or a ``tags`` (tags alone, IRC's ``TAGMSG``) to its own
readers also publishes it on the relay subject (``<namespace>.relay``): core NATS, not the
stream, so it is never stored and a node that is not listening misses it, as is right
for signals that lapse within seconds. Every other node hands it to its own readers of
the conversation (charla.server.activity).

The sending node throttles. A receiving node trusts nothing: a relay must hold what a
node writes (valid nicks, room, typing state, client tags and ``ref``), come from a node
the cluster knows, for a user on that node (and in the room, for a room); a direct
one reaches only the sessions here of its two parties. What passes is throttled again,
at twice the sender's rate, so a forged relay cannot make this node send more.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING

import msgspec
import nats.errors
from nats.aio.msg import Msg

from ..protocol import RelayedTags, Typing
from .checks import SkipLog, valid_nick, valid_origin, valid_room, valid_tags
from .stream import NatsBus

if TYPE_CHECKING:
    from ..server.hub import Hub

__all__ = ["ClusterRelay", "Relayed", "relay_problem"]

log = logging.getLogger("charla.cluster")

#: A ``typing``'s states (those of the client's ``typing``).
_STATES = frozenset({"active", "paused", "done"})
#: A relay's ``ref`` as charla.server.activity makes it.
_REF = re.compile(r"t[0-9a-f]{16}")


class Relayed(msgspec.Struct, frozen=True, omit_defaults=True):
    """A ``typing`` (``state``) or client tags (``tags`` and their ``ref``) relayed by
    node ``node`` (run ``boot``) for ``user``, in ``room`` or to ``to``."""

    node: str
    boot: str
    user: str
    room: str | None = None
    to: str | None = None
    state: str | None = None
    tags: dict[str, str] = {}
    ref: str = ""

    def frame(self) -> Typing | RelayedTags:
        """The frame readers get."""
        if self.state is not None:
            return Typing(user=self.user, state=self.state, room=self.room, to=self.to)
        return RelayedTags(user=self.user, tags=self.tags, ref=self.ref, room=self.room, to=self.to)


def relay_problem(relayed: Relayed) -> str | None:
    """Why ``relayed`` is not one a node would have written, or None."""
    if not valid_origin(relayed.node, relayed.boot):
        return "invalid node name or boot id"
    if (relayed.room is None) == (relayed.to is None):
        return "neither or both of room and to"
    nicks = [relayed.user] if relayed.to is None else [relayed.user, relayed.to]
    if not all(map(valid_nick, nicks)):
        return "invalid nick"
    if relayed.room is not None and not valid_room(relayed.room):
        return "invalid room"
    if relayed.state is not None:
        if relayed.state not in _STATES or relayed.tags or relayed.ref:
            return "invalid typing"
    elif not (relayed.tags and valid_tags(relayed.tags) and _REF.fullmatch(relayed.ref)):
        return "invalid tags"
    return None


_encode = msgspec.json.Encoder().encode


class ClusterRelay:
    """Publishes this node's relays and hands the other nodes' to the hub."""

    def __init__(
        self,
        bus: NatsBus,
        holds: Callable[[str, str, str, str | None], bool],
        spawn: Callable[[Coroutine[object, object, None]], None],
    ) -> None:
        self._bus = bus
        #: Whether (node, boot) has the user (in the room, when one is named).
        self._holds = holds
        self._spawn = spawn
        self._hub: Hub | None = None
        self._skips = SkipLog(log)

    async def start(self, hub: Hub) -> None:
        assert self._bus.nc is not None
        self._hub = hub
        await self._bus.nc.subscribe(self._bus.settings.relay_subject, cb=self._received)

    def send(self, frame: Typing | RelayedTags) -> None:
        if not self._bus.connected:
            return  # a signal of the moment: not worth keeping until NATS is back
        origin = (self._bus.node, self._bus.boot, frame.user, frame.room, frame.to)
        if isinstance(frame, Typing):
            relayed = Relayed(*origin, state=frame.state)
        else:
            relayed = Relayed(*origin, tags=frame.tags, ref=frame.ref)
        self._spawn(self._publish(_encode(relayed)))

    async def _publish(self, data: bytes) -> None:
        assert self._bus.nc is not None
        with contextlib.suppress(nats.errors.Error, OSError):  # lost, as when nobody listens
            await self._bus.nc.publish(self._bus.settings.relay_subject, data)

    async def _received(self, msg: Msg) -> None:
        try:
            relayed = msgspec.json.decode(msg.data, type=Relayed)
        except msgspec.DecodeError:  # not JSON, or not the shape (ValidationError)
            self._skips.skipped("relay", "message", "not a charla relay")
            return
        if (relayed.node, relayed.boot) == (self._bus.node, self._bus.boot):
            return  # our own, back from NATS: its readers here have it
        problem = relay_problem(relayed)
        if problem is not None:
            self._skips.skipped("relay", "message", problem)
            return
        # A relay may overtake, on plain NATS, the join its node put in the stream: it is
        # dropped as one for a stranger is, unlogged.
        if self._hub is None or not self._holds(
            relayed.node, relayed.boot, relayed.user, relayed.room
        ):
            return
        frame = relayed.frame()
        if isinstance(frame, Typing):
            self._hub.activity.typing_elsewhere(frame)
        else:
            self._hub.activity.tags_elsewhere(frame)
