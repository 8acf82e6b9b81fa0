"""``charla admin``: what only someone on the server machine may do, on its database.

``charla admin op NICK --db PATH`` makes a registered nick an operator of the server (as
the config file's ``operators`` do), ``deop`` takes it back. The grant is an entry of the
moderation log, so a server reads it when it starts: restart it (or use ``operators`` in
the config file and SIGHUP) for a running server to see it.
"""

from __future__ import annotations

import argparse
import time

from .protocol import ModEntry, ProtocolError, format_ts, nick_key, normalize_nick
from .server.config import default_db_path
from .store import Store, StoreError

__all__ = ["add_admin_arguments", "admin"]

#: Who the log says granted it: someone with the database in hand.
BY = "admin"


def add_admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("op", "deop"), help="grant or take back")
    parser.add_argument("nick", help="a registered nick")
    parser.add_argument("--db", default=None, help="the server's database (default: %(default)s)")


def admin(args: argparse.Namespace) -> int:
    try:
        nick = normalize_nick(args.nick)
    except ProtocolError as exc:
        print(f"charla admin: {exc.message}")
        return 2
    try:
        store = Store(args.db or default_db_path())
    except StoreError as exc:
        print(f"charla admin: {exc}")
        return 1
    try:
        if store.account_hash(nick_key(nick)) is None:
            print(f"charla admin: {nick} is not registered: register it first")
            return 1
        action = "operator" if args.action == "op" else "deoperator"
        store.add_moderation(ModEntry(ts=format_ts(time.time()), action=action, by=BY, nick=nick))
    finally:
        store.close()
    verb = "is an operator" if args.action == "op" else "is no longer an operator"
    print(f"{nick} {verb} (a running server sees it after a restart)")
    return 0
