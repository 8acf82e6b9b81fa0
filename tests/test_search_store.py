"""The search index in the store: built once on upgrade, and any text is a safe query."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charla import archive
from charla.protocol import Code, Message, ProtocolError, nick_key, parse_query
from charla.store import _MIGRATIONS, Store


def _version_3_file(path: Path, texts: list[str]) -> None:
    """A database as charla wrote it before search existed."""
    conn = sqlite3.connect(path)
    conn.create_function("charla_nick_key", 1, nick_key)
    conn.executescript("".join(_MIGRATIONS[:3]) + "PRAGMA user_version = 3;")
    conn.executemany(
        "INSERT INTO messages (id, room, user, text, ts) VALUES (?, 'general', 'ana', ?, ?)",
        [(i, text, "2026-01-01T00:00:00.000Z") for i, text in enumerate(texts, 1)],
    )
    conn.commit()
    conn.close()


def _search(store: Store, query: str) -> list[str]:
    found = store.query(
        archive.search, parse_query(query), reader=None, room=None, before=None, limit=10
    )
    return [m.text for m in found]


def test_an_upgrade_indexes_old_messages_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    _version_3_file(path, ["la canción del verano", "otra cosa"])
    with caplog.at_level(logging.INFO, logger="charla.store"):
        store = Store(path)
    assert any("upgraded" in r.getMessage() for r in caplog.records)
    assert _search(store, "cancion") == ["la canción del verano"]
    store.close()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="charla.store"):
        store = Store(path)
    assert not any("upgraded" in r.getMessage() for r in caplog.records)
    store.commit_batch([Message(id=3, room="general", user="b", text="canciones", ts="t")], 3)
    assert _search(store, "cancion*") == ["canciones", "la canción del verano"]
    store.close()


@given(st.text(max_size=60))
def test_any_text_is_a_query_fts5_accepts_or_bad_query(text: str) -> None:
    try:
        query = parse_query(text)
    except ProtocolError as exc:
        assert exc.code == Code.BAD_QUERY
        return
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (text)")
    conn.execute("SELECT * FROM t WHERE t MATCH ?", (query.fts,)).fetchall()
