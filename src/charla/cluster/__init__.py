"""Several charla nodes as one chat over NATS JetStream (the ``cluster`` extra).

Everything that speaks NATS is here; the server only sees a :class:`~charla.bus.Bus` and a
:class:`~charla.server.presence.Presence`, which :func:`build_cluster` makes:

- :mod:`.settings` — :class:`ClusterSettings`: subjects, stream and bucket names.
- :mod:`.connect` — the connection: credentials file, TLS, reconnects, URLs without secrets.
- :mod:`.stream` — :class:`NatsBus`, the ordered log (one JetStream stream).
- :mod:`.presence` — who is online on the other nodes, nick claims, liveness.
- :mod:`.accounts` — registered nicks in a KV bucket.
- :mod:`.checks` — what a node accepts from NATS: what it would accept from a client.

docs/cluster.md describes the whole. This module imports nats-py only when a cluster is
built, so ``charla serve`` without ``--nats`` never needs it.
"""

from __future__ import annotations

import logging

from ..bus import Bus, BusUnavailable
from ..server import ChatServer, ServerConfig
from ..server.presence import Presence
from ..store import Store
from .settings import ClusterSettings, has_credentials, valid_node_name

__all__ = ["ClusterSettings", "build_cluster", "cluster_server", "settings_from"]

log = logging.getLogger("charla.cluster")


def settings_from(config: ServerConfig) -> ClusterSettings:
    """The cluster part of a server's configuration."""
    if config.nats is None:
        raise BusUnavailable("no --nats URL: this is a single server")
    if config.node_name is not None and not valid_node_name(config.node_name):
        raise BusUnavailable("--node-name: 1-64 letters, digits, '_', '-' or '.'")
    if has_credentials(config.nats):
        log.warning("the --nats URL holds credentials, which any local user sees: use --nats-creds")
    return ClusterSettings(
        url=config.nats,
        namespace=config.cluster_name,
        creds=config.nats_creds,
        tls_ca=config.nats_tls_ca,
        tls_cert=config.nats_tls_cert,
        tls_key=config.nats_tls_key,
        max_text=config.max_text,
        publish_timeout=config.publish_timeout,
        heartbeat=config.heartbeat,
        dead_after=config.dead_after,
        claim_ttl=config.claim_ttl,
        retain_days=config.retention.days,
        retain_messages=config.retention.messages,
        **({"node": config.node_name} if config.node_name else {}),
    )


def build_cluster(config: ServerConfig, store: Store) -> tuple[Bus, Presence]:
    """The NATS bus and presence of ``config.nats``, indexing into ``store``."""
    settings = settings_from(config)
    try:  # nats-py is optional: imported only now
        from .presence import ClusterPresence
        from .stream import NatsBus
    except ImportError as exc:
        raise BusUnavailable(
            f"--nats needs nats-py ({exc}): install the cluster extra, "
            "pip install 'charla[cluster]'"
        ) from None
    bus = NatsBus(store, settings)
    return bus, ClusterPresence(bus)


def cluster_server(config: ServerConfig) -> ChatServer:
    """A :class:`ChatServer` that is a node of the cluster of ``config.nats``."""
    store = Store(config.db, fsync=config.fsync)
    try:
        bus, presence = build_cluster(config, store)
    except BaseException:
        store.close()
        raise
    return ChatServer(config, store=store, bus=bus, presence=presence)
