"""``charla admin``: tasks on a server's database, run beside the server.

``charla admin hook create|list|delete`` manages incoming webhooks
(:mod:`charla.server.webhooks`). The database is SQLite in WAL mode, so this works while
the server runs: a new hook answers at once, a deleted one stops at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .protocol import ProtocolError, normalize_nick, normalize_room
from .server.config import default_db_path
from .server.webhooks import HOOK_PATH, hash_token, new_token
from .store import Store, StoreError

__all__ = ["add_arguments", "main"]

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
        return _hook(store, args)
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
