"""The search pane: Ctrl+F or /buscar, highlighted results, Enter jumps with context."""

from __future__ import annotations

from pathlib import Path

import pytest

from charla.client.tui.searchpane import SearchPane

from .test_tui import chat, connected
from .tui_helpers import log_text, seed, until

pytestmark = pytest.mark.usefixtures("utc")

CONVERSATION = [("general", "bob", f"mensaje {i}") for i in range(12)] + [
    ("general", "cleo", "la canción de ayer"),
    ("general", "bob", "otra cosa"),
]


def _pane(app) -> SearchPane | None:  # type: ignore[no-untyped-def]
    return app.screen if isinstance(app.screen, SearchPane) else None


async def test_search_pane_finds_highlights_and_jumps_to_the_context(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", CONVERSATION)
    async with chat(tmp_path, wait=False, lang="en") as (app, pilot, _bob):
        await until(pilot, lambda: connected(app) and "otra cosa" in log_text(app))
        await pilot.press("ctrl+f")
        await until(pilot, lambda: _pane(app) is not None)
        await pilot.press(*"cancion", "enter")
        await until(pilot, lambda: _pane(app) is not None and _pane(app)._found)
        pane = _pane(app)
        assert pane is not None and [m.text for m in pane._found] == ["la canción de ayer"]
        await pilot.press("enter")
        await until(pilot, lambda: "around the message found" in log_text(app))
        text = log_text(app)
        context = text[text.index("around the message found") :]
        assert "mensaje 11" in context and "otra cosa" in context
        assert "la canción de ayer" in context


async def test_slash_buscar_opens_the_pane_and_esc_returns(tmp_path: Path) -> None:
    async with chat(tmp_path, lang="es") as (app, pilot, _bob):
        await pilot.press(*"/buscar a*", "enter")
        await until(pilot, lambda: _pane(app) is not None)
        pane = _pane(app)
        await until(pilot, lambda: "prefijo" in str(pane.query_one("#search-status").render()))
        await pilot.press("escape")
        await until(pilot, lambda: _pane(app) is None)
