"""Every setting of ``charla serve``, with its default, its help and its check, in one place.

Each field is a flag of the same name (``max_sendq`` is ``--max-sendq``) and a key of the
config file (``max_sendq = 262144``); ``charla serve --print-config`` prints them all,
commented. :mod:`charla.settings` derives the flags, the file and the checks from the
declarations below: a field added here needs no other edit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..protocol import DEFAULT_MAX_LINE, MAX_TEXT, ProtocolError, normalize_nick
from ..settings import (
    SettingError,
    apply,
    at_least,
    between,
    changed,
    from_values,
    matches,
    more_than,
    read_toml,
    render_toml,
    setting,
)
from ..store import FsyncMode, Retention

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ServerConfig",
    "check_config",
    "default_db_path",
    "diff_reloadable",
    "load_config",
    "parse_host_port",
    "print_config",
    "reloaded",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12345

LISTEN = "listening"
HISTORY = "history"
LIMITS = "limits (docs/security.md)"
ACCESS = "access"
CLUSTER = "cluster (docs/cluster.md)"
WEB = "web client and webhooks (docs/web.md)"

_PORT = between(0, 65535)


def _nicks(names: tuple[str, ...]) -> str | None:
    """Each name must be a nick a client could hold."""
    for name in names:
        try:
            normalize_nick(name)
        except ProtocolError as exc:
            return f"{name[:40]!r} is not a valid nick ({exc.message})"
    return None


_ZERO_OR_MORE = at_least(0)
#: ``HOST:PORT`` (``[::1]:6667`` for IPv6) of an extra listener.
_ADDRESS = r"(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]*):[0-9]{1,5}"


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/charla/charla.db`` (``~/.local/share/charla/charla.db``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "charla" / "charla.db"


def parse_host_port(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` (or ``"[::1]:8080"``) as ``("127.0.0.1", 8080)``; ValueError
    says what is wrong."""
    host, colon, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT like 127.0.0.1:8080, got {text!r}")
    return host, int(port)


