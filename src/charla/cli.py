"""The ``charla`` command: ``serve``, ``join``, ``send``, ``tail``, ``users``.

argparse from the standard library: the flags are few and need no framework.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .bench import add_arguments as add_bench_arguments
from .client.connection import Access, ConnectOptions
from .i18n import language_from_env, normalize_lang
from .protocol import DEFAULT_ROOM, ProtocolError, normalize_nick
from .server.config import DEFAULT_HOST, DEFAULT_PORT, ServerConfig
from .store import Retention

__all__ = ["default_db_path", "main"]


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/charla/charla.db`` (``~/.local/share/charla/charla.db``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "charla" / "charla.db"


def default_nick() -> str:
    """``$CHARLA_NICK``, or the login name; a login name the server would refuse as a
    reserved nick (``root``, ``admin``) gets a ``_`` so scripts run as that user work."""
    chosen = os.environ.get("CHARLA_NICK")
    if chosen:
        return chosen
    login = getpass.getuser()
    try:
        normalize_nick(login)
    except ProtocolError:
        return login + "_"
    return login


def _positive_or_zero(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _at_least(minimum: int) -> Callable[[str], int]:
    """An integer flag with a floor: below it a value means something nobody wants
    (``--retain-messages 0`` would delete every message, ``--history -1`` replay all)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more")
        return value

    return parse


def _days(text: str) -> float:
    value = float(text)
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _cluster_name(text: str) -> str:
    # It becomes a NATS subject token, stream and bucket name: no '.', '*', '>' or spaces.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", text):
        raise argparse.ArgumentTypeError("1-32 letters, digits, '_' or '-'")
    return text


