"""How replies, reactions, edits, deletes, code and a thread look, in Spanish and English.

Deterministic like test_tui_snapshots: a seeded conversation with fixed times, the zone
fixed to UTC, the app's clock frozen. Update after an intended change with
``pytest --snapshot-update``, and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from charla.client.tui.threadpane import ThreadPane
from charla.protocol import Deleted, Edited, Message, Reaction
from charla.store import Store

from .tui_helpers import bob_online, make_app, until

TS = "2026-11-25T09:{:02d}:00.000Z"
CODE = "```python\ndef media(notas):\n    return sum(notas) / len(notas)\n```"
BOB = "c:00000000000000b0"


def _seed(db: Path) -> None:
    """A class asks and answers: a reply, a reply to it, code, reactions, an edit and a
    delete, stored as the server stores them."""
    store = Store(db)

    def msg(i: int, user: str, text: str, reply_to: int | None = None) -> Message:
        return Message(
            id=i, room="general", user=user, text=text, ts=TS.format(i), reply_to=reply_to
        )

    store.commit_batch(
        [
            msg(1, "ana", "¿alguien ha hecho el ejercicio 3 de la hoja de funciones?"),
            msg(2, "bob", f"sí, así me sale:\n{CODE}\nusa `len` para el total", reply_to=1),
            msg(3, "cleo", "gracias, lo pruebo", reply_to=2),
            msg(4, "bob", "mañana no hay clase"),
            msg(5, "bob", "esto era para otro canal"),
            msg(6, "cleo", "¿a qué hora es el examen?"),
        ],
        6,
        {4: BOB, 5: BOB},
    )
    store.commit_batch(
        [
            Reaction(id=2, seq=7, user="ana", emoji="👍", on=True, room="general"),
            Reaction(id=2, seq=8, user="cleo", emoji="👍", on=True, room="general"),
            Reaction(id=2, seq=9, user="cleo", emoji="🎉", on=True, room="general"),
            Edited(
                id=4,
                seq=10,
                user="bob",
                text="mañana sí hay clase",
                edited=TS.format(10),
                room="general",
            ),
            Deleted(id=5, seq=11, by="bob", room="general"),
        ],
        11,
        {10: BOB, 11: BOB},
    )
    store.close()


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[int]:
    _seed(tmp_path / "charla.db")
    with bob_online(tmp_path) as port:
        yield port


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await until(
        pilot,
        lambda: (
            app.session is not None
            and app.session.connected
            and "bob" in app.query_one("#users").users
            and len(app.log_for("general").entries) == 7
        ),
    )


async def _replying(pilot) -> None:  # type: ignore[no-untyped-def]
    """The answer with code picked, and Enter about to answer it."""
    await _ready(pilot)
    await pilot.press("alt+up", "alt+up", "alt+up", "alt+up", "alt+r")
    await pilot.pause()


async def _thread(pilot) -> None:  # type: ignore[no-untyped-def]
    await _ready(pilot)
    await pilot.press("alt+up", "alt+up", "alt+up", "alt+up", "alt+t")
    app = pilot.app
    await until(
        pilot,
        lambda: app.query(ThreadPane) and len(app.query_one(ThreadPane).thread_log.entries) == 3,
    )
    await pilot.pause()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_conversation_with_a_message_picked(chat: int, snap_compare, lang: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(chat, lang=lang)
    assert snap_compare(app, terminal_size=(100, 34), run_before=_replying)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_thread_pane(chat: int, snap_compare, lang: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(chat, lang=lang)
    assert snap_compare(app, terminal_size=(120, 34), run_before=_thread)
