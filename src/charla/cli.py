"""The ``charla`` command: ``serve``, ``join``, ``send``, ``tail``, ``users``, ``search``,
``export``.

argparse from the standard library: the flags are few and need no framework.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .admin import add_arguments as add_admin_arguments
from .bench import add_arguments as add_bench_arguments
from .client.connection import Access, ConnectOptions
from .i18n import language_from_env, normalize_lang
from .protocol import DEFAULT_ROOM, ProtocolError, normalize_nick
from .server.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ServerConfig,
    load_config,
    print_config,
)
from .settings import SettingError, UnreadableFile, flag_values
from .settings import add_flags as add_setting_flags

__all__ = ["main"]


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

    serve = sub.add_parser(
        "serve",
        help="run a server",
        description="Run a server. Every setting is also a key of the --config file; "
        "--print-config prints them all, explained.",
    )
    serve.add_argument(
        "--config", type=Path, metavar="FILE", help="read settings from this TOML file first"
    )
    serve.add_argument(
        "--print-config", action="store_true", help="print the commented default config file"
    )
    serve.add_argument("-v", "--verbose", action="store_true")
    add_setting_flags(serve, ServerConfig)

    join = sub.add_parser("join", help="chat (full screen on a terminal, lines otherwise)")
    _add_connect_flags(join)
    join.add_argument("--nick", help="your name (asked for when missing)")
    join.add_argument("--room", action="append", default=[], help="also join this room")
    join.add_argument("--plain", action="store_true", help="line mode even on a terminal")
    join.add_argument("--no-bell", action="store_true", help="no bell on mentions")
    join.add_argument(
        "--notify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="desktop notification through the terminal for a mention or a direct message "
        "while it is not focused (default: on)",
    )
    join.add_argument(
        "--typing", action="store_true", help="tell the others when you are typing (default: off)"
    )
    join.add_argument(
        "--scrollback", type=int, default=5000, help="lines kept per room (%(default)s)"
    )

    send = sub.add_parser("send", help="send messages and exit once acknowledged")
    _add_connect_flags(send)
    send.add_argument("--nick", default=None)
    send.add_argument("--room", default=DEFAULT_ROOM)
    send.add_argument(
        "--reply-to", type=int, metavar="ID", help="answer message ID (in its thread)"
    )
    send.add_argument("text", nargs="*", help="the message (default: one per stdin line)")

    tail = sub.add_parser("tail", help="follow a room")
    _add_connect_flags(tail)
    tail.add_argument("--nick", default=None)
    tail.add_argument("--room", default=DEFAULT_ROOM)
    tail.add_argument("--since", type=int, help="start after this message id")
    tail.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per message, reaction, edit or delete (with its type)",
    )

    users = sub.add_parser("users", help="list the users of a room")
    _add_connect_flags(users)
    users.add_argument("--nick", default=None)
    users.add_argument("--room", default=DEFAULT_ROOM)

    search = sub.add_parser(
        "search",
        help="find messages",
        description='Words (all of them), "exact phrases", prefix*, from:nick, in:#room, '
        "before:YYYY-MM-DD, after:YYYY-MM-DD. Newest first.",
    )
    _add_connect_flags(search)
    search.add_argument("--nick", default=None)
    search.add_argument("query", help='what to look for, e.g. "tarea from:profe"')
    search.add_argument("--room", help="only in this room")
    search.add_argument("--from", dest="sender", metavar="NICK", help="only by this nick")
    search.add_argument("--limit", type=int, default=20, help="(default %(default)s)")
    search.add_argument("--json", action="store_true", help="one JSON object per message")

    export = sub.add_parser(
        "export",
        help="write a room's or a conversation's history from the database",
        description="Reads the server's database directly (read-only; the server may be "
        "running). Without --room or --with, every room.",
    )
    export.add_argument("--db", type=Path, required=True, help="the server's database file")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--room", help="this room only")
    which.add_argument("--with", dest="with_", metavar="NICK", help="NICK's direct messages")
    export.add_argument("--since", metavar="YYYY-MM-DD", help="from this day on")
    export.add_argument(
        "--format", choices=("jsonl", "txt", "html"), default="txt", help="(default %(default)s)"
    )

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
    add_admin_arguments(
        sub.add_parser("admin", help="manage a server's database (webhooks, operators)")
    )
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

    if args.print_config:
        print(print_config(), end="")
        return 0
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    flags = flag_values(args)

    def load() -> ServerConfig:
        return load_config(args.config, flags)

    try:
        config = load()
    except UnreadableFile as exc:
        print(f"charla serve: {exc}", file=sys.stderr)
        return 1
    except SettingError as exc:
        print(f"charla serve: {exc}", file=sys.stderr)
        return 2
    files = (config.tls_cert, config.tls_key, config.nats_creds, config.nats_tls_ca)
    for path in (*files, config.nats_tls_cert, config.nats_tls_key):
        if path is not None and not path.is_file():
            print(f"charla serve: cannot read {path}", file=sys.stderr)
            return 1
    try:
        run(config, cluster_server if config.nats is not None else ChatServer, reload=load)
    except (StoreError, ConfigError, BusUnavailable) as exc:
        print(f"charla serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"charla serve: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


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
            notify=args.notify,
            typing=args.typing,
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
                reply_to=args.reply_to,
            )
        )
    if args.command == "search":
        query = args.query + (f" from:{args.sender}" if args.sender else "")
        return scripting.run(
            scripting.search(
                options,
                nick,
                query,
                room=args.room,
                limit=args.limit,
                as_json=args.json,
                out=out,
                err=_eprintln,
                lang=lang,
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
                err=_eprintln,
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
    if args.command == "export":
        from .export import main as export

        return export(args)
    if args.command == "admin":
        from .admin import main as admin

        return admin(args)
    if args.command == "bench":
        from .bench import main as bench

        return bench(args)
    try:
        return _scripting(args)
    except KeyboardInterrupt:
        return 130