def _add_connect_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=DEFAULT_HOST, help="server address (default %(default)s)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="(default %(default)s)")
    p.add_argument("--tls", action="store_true", help="connect with TLS and verify the server")
    p.add_argument("--tls-ca", metavar="FILE", help="trust this CA instead of the system's")
    p.add_argument("--insecure", action="store_true", help="TLS without verifying (unsafe)")
    p.add_argument("--lang", help="es or en (default from LANG)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="charla", description="A real-time terminal chat. Spanish commands, English aliases."
    )
    parser.add_argument("--version", action="version", version=f"charla {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run a server")
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="(default %(default)s)")
    serve.add_argument("--db", type=Path, help="SQLite file for history (default: data dir)")
    serve.add_argument(
        "--history", type=_at_least(0), default=50, help="messages replayed per room"
    )
    serve.add_argument(
        "--fsync",
        choices=("normal", "full"),
        default="normal",
        help="full: survive power loss too, at a cost per commit",
    )
    serve.add_argument("--retain-days", type=_days, help="delete messages older than this")
    serve.add_argument("--retain-messages", type=_at_least(1), help="keep this many per room")
    serve.add_argument(
        "--max-line", type=_at_least(1024), default=64 * 1024, help="bytes per frame"
    )
    serve.add_argument(
        "--rate-limit",
        type=_positive_or_zero,
        default=5.0,
        help="messages/s per client, 0 = off (default %(default)s)",
    )
    serve.add_argument("--burst", type=int, default=20, help="messages at once (%(default)s)")
    serve.add_argument(
        "--flood-queue",
        type=int,
        default=200,
        help="queued messages before a flooder is cut off (%(default)s)",
    )
    serve.add_argument(
        "--max-sendq",
        type=int,
        default=256 * 1024,
        help="bytes held for a slow reader before it is cut off (%(default)s)",
    )
    serve.add_argument(
        "--handshake-timeout",
        type=_positive_or_zero,
        default=10.0,
        help="seconds to send hello (%(default)s)",
    )
    serve.add_argument("--ping-interval", type=float, default=30.0)
    serve.add_argument("--ping-timeout", type=float, default=90.0)
    serve.add_argument(
        "--max-per-ip", type=int, default=256, help="connections per address, 0 = off (%(default)s)"
    )
    serve.add_argument("--max-clients", type=int, default=10_000, help="(default %(default)s)")
    defaults = ServerConfig()
    for flag, field, what in (
        ("--max-auth-failures", "max_auth_failures", "for one nick from one address"),
        ("--max-auth-failures-per-nick", "max_auth_failures_per_nick", "for one nick"),
        ("--max-auth-failures-per-address", "max_auth_failures_per_address", "per address"),
    ):
        serve.add_argument(
            flag,
            type=_at_least(0),
            default=getattr(defaults, field),
            help=f"failed passwords a minute {what}, 0 = off (%(default)s)",
        )
    serve.add_argument("--tls-cert", type=Path, metavar="FILE")
    serve.add_argument("--tls-key", type=Path, metavar="FILE")
    serve.add_argument(
        "--password-file", type=Path, metavar="FILE", help="file holding the server password"
    )
    serve.add_argument("--motd", help="message of the day shown on connect")
    serve.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus /metrics on this port (off by default)",
    )
    cluster = serve.add_argument_group("cluster (docs/cluster.md)")
    cluster.add_argument(
        "--nats", metavar="URL", help="join a cluster over NATS JetStream (nats://host:4222)"
    )
    cluster.add_argument(
        "--nats-creds",
        type=Path,
        metavar="FILE",
        help="NATS credentials: a .creds file, or user=/password= or token= lines",
    )
    cluster.add_argument(
        "--nats-tls-ca", type=Path, metavar="FILE", help="CA of the NATS server's certificate"
    )
    cluster.add_argument(
        "--nats-tls-cert", type=Path, metavar="FILE", help="this node's certificate for NATS"
    )
    cluster.add_argument("--nats-tls-key", type=Path, metavar="FILE", help="its private key")
    cluster.add_argument(
        "--node-name", help="this node's name, unique in the cluster (default: host-pid)"
    )
    cluster.add_argument(
        "--cluster-name",
        type=_cluster_name,
        default="charla",
        help="stream/bucket prefix: letters, digits, '_', '-' (%(default)s)",
    )
    cluster.add_argument(
        "--heartbeat", type=float, default=2.0, help="seconds between heartbeats (%(default)s)"
    )
    cluster.add_argument(
        "--dead-after",
        type=float,
        default=15.0,
        help="silence after which a node's users are announced gone (%(default)s)",
    )
    serve.add_argument("-v", "--verbose", action="store_true")

    join = sub.add_parser("join", help="chat (full screen on a terminal, lines otherwise)")
    _add_connect_flags(join)
    join.add_argument("--nick", help="your name (asked for when missing)")
    join.add_argument("--room", action="append", default=[], help="also join this room")
    join.add_argument("--plain", action="store_true", help="line mode even on a terminal")
    join.add_argument("--no-bell", action="store_true", help="no bell on mentions")
    join.add_argument(
        "--scrollback", type=int, default=5000, help="lines kept per room (%(default)s)"
    )

    send = sub.add_parser("send", help="send messages and exit once acknowledged")
    _add_connect_flags(send)
    send.add_argument("--nick", default=None)
    send.add_argument("--room", default=DEFAULT_ROOM)
    send.add_argument("text", nargs="*", help="the message (default: one per stdin line)")

    tail = sub.add_parser("tail", help="follow a room")
    _add_connect_flags(tail)
    tail.add_argument("--nick", default=None)
    tail.add_argument("--room", default=DEFAULT_ROOM)
    tail.add_argument("--since", type=int, help="start after this message id")
    tail.add_argument("--json", action="store_true", help="one JSON object per message")

    users = sub.add_parser("users", help="list the users of a room")
    _add_connect_flags(users)
    users.add_argument("--nick", default=None)
    users.add_argument("--room", default=DEFAULT_ROOM)

    stats = sub.add_parser("stats", help="print a running server's counters")
    stats.add_argument("--host", default=DEFAULT_HOST)
    stats.add_argument(
        "--metrics-port",
        type=int,
        required=True,
        metavar="PORT",
        help="the server's --metrics-port",
    )
    bench = sub.add_parser("bench", help="measure fan-out: deliveries/s, latency, CPU, memory")
    add_bench_arguments(bench)
    return parser


