"""How the search pane looks, in Spanish and English (see test_tui_snapshots.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from charla.client.tui.searchpane import SearchPane

from ..helpers import make_config
from .tui_helpers import make_app, seed, server_thread, until

pytestmark = pytest.mark.usefixtures("utc")  # times shown in UTC

CONVERSATION = [
    ("general", "bob", "¿quién tiene la canción del lunes?"),
    ("general", "cleo", "la cancion está en la wiki"),
    ("general", "ana", "gracias"),
    ("dev", "bob", "Canciones y ejercicios en #dev"),
]


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    seed(tmp_path / "charla.db", CONVERSATION)
    with server_thread(make_config(tmp_path)) as server:
        yield server.port


async def _searched(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await until(pilot, lambda: app.session is not None and app.session.connected)
    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(app.screen, SearchPane))
    await pilot.press(*"cancion*", "enter")
    await until(pilot, lambda: len(app.screen._found) == 3)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_search_pane(port: int, snap_compare, lang: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(port, lang=lang, rooms=["dev"])
    assert snap_compare(app, terminal_size=(100, 24), run_before=_searched)
