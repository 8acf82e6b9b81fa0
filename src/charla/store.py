"""Durable history in SQLite.

One file, WAL mode. Exactly one thread writes (the group-commit writer of
:mod:`charla.bus.local`); any number of threads read, each through its own connection, so
a page of history never waits for a commit. Every method here blocks: the server calls
them off its event loop.

Schema versions live in ``PRAGMA user_version`` and migrate forward on open. A file that
is not a charla database, or one written by a newer charla, is refused with
:class:`StoreError` instead of being silently replaced by an empty one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, Literal, ParamSpec, TypeVar

import msgspec

from . import changes as _changes
from .protocol import Change, Message, ModEntry, format_ts, nick_key
from .settings import at_least, more_than, setting

__all__ = [
    "DIRECT",
    "SCHEMA_VERSION",
    "Hook",
    "Retention",
    "Store",
    "StoreError",
    "StoreHealth",
]

log = logging.getLogger(__name__)

FsyncMode = Literal["normal", "full"]
P = ParamSpec("P")
T = TypeVar("T")

# Each entry moves the schema from version i to i + 1. Never edit one that has shipped:
# append a new one.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE messages (
        id     INTEGER PRIMARY KEY,
        room   TEXT    NOT NULL,
        user   TEXT    NOT NULL,
        text   TEXT    NOT NULL,
        ts     TEXT    NOT NULL,
        action INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_room_id ON messages (room, id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    """,
    """
    CREATE TABLE accounts (
        nick_key TEXT PRIMARY KEY,
        nick     TEXT NOT NULL,
        hash     TEXT NOT NULL,
        created  TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # nick_key became look-alike aware (аna with a Cyrillic а is ana): recompute the keys.
    # Of accounts whose nicks now compare equal, the first registered keeps its nick.
    """
    CREATE TABLE accounts_rekeyed (
        nick_key TEXT PRIMARY KEY,
        nick     TEXT NOT NULL,
        hash     TEXT NOT NULL,
        created  TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO accounts_rekeyed
        SELECT charla_nick_key(nick), nick, hash, created FROM accounts
        ORDER BY created, nick_key;
    DROP TABLE accounts;
    ALTER TABLE accounts_rekeyed RENAME TO accounts;
    """,
    # Search and direct messages. A direct message is a row with room '' (never a room
    # name), its recipient in to_user, and each party's nick key; from_reg / to_reg say
    # whether that party was a registered nick when it was sent: only then may it read
    # the message back (an unregistered nick's next holder is someone else). The FTS5
    # index holds no copy of the text (external content) and follows every insert,
    # update and delete of messages.text through triggers, whoever writes; built once
    # here for the messages already stored.
    """
    ALTER TABLE messages ADD COLUMN to_user TEXT;
    ALTER TABLE messages ADD COLUMN from_key TEXT;
    ALTER TABLE messages ADD COLUMN to_key TEXT;
    ALTER TABLE messages ADD COLUMN from_reg INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN to_reg INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX messages_dm_from ON messages (from_key, id) WHERE from_key IS NOT NULL;
    CREATE INDEX messages_dm_to ON messages (to_key, id) WHERE to_key IS NOT NULL;
    CREATE VIRTUAL TABLE messages_fts USING fts5 (
        text, content = 'messages', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text)
            VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text)
            VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;
    INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
    """,
    # The moderation log: every role, ban, mute, mode and topic change, replayed at start
    # to rebuild the rooms' rules (docs/moderation.md). room NULL: the server's own.
    """
    CREATE TABLE IF NOT EXISTS modlog (
        id    INTEGER PRIMARY KEY,
        room  TEXT,
        entry BLOB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS modlog_room_id ON modlog (room, id);
    """,
    # Incoming webhooks (server/webhooks.py): only a hash of each token is kept. Their
    # messages are marked as posted by a program.
    """
    ALTER TABLE messages ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE hooks (
        id         INTEGER PRIMARY KEY,
        room       TEXT NOT NULL,
        name       TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created    TEXT NOT NULL
    );
    """,
    # Read markers (server/markers.py): per registered nick, the newest id read in each
    # room ('#room') or direct conversation ('@' and the other party's nick key).
    """
    CREATE TABLE IF NOT EXISTS read_markers (
        nick_key TEXT    NOT NULL,
        target   TEXT    NOT NULL,
        id       INTEGER NOT NULL,
        PRIMARY KEY (nick_key, target)
    ) WITHOUT ROWID;
    """,
    # Replies, threads, reactions, edits and deletes (charla.changes).
    _changes.MIGRATION,
    # Notices (IRC's NOTICE): messages programs never answer automatically.
    """
    ALTER TABLE messages ADD COLUMN notice INTEGER NOT NULL DEFAULT 0;
    """,
    # Client-only tags (IRCv3 message-tags), as JSON: NULL for none.
    """
    ALTER TABLE messages ADD COLUMN tags BLOB;
    """,
    # Where the author's lines were cut without a line feed (charla.protocol.wraps), as
    # JSON: NULL for none.
    """
    ALTER TABLE messages ADD COLUMN wraps BLOB;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

#: Move a read marker forward (never back: writes may land in any order), or drop them all.
_SET_MARKER = (
    "INSERT INTO read_markers (nick_key, target, id) VALUES (?, ?, ?)"
    " ON CONFLICT (nick_key, target) DO UPDATE SET id = max(id, excluded.id)"
)
_FORGET_MARKERS = "DELETE FROM read_markers WHERE nick_key = ?"

_COLUMNS = "id, room, user, text, ts, action, bot, notice, tags, wraps"
_STORED_COLUMNS = (
    _COLUMNS + ", to_user, from_key, to_key, from_reg, to_reg, reply_to, thread, author"
)
_PLACEHOLDERS = ", ".join("?" * len(_STORED_COLUMNS.split(",")))
DIRECT = _changes.DIRECT

_encode_entry = msgspec.json.Encoder().encode
_decode_entry = msgspec.json.Decoder(ModEntry).decode


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    """How much history each room keeps. ``None`` keeps everything.

    There is no "0 = off" here: 0 messages would delete every message, 0 days the same.
    """

    days: float | None = setting(
        None,
        help="delete messages older than this many days",
        defends="a database that grows without end",
        check=more_than(0),
        example=30,
        metavar="DAYS",
    )
    messages: int | None = setting(
        None,
        help="keep at most this many messages per room",
        defends="a database that grows without end",
        check=at_least(1),
        example=100_000,
    )

    @property
    def unlimited(self) -> bool:
        return self.days is None and self.messages is None


def _message_row(m: Message, registered: Callable[[str], bool], author: str) -> tuple[object, ...]:
    """The row of ``m`` in ``messages`` (``_STORED_COLUMNS``); ``author`` says who may
    change it (:mod:`charla.server.authors`)."""
    parties: tuple[object, ...] = (None, None, None, 0, 0)  # a room message has none
    if m.room is None:
        to = m.to or ""
        parties = (to, nick_key(m.user), nick_key(to), int(registered(m.user)), int(registered(to)))
    room = DIRECT if m.room is None else m.room
    text = (m.id, room, m.user, m.text, m.ts, int(m.action), int(m.bot), int(m.notice))
    tags, wraps = _changes.stored_tags(m.tags), _changes.stored_wraps(m.wraps)
    return (*text, tags, wraps, *parties, m.reply_to, m.thread, author)


@dataclass(frozen=True, slots=True)
class Hook:
    """An incoming webhook: who its messages are from, and where they go."""

    id: int
    room: str
    name: str
    created: str


def _row_to_entry(row: tuple[int, bytes]) -> ModEntry:
    """A moderation entry; its id is the row's (the JSON's may be unset)."""
    return msgspec.structs.replace(_decode_entry(row[1]), id=row[0])


class StoreHealth:
    """Whether the database path still leads to the file the store has open.

    SQLite keeps writing to an open file after it is deleted or replaced, so commits would
    succeed into a file nobody will ever read again. :meth:`check` compares the path's
    device and inode with the ones seen at open; while they differ every write is refused
    (:attr:`problem` says why), and it is accepted again once the file is back.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._identity = _identity(os.stat(path))
        #: Why writes are refused, or None while the file is good.
        self.problem: str | None = None

    def check(self) -> bool:
        """Look at the path again; True when it is still the open file."""
        # The problem is told to clients: it names no path; the log line does.
        try:
            same = _identity(os.stat(self.path)) == self._identity
            problem = None if same else "the database file was replaced"
        except OSError:
            problem = "the database file is gone"
        if problem != self.problem:
            if problem is None:
                log.warning("%s is back: storing messages again", self.path)
            else:
                log.error("%s (%s): refusing messages until it is back", problem, self.path)
        self.problem = problem
        return problem is None


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


class Store:
    """The SQLite file behind history, ids and registered nicks.

    :meth:`close` may be called while worker threads are still reading: it waits for the
    reads in progress (a query, never longer) and refuses new ones with
    :class:`StoreError`, so no thread ever uses a closed connection.
    """

    def __init__(self, path: str | Path, *, fsync: FsyncMode = "normal") -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        #: Guards the reader list, the closed flag and the count of calls in progress.
        self._state = threading.Condition()
        self._busy = 0
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory of {self.path}: {exc}") from None
        self._writer = self._connect(create=True)
        self._migrate()
        self._check_writable()
        self._last_id = self._read_last_id()
        self.health = StoreHealth(self.path)
        #: Whether a nick is registered, asked (on the writer thread) for both parties of
        #: each direct message as it is stored. The server points it at its accounts
        #: (which may live in a cluster); alone, the store asks its own table.
        self.registered: Callable[[str], bool] = self._registered_here

    # --- opening ------------------------------------------------------------------------

    def _connect(self, *, create: bool = False) -> sqlite3.Connection:
        """A connection to the file; only the writer's, at start, may create it. Any
        other opened while the file is gone would create an empty one in its place."""
        mode = "rwc" if create else "rw"
        target = f"file:{urllib.parse.quote(str(self.path.absolute()))}?mode={mode}"
        try:
            conn = sqlite3.connect(
                target, isolation_level=None, check_same_thread=False, timeout=30, uri=True
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit is in the OS before it returns, so it survives
            # the process being killed; FULL also fsyncs, so it survives power loss.
            conn.execute(f"PRAGMA synchronous={self.fsync.upper()}")
            # A deleted message's text is overwritten, not left in a free page.
            conn.execute("PRAGMA secure_delete=ON")
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from None
        return conn

    def _unusable(self, exc: sqlite3.Error) -> StoreError:
        if exc.sqlite_errorname.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
            return StoreError(
                f"{self.path} cannot be opened for writing ({exc}); "
                "check the permissions of the file and of its directory, or pass another --db"
            )
        return StoreError(
            f"{self.path} is not a usable charla database ({exc}); "
            "move it away or pass another --db"
        )

    def _migrate(self) -> None:
        try:
            (version,) = self._writer.execute("PRAGMA user_version").fetchone()
            if version == 0 and self._has_tables():
                raise StoreError(
                    f"{self.path} holds tables but no charla schema; pass another --db"
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} cannot be read ({exc})") from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this charla "
                f"({SCHEMA_VERSION}); upgrade charla"
            )
        # Migrations that rewrite nick keys call the same function the server compares by.
        self._writer.create_function("charla_nick_key", 1, nick_key, deterministic=True)
        started = time.perf_counter()
        try:
            for target in range(version + 1, SCHEMA_VERSION + 1):
                # executescript runs the whole step, version bump included, as one
                # transaction.
                self._writer.executescript(
                    "BEGIN IMMEDIATE;"
                    + _MIGRATIONS[target - 1]
                    + f"PRAGMA user_version={target}; COMMIT;"
                )
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from None
        if 0 < version < SCHEMA_VERSION:
            # An upgrade may rebuild an index over every message (search): say how long.
            log.info(
                "upgraded %s from schema %d to %d in %.1f s",
                self.path,
                version,
                SCHEMA_VERSION,
                time.perf_counter() - started,
            )

    def _check_writable(self) -> None:
        """Write once at open: a read-only file or directory stops the server at start,
        not at its first message."""
        try:
            with _Transaction(self._writer):
                self._writer.execute(
                    "INSERT INTO meta (key, value) VALUES ('opened', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (format_ts(time.time()),),
                )
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from None

    def _has_tables(self) -> bool:
        row = self._writer.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return bool(row[0])

    def _read_last_id(self) -> int:
        row = self._writer.execute(
            "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'last_id'), 0),"
            " coalesce((SELECT max(id) FROM messages), 0))"
        ).fetchone()
        return int(row[0])

    @property
    def last_id(self) -> int:
        """The highest id ever handed out (stored messages and live-only ones alike)."""
        return self._last_id

    # --- every use of a connection goes through here -----------------------------------

    @contextlib.contextmanager
    def _in_use(self) -> Iterator[None]:
        """Count a call in progress, so that :meth:`close` waits for it; refuse once
        closed."""
        with self._state:
            if self._closed:
                raise StoreError(f"{self.path} is closed (the server is stopping)")
            self._busy += 1
        try:
            yield
        finally:
            with self._state:
                self._busy -= 1
                if not self._busy:
                    self._state.notify_all()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The calling thread's own connection, in use until the block ends."""
        with self._in_use():
            conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
            if conn is None:
                if self.health.problem is not None:
                    raise StoreError(self.health.problem)
                conn = self._connect()
                self._local.conn = conn
                with self._state:
                    self._readers.append(conn)
            yield conn

    @contextlib.contextmanager
    def _writing(self, conn: sqlite3.Connection) -> Iterator[None]:
        """One write transaction, refused while the file is gone (see StoreHealth)."""
        if self.health.problem is not None:
            raise StoreError(self.health.problem)
        with _Transaction(conn):
            yield

    # --- writing -------------------------------------------------------------------------
    # commit_batch runs on the bus's writer thread only, through the writer connection.
    # Rarer writes (accounts, pruning) go through the calling thread's own connection;
    # SQLite serialises writers, and its busy timeout makes the other one wait.

    def commit_batch(
        self,
        entries: Sequence[Message | Change],
        last_id: int,
        authors: Mapping[int, str] | None = None,
        moderation: Sequence[ModEntry] = (),
        *,
        markers: Sequence[tuple[str, str, int]] = (),
    ) -> dict[int, _changes.Refusal]:
        """Store the messages of one batch, direct ones included, its changes, and the id
        high-water mark, in one transaction (``last_id`` may be above the last message's
        id, so that no id is ever handed out twice, even after a crash); returns the
        changes refused (by id), see :func:`charla.changes.apply_changes`. ``authors``
        maps ids to who may change the message (or who asks for the change). A cluster's
        moderation entries and read markers (nick key, target, id; an empty target
        forgets the nick's markers) of the batch go in the same transaction."""
        authors = authors or {}
        messages = [m for m in entries if isinstance(m, Message)]
        changes = [c for c in entries if not isinstance(c, Message)]
        refused: dict[int, _changes.Refusal] = {}
        deleted = False
        with self._in_use(), self._writing(self._writer):
            if messages:
                self._store_messages(messages, authors)
            if changes:
                refused, deleted = _changes.apply_changes(self._writer, changes, authors)
            if moderation:
                self._writer.executemany(
                    "INSERT OR IGNORE INTO modlog (id, room, entry) VALUES (?, ?, ?)",
                    [(e.id, e.room, _encode_entry(e)) for e in moderation],
                )
            for key, target, marker in markers:  # in order: a forget, then new ones
                if target:
                    self._writer.execute(_SET_MARKER, (key, target, marker))
                else:
                    self._writer.execute(_FORGET_MARKERS, (key,))
            if last_id > self._last_id:
                self._writer.execute(
                    "INSERT INTO meta (key, value) VALUES ('last_id', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (last_id,),
                )
        self._last_id = max(self._last_id, last_id)
        if deleted:
            self._checkpoint()
        return refused

    def _store_messages(self, messages: Sequence[Message], authors: Mapping[int, str]) -> None:
        insert = f"INSERT INTO messages ({_STORED_COLUMNS}) VALUES ({_PLACEHOLDERS})"
        # One at a time: a reply may answer a message of the same batch.
        for m in messages:
            if m.reply_to is not None:
                _changes.attach_parent(self._writer, m)
            self._writer.execute(insert, _message_row(m, self.registered, authors.get(m.id, "")))

    def _checkpoint(self) -> None:
        """Move the WAL into the database and empty it: a deleted text's old pages leave
        the WAL file too. Best effort: a reader in the middle of a query may hold it."""
        with self._in_use():
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    def prune(self, retention: Retention, *, now: float | None = None) -> int:
        """Delete what the retention policy no longer keeps; returns how many rows."""
        if retention.unlimited:
            return 0
        deleted = 0
        with self._connection() as conn, self._writing(conn):
            if retention.days is not None:
                cutoff = time.time() if now is None else now
                cutoff_ts = format_ts(cutoff - retention.days * 86400)
                deleted += conn.execute("DELETE FROM messages WHERE ts < ?", (cutoff_ts,)).rowcount
            if retention.messages is not None:
                rooms = [r for (r,) in conn.execute("SELECT DISTINCT room FROM messages")]
                for room in rooms:
                    deleted += conn.execute(
                        "DELETE FROM messages WHERE room = ? AND id <= coalesce(("
                        " SELECT id FROM messages WHERE room = ?"
                        " ORDER BY id DESC LIMIT 1 OFFSET ?), -1)",
                        (room, room, retention.messages),
                    ).rowcount
        return deleted

    # --- accounts (registered nicks) ---------------------------------------------------

    def account_hash(self, nick_key: str) -> str | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT hash FROM accounts WHERE nick_key = ?", (nick_key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def _registered_here(self, nick: str) -> bool:
        row = self._writer.execute(
            "SELECT 1 FROM accounts WHERE nick_key = ?", (nick_key(nick),)
        ).fetchone()
        return row is not None

    def registered_keys(self) -> set[str]:
        with self._in_use():
            return {key for (key,) in self._writer.execute("SELECT nick_key FROM accounts")}

    def set_account(self, nick_key: str, nick: str, password_hash: str) -> None:
        with self._connection() as conn, self._writing(conn):
            conn.execute(
                "INSERT INTO accounts (nick_key, nick, hash, created) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (nick_key) DO UPDATE SET hash = excluded.hash",
                (nick_key, nick, password_hash, format_ts(time.time())),
            )

    def delete_account(self, nick_key: str) -> None:
        with self._connection() as conn, self._writing(conn):
            conn.execute("DELETE FROM accounts WHERE nick_key = ?", (nick_key,))

    # --- read markers ------------------------------------------------------------------

    def read_markers(self, nick_key: str) -> dict[str, int]:
        """A registered nick's read markers, by target (see server/markers.py)."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT target, id FROM read_markers WHERE nick_key = ?", (nick_key,)
            ).fetchall()
        return {target: marker for target, marker in rows}

    def set_read_marker(self, nick_key: str, target: str, marker: int) -> None:
        """Move a marker forward (never back: writes may land in any order)."""
        with self._connection() as conn, self._writing(conn):
            conn.execute(_SET_MARKER, (nick_key, target, marker))

    def forget_read_markers(self, nick_key: str) -> None:
        with self._connection() as conn, self._writing(conn):
            conn.execute(_FORGET_MARKERS, (nick_key,))

    # --- the moderation log ------------------------------------------------------------

    def add_moderation(self, entry: ModEntry) -> ModEntry:
        """Append ``entry`` to the moderation log; returns it with its id."""
        with self._connection() as conn, self._writing(conn):
            cursor = conn.execute(
                "INSERT INTO modlog (room, entry) VALUES (?, ?)", (entry.room, _encode_entry(entry))
            )
        return msgspec.structs.replace(entry, id=cursor.lastrowid or 0)

    def moderation_entries(self) -> list[ModEntry]:
        """The whole moderation log, oldest first (to rebuild the rules at start)."""
        with self._connection() as conn:
            rows = conn.execute("SELECT id, entry FROM modlog ORDER BY id").fetchall()
        return [_row_to_entry(row) for row in rows]

    def moderation_page(
        self, room: str | None, before: int | None, limit: int
    ) -> tuple[list[ModEntry], bool]:
        """The newest ``limit`` entries of ``room`` (None: the server's) older than
        ``before``, oldest first, and whether there are older ones."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT id, entry FROM modlog WHERE room IS ? AND id < ? ORDER BY id DESC LIMIT ?",
                (room, 2**63 - 1 if before is None else before, limit + 1),
            ).fetchall()
        entries = [_row_to_entry(row) for row in reversed(rows[:limit])]
        return entries, len(rows) > limit

    # --- incoming webhooks ---------------------------------------------------------------

    def add_hook(self, room: str, name: str, token_hash: str) -> Hook:
        created = format_ts(time.time())
        with self._connection() as conn, self._writing(conn):
            cursor = conn.execute(
                "INSERT INTO hooks (room, name, token_hash, created) VALUES (?, ?, ?, ?)",
                (room, name, token_hash, created),
            )
        assert cursor.lastrowid is not None
        return Hook(cursor.lastrowid, room, name, created)

    def hooks(self) -> list[Hook]:
        with self._connection() as conn:
            rows = conn.execute("SELECT id, room, name, created FROM hooks ORDER BY id")
            return [Hook(*row) for row in rows]

    def hook_by_token(self, token_hash: str) -> Hook | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT id, room, name, created FROM hooks WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        return None if row is None else Hook(*row)

    def delete_hook(self, hook_id: int) -> bool:
        """Delete a hook; False when there was none with that id."""
        with self._connection() as conn, self._writing(conn):
            return conn.execute("DELETE FROM hooks WHERE id = ?", (hook_id,)).rowcount > 0

    # --- reading (any thread) ----------------------------------------------------------

    def recent(self, room: str, limit: int) -> list[Message]:
        """The newest ``limit`` messages of ``room``, oldest first."""
        return self._page(room, "", (), limit)

    def before(self, room: str, before: int, limit: int) -> list[Message]:
        """The newest ``limit`` messages of ``room`` with an id below ``before``."""
        return self._page(room, "AND m.id < ?", (before,), limit)

    def since(self, room: str, since: int, limit: int) -> tuple[list[Message], bool]:
        """Messages of ``room`` with an id above ``since``: all of them, or the newest
        ``limit`` and ``True`` when there were more."""
        page = self._page(room, "AND m.id > ?", (since,), limit + 1)
        return (page[1:], True) if len(page) > limit else (page, False)

    def thread(self, room: str, thread: int, before: int | None, limit: int) -> list[Message]:
        """The newest ``limit`` messages of thread ``thread`` (its first message and every
        reply in it) with an id below ``before``, oldest first."""
        condition = "AND (m.id = ? OR m.thread = ?) AND m.id < ?"
        return self._page(room, condition, (thread, thread, before or 2**63 - 1), limit)

    def changes_since(self, room: str, since: int, limit: int) -> list[Change]:
        """Reactions, edits and deletes of ``room`` after id ``since`` (the newest
        ``limit``), oldest first: what a resuming client missed."""
        with self._connection() as conn:
            return _changes.changes_since(conn, room, since, limit)

    def message_info(self, message_id: int) -> _changes.MessageInfo | None:
        with self._connection() as conn:
            return _changes.message_info(conn, message_id)

    def _page(self, room: str, condition: str, args: tuple[int, ...], limit: int) -> list[Message]:
        with self._connection() as conn:
            return _changes.read_page(conn, room, condition, args, limit)

    def query(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(connection, ...)`` on the calling thread's own connection: how the
        queries of other modules (:mod:`charla.archive`) read."""
        with self._connection() as conn:
            return fn(conn, *args, **kwargs)

    def forget_directs(self, nick: str) -> None:
        """``nick`` is no longer registered: whoever holds it next must not read the
        direct messages it had."""
        key = nick_key(nick)
        with self._connection() as conn, self._writing(conn):
            conn.execute("UPDATE messages SET from_reg = 0 WHERE from_key = ?", (key,))
            conn.execute("UPDATE messages SET to_reg = 0 WHERE to_key = ?", (key,))

    def count(self, room: str | None = None) -> int:
        with self._connection() as conn:
            if room is None:
                row = conn.execute("SELECT count(*) FROM messages").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM messages WHERE room = ?", (room,)
                ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Refuse new calls, wait for the ones in progress, then close every connection.
        Safe to call twice."""
        with self._state:
            self._closed = True
            while self._busy:
                self._state.wait()
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()
        self._writer.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on error."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if not self._conn.in_transaction:
            return
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")
