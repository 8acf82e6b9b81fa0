"""The SQLite store on real files: schema, migrations, refusals, retention."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from charla.protocol import Message
from charla.store import SCHEMA_VERSION, Retention, Store, StoreError

from .helpers import charla_cmd, free_port, subprocess_env


def _msg(id_: int, room: str = "general", ts: str = "2026-11-25T10:00:00.000Z") -> Message:
    return Message(id=id_, room=room, user="ana", text=f"t{id_}", ts=ts)


def test_new_file_gets_the_current_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "new.db")
    store.close()
    conn = sqlite3.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_version_1_database_migrates_forward_keeping_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE messages (id INTEGER PRIMARY KEY, room TEXT NOT NULL, user TEXT NOT NULL,
            text TEXT NOT NULL, ts TEXT NOT NULL, action INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX messages_room_id ON messages (room, id);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
        INSERT INTO messages VALUES (7, 'general', 'ana', 'antiguo', '2026-01-01T00:00:00.000Z', 0);
        PRAGMA user_version = 1;
        """
    )
    conn.close()
    store = Store(path)
    assert [m.text for m in store.recent("general", 10)] == ["antiguo"]
    assert store.last_id == 7
    assert store.registered_keys() == set()  # the accounts table exists now
    store.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=r"not a usable charla database|cannot be read"):
        Store(path)
    assert path.read_bytes().startswith(b"this is not sqlite")  # untouched


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="no charla schema"):
        Store(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_serve_on_a_corrupt_file_says_so_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"\x00garbage" * 1000)
    result = subprocess.run(
        charla_cmd("serve", "--port", str(free_port()), "--db", str(path)),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "charla serve:" in result.stderr and "Traceback" not in result.stderr


def test_direct_messages_are_stored_and_last_id_covers_ids_beyond_them(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "c.db")
    dm = Message(id=5, user="ana", to="bob", text="x", ts="2026-11-25T10:00:00.000Z")
    store.commit_batch([_msg(4), dm], last_id=6)
    store.close()
    again = Store(tmp_path / "c.db")
    assert again.last_id == 6 and again.count() == 2
    assert again.recent("general", 10) == [_msg(4)]  # no room shows a direct message
    again.close()


def test_retention_by_count_keeps_the_newest_per_room(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    store.commit_batch([_msg(i, "a" if i % 2 else "b") for i in range(1, 21)], last_id=20)
    assert store.prune(Retention(messages=3)) == 14
    assert [m.id for m in store.recent("a", 10)] == [15, 17, 19]
    assert [m.id for m in store.recent("b", 10)] == [16, 18, 20]
    store.close()


def test_retention_by_age(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    old = _msg(1, ts="2026-01-01T00:00:00.000Z")
    new = _msg(2, ts="2026-11-25T00:00:00.000Z")
    store.commit_batch([old, new], last_id=2)
    # "now" is 2026-11-26: keep 30 days.
    assert store.prune(Retention(days=30), now=1_795_651_200.0) == 1
    assert [m.id for m in store.recent("general", 10)] == [2]
    store.close()


def test_pages_are_answered_from_the_index(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    conn = sqlite3.connect(tmp_path / "p.db")
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM messages WHERE room = ? AND id < ? "
        "ORDER BY id DESC LIMIT 50",
        ("general", 100),
    ).fetchall()
    assert any("messages_room_id" in row[-1] for row in plan)
    store.close()


# --- closing while threads read -----------------------------------------------------------


def test_a_read_after_close_is_a_clear_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    store.commit_batch([_msg(1)], last_id=1)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.recent("general", 10)
    with pytest.raises(StoreError, match="closed"):
        store.commit_batch([_msg(2)], last_id=2)
    store.close()  # twice is harmless


def test_close_waits_for_a_query_in_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "c.db")
    store.commit_batch([_msg(i) for i in range(1, 101)], last_id=100)
    inside, go_on = threading.Event(), threading.Event()
    connect = Store._connect

    def connect_pausing_reader(self: Store) -> sqlite3.Connection:
        conn = connect(self)
        if threading.current_thread().name == "reader":
            # SQLite calls this while it executes the query: the read is truly under way.
            def pause() -> int:
                inside.set()
                go_on.wait()
                conn.set_progress_handler(None, 0)
                return 0

            conn.set_progress_handler(pause, 1)
        return conn

    monkeypatch.setattr(Store, "_connect", connect_pausing_reader)
    pages: list[list[Message]] = []
    reader = threading.Thread(
        target=lambda: pages.append(store.recent("general", 50)), name="reader"
    )
    reader.start()
    assert inside.wait(10)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive()  # still waiting for the read
    go_on.set()
    reader.join(10)
    closer.join(10)
    assert not closer.is_alive()
    assert [m.id for m in pages[0]] == list(range(51, 101))


# --- a database that cannot be written, or that goes away -----------------------------------


def test_a_path_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        Store(tmp_path / "file" / "charla.db")
    with pytest.raises(StoreError, match="cannot be opened for writing"):
        Store(tmp_path)  # a directory is no database file


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_database_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    Store(path).close()
    path.chmod(0o444)
    with pytest.raises(StoreError, match="cannot be opened for writing"):
        Store(path)


def test_serve_on_an_unwritable_path_says_so_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    result = subprocess.run(
        charla_cmd("serve", "--port", str(free_port()), "--db", str(tmp_path / "file" / "x.db")),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "charla serve:" in result.stderr and "cannot create" in result.stderr
    assert "Traceback" not in result.stderr


def test_writes_are_refused_while_the_file_is_gone_and_resume_when_it_is_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.db"
    store = Store(path)
    assert store.health.check()
    path.rename(tmp_path / "moved.db")
    assert not store.health.check()
    with pytest.raises(StoreError, match="database file is gone"):
        store.commit_batch([_msg(1)], last_id=1)
    with pytest.raises(StoreError, match="database file is gone"):
        store.set_account("ana", "ana", "hash")
    path.write_bytes(b"")  # another file at the same path
    assert not store.health.check()
    assert store.health.problem == "the database file was replaced"
    path.unlink()
    (tmp_path / "moved.db").rename(path)
    assert store.health.check()
    store.commit_batch([_msg(1)], last_id=1)
    store.close()
    assert Store(path).count() == 1
