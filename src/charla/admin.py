"""``charla admin``: tasks on a server's database, run beside the server.

- ``charla admin hook create|list|delete`` manages incoming webhooks
  (:mod:`charla.server.webhooks`). The database is SQLite in WAL mode, so this works while
  the server runs: a new hook answers at once, a deleted one stops at once.
- ``charla admin op NICK`` makes a registered nick an operator of the server (as the
  config file's ``operators`` do), ``deop`` takes it back. The grant is an entry of the
  moderation log, which a server reads when it starts: restart it (or use ``operators``
  in the config file and SIGHUP) for a running server to see it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .protocol import ModEntry, ProtocolError, format_ts, nick_key, normalize_nick, normalize_room
from .server.config import default_db_path
from .server.webhooks import HOOK_PATH, hash_token, new_token
from .store import Store, StoreError

__all__ = ["add_arguments", "main"]

#: Who the moderation log says granted an operator: someone with the database in hand.
BY = "admin"
#: What ``--url`` is when not given: the web port on this machine (``--web`` example).
DEFAULT_URL = "http://127.0.0.1:8080"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--db", type=Path, default=None, help="the server's database (default: the server's)"
    )
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    hook = tasks.add_parser("hook", help="incoming webhooks: post to a room over HTTP")
    actions = hook.add_subparsers(dest="action", required=True, metavar="ACTION")

    create = actions.add_parser(
        "create", parents=[database], help="make a hook and print its secret URL"
    )
    create.add_argument("--room", required=True, help="room its messages go to")
    create.add_argument("--name", required=True, help="nick its messages are from (a bot)")
    create.add_argument(
        "--url",
        default=DEFAULT_URL,
        help="where users reach the server's --web port (default %(default)s)",
    )
    actions.add_parser("list", parents=[database], help="list the hooks (never their URLs)")
    delete = actions.add_parser(
        "delete", parents=[database], help="delete a hook: its URL stops working"
    )
    delete.add_argument("id", type=int, help="the hook's id, as listed")
    for task, what in (("op", "make a registered nick an operator"), ("deop", "take it back")):
        grant = tasks.add_parser(task, parents=[database], help=what)
        grant.add_argument("nick", help="a registered nick")


def main(args: argparse.Namespace) -> int:
    db: Path = args.db or default_db_path()
    if not db.exists():
        print(f"charla admin: {db} does not exist; pass the server's --db", file=sys.stderr)
        return 1
    try:
        store = Store(db)
    except StoreError as exc:
        print(f"charla admin: {exc}", file=sys.stderr)
        return 1
    try:
        return _hook(store, args) if args.task == "hook" else _operator(store, args)
    except StoreError as exc:
        print(f"charla admin: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _hook(store: Store, args: argparse.Namespace) -> int:
    if args.action == "create":
        try:
            room, name = normalize_room(args.room), normalize_nick(args.name)
        except ProtocolError as exc:
            print(f"charla admin: {exc.message}", file=sys.stderr)
            return 2
        token = new_token()
        hook = store.add_hook(room, name, hash_token(token))
        print(f"hook {hook.id}: posts in #{room} as {name}")
        print(args.url.rstrip("/") + HOOK_PATH + token)
        return 0
    if args.action == "list":
        for hook in store.hooks():
            print(f"{hook.id}\t#{hook.room}\t{hook.name}\t{hook.created}")
        return 0
    if not store.delete_hook(args.id):
        print(f"charla admin: no hook {args.id}", file=sys.stderr)
        return 1
    print(f"hook {args.id} deleted")
    return 0


def _operator(store: Store, args: argparse.Namespace) -> int:
    try:
        nick = normalize_nick(args.nick)
    except ProtocolError as exc:
        print(f"charla admin: {exc.message}", file=sys.stderr)
        return 2
    if store.account_hash(nick_key(nick)) is None:
        print(f"charla admin: {nick} is not registered: register it first", file=sys.stderr)
        return 1
    action = "operator" if args.task == "op" else "deoperator"
    store.add_moderation(ModEntry(ts=format_ts(time.time()), action=action, by=BY, nick=nick))
    verb = "is an operator" if args.task == "op" else "is no longer an operator"
    print(f"{nick} {verb} (a running server sees it after a restart)")
    return 0
