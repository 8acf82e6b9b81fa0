"""How a node joins the cluster: its settings, and the names of the subjects, stream and
buckets they imply. Nothing here needs nats-py."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..protocol import MAX_TEXT

__all__ = [
    "ClusterSettings",
    "default_node_name",
    "has_credentials",
    "name_token",
    "safe_url",
    "split_urls",
    "valid_node_name",
]

#: What a node name may hold: it is logged and compared, and arrives from other nodes.
_NODE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def default_node_name() -> str:
    """Host name + pid: unique per process, readable in logs."""
    return f"{socket.gethostname().split('.')[0]}-{os.getpid()}"


def valid_node_name(name: str) -> bool:
    return _NODE_NAME.fullmatch(name) is not None


def name_token(name: str) -> str:
    """A room name or nick key as one subject token or KV key: hex of its UTF-8 bytes."""
    return name.encode().hex()


def split_urls(urls: str) -> list[str]:
    """``--nats`` holds one URL or several separated by commas."""
    return [url.strip() for url in urls.split(",") if url.strip()]


def safe_url(urls: str) -> str:
    """``urls`` as it may be logged: any ``user:password@`` dropped."""
    return ",".join(_without_userinfo(url) for url in split_urls(urls))


def has_credentials(urls: str) -> bool:
    return safe_url(urls) != ",".join(split_urls(urls))


def _without_userinfo(url: str) -> str:
    try:
        parts = urlsplit(url if "://" in url else f"nats://{url}")
    except ValueError:
        return "<invalid URL>"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    """How a node joins the cluster (``charla serve --nats``)."""

    url: str
    node: str = field(default_factory=default_node_name)
    #: Prefix of every subject, stream and bucket: two chats can share one NATS.
    namespace: str = "charla"
    #: ``--nats-creds``: a NATS ``.creds`` file, or ``user=``/``password=``/``token=`` lines.
    creds: Path | None = None
    #: TLS to NATS: the CA that signed its certificate, and this node's own certificate
    #: and key when NATS asks for one (``verify: true``).
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: Longest text a message read from the stream may hold (the server's ``max_text``).
    max_text: int = MAX_TEXT
    #: A draft not acknowledged by the stream within this long is refused (unavailable).
    publish_timeout: float = 10.0
    #: Seconds between node heartbeats, and silence after which a node is declared gone.
    heartbeat: float = 2.0
    dead_after: float = 15.0
    #: Life of a nick claim in the KV bucket; refreshed every quarter of it while held.
    claim_ttl: float = 60.0
    #: Per-room retention (``--retain-days``, ``--retain-messages``): stream limits.
    retain_days: float | None = None
    retain_messages: int | None = None

    @property
    def uses_tls(self) -> bool:
        return any(path is not None for path in (self.tls_ca, self.tls_cert, self.tls_key))

    @property
    def stream(self) -> str:
        return f"{self.namespace.upper()}_LOG"

    @property
    def log_prefix(self) -> str:
        return f"{self.namespace}.log"

    def room_subject(self, room: str) -> str:
        return f"{self.log_prefix}.room.{name_token(room)}"

    @property
    def dm_subject(self) -> str:
        return f"{self.log_prefix}.dm"

    @property
    def presence_subject(self) -> str:
        return f"{self.log_prefix}.presence"

    @property
    def moderation_subject(self) -> str:
        return f"{self.log_prefix}.moderation"

    @property
    def read_prefix(self) -> str:
        """Read markers: one subject per user below it (charla.cluster.markers)."""
        return f"{self.log_prefix}.read"

    def read_subject(self, key: str) -> str:
        return f"{self.read_prefix}.{name_token(key)}"

    @property
    def heartbeat_subject(self) -> str:
        return f"{self.namespace}.heartbeat"

    @property
    def relay_subject(self) -> str:
        """Typing and client tags alone (charla.cluster.relay): plain NATS, never stored."""
        return f"{self.namespace}.relay"

    @property
    def inbox_prefix(self) -> str:
        """Replies and consumer deliveries come to ``_INBOX_<ns>.…``, not the shared
        ``_INBOX.…``: NATS permissions can then keep every other user out of them."""
        return f"_INBOX_{self.namespace}"

    @property
    def nicks_bucket(self) -> str:
        return f"{self.namespace}_nicks"

    @property
    def accounts_bucket(self) -> str:
        return f"{self.namespace}_accounts"
