"""How the main screen looks, in Spanish and English, at 80x24 and 120x40.

Deterministic: messages seeded with fixed times, the zone fixed to UTC, the app's clock
frozen, a fixed server label, and nick colours that depend only on the nick.
Update after an intended change with ``pytest --snapshot-update``, and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .tui_helpers import bob_online, make_app, seed, until

CONVERSATION = [
    ("general", "bob", "hola a todos 👋"),
    ("general", "cleo", "buenas, ¿alguien ha probado el servidor nuevo?"),
    ("general", "ana", "sí, va muy bien"),
    ("general", "bob", "ana: ¿lo subes a la wiki? [red]gracias[/red]"),
    ("general", "cleo", "日本語のテキストも折り返す 🎉 " * 3),
    ("dev", "bob", "la rama tui ya compila"),
]


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[int]:
    """A running server with a conversation in it and ``bob`` online."""
    seed(tmp_path / "charla.db", CONVERSATION)
    with bob_online(tmp_path, ["dev"]) as port:
        yield port


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app

    def entries(room: str) -> int:
        # Only rooms the app opened itself: log_for would open a tab for the test.
        return len(app.log_for(room).entries) if room in app._tab_ids else 0

    def unmet() -> str:
        """What the screen still waits for ("" once it is ready to be drawn)."""
        session = app.session
        checks = {
            "connected": session is not None and session.connected,
            "no line pending": session is not None and session.pending == 0,
            "bob in the user list": "bob" in app.query_one("#users").users,
            "dev's history": entries("dev") == 1,
            "general's history": entries("general") == 6,
        }
        return ", ".join(name for name, ok in checks.items() if not ok)

    def logs() -> str:
        """What each room's log holds, to tell a missing line from an extra one."""
        return "; ".join(
            f"#{room}: {app.log_for(room).plain_lines()}" for room in sorted(app._tab_ids)
        )

    try:
        await until(pilot, lambda: not unmet())
    except AssertionError:
        raise AssertionError(
            f"the screen never got ready: still waiting for {unmet()} ({logs()})"
        ) from None


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen(chat: int, snap_compare, lang: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = make_app(chat, lang=lang, rooms=["dev"])
    assert snap_compare(app, terminal_size=size, run_before=_ready)
