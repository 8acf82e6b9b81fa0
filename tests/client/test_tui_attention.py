"""Read markers, unread counts on the tabs, notifications and the typing line of the
full-screen client, driven by a fake session and fake timers (no waiting: a test fires
the timers it means to)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Tab

from charla.client.tui.app import ChatApp
from charla.client.tui.attention import NOTIFY_DELAY, READ_DELAY
from charla.client.tui.notify import notification
from charla.client.tui.typingline import TYPING_EVERY, TYPING_SHOWN, TypingLine, TypingSender
from charla.client.tui.unread import Counts, Unread
from charla.protocol import (
    ClientRooms,
    ClientTyping,
    History,
    Joined,
    MarkRead,
    Message,
    Read,
    RoomInfo,
    Rooms,
    Typing,
)

from .test_tui_states import LANGS, Fakes, connect, fake_app, feed, frames, message

pytestmark = pytest.mark.usefixtures("utc")


class FakeTimer:
    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay = delay
        self.callback = callback
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


class FakeTimers:
    """Stands in for ``set_timer``: holds the callbacks until a test fires them."""

    def __init__(self) -> None:
        self.waiting: list[FakeTimer] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        self.waiting.append(FakeTimer(delay, callback))
        return self.waiting[-1]

    async def fire(self, pilot: Pilot[int], delay: float) -> None:
        """Time passes: the timers of ``delay`` seconds still running go off."""
        due = [t for t in self.waiting if t.delay == delay and not t.stopped]
        self.waiting = [t for t in self.waiting if t not in due]
        for timer in due:
            timer.callback()
        await pilot.pause()


def attentive_app(lang: str, fakes: Fakes, timers: FakeTimers, **kw: Any) -> ChatApp:
    kw.setdefault("environ", {"TERM": "xterm-256color"})
    return fake_app(lang, fakes, later=timers, **kw)


def marks(fakes: Fakes) -> list[MarkRead]:
    return [q for q in fakes.current.queries if isinstance(q, MarkRead)]


def tab_label(app: ChatApp, room: str) -> str:
    return str(app.query_one(f"#{app._tab_ids[room]}", Tab).label)


async def blur(pilot: Pilot[int], focus: bool = False) -> None:
    pilot.app.post_message(events.AppFocus() if focus else events.AppBlur())
    await pilot.pause()


async def join_dev(pilot: Pilot[int], fakes: Fakes, read: int, history: list[Message]) -> None:
    """``dev`` joined with marker ``read`` and ``history``, the user staying in general."""
    await feed(
        pilot, fakes, *frames(Joined(room="dev", read=read), History(room="dev", messages=history))
    )


def dev(i: int, text: str, user: str = "bob") -> Message:
    return Message(id=i, user=user, text=text, ts="2026-11-25T09:00:00.000Z", room="dev")


# --- marking read ------------------------------------------------------------------------


async def test_the_newest_line_is_marked_read_after_a_moment_on_screen() -> None:
    fakes, timers = Fakes(), FakeTimers()
    app = attentive_app("en", fakes, timers)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [message(1, "hola"), message(2, "qué tal")])
        assert marks(fakes) == []  # not before the moment has passed
        await timers.fire(pilot, READ_DELAY)
        assert marks(fakes) == [MarkRead(id=2, room="general")]
        await feed(pilot, fakes, *frames(message(3, "nuevo")))
        await timers.fire(pilot, READ_DELAY)
        assert marks(fakes)[-1] == MarkRead(id=3, room="general")


async def test_nothing_is_marked_read_while_the_terminal_is_not_focused() -> None:
    fakes, timers = Fakes(), FakeTimers()
    app = attentive_app("en", fakes, timers)
    async with app.run_test(size=(80, 24)) as pilot:
        await blur(pilot)
        await connect(pilot, fakes, [message(1, "hola")])
        await feed(pilot, fakes, *frames(message(2, "¿estás?")))
        await timers.fire(pilot, READ_DELAY)
        assert marks(fakes) == []
        await blur(pilot, focus=True)
        await timers.fire(pilot, READ_DELAY)
        assert marks(fakes) == [MarkRead(id=2, room="general")]


async def test_a_log_scrolled_up_is_not_marked_read() -> None:
    fakes, timers = Fakes(), FakeTimers()
    app = attentive_app("en", fakes, timers)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [message(i, f"viejo {i}") for i in range(1, 41)])
        await timers.fire(pilot, READ_DELAY)
        await pilot.press("pageup")
        await feed(pilot, fakes, *frames(message(41, "nuevo")))
        await timers.fire(pilot, READ_DELAY)
        assert marks(fakes) == [MarkRead(id=40, room="general")]
        await pilot.press("escape")  # back to the newest line
        await timers.fire(pilot, READ_DELAY)
        assert marks(fakes)[-1] == MarkRead(id=41, room="general")


# --- counts on the tabs ------------------------------------------------------------------


async def test_tab_counts_start_from_the_marker_and_go_down_when_read_elsewhere() -> None:
    fakes, timers = Fakes(), FakeTimers()
    app = attentive_app("en", fakes, timers)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [])
        history = [dev(5, "viejo"), dev(6, "hola ana"), dev(7, "nuevo"), dev(8, "otro")]
        await join_dev(pilot, fakes, 5, history)
        assert tab_label(app, "dev") == "#dev (1@)"
        # The server's counts cover what came before the capped history too; asked
        # quietly, they are not printed.
        asked = [q for q in fakes.current.queries if isinstance(q, ClientRooms)]
        assert len(asked) == 1
        label = f"q{fakes.current.queries.index(asked[0]) + 1}"
        counts = RoomInfo(name="dev", users=2, joined=True, unread=5, mentions=2)
        await feed(pilot, fakes, *frames(Rooms(rooms=[counts], label=label)))
        assert tab_label(app, "dev") == "#dev (2@)"
        assert "rooms:" not in "\n".join(app.log_for("general").plain_lines())
        # Read on the other terminal: up to the mention, then everything.
        await feed(pilot, fakes, *frames(Read(room="dev", id=6)))
        assert tab_label(app, "dev") == "#dev (2)"
        await feed(pilot, fakes, *frames(Read(room="dev", id=8)))
        assert tab_label(app, "dev") == "#dev"
        # A live message counts again; a read moving backwards changes nothing.
        await feed(pilot, fakes, *frames(dev(9, "más")))
        assert tab_label(app, "dev") == "#dev (1)"
        await feed(pilot, fakes, *frames(Read(room="dev", id=7)))
        assert tab_label(app, "dev") == "#dev (1)"


def test_unread_counts_own_messages_never_and_history_only_after_a_marker() -> None:
    unread = Unread()
    unread.arrived("#a", 1, own=False, mention=False, count=False)
    unread.arrived("#a", 2, own=True, mention=False)
    assert unread.counts("#a") == Counts()
    assert unread.newest_unread("#a") == 2  # still to be marked read
    unread.arrived("#a", 3, own=False, mention=True)
    assert unread.counts("#a") == Counts(unread=1, mentions=1)
    assert unread.read("#a", 3)
    assert not unread.read("#a", 2)
    assert unread.counts("#a") == Counts()
    assert unread.newest_unread("#a") is None


# --- notifications -----------------------------------------------------------------------


async def test_a_mention_while_not_focused_is_notified_through_the_terminal() -> None:
    fakes, timers, written = Fakes(), FakeTimers(), list[str]()
    app = attentive_app("en", fakes, timers, terminal=written.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [])
        await feed(pilot, fakes, *frames(message(1, "ana: focused, no notification")))
        await blur(pilot)
        await feed(pilot, fakes, *frames(message(2, "no mention, no notification")))
        evil = "ana: mira\x1b]777;notify;fake;x\x07\x1b[2J\x9b31m;fin"
        await feed(pilot, fakes, *frames(message(3, evil)))
        await timers.fire(pilot, NOTIFY_DELAY)
        assert written == ["\x1b]777;notify;charla #general;<bob> ana: mira;fin\x1b\\"]


async def test_a_mention_read_on_another_terminal_is_not_notified() -> None:
    fakes, timers, written = Fakes(), FakeTimers(), list[str]()
    app = attentive_app("en", fakes, timers, terminal=written.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [])
        await blur(pilot)
        await feed(pilot, fakes, *frames(message(1, "hola ana"), Read(room="general", id=1)))
        await timers.fire(pilot, NOTIFY_DELAY)
        assert written == []


async def test_a_direct_message_is_notified_and_no_notify_turns_it_off() -> None:
    dm = Message(id=4, user="bob", to="ana", text="¿café?", ts="2026-11-25T09:00:00.000Z")
    for notify, expected in ((True, 1), (False, 0)):
        fakes, timers, written = Fakes(), FakeTimers(), list[str]()
        app = attentive_app("es", fakes, timers, terminal=written.append, notify=notify)
        async with app.run_test(size=(80, 24)) as pilot:
            await connect(pilot, fakes, [])
            await blur(pilot)
            await feed(pilot, fakes, *frames(dm))
            await timers.fire(pilot, NOTIFY_DELAY)
        assert len(written) == expected


def test_the_notification_fits_the_terminal_and_passes_through_tmux() -> None:
    assert notification("t;x", "b", {}) == "\x1b]777;notify;t,x;b\x1b\\"
    assert notification("t", "b", {"TERM_PROGRAM": "iTerm.app"}) == "\x1b]9;t: b\x1b\\"
    assert notification("t", "b", {"CHARLA_NOTIFY": "osc9"}) == "\x1b]9;t: b\x1b\\"
    assert notification("t", "b", {"TERM": "xterm-kitty"}).startswith("\x1b]99;")
    inside = notification("t", "b", {"TMUX": "/tmp/tmux-1/default,1,0"})
    assert inside == "\x1bPtmux;\x1b\x1b]777;notify;t;b\x1b\x1b\\\x1b\\"
    long = notification("t", "x" * 1000, {})
    assert len(long) < 300 and "\n" not in notification("t", "a\nb\rc", {})


# --- typing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text"), [("es", "bob está escribiendo…"), ("en", "bob is typing…")]
)
async def test_someone_typing_shows_above_the_input_and_expires(lang: str, text: str) -> None:
    fakes, timers = Fakes(), FakeTimers()
    app = attentive_app(lang, fakes, timers)
    async with app.run_test(size=(80, 24)) as pilot:
        await connect(pilot, fakes, [])
        line = app.query_one(TypingLine)
        assert not line.display
        await feed(pilot, fakes, *frames(Typing(user="bob", state="active", room="general")))
        assert line.display and str(line.render()) == text
        await feed(pilot, fakes, *frames(Typing(user="cleo", state="active", room="dev")))
        assert str(line.render()) == text  # another room's typing is not shown here
        await timers.fire(pilot, TYPING_SHOWN)
        assert not line.display
        await feed(pilot, fakes, *frames(Typing(user="bob", state="active", room="general")))
        await feed(pilot, fakes, *frames(message(1, "ya")))
        assert not line.display  # the message ends it


async def test_typing_is_sent_only_with_the_option_and_done_when_the_line_is_sent() -> None:
    for typing in (False, True):
        fakes, timers = Fakes(), FakeTimers()
        app = attentive_app("en", fakes, timers, typing=typing)
        async with app.run_test(size=(80, 24)) as pilot:
            await connect(pilot, fakes, [])
            await pilot.press(*"hola", "enter")
        sent = [q for q in fakes.current.queries if isinstance(q, ClientTyping)]
        if typing:
            assert [q.state for q in sent] == ["active", "done"]
        else:
            assert sent == []


def test_typing_active_is_sent_at_most_every_three_seconds() -> None:
    sent: list[ClientTyping] = []
    now = [0.0]
    sender = TypingSender(sent.append, clock=lambda: now[0])
    sender.changed("h", "general")
    sender.changed("ho", "general")
    now[0] = TYPING_EVERY
    sender.changed("hol", "general")
    sender.changed("/quit", "general")  # commands are not announced
    assert [(q.state, q.room) for q in sent] == [
        ("active", "general"),
        ("active", "general"),
        ("done", "general"),
    ]


# --- snapshots ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_tabs_with_unread_and_mention_snapshot(snap_compare, lang: str) -> None:  # type: ignore[no-untyped-def]
    fakes, timers = Fakes(), FakeTimers()

    async def run_before(pilot: Pilot[int]) -> None:
        await connect(pilot, fakes, [message(1, "hola")])
        await join_dev(pilot, fakes, 1, [dev(2, "ana: ¿lo miras?"), dev(3, "gracias")])
        await feed(
            pilot,
            fakes,
            *frames(
                Joined(room="ops", read=1),
                History(
                    room="ops",
                    messages=[
                        Message(
                            id=4, user="cleo", text="ok", ts="2026-11-25T09:00:00.000Z", room="ops"
                        )
                    ],
                ),
                Typing(user="bob", state="active", room="general"),
            ),
        )
        assert tab_label(pilot.app, "dev") == "#dev (1@)"  # type: ignore[arg-type]
        assert tab_label(pilot.app, "ops") == "#ops (1)"  # type: ignore[arg-type]

    app = attentive_app(lang, fakes, timers)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
