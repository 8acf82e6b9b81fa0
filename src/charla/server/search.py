"""The ``search`` request: messages matching a query, from what the asker may read.

The query is parsed by :func:`charla.protocol.parse_query` (never handed to FTS5 as
syntax) and run by :func:`charla.archive.search` on a reader thread. Direct messages the
asker may not read back never leave the database; rooms are filtered here, on the loop,
by :func:`~charla.server.visibility.may_read`: a batch may lose rows to it, so batches
are read until the page is full or the matches run out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import msgspec

from .. import archive
from ..protocol import (
    Code,
    Message,
    ProtocolError,
    Results,
    Search,
    SearchQuery,
    match_ranges,
    normalize_room,
    parse_query,
)
from . import visibility
from .history import fit

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["search"]

#: Rows read per batch once the first batch lost some to rooms the asker may not read.
_BATCH = 200


def search(hub: Hub, member: Member, frame: Search) -> Coroutine[Any, Any, None]:
    """Check the request at once (a bad one is refused before any work starts); the
    returned work reads and answers."""
    if not 1 <= frame.limit <= hub.config.max_page:
        raise ProtocolError(
            Code.LIMIT_INVALID, "limit must be between 1 and {most}", most=hub.config.max_page
        )
    query = parse_query(frame.query)
    room = _room(frame.room, query.room)
    return _answer(hub, member, frame, query, room)


def _room(asked: str | None, typed: str | None) -> str | None:
    room = None if asked is None else normalize_room(asked)
    if room is not None and typed is not None and room != typed:
        raise ProtocolError(
            Code.BAD_QUERY, "in:#{typed} contradicts the room #{room}", typed=typed, room=room
        )
    return room if room is not None else typed


async def _answer(
    hub: Hub, member: Member, frame: Search, query: SearchQuery, room: str | None
) -> None:
    found, more = await _readable_matches(hub, member, query, room, frame.before, frame.limit)
    marked = [msgspec.structs.replace(m, match=match_ranges(m.text, query)) for m in found]
    # fit() keeps the newest of an oldest-first list: results are newest first.
    kept, cut = fit(marked[::-1])
    results = Results(query=frame.query, messages=kept[::-1], more=more or cut, label=frame.label)
    await member.link.drained()
    member.send(results)


async def _readable_matches(
    hub: Hub,
    member: Member,
    query: SearchQuery,
    room: str | None,
    before: int | None,
    limit: int,
) -> tuple[list[Message], bool]:
    """Up to ``limit`` matches ``member`` may read, newest first, and whether there are
    more."""
    reader = visibility.reader_nick(hub, member)
    found: list[Message] = []
    batch_size = limit + 1
    while True:
        batch = await hub.read(hub.store.query, _run, query, reader, room, before, batch_size)
        found += [m for m in batch if m.room is None or visibility.may_read(member, m.room)]
        if len(found) > limit:
            return found[:limit], True
        if len(batch) < batch_size:
            return found, False
        before = batch[-1].id
        batch_size = _BATCH


def _run(
    conn: sqlite3.Connection,
    query: SearchQuery,
    reader: str | None,
    room: str | None,
    before: int | None,
    limit: int,
) -> list[Message]:
    try:
        return archive.search(conn, query, reader=reader, room=room, before=before, limit=limit)
    except sqlite3.OperationalError as exc:
        if "fts5" not in str(exc):
            raise
        # The query is built from quoted strings only; should FTS5 still object, the
        # asker hears why instead of "internal error".
        raise ProtocolError(Code.BAD_QUERY, "cannot search for that: {why}", why=exc) from None
