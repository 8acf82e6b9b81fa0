"""``charla export``: a room's or a nick's direct messages, out of the database file.

Run on the server machine, against the server's ``--db``: the file is opened read-only
(SQLite's WAL lets it be read while the server writes), so nothing has to stop. Three
formats: JSON lines as on the wire, plain ``[YYYY-MM-DD HH:MM] #room <user> text`` lines,
or one self-contained HTML page to hand out, where every message is escaped text and a
Content-Security-Policy forbids any script, even one that escaped the escaping.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import html
import sqlite3
import sys
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from . import archive
from .archive import Scope
from .client.format import sanitize
from .protocol import Message, ProtocolError, encode, normalize_nick, normalize_room

__all__ = ["html_page", "main", "open_read_only", "text_lines"]


class ExportError(Exception):
    """The export cannot be made; the message says why."""


def open_read_only(path: Path) -> sqlite3.Connection:
    """The database at ``path``, read-only, refused unless it is a charla database new
    enough to hold direct messages."""
    if not path.is_file():
        raise ExportError(f"{path} does not exist")
    target = f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro"
    try:
        conn = sqlite3.connect(target, uri=True)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"{path} cannot be read: {exc}") from None
    if "to_user" not in columns:
        raise ExportError(
            f"{path} is not a charla database of this version: start `charla serve` on it "
            "once to upgrade it"
        )
    return conn


def _scope(args: argparse.Namespace) -> tuple[Scope, str]:
    """What to export, and its title."""
    if args.room is not None:
        room = normalize_room(args.room)
        return Scope.room(room), f"#{room}"
    if args.with_ is not None:
        nick = normalize_nick(args.with_)
        return Scope.party(nick), f"→ {nick}"
    return Scope.rooms(), "charla"


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ExportError(f"--since {value!r} is not a date like 2026-03-01") from None


def _local(ts: str) -> str:
    """``YYYY-MM-DD HH:MM`` in this machine's time zone."""
    try:
        moment = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _where(m: Message) -> str:
    return f"#{m.room}" if m.room is not None else f"→ {m.to}"


def text_lines(messages: Iterable[Message]) -> Iterator[str]:
    """``[YYYY-MM-DD HH:MM] #room <user> text`` (``* user text`` for actions), with what
    could drive a terminal removed and later lines of a message indented."""
    for m in messages:
        text = sanitize(m.text).replace("\n", "\n    ")
        who = f"* {sanitize(m.user)}" if m.action else f"<{sanitize(m.user)}>"
        yield f"[{_local(m.ts)}] {sanitize(_where(m))} {who} {text}\n"


_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;max-width:52rem;margin:2rem auto;"
    "padding:0 1rem;color:#222}"
    "h1{font-size:1.3rem}"
    "p{margin:.2rem 0;white-space:pre-wrap;overflow-wrap:anywhere}"
    "time{color:#777;font-size:.85em;margin-right:.5em}"
    ".where{color:#2a6;margin-right:.5em}.user{font-weight:600;margin-right:.5em}"
    ".action{font-style:italic}"
)
# Only this exact style may apply, and nothing may run or load: the page is inert.
_CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    + "'; img-src 'none'; form-action 'none'; base-uri 'none'"
)


def html_page(messages: Iterable[Message], title: str) -> Iterator[str]:
    """One self-contained HTML page: every message escaped text, no script allowed."""
    esc = html.escape
    yield (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP, quote=False)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{_STYLE}</style></head>\n"
        f"<body>\n<h1>{esc(title)}</h1>\n"
    )
    for m in messages:
        kind = ' class="action"' if m.action else ""
        yield (
            f'<p id="m{m.id}"{kind}><time datetime="{esc(m.ts)}">{esc(_local(m.ts))}</time>'
            f'<span class="where">{esc(_where(m))}</span>'
            f'<span class="user">{esc(m.user)}</span>{esc(m.text)}</p>\n'
        )
    yield "</body></html>\n"


def write(messages: Iterable[Message], fmt: str, title: str, out: TextIO) -> None:
    if fmt == "jsonl":
        chunks: Iterable[str] = (encode(m).decode() for m in messages)
    elif fmt == "html":
        chunks = html_page(messages, title)
    else:
        chunks = text_lines(messages)
    out.writelines(chunks)


def main(args: argparse.Namespace) -> int:
    try:
        scope, title = _scope(args)
        since = _since(args.since)
        conn = open_read_only(args.db)
    except (ExportError, ProtocolError) as exc:
        print(f"charla export: {exc}", file=sys.stderr)
        return 1
    try:
        write(archive.messages(conn, scope, since), args.format, title, sys.stdout)
    except sqlite3.DatabaseError as exc:
        print(f"charla export: {args.db}: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0
