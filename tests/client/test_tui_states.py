"""The full-screen client driven through its states by a fake session, without sockets:
connecting, reconnecting, the "N new" marker, the nick screen after a refused nick; with a
snapshot of each in Spanish and English.

Update the snapshots after an intended change with ``pytest --snapshot-update`` and look
at the SVGs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from charla.client.session import (
    Connected,
    Connecting,
    Disconnected,
    Ended,
    Event,
    Incoming,
)
from charla.client.tui.app import ChatApp
from charla.client.tui.nickscreen import NickScreen
from charla.client.tui.status import StatusLine
from charla.protocol import (
    ClientFrame,
    ClientUsers,
    Code,
    History,
    Joined,
    Message,
    ModEntry,
    Modlog,
    RoomMode,
    ServerFrame,
    ServerInfo,
    Users,
    Welcome,
)

from .tui_helpers import log_text, make_app

LANGS = ["es", "en"]


class FakeSession:
    """Stands in for the network: records what the app asks, emits what a test says."""

    def __init__(self, nick: str, emit: Callable[[Event], None]) -> None:
        self.nick = nick
        self.emit = emit
        self.said: list[tuple[str, str]] = []
        self.queries: list[ClientFrame] = []
        self.connected = False
        self.pending = 0
        self._stop = asyncio.Event()

    def say(self, text: str, room: str) -> None:
        self.said.append((text, room))

    def older(self, room: str, before: int) -> str | None:
        return None

    def query(self, request: ClientFrame) -> str | None:
        self.queries.append(request)
        return f"q{len(self.queries)}"

    def quit(self) -> None:
        self.emit(Ended(ok=True))

    def close(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        await self._stop.wait()


class Fakes:
    """The sessions an app made, newest last."""

    def __init__(self) -> None:
        self.made: list[FakeSession] = []

    def __call__(self, nick: str, emit: Callable[[Event], None]) -> FakeSession:
        self.made.append(FakeSession(nick, emit))
        return self.made[-1]

    @property
    def current(self) -> FakeSession:
        return self.made[-1]


pytestmark = pytest.mark.usefixtures("utc")


def fake_app(lang: str, fakes: Fakes, **kw: Any) -> ChatApp:
    kw.setdefault("nick", "ana")
    return make_app(12345, lang=lang, session_factory=fakes, **kw)


def message(i: int, text: str, user: str = "bob") -> Message:
    return Message(
        id=i, user=user, text=text, ts=f"2026-11-25T09:{i % 60:02d}:00.000Z", room="general"
    )


async def feed(pilot: Pilot[int], fakes: Fakes, *events: Event) -> None:
    """Emit ``events`` from the current session, letting the app handle each."""
    for event in events:
        fakes.current.emit(event)
        await pilot.pause()


def frames(*frames: ServerFrame) -> list[Event]:
    return [Incoming(frame) for frame in frames]


async def connect(pilot: Pilot[int], fakes: Fakes, history: list[Message]) -> None:
    """The session connects as ana to ``general``, with ``history`` and bob there."""
    fakes.current.connected = True
    welcome = Welcome(nick="ana", server=ServerInfo(name="charla", version="2"))
    await feed(
        pilot,
        fakes,
        Connecting(1),
        Connected(welcome, resumed=False),
        *frames(Joined(room="general"), History(room="general", messages=history)),
    )
    # The user list asked who is there with a label; its answer is not printed.
    label = "q1"
    assert fakes.current.queries == [ClientUsers(room="general", label=None)]
    await feed(pilot, fakes, *frames(Users(room="general", users=["ana", "bob"], label=label)))


# --- the states, each a run_before for a snapshot and a check of what it shows ------------


async def connecting(pilot: Pilot[int], fakes: Fakes) -> None:
    await feed(pilot, fakes, Connecting(1))
    assert pilot.app.query_one(StatusLine).state == "connecting"


async def reconnecting(pilot: Pilot[int], fakes: Fakes) -> None:
    await connect(pilot, fakes, [message(1, "hola")])
    fakes.current.connected = False
    await feed(pilot, fakes, Disconnected("connection closed", 30.0), Connecting(2))
    status = pilot.app.query_one(StatusLine)
    assert status.state == "disconnected"  # a new attempt does not hide the outage


async def new_below(pilot: Pilot[int], fakes: Fakes) -> None:
    app = pilot.app
    assert isinstance(app, ChatApp)
    await connect(pilot, fakes, [message(i, f"viejo {i}") for i in range(1, 41)])
    await pilot.press("pageup")
    assert not app.current_log.following
    await feed(pilot, fakes, *frames(message(41, "nuevo 1"), message(42, "nuevo 2")))
    assert app.current_log.unseen == 2
    assert app.query_one("#unseen").display


async def nick_refused(pilot: Pilot[int], fakes: Fakes) -> None:
    await feed(
        pilot,
        fakes,
        Connecting(1),
        Ended(ok=False, reason="ana is already in use", code=Code.NICK_TAKEN),
    )
    assert isinstance(pilot.app.screen, NickScreen)


async def password_asked(pilot: Pilot[int], fakes: Fakes) -> None:
    await feed(
        pilot,
        fakes,
        Connecting(1),
        Ended(ok=False, reason="ana is registered: send its password", code=Code.NICK_REGISTERED),
    )
    assert isinstance(pilot.app.screen, NickScreen)
    assert pilot.app.screen.focused is pilot.app.screen.query_one("#secret")


State = Callable[[Pilot[int], Fakes], Awaitable[None]]
STATES: dict[str, State] = {
    "connecting": connecting,
    "reconnecting": reconnecting,
    "new_below": new_below,
    "nick_refused": nick_refused,
    "password_asked": password_asked,
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", list(STATES))
def test_state_snapshot(snap_compare, state: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    fakes = Fakes()

    async def run_before(pilot: Pilot[int]) -> None:
        await STATES[state](pilot, fakes)

    assert snap_compare(fake_app(lang, fakes), terminal_size=(80, 24), run_before=run_before)


# --- behaviour through the states ----------------------------------------------------------


async def test_the_user_list_comes_from_a_labelled_query_and_is_not_printed() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [])
        assert set(app.query_one("#users").users) == {"ana", "bob"}
        assert "users in #general" not in log_text(app)
        # The same answer without the label (the user typed /users) is printed.
        await feed(pilot, fakes, *frames(Users(room="general", users=["ana", "bob"])))
        assert "users in #general: ana, bob" in log_text(app)


async def answer(pilot: Pilot[int], text: str) -> None:
    """Type ``text`` and Enter on the name screen, which closes."""
    await pilot.press(*text, "enter")
    await pilot.pause()
    assert not isinstance(pilot.app.screen, NickScreen)


async def test_a_refused_nick_asks_for_another_and_starts_a_new_session() -> None:
    fakes = Fakes()
    app = fake_app("es", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await nick_refused(pilot, fakes)
        await answer(pilot, "ana2")
        assert [s.nick for s in fakes.made] == ["ana", "ana2"]
        assert app.session is fakes.current


async def test_a_registered_nick_asks_for_its_password_and_sends_it() -> None:
    fakes = Fakes()
    app = fake_app("es", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await password_asked(pilot, fakes)
        await answer(pilot, "secreto")
        assert [s.nick for s in fakes.made] == ["ana", "ana"]
        assert (app.password, app.server_password) == ("secreto", None)


async def test_a_missing_server_password_is_asked_for_as_the_servers() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        reason = "wrong or missing server password"
        await feed(
            pilot, fakes, Connecting(1), Ended(ok=False, reason=reason, code=Code.BAD_PASSWORD)
        )
        assert isinstance(app.screen, NickScreen)
        await pilot.press("enter")  # an empty password is not sent
        assert isinstance(app.screen, NickScreen) and len(fakes.made) == 1
        await answer(pilot, "clase")
        assert (app.password, app.server_password) == (None, "clase")
        assert len(fakes.made) == 2
        # Then the nick turns out registered, and a wrong password for it is the nick's.
        await feed(pilot, fakes, Ended(ok=False, reason="registered", code=Code.NICK_REGISTERED))
        await answer(pilot, "mala")
        await feed(pilot, fakes, Ended(ok=False, reason="wrong password", code=Code.BAD_PASSWORD))
        await answer(pilot, "buena")
        assert (app.password, app.server_password) == ("buena", "clase")


async def test_the_answers_to_modo_and_registro_are_shown_in_the_log() -> None:
    fakes = Fakes()
    app = fake_app("es", fakes)
    async with app.run_test(size=(100, 24)) as pilot:
        await connect(pilot, fakes, [])
        kick = ModEntry(
            ts="2026-11-25T09:30:00.000Z", action="kick", by="ana", room="general", nick="eve"
        )
        await feed(
            pilot,
            fakes,
            *frames(RoomMode(room="general", slow=30), Modlog(room="general", entries=[kick])),
        )
        text = log_text(app)
        assert "modos de #general: +s 30 (modo lento)" in text
        assert "registro de moderación de #general:" in text
        assert "[2026-11-25 09:30] ana echó a eve de #general" in text


async def test_the_connecting_state_says_so_until_connected() -> None:
    fakes = Fakes()
    app = fake_app("en", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await connecting(pilot, fakes)
        assert "connecting" in app.query_one(StatusLine).state_text()
        await connect(pilot, fakes, [])
        assert app.query_one(StatusLine).state == "connected"


async def test_lines_typed_go_to_the_session_and_quit_leaves_through_it() -> None:
    fakes = Fakes()
    app = fake_app("es", fakes)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [])
        await pilot.press(*"hola", "enter")
        assert fakes.current.said == [("hola", "general")]
        await pilot.press(*"/salir", "enter")
        await pilot.pause()
    assert app.return_value == 0
