"""Reading stored history by scope: a room, a direct conversation, an inbox; and search.

Every function takes a ``sqlite3.Connection`` first, so the server runs them through
:meth:`charla.store.Store.query` (on its reader threads) and ``charla export`` on a
read-only connection of its own, while the server writes.

A :class:`Scope` is the rows one reader may see, as an SQL condition: a room's messages,
or the direct messages of a conversation that a registered party may read back (see the
``from_reg`` / ``to_reg`` columns in :mod:`charla.store`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from .changes import tags_of, wraps_of
from .protocol import Message, SearchQuery, nick_key
from .store import DIRECT

__all__ = [
    "Scope",
    "around",
    "conversations",
    "messages",
    "page",
    "search",
    "since",
]

_COLUMNS = (
    "m.id, m.room, m.user, m.text, m.ts, m.action, m.bot, m.notice, m.tags, m.wraps, m.to_user,"
    " m.edited, m.deleted"
)

Row = tuple[
    int,
    str,
    str,
    str,
    str,
    int,
    int,
    int,
    "bytes | None",
    "bytes | None",
    "str | None",
    "str | None",
    int,
]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which messages: an SQL condition on ``m`` (the messages table) and its arguments."""

    where: str
    args: tuple[object, ...] = ()

    @classmethod
    def room(cls, room: str) -> Scope:
        return cls("m.room = ?", (room,))

    @classmethod
    def rooms(cls) -> Scope:
        """Every room's messages (no direct ones)."""
        return cls(f"m.room != '{DIRECT}'")

    @classmethod
    def conversation(cls, reader: str, other: str) -> Scope:
        """The direct messages between ``reader`` and ``other`` that ``reader`` (a
        registered nick) may read back."""
        me, them = nick_key(reader), nick_key(other)
        return cls(
            f"m.room = '{DIRECT}' AND ((m.from_key = ? AND m.to_key = ? AND m.from_reg)"
            " OR (m.from_key = ? AND m.to_key = ? AND m.to_reg))",
            (me, them, them, me),
        )

    @classmethod
    def inbox(cls, reader: str) -> Scope:
        """Every direct message ``reader`` (a registered nick) may read back."""
        me = nick_key(reader)
        return cls(
            f"m.room = '{DIRECT}' AND ((m.from_key = ? AND m.from_reg)"
            " OR (m.to_key = ? AND m.to_reg))",
            (me, me),
        )

    @classmethod
    def party(cls, nick: str) -> Scope:
        """Every direct message to or from ``nick``, registered or not: for the
        operator's export only, never for a client."""
        key = nick_key(nick)
        return cls(f"m.room = '{DIRECT}' AND (m.from_key = ? OR m.to_key = ?)", (key, key))


def to_message(row: Row) -> Message:
    """A message as it is now: its latest text, or marked deleted (with no text)."""
    id_, room, user, text, ts, action, bot, notice, tags, wraps, to, edited, deleted = row
    message = Message(
        id=id_,
        user=user,
        text="" if deleted else text,
        ts=ts,
        action=bool(action),
        bot=bool(bot),
        notice=bool(notice),
        tags=None if deleted else tags_of(tags),
        wraps=None if deleted else wraps_of(wraps),
        edited=None if deleted else edited,
        deleted=bool(deleted),
    )
    if room == DIRECT:
        message.to = to
    else:
        message.room = room
    return message


def _select(
    conn: sqlite3.Connection, scope: Scope, condition: str, args: tuple[object, ...], order: str
) -> list[Message]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM messages m WHERE ({scope.where}) {condition} ORDER BY {order}",
        (*scope.args, *args),
    ).fetchall()
    return [to_message(row) for row in rows]


def page(conn: sqlite3.Connection, scope: Scope, before: int | None, limit: int) -> list[Message]:
    """The newest ``limit`` messages of ``scope`` below id ``before`` (all without it),
    oldest first."""
    condition, args = ("AND m.id < ?", (before,)) if before is not None else ("", ())
    newest = _select(conn, scope, condition + " ", args, f"m.id DESC LIMIT {int(limit)}")
    newest.reverse()
    return newest


