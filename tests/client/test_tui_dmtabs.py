"""Direct conversations as tabs of their own (``→ beto``) in the full-screen client,
driven by a fake session: opened by ``/msg``, by a message that arrives and by a search
result; filled with their history for a registered user; lines typed there go to the
other party."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Tab

from charla.client.session import Connected, Connecting
from charla.client.tui.app import ChatApp
from charla.client.tui.dmtabs import DIRECT_PAGE
from charla.client.tui.unread import dm_key
from charla.protocol import (
    ClientHistory,
    History,
    Joined,
    Message,
    Results,
    Search,
    ServerInfo,
    Welcome,
)

from .test_tui_states import LANGS, Fakes, fake_app, feed, frames, message
from .tui_helpers import log_text

pytestmark = pytest.mark.usefixtures("utc")

BETO = dm_key("beto")


def direct(i: int, text: str, *, user: str = "beto", to: str = "ana") -> Message:
    return Message(id=i, user=user, to=to, text=text, ts=f"2026-11-25T10:{i % 60:02d}:00.000Z")


async def start(pilot: Pilot[int], fakes: Fakes, *, registered: bool) -> None:
    """Connected as ana (registered or not) to ``general``, where bob said hola."""
    fakes.current.connected = True
    welcome = Welcome(
        nick="ana",
        server=ServerInfo(name="charla", version="2"),
        sessions=1 if registered else None,
    )
    await feed(
        pilot,
        fakes,
        Connecting(1),
        Connected(welcome, resumed=False),
        *frames(Joined(room="general"), History(room="general", messages=[message(1, "hola")])),
    )


def tab_label(app: ChatApp, key: str) -> str:
    return str(app.query_one(f"#{app._tab_ids[key]}", Tab).label)


def conversation_pages(fakes: Fakes) -> list[ClientHistory]:
    return [q for q in fakes.current.queries if isinstance(q, ClientHistory) and q.with_]


async def test_an_incoming_message_opens_a_tab_and_its_history_goes_before_it() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, fakes, registered=True)
        await feed(pilot, fakes, *frames(direct(5, "¿vienes hoy?")))
        assert app.room == "general"  # a message does not take the user away
        assert tab_label(app, BETO) == "→ beto (1@)"  # meant for the user, like a mention
        assert "¿vienes hoy?" not in log_text(app, "general")
        assert "¿vienes hoy?" in log_text(app, BETO)
        # What came before the message that opened the tab, and only that.
        assert conversation_pages(fakes) == [
            ClientHistory(with_="beto", before=5, limit=DIRECT_PAGE)
        ]
        page = History(with_="beto", before=5, messages=[direct(3, "hola ana")])
        await feed(pilot, fakes, *frames(page))
        lines = log_text(app, BETO)
        assert lines.index("hola ana") < lines.index("¿vienes hoy?")


async def test_msg_opens_the_tab_and_lines_typed_there_go_to_the_other_party() -> None:
    fakes = Fakes()
    app = fake_app("es", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, fakes, registered=False)
        await pilot.press(*"/msg beto hola", "enter")
        assert app.room == BETO
        assert tab_label(app, BETO) == "→ beto"
        await pilot.press(*"que tal", "enter")
        await pilot.press(*"/join dev", "enter")
        assert fakes.current.said == [
            ("/msg beto hola", "general"),
            ("/msg beto que tal", "general"),
            # A command typed in a conversation acts on the first room's tab.
            ("/join dev", "general"),
        ]
        # An unregistered nick's conversations are live only: no history is asked.
        assert conversation_pages(fakes) == []
        # /part in a conversation closes its tab and leaves no room.
        await pilot.press(*"/part", "enter")
        assert BETO not in app._tab_ids
        assert app.room == "general"
        assert len(fakes.current.said) == 3


async def test_a_registered_user_gets_the_conversation_without_doubles() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, fakes, registered=True)
        await pilot.press(*"/msg beto hola", "enter")
        assert conversation_pages(fakes) == [ClientHistory(with_="beto", limit=DIRECT_PAGE)]
        # The echo of the line sent came before the page, which holds it too.
        mine = direct(9, "hola", user="ana", to="beto")
        page = History(with_="beto", messages=[direct(4, "te escribo luego"), mine])
        await feed(pilot, fakes, *frames(mine, page))
        lines = log_text(app, BETO)
        assert lines.count("hola") == 1
        assert lines.index("te escribo luego") < lines.index("hola")


async def test_a_search_result_in_a_conversation_opens_its_tab_with_the_context() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot, fakes, registered=True)
        await pilot.press("ctrl+f", *"examen", "enter")
        search = fakes.current.queries[-1]
        assert isinstance(search, Search)
        found = direct(7, "el examen es el viernes")
        await feed(pilot, fakes, *frames(Results(query="examen", messages=[found], label="s")))
        await pilot.press("enter")
        assert app.room == BETO
        assert conversation_pages(fakes) == [ClientHistory(with_="beto", around=7, limit=11)]
        around = History(with_="beto", around=7, messages=[direct(6, "oye"), found])
        await feed(pilot, fakes, *frames(around))
        assert "around the message found" in log_text(app, BETO)
        assert "el examen es el viernes" in log_text(app, BETO)
        assert "el examen" not in log_text(app, "general")


@pytest.mark.parametrize("lang", LANGS)
def test_conversation_tab_snapshot(snap_compare, lang: str) -> None:  # type: ignore[no-untyped-def]
    fakes = Fakes()

    async def run_before(pilot: Pilot[int]) -> None:
        await start(pilot, fakes, registered=True)
        await pilot.press(*"/msg beto repasamos", "enter")
        page = History(
            with_="beto", messages=[direct(2, "¿tienes los apuntes?"), direct(3, "gracias")]
        )
        await feed(pilot, fakes, *frames(page, direct(4, "repasamos", user="ana", to="beto")))

    assert snap_compare(fake_app(lang, fakes), terminal_size=(80, 24), run_before=run_before)