def _stats(args: argparse.Namespace) -> int:
    """Fetch ``/metrics`` and print each counter as ``name value``."""
    import urllib.error
    import urllib.request

    url = f"http://{args.host}:{args.metrics_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        print(f"charla stats: cannot read {url}: {exc}", file=sys.stderr)
        return 1
    for line in text.splitlines():
        if line and not line.startswith("#"):
            print(line.removeprefix("charla_"))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .bus import BusUnavailable
    from .cluster import cluster_server
    from .server import ChatServer, run
    from .server.app import ConfigError
    from .store import StoreError

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    server_password = None
    for cert, key in (("tls_cert", "tls_key"), ("nats_tls_cert", "nats_tls_key")):
        if (getattr(args, cert) is None) != (getattr(args, key) is None):
            print(f"charla serve: --{_flag(cert)} and --{_flag(key)} go together", file=sys.stderr)
            return 2
    files = (args.password_file, args.tls_cert, args.tls_key)
    nats_files = (args.nats_creds, args.nats_tls_ca, args.nats_tls_cert, args.nats_tls_key)
    for path in (*files, *nats_files):
        if path is not None and not path.is_file():
            print(f"charla serve: cannot read {path}", file=sys.stderr)
            return 1
    if args.password_file is not None:
        server_password = args.password_file.read_text(encoding="utf-8").strip()
        if not server_password:
            print(f"charla serve: {args.password_file} is empty", file=sys.stderr)
            return 1
    config = ServerConfig(
        host=args.host,
        port=args.port,
        db=args.db or default_db_path(),
        history=args.history,
        fsync=args.fsync,
        retention=Retention(days=args.retain_days, messages=args.retain_messages),
        max_line=args.max_line,
        rate_limit=args.rate_limit,
        burst=args.burst,
        flood_queue=args.flood_queue,
        max_sendq=args.max_sendq,
        handshake_timeout=args.handshake_timeout,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        max_per_ip=args.max_per_ip,
        max_clients=args.max_clients,
        max_auth_failures=args.max_auth_failures,
        max_auth_failures_per_nick=args.max_auth_failures_per_nick,
        max_auth_failures_per_address=args.max_auth_failures_per_address,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        server_password=server_password,
        motd=args.motd,
        metrics_port=args.metrics_port,
        nats=args.nats,
        nats_creds=args.nats_creds,
        nats_tls_ca=args.nats_tls_ca,
        nats_tls_cert=args.nats_tls_cert,
        nats_tls_key=args.nats_tls_key,
        node_name=args.node_name,
        cluster_name=args.cluster_name,
        heartbeat=args.heartbeat,
        dead_after=args.dead_after,
    )
    try:
        run(config, cluster_server if config.nats is not None else ChatServer)
    except (StoreError, ConfigError, BusUnavailable) as exc:
        print(f"charla serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"charla serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


def _flag(field: str) -> str:
    return field.replace("_", "-")


def _connect_options(args: argparse.Namespace) -> ConnectOptions:
    return ConnectOptions(
        host=args.host, port=args.port, tls=args.tls, tls_ca=args.tls_ca, insecure=args.insecure
    )


def _access() -> Access:
    """Passwords come from the environment, never from argv (argv is visible to all)."""
    return Access(
        password=os.environ.get("CHARLA_PASSWORD"),
        server_password=os.environ.get("CHARLA_SERVER_PASSWORD"),
    )


def _join(args: argparse.Namespace) -> int:
    import asyncio

    lang = normalize_lang(args.lang) if args.lang else language_from_env()
    options = _connect_options(args)
    if not args.plain and sys.stdin.isatty() and sys.stdout.isatty():
        from .client.tui import run_app

        return run_app(
            options,
            nick=args.nick,
            lang=lang,
            rooms=args.room,
            bell=not args.no_bell,
            scrollback=max(100, args.scrollback),
            access=_access(),
        )
    from .client.plain import PlainClient

    client = PlainClient(options, nick=args.nick, lang=lang, rooms=args.room, access=_access())
    try:
        return asyncio.run(client.run())
    except KeyboardInterrupt:
        return 130


def _scripting(args: argparse.Namespace) -> int:
    from .client import scripting

    lang = normalize_lang(args.lang) if args.lang else language_from_env()
    options = _connect_options(args)
    nick = args.nick or default_nick()
    out = _println
    if args.command == "send":
        texts = (args.text and [" ".join(args.text)]) or (line.rstrip("\n") for line in sys.stdin)
        return scripting.run(
            scripting.send(
                options,
                nick,
                args.room,
                texts,
                err=_eprintln,
                access=_access(),
            )
        )
    if args.command == "tail":
        return scripting.run(
            scripting.tail(
                options,
                nick,
                args.room,
                since=args.since,
                as_json=args.json,
                out=out,
                lang=lang,
                access=_access(),
            )
        )
    return scripting.run(scripting.users(options, nick, args.room, out=out, access=_access()))


def _println(line: str) -> None:
    print(line, flush=True)


def _eprintln(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "join":
        return _join(args)
    if args.command == "stats":
        return _stats(args)
    if args.command == "bench":
        from .bench import main as bench

        return bench(args)
    try:
        return _scripting(args)
    except KeyboardInterrupt:
        return 130