def around(conn: sqlite3.Connection, scope: Scope, middle: int, limit: int) -> list[Message]:
    """``limit`` messages of ``scope`` around id ``middle``, oldest first: half of them
    before it, ``middle`` itself, and the rest after (fewer at either end)."""
    after = (limit - 1) // 2
    older = page(conn, scope, middle + 1, limit - after)
    newer = _select(conn, scope, "AND m.id > ?", (middle,), f"m.id LIMIT {int(after)}")
    return older + newer


def since(
    conn: sqlite3.Connection, scope: Scope, after: int, upto: int, limit: int
) -> tuple[list[Message], bool]:
    """Messages of ``scope`` with ``after < id <= upto``, oldest first: all of them, or
    the newest ``limit`` and ``True`` when there were more."""
    newest = _select(
        conn, scope, "AND m.id > ? AND m.id <= ?", (after, upto), f"m.id DESC LIMIT {limit + 1}"
    )
    newest.reverse()
    return (newest[1:], True) if len(newest) > limit else (newest, False)


def messages(conn: sqlite3.Connection, scope: Scope, since_ts: str | None) -> Iterator[Message]:
    """Every message of ``scope`` (from ``since_ts`` on), oldest first, streamed."""
    condition, args = ("AND m.ts >= ?", (since_ts,)) if since_ts is not None else ("", ())
    cursor = conn.execute(
        f"SELECT {_COLUMNS} FROM messages m WHERE ({scope.where}) {condition} ORDER BY m.id",
        (*scope.args, *args),
    )
    for row in cursor:
        yield to_message(row)


def conversations(conn: sqlite3.Connection, reader: str, limit: int) -> list[tuple[str, int, str]]:
    """``reader``'s direct conversations it may read back, newest first: the other
    party's nick (as last seen), the newest message's id and time."""
    me = nick_key(reader)
    # With max(), SQLite takes the bare columns (name, ts) from the row holding the max.
    rows = conn.execute(
        "SELECT name, max(id), ts FROM ("
        f" SELECT to_user AS name, to_key AS other, id, ts FROM messages"
        f"  WHERE from_key = ? AND from_reg AND room = '{DIRECT}'"
        " UNION ALL"
        " SELECT user, from_key, id, ts FROM messages"
        f"  WHERE to_key = ? AND to_reg AND room = '{DIRECT}'"
        ") GROUP BY other ORDER BY max(id) DESC LIMIT ?",
        (me, me, limit),
    ).fetchall()
    return [(str(name), int(id_), str(ts)) for name, id_, ts in rows]


def search(
    conn: sqlite3.Connection,
    query: SearchQuery,
    *,
    reader: str | None,
    room: str | None,
    before: int | None,
    limit: int,
) -> list[Message]:
    """The newest ``limit`` messages matching ``query`` below id ``before``, newest first:
    in rooms, and in the direct messages ``reader`` (a registered nick, or ``None``) may
    read back. Which rooms the asker may read is the caller's to filter."""
    conditions = ["messages_fts MATCH ?"]
    args: list[object] = [query.fts]
    if reader is None:
        conditions.append(f"m.room != '{DIRECT}'")
    else:
        inbox = Scope.inbox(reader)
        conditions.append(f"(m.room != '{DIRECT}' OR ({inbox.where}))")
        args += inbox.args
    for condition, value in (
        ("m.room = ?", room),
        ("charla_nick_key(m.user) = ?", query.user and nick_key(query.user)),
        ("m.ts >= ?", query.after),
        ("m.ts < ?", query.before),
        ("messages_fts.rowid < ?", before),
    ):
        if value is not None:
            conditions.append(condition)
            args.append(value)
    conn.create_function("charla_nick_key", 1, nick_key, deterministic=True)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
        f" WHERE {' AND '.join(conditions)} ORDER BY messages_fts.rowid DESC LIMIT ?",
        (*args, limit),
    ).fetchall()
    return [to_message(row) for row in rows]
