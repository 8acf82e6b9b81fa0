"""The room's topic on a line under the tabs of the full-screen client, driven by a fake
session: from ``joined``, kept in step when someone changes it, hidden without one."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from charla.client.tui.app import ChatApp
from charla.client.tui.topicline import TopicLine
from charla.protocol import History, Joined, RoomMode, System, Topic

from .test_tui_states import LANGS, Fakes, connect, fake_app, feed, frames, message
from .tui_helpers import log_text

pytestmark = pytest.mark.usefixtures("utc")


def topic_line(app: ChatApp) -> str | None:
    """What the line under the tabs shows; None when it is hidden."""
    line = app.query_one("#topic", TopicLine)
    return str(line.render()) if line.display else None


async def join(pilot: Pilot[int], fakes: Fakes, room: str, topic: str | None) -> None:
    await pilot.press(*f"/join {room}", "enter")
    await feed(
        pilot, fakes, *frames(Joined(room=room, topic=topic), History(room=room, messages=[]))
    )


async def test_the_topic_of_the_room_on_screen_shows_under_the_tabs() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [message(1, "hola")])
        assert topic_line(app) is None  # general has none
        await join(pilot, fakes, "clase", "Examen el viernes")
        assert app.room == "clase"
        assert topic_line(app) == "Examen el viernes"
        await pilot.press("ctrl+p")
        assert app.room == "general"
        assert topic_line(app) is None


async def test_a_change_asks_for_the_topic_and_its_answer_is_not_printed() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [message(1, "hola")])
        said = "bob set the topic of #general: Repaso"
        await feed(
            pilot, fakes, *frames(System(event="topic", room="general", by="bob", text=said))
        )
        assert said in log_text(app)
        asked = fakes.current.queries[-1]
        assert asked == Topic(room="general")
        label = f"q{len(fakes.current.queries)}"
        answer = System(event="topic", room="general", text="Repaso [b]hoy[/b]", label=label)
        await feed(pilot, fakes, *frames(answer))
        assert topic_line(app) == "Repaso [b]hoy[/b]"  # shown as text, not markup
        assert "Repaso [b]" not in log_text(app)
        # Cleared: the line goes away.
        cleared = "bob cleared the topic of #general"
        await feed(
            pilot, fakes, *frames(System(event="topic", room="general", by="bob", text=cleared))
        )
        label = f"q{len(fakes.current.queries)}"
        await feed(pilot, fakes, *frames(System(event="topic", room="general", label=label)))
        assert topic_line(app) is None


@pytest.mark.parametrize("lang", LANGS)
def test_topic_line_snapshot(snap_compare, lang: str) -> None:  # type: ignore[no-untyped-def]
    fakes = Fakes()

    async def run_before(pilot: Pilot[int]) -> None:
        await connect(pilot, fakes, [message(1, "hola")])
        await join(pilot, fakes, "clase", "Examen el viernes · traed la calculadora")

    assert snap_compare(fake_app(lang, fakes), terminal_size=(80, 24), run_before=run_before)


async def test_the_answer_to_mode_alone_is_shown_in_its_room() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [message(1, "hola")])
        await feed(pilot, fakes, *frames(RoomMode(room="general", invite_only=True)))
        assert "modes of #general: +i (invite-only), +t" in log_text(app, "general")
