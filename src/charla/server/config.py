"""Every setting of ``charla serve``, with its default, in one place.

Each field is a flag of the same name (``max_sendq`` is ``--max-sendq``); ``0`` switches a
limit off where that makes sense. The README's table and docs/security.md describe them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..protocol import DEFAULT_MAX_LINE, MAX_TEXT
from ..store import FsyncMode, Retention

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServerConfig"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12345


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    host: str = DEFAULT_HOST
    #: 0 picks a free port (tests); the bound port is on ``ChatServer.port``.
    port: int = DEFAULT_PORT
    db: Path = Path("charla.db")
    #: Messages replayed per room to a newcomer.
    history: int = 50
    #: Most messages a ``since`` resume replays before the client must page back.
    resume_cap: int = 500
    #: Largest page a ``history`` request may ask for.
    max_page: int = 200
    fsync: FsyncMode = "normal"
    retention: Retention = field(default_factory=Retention)
    name: str = "charla"
    motd: str | None = None

    # Limits (docs/security.md).
    max_line: int = DEFAULT_MAX_LINE
    max_text: int = MAX_TEXT
    #: Sustained messages per second per client (0 = off) and the burst above it.
    rate_limit: float = 5.0
    burst: int = 20
    #: Messages a client may have waiting for the rate limit before it is cut off.
    flood_queue: int = 200
    #: Bytes held for one client that the OS has not taken yet (0 = off).
    max_sendq: int = 256 * 1024
    handshake_timeout: float = 10.0
    #: Silence after which the server pings a client, and after which it gives up.
    ping_interval: float = 30.0
    ping_timeout: float = 90.0
    max_per_ip: int = 256
    #: Rooms one client may be in or watch at once, and rooms the server holds.
    max_rooms_per_client: int = 50
    max_rooms: int = 10_000
    max_clients: int = 10_000
    #: Port of the Prometheus ``/metrics`` endpoint on ``host`` (None = off, 0 = any).
    metrics_port: int | None = None

    # Access.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    server_password: str | None = None
    #: Failed password attempts allowed per minute for one nick from one address (0 = off).
    max_auth_failures: int = 10
    #: Failed password attempts allowed per minute for one registered nick, from anywhere.
    max_auth_failures_per_nick: int = 30
    #: Failed password attempts allowed per minute from one address, whatever the nick.
    max_auth_failures_per_address: int = 100

    # Cluster (docs/cluster.md): several nodes over NATS JetStream; None = one node.
    nats: str | None = None
    #: File with the NATS credentials: a ``.creds`` file, or ``user=``/``password=`` or
    #: ``token=`` lines (docs/cluster.md). Not in the URL: argv is visible to every user.
    nats_creds: Path | None = None
    #: CA file that signed the NATS server's certificate (TLS to NATS; None = plain,
    #: unless the URL is ``tls://``, which trusts the system's CAs).
    nats_tls_ca: Path | None = None
    #: This node's certificate and key, for a NATS that verifies its clients.
    nats_tls_cert: Path | None = None
    nats_tls_key: Path | None = None
    #: Unique in the cluster; None = host name + pid.
    node_name: str | None = None
    #: Prefix of the stream, subjects and buckets: several chats can share one NATS.
    cluster_name: str = "charla"
    #: Seconds between node heartbeats; a node silent for ``dead_after`` is declared gone.
    heartbeat: float = 2.0
    dead_after: float = 15.0
    #: Life of a nick claim in NATS (refreshed while held) and how long a message may
    #: wait for NATS before its sender gets ``unavailable``.
    claim_ttl: float = 60.0
    publish_timeout: float = 10.0
