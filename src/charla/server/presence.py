"""Who is online beyond this server: the hub's view of the rest of the cluster.

The hub keeps its own users itself (``Hub.nicks``, the rooms). A :class:`Presence` tells
it about everybody else and hears about its users' comings and goings:

- :class:`LocalPresence` — one server, the default: there is nobody else, every nick free
  here is free, nothing to announce. No NATS needed.
- ``charla.cluster.presence.ClusterPresence`` — several nodes over NATS: nick claims in a
  KV bucket, users of other nodes, heartbeats and a sweeper for nodes that die. The server
  never imports it: ``charla serve --nats`` builds it and hands it to ``ChatServer``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .accounts import Accounts, LocalAccounts

if TYPE_CHECKING:
    from ..protocol import RelayedTags, Typing
    from ..store import Store
    from .hub import Hub
    from .markers import MarkerLog
    from .modlog import ModerationLog

__all__ = ["LocalPresence", "Presence"]


class Presence(Protocol):
    #: This node's name in the cluster (shown in ``welcome.server.node``), or None.
    node: str | None
    #: True when a nick free on this server must still be claimed elsewhere (async).
    shared: bool

    def accounts(self, store: Store) -> Accounts:
        """Where registered nicks live."""

    def moderation_log(self, hub: Hub) -> ModerationLog:
        """Where moderation entries become durable, and are applied from."""

    def marker_log(self, hub: Hub) -> MarkerLog:
        """Where read markers of registered nicks are kept."""

    async def start(self, hub: Hub) -> None: ...

    async def close(self) -> None: ...

    async def claim(self, nick: str) -> bool:
        """Reserve ``nick`` everywhere; False if someone elsewhere holds it."""

    def welcomed(self, nick: str) -> None: ...

    def released(self, nick: str) -> None:
        """``nick`` left this server (its room leaves were reported first)."""

    def joined(self, nick: str, room: str) -> None: ...

    def left(self, nick: str, room: str, *, reason: str | None = None, quit: bool = False) -> None:
        """``nick`` left ``room`` here; ``reason`` and ``quit`` as the room was told."""

    def renamed(self, old: str, new: str) -> None: ...

    # A registered nick may have sessions on several nodes: the rest of the cluster
    # hears how many, where it goes and whether it is there.

    def counted(self, nick: str, sessions: int) -> None:
        """``nick`` has ``sessions`` sessions on this node now (one or more)."""

    def moved(self, nick: str, room: str, joined: bool) -> None:
        """The user joined or parted ``room`` itself: its sessions elsewhere follow."""

    def said_away(self, nick: str, text: str | None) -> None:
        """The user said it is away (``text``, "" for no message) or back (None)."""

    def idled(self, nick: str, idle: bool) -> None:
        """Every session of ``nick`` on this node is idle (True), or one is active again."""

    def relay(self, frame: Typing | RelayedTags) -> None:
        """``frame`` went to this node's readers of its conversation: the other nodes'
        readers hear it too (never stored)."""

    def users(self, room: str) -> list[str]:
        """Members of ``room`` on other nodes, but for the users in it here."""

    def find(self, nick: str) -> str | None:
        """The nick as its owner spells it, when it is online on another node."""

    def room_sizes(self) -> dict[str, int]:
        """Members per room on other nodes, but for the users in it here."""

    def sessions(self, nick: str) -> int:
        """Sessions of ``nick`` on other nodes."""

    def rooms_of(self, nick: str) -> set[str]:
        """The rooms ``nick`` is in on other nodes."""

    def in_room(self, nick: str, room: str) -> bool:
        """Whether ``nick`` is in ``room`` on another node."""

    def away(self, nick: str) -> str | None:
        """The away message ``nick`` said ("" for none) as the other nodes know it, or
        None when it did not say it is away."""

    def idle_elsewhere(self, nick: str) -> bool:
        """Whether every other node where ``nick`` has sessions reports them idle (True
        when it has none elsewhere)."""


class LocalPresence:
    """One server alone: nobody else exists."""

    node: str | None = None
    shared = False

    def accounts(self, store: Store) -> Accounts:
        return LocalAccounts(store)

    def moderation_log(self, hub: Hub) -> ModerationLog:
        from .modlog import LocalModerationLog

        return LocalModerationLog(hub)

    def marker_log(self, hub: Hub) -> MarkerLog:
        from .markers import LocalMarkerLog

        return LocalMarkerLog(hub)

    async def start(self, hub: Hub) -> None:
        pass

    async def close(self) -> None:
        pass

    async def claim(self, nick: str) -> bool:
        return True

    def welcomed(self, nick: str) -> None:
        pass

    def released(self, nick: str) -> None:
        pass

    def joined(self, nick: str, room: str) -> None:
        pass

    def left(self, nick: str, room: str, *, reason: str | None = None, quit: bool = False) -> None:
        pass

    def renamed(self, old: str, new: str) -> None:
        pass

    def counted(self, nick: str, sessions: int) -> None:
        pass

    def moved(self, nick: str, room: str, joined: bool) -> None:
        pass

    def said_away(self, nick: str, text: str | None) -> None:
        pass

    def idled(self, nick: str, idle: bool) -> None:
        pass

    def relay(self, frame: Typing | RelayedTags) -> None:
        pass

    def users(self, room: str) -> list[str]:
        return []

    def find(self, nick: str) -> str | None:
        return None

    def room_sizes(self) -> dict[str, int]:
        return {}

    def sessions(self, nick: str) -> int:
        return 0

    def rooms_of(self, nick: str) -> set[str]:
        return set()

    def in_room(self, nick: str, room: str) -> bool:
        return False

    def away(self, nick: str) -> str | None:
        return None

    def idle_elsewhere(self, nick: str) -> bool:
        return True