def _host_port(text: str) -> str | None:
    try:
        parse_host_port(text)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    # Listening.
    host: str = setting(DEFAULT_HOST, help="address to listen on", section=LISTEN, metavar="ADDR")
    port: int = setting(
        DEFAULT_PORT,
        help="port to listen on; 0 picks a free one (the bound port is logged)",
        check=_PORT,
        section=LISTEN,
    )
    name: str = setting("charla", help="server name sent in welcome", section=LISTEN)
    motd: str | None = setting(
        None,
        help="message of the day, sent in every welcome",
        reload=True,
        example="Bienvenidos. Be kind.",
        section=LISTEN,
    )
    metrics_port: int | None = setting(
        None,
        help="port of the Prometheus /metrics endpoint on the same address (0 = any port)",
        check=_PORT,
        example=9112,
        section=LISTEN,
    )

    irc: str | None = setting(
        None,
        help="also speak IRC on this address (docs/irc.md): same rooms, nicks and limits",
        check=matches(_ADDRESS, "HOST:PORT"),
        example="127.0.0.1:6667",
        metavar="HOST:PORT",
        section=LISTEN,
    )
    irc_tls: str | None = setting(
        None,
        help="also speak IRC over TLS on this address, with tls_cert and tls_key",
        check=matches(_ADDRESS, "HOST:PORT"),
        example="0.0.0.0:6697",
        metavar="HOST:PORT",
        section=LISTEN,
    )

    # History.
    db: Path = setting(
        factory=default_db_path,
        help="SQLite file holding history and registered nicks",
        section=HISTORY,
    )
    fsync: FsyncMode = setting(
        "normal",
        help="normal survives a kill -9 of the server; full also survives power loss, at "
        "the cost of an fsync per commit",
        section=HISTORY,
    )
    history: int = setting(
        50,
        help="messages replayed per room to a newcomer",
        check=_ZERO_OR_MORE,  # SQLite's LIMIT -1 is no limit: the whole room on every join
        reload=True,
        section=HISTORY,
    )
    resume_cap: int = setting(
        500,
        help="most messages a since resume replays before the client must page back",
        defends="one reconnect asking for the whole database",
        check=at_least(1),
        reload=True,
        section=HISTORY,
    )
    max_page: int = setting(
        200,
        help="largest page a history request may ask for",
        defends="one request reading the whole database",
        check=at_least(1),
        reload=True,
        section=HISTORY,
    )
    retention: Retention = setting(
        factory=Retention,
        help="per-room retention",
        prefix="retain",
        reload=True,
        section=HISTORY,
    )

    # Limits (docs/security.md).
    max_line: int = setting(
        DEFAULT_MAX_LINE,
        help="largest frame in bytes; a longer line closes the connection (new connections "
        "take a reloaded value)",
        defends="a client sending an endless line to fill the server's memory",
        check=at_least(1024),  # below that no hello fits
        unit="bytes",
        reload=True,
        section=LIMITS,
    )
    max_text: int = setting(
        MAX_TEXT,
        help="longest message text, in characters",
        defends="walls of text",
        check=at_least(1),
        reload=True,
        section=LIMITS,
    )
    rate_limit: float = setting(
        5.0,
        help="sustained messages per second per client after a burst; 0 = off (new "
        "connections take a reloaded value)",
        defends="a client flooding a room",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    burst: int = setting(
        20,
        help="messages a client may send at once before the rate limit applies (new "
        "connections take a reloaded value)",
        defends="a flood, while a 15-line paste still passes at once",
        check=at_least(1),
        reload=True,
        section=LIMITS,
    )
    flood_queue: int = setting(
        200,
        help="messages a client may have waiting for the rate limit before it is cut off (0 = off)",
        defends="a flooder filling the server's memory with queued lines",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    max_sendq: int = setting(
        256 * 1024,
        help="bytes held for a client that the OS has not taken yet before it is cut off "
        "as a slow reader (0 = off)",
        defends="a reader that never reads, making the server hold every copy for it",
        check=_ZERO_OR_MORE,
        unit="bytes",
        reload=True,
        section=LIMITS,
    )
    handshake_timeout: float = setting(
        10.0,
        help="seconds a new connection has to send hello (0 = off)",
        defends="sockets that connect and say nothing",
        check=_ZERO_OR_MORE,
        unit="seconds",
        reload=True,
        section=LIMITS,
    )
    ping_interval: float = setting(
        30.0,
        help="silence after which the server pings a client",
        defends="peers that vanish (cable pulled) staying listed forever",
        check=more_than(0),
        unit="seconds",
        section=LIMITS,
    )
    ping_timeout: float = setting(
        90.0,
        help="silence after which the server drops a client and announces it gone",
        defends="ghost users",
        check=more_than(0),
        unit="seconds",
        section=LIMITS,
    )
    max_per_ip: int = setting(
        256,
        help="connections per address (0 = off); a classroom behind NAT fits",
        defends="one machine taking every connection",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    max_clients: int = setting(
        10_000,
        help="connections in all (0 = off)",
        defends="running out of file descriptors and memory",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    max_rooms_per_client: int = setting(
        50,
        help="rooms one client may be in or watch at once (0 = off); past it too_many_rooms",
        defends="one hello joining thousands of rooms",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    max_rooms: int = setting(
        10_000,
        help="rooms the server holds at once (0 = off); past it a new room is too_many_rooms",
        defends="clients creating rooms until the server's memory is gone",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    announce_max: int = setting(
        200,
        help="rooms of more members than this stop announcing joins and leaves (0 = off)",
        defends="filling a room of N costing N*N/2 notices (50 million for 10000)",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    fanout_pace_us: float = setting(
        0.0,
        help="microseconds a fan-out waits per reader before a big room's next one (0 = off);"
        " at 10 a room of 10000 is written at most every 100 ms, with everything said"
        " meanwhile: less CPU under load, more latency when calm; rooms under 2000 never wait",
        defends="a busy room of thousands costing a system call per reader per message",
        check=_ZERO_OR_MORE,
        reload=True,
        section=LIMITS,
    )
    max_sessions: int = setting(
        5,
        help="connections one registered nick may have at once; past it too_many_sessions",
        defends="one password opening connections until the server is full",
        check=at_least(1),
        reload=True,
        section=LIMITS,
    )

    # Access.
    auto_away: float = setting(
        30,
        help="minutes every session of a user may stay idle before it is away (0 = off)",
        check=_ZERO_OR_MORE,
        reload=True,
        section=ACCESS,
    )
    tls_cert: Path | None = setting(
        None,
        help="certificate chain (PEM); with tls_key the listener speaks only TLS",
        defends="passwords and messages crossing the network in clear",
        example="/etc/charla/cert.pem",
        section=ACCESS,
    )
    tls_key: Path | None = setting(
        None,
        help="private key (PEM) of tls_cert",
        example="/etc/charla/key.pem",
        section=ACCESS,
    )
    server_password: str | None = setting(
        None,
        help="file holding a password every client must send in hello (read from a file "
        "so it never shows in ps)",
        defends="strangers joining a private chat",
        secret_file=True,
        aliases=("--password-file",),
        example="/etc/charla/server-password",
        section=ACCESS,
    )
    max_auth_failures: int = setting(
        10,
        help="failed password attempts allowed per minute for one nick from one address (0 = off)",
        defends="guessing passwords, without locking out a classmate behind the same address",
        check=_ZERO_OR_MORE,
        section=ACCESS,
    )
    max_auth_failures_per_nick: int = setting(
        30,
        help="failed password attempts allowed per minute for one registered nick, from "
        "anywhere (0 = off)",
        defends="guessing one account from many addresses",
        check=_ZERO_OR_MORE,
        section=ACCESS,
    )
    max_auth_failures_per_address: int = setting(
        100,
        help="failed password attempts allowed per minute from one address, whatever the "
        "nick (0 = off)",
        defends="one address trying nick after nick",
        check=_ZERO_OR_MORE,
        section=ACCESS,
    )
    operators: tuple[str, ...] = setting(
        (),
        help="registered nicks that are operators of the server: they moderate every room, "
        "ban server-wide and disconnect users (docs/moderation.md); a nick counts only once "
        "it is registered",
        check=_nicks,
        reload=True,
        section=ACCESS,
    )

    # Web client and webhooks (docs/web.md).
    web: str | None = setting(
        None,
        help="serve the web client, its WebSocket (/ws) and incoming webhooks over HTTP "
        "on this HOST:PORT (HTTPS with tls_cert); port 0 picks a free one",
        check=_host_port,
        example="127.0.0.1:8080",
        metavar="HOST:PORT",
        section=WEB,
    )
    web_origin: str | None = setting(
        None,
        help="other origins whose pages may open the WebSocket, comma-separated (the "
        "page's own origin always may)",
        defends="another site opening a chat in a visitor's name",
        example="https://chat.example.org",
        metavar="ORIGINS",
        section=WEB,
    )

    # Cluster (docs/cluster.md): several nodes over NATS JetStream; None = one node.
    nats: str | None = setting(
        None,
        help="join a cluster over NATS JetStream at this URL (several: comma-separated)",
        example="nats://127.0.0.1:4222",
        metavar="URL",
        section=CLUSTER,
    )
    nats_creds: Path | None = setting(
        None,
        help="file with the NATS credentials: a .creds file, or user=/password= or token= "
        "lines (never in the URL: argv is visible to every user)",
        defends="anyone who reaches NATS reading every message and password hash",
        example="/etc/charla/nats.creds",
        section=CLUSTER,
    )
    nats_tls_ca: Path | None = setting(
        None,
        help="CA that signed the NATS server's certificate (TLS to NATS)",
        defends="messages and hashes crossing the network to NATS in clear",
        example="/etc/charla/nats-ca.pem",
        section=CLUSTER,
    )
    nats_tls_cert: Path | None = setting(
        None,
        help="this node's certificate, for a NATS that verifies its clients",
        example="/etc/charla/node.pem",
        section=CLUSTER,
    )
    nats_tls_key: Path | None = setting(
        None,
        help="private key of nats_tls_cert",
        example="/etc/charla/node-key.pem",
        section=CLUSTER,
    )
    node_name: str | None = setting(
        None,
        help="this node's name, unique in the cluster (off = host name and pid)",
        example="n1",
        section=CLUSTER,
    )
    cluster_name: str = setting(
        "charla",
        help="prefix of the stream, subjects and buckets: several chats can share one NATS",
        # It becomes a NATS subject token, stream and bucket name: no '.', '*', '>' or spaces.
        check=matches(r"[A-Za-z0-9_-]{1,32}", "1-32 letters, digits, '_' or '-'"),
        section=CLUSTER,
    )
    heartbeat: float = setting(
        2.0,
        help="seconds between node heartbeats",
        check=more_than(0),
        unit="seconds",
        section=CLUSTER,
    )
    dead_after: float = setting(
        15.0,
        help="silence after which a node is declared gone and its users leave",
        check=more_than(0),
        unit="seconds",
        section=CLUSTER,
    )
    claim_ttl: float = setting(
        60.0,
        help="life of a nick claim in NATS, refreshed while held",
        defends="a crashed node's nicks staying taken forever",
        check=more_than(0),
        unit="seconds",
        section=CLUSTER,
    )
    publish_timeout: float = setting(
        10.0,
        help="how long a message may wait for NATS before its sender gets unavailable",
        check=more_than(0),
        unit="seconds",
        section=CLUSTER,
    )


def load_config(file: Path | None, flags: Mapping[str, object]) -> ServerConfig:
    """The defaults, then ``file`` (TOML) over them, then ``flags`` (key → text) over both.

    Raises :class:`~charla.settings.SettingError` naming the key of anything wrong.
    """
    values = {}
    if file is not None:
        values = from_values(ServerConfig, read_toml(file), source=f"{file}: ")
    values |= from_values(ServerConfig, flags, from_flag=True)
    config = apply(ServerConfig(), values)
    check_config(config)
    return config


def print_config() -> str:
    """The commented default config file (``charla serve --print-config``)."""
    return render_toml(ServerConfig, CONFIG_HEADER)


CONFIG_HEADER = """\
charla serve --config FILE: every setting of charla serve, at its default.

Keys are the flags' names with underscores (--max-sendq is max_sendq). A flag given on
the command line wins over the file. Sizes in bytes also read "256k" or "1m", durations
in seconds "500ms" or "2m". A setting shown commented out is off; remove the "# " to
switch it on. An unknown key, a wrong type or a bad value stops the server at start,
naming the key. SIGHUP (kill -HUP PID) reads the file again: the settings marked
"SIGHUP reloads it" change at once, the others are logged as needing a restart."""


def check_config(config: ServerConfig) -> None:
    """What no single field can check: settings that only make sense together."""
    if (config.tls_cert is None) != (config.tls_key is None):
        key = "tls_key" if config.tls_key is None else "tls_cert"
        raise SettingError(key, "tls_cert and tls_key go together")
    if (config.nats_tls_cert is None) != (config.nats_tls_key is None):
        key = "nats_tls_key" if config.nats_tls_key is None else "nats_tls_cert"
        raise SettingError(key, "nats_tls_cert and nats_tls_key go together")
    if config.irc_tls is not None and config.tls_cert is None:
        raise SettingError("irc_tls", "irc_tls needs tls_cert and tls_key")


def diff_reloadable(
    old: ServerConfig, new: ServerConfig
) -> tuple[dict[str, tuple[Any, Any]], list[str]]:
    """What a reload from ``old`` to ``new`` changes: the reloadable settings that
    changed (key → (before, after)), and the keys of those that need a restart."""
    changes: dict[str, tuple[Any, Any]] = {}
    needs_restart: list[str] = []
    for flat, before, after in changed(old, new):
        # A cluster's retention is the stream's limits, set when the node starts.
        clustered = flat.path[0] == "retention" and old.nats is not None
        if flat.spec.reload and not clustered:
            changes[flat.key] = (before, after)
        else:
            needs_restart.append(flat.key)
    return changes, needs_restart


def reloaded(old: ServerConfig, new: ServerConfig) -> ServerConfig:
    """``old`` with the reloadable settings of ``new``; the rest keep their running value."""
    changes, _ = diff_reloadable(old, new)
    return apply(old, {key: after for key, (_, after) in changes.items()})
