"""The full-screen client with Pilot, against a real server over real sockets."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from charla.client.tui.app import ChatApp
from charla.client.tui.chatinput import NEWLINE_MARK, ChatInput
from charla.client.tui.chatlog import ChatLog
from charla.client.tui.status import StatusLine
from charla.client.tui.userlist import UserList
from charla.protocol import Message, System, Users

from ..helpers import Peer, free_port, make_config, running
from .tui_helpers import log_text, make_app, seed, until

pytestmark = pytest.mark.usefixtures("utc")


@contextlib.asynccontextmanager
async def chat(
    tmp_path: Path,
    *,
    bob: str = "bob",
    bob_rooms: list[str] | None = None,
    size: tuple[int, int] = (80, 24),
    wait: bool = True,
    **app_options: Any,
) -> AsyncIterator[tuple[ChatApp, Pilot[int], Peer]]:
    """A real server, a raw peer already in it (``bob``), and the app as ``ana``,
    connected unless ``wait`` is false."""
    async with running(make_config(tmp_path)) as server:
        peer = await Peer.connect(server.port)
        await peer.hello(bob, rooms=bob_rooms or [])
        app = make_app(server.port, **app_options)
        try:
            async with app.run_test(size=size) as pilot:
                if wait:
                    await until(pilot, lambda: connected(app))
                yield app, pilot, peer
        finally:
            await peer.close()


def problem_text(app) -> str:  # type: ignore[no-untyped-def]
    found = app.screen.query("#problem")
    return str(found.first().render()) if found else ""


def connected(app) -> bool:  # type: ignore[no-untyped-def]
    return app.session is not None and app.session.connected


async def test_history_incoming_and_sending(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", [("general", "bob", f"viejo {i}") for i in range(3)])
    async with chat(tmp_path, wait=False) as (app, pilot, bob):
        await until(pilot, lambda: connected(app) and "viejo 2" in log_text(app))
        assert "09:00        bob │ viejo 0" in log_text(app)
        await bob.say("en directo")
        await until(pilot, lambda: "en directo" in log_text(app))
        # Typed fast, one after the other: separate messages, never glued.
        await pilot.press(*"uno", "enter", *"dos", "enter")
        got = [await bob.expect(Message, user="ana") for _ in range(2)]
        assert [m.text for m in got] == ["uno", "dos"]
        await until(pilot, lambda: "ana │ dos" in log_text(app))
        assert app.query_one(ChatInput).value == ""


async def test_commands_rooms_and_switching(tmp_path: Path) -> None:
    async with chat(tmp_path, bob_rooms=["dev"]) as (app, pilot, bob):
        await pilot.press(*"/join #dev", "enter")
        await until(pilot, lambda: app.room == "dev", "the switch to #dev")
        await until(pilot, lambda: "bob" in app.query_one(UserList).users)
        await bob.say("solo en dev", room="dev")
        await until(pilot, lambda: "solo en dev" in log_text(app, "dev"))
        assert "solo en dev" not in log_text(app, "general")
        await pilot.press(*"hola dev", "enter")
        await bob.expect(Message, text="hola dev", room="dev")
        # Keys move between rooms; the status line follows.
        await pilot.press("ctrl+n")
        assert app.room == "general"
        assert app.query_one(StatusLine).room == "general"
        await pilot.press("alt+right")
        assert app.room == "dev"
        await pilot.press(*"/usuarios", "enter")
        await until(pilot, lambda: "ana, bob" in log_text(app))
        await pilot.press(*"/nick anita", "enter")
        await bob.expect(System, event="nick", new="anita")
        await until(pilot, lambda: app.nick == "anita")
        await pilot.press(*"/part", "enter")
        await until(pilot, lambda: app.room == "general" and "dev" not in app._tab_ids)
        await pilot.press("f2")
        assert not app.query_one(UserList).display


async def test_completion_and_input_history(tmp_path: Path) -> None:
    async with chat(tmp_path, bob="bobby", wait=False) as (app, pilot, _bob):
        await until(pilot, lambda: "bobby" in app.query_one(UserList).users)
        box = app.query_one(ChatInput)
        await pilot.press("b", "o", "tab")
        assert box.value == "bobby: "
        await pilot.press(*"hola @bo", "tab")
        assert box.value == "bobby: hola @bobby "
        box.value = ""
        await pilot.press(*"/usu", "tab")
        assert box.value == "/usuarios "
        box.value = ""
        await pilot.press(*"primera", "enter", *"segunda", "enter", *"borrador")
        await pilot.press("up")
        assert box.value == "segunda"
        await pilot.press("up")
        assert box.value == "primera"
        await pilot.press("down", "down")
        assert box.value == "borrador"


async def test_mention_is_highlighted_and_rings(tmp_path: Path) -> None:
    bells: list[None] = []
    async with chat(tmp_path, wait=False) as (app, pilot, bob):
        app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
        await until(pilot, lambda: connected(app))
        await bob.say("nada que ver")
        await bob.say("oye ANA, mira esto")
        await until(pilot, lambda: "mira esto" in log_text(app))
        entries = list(app.current_log.entries)
        assert [e.mention for e in entries if "ver" in e.body.plain] == [False]
        assert [e.mention for e in entries if "mira" in e.body.plain] == [True]
        assert len(bells) == 1


EVIL = "\x1b[2J\x1b]0;pwned\x07[red]rojo[/red] [link=http://x]clic[/link]\u202eabc\x9b31m"


async def test_hostile_text_is_shown_inert(tmp_path: Path) -> None:
    async with chat(tmp_path, size=(120, 30)) as (app, pilot, bob):
        # Through the server (which already drops control characters) ...
        await bob.say(EVIL)
        await until(pilot, lambda: "rojo" in log_text(app))
        # ... and straight from the wire, as a hostile server could send it.
        app.show_frame(Message(id=999, room="general", user="x\x1b[31m", text=EVIL, ts=""))
        await pilot.pause()
        text = log_text(app)
        assert text.count("[red]rojo[/red] [link=http://x]clic[/link]abc") == 2
        assert "x[31m" not in text
        for strip in app.current_log._lines:
            assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in strip.text)
            assert "\u202e" not in strip.text
            # Markup in the text did not style it: no link and no red in the output.
            assert not any(seg.style and seg.style.link for seg in strip)


async def test_wide_characters_wrap_by_cell_width(tmp_path: Path) -> None:
    async with chat(tmp_path) as (app, pilot, bob):
        await bob.say("日本語🎉" * 20)
        await until(pilot, lambda: "日本語" in log_text(app))
        log = app.current_log
        lines = [s for s in log._lines if "日本語" in s.text]
        assert len(lines) > 1
        assert all(s.cell_length == log.scrollable_content_region.width for s in lines)


async def test_multiline_paste_is_one_message(tmp_path: Path) -> None:
    async with chat(tmp_path) as (app, pilot, bob):
        box = app.query_one(ChatInput)
        box.post_message(events.Paste("línea uno\nlínea dos\n"))
        await until(pilot, lambda: box.value == f"línea uno{NEWLINE_MARK}línea dos")
        await pilot.press("enter")
        message = await bob.expect(Message, user="ana")
        assert message.text == "línea uno\nlínea dos"
        await until(pilot, lambda: "línea dos" in log_text(app))
        lines = log_text(app).splitlines()
        at = next(i for i, line in enumerate(lines) if "línea uno" in line)
        assert lines[at + 1].strip() == "línea dos"


async def test_new_messages_marker_while_scrolled_up(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", [("general", "bob", f"viejo {i}") for i in range(50)])
    async with chat(tmp_path, wait=False, lang="es") as (app, pilot, bob):
        await until(pilot, lambda: "viejo 49" in log_text(app))
        log = app.current_log
        await pilot.press("pageup")
        assert not log.following
        await bob.say("nuevo 1")
        await bob.say("nuevo 2")
        marker = app.query_one("#unseen")
        await until(pilot, lambda: log.unseen == 2 and marker.display)
        assert "2 nuevos" in str(marker.render())
        await pilot.press("escape")
        assert log.following and log.unseen == 0 and not marker.display
        assert log.scroll_y == log.max_scroll_y
        # The mouse wheel scrolls too, and scrolling down to the end follows again.
        wheel = (log, 5, 5, 0, 0, 0, False, False, False)
        log.post_message(events.MouseScrollUp(*wheel))
        await until(pilot, lambda: not log.following, "the wheel to scroll up")
        for _ in range(10):
            log.post_message(events.MouseScrollDown(*wheel))
        await until(pilot, lambda: log.following, "the wheel to reach the end")


async def test_scrollback_keeps_the_newest(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        app = make_app(server.port, scrollback=100)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: connected(app))
            log = app.log_for("general")
            for i in range(3000):
                app.notice(f"línea {i}")
            await pilot.pause()
            assert len(log.entries) == 100 and log.line_count == 100
            assert log.plain_lines()[-1].endswith("línea 2999")


async def test_quit_exits_zero(tmp_path: Path) -> None:
    async with chat(tmp_path) as (app, pilot, bob):
        await pilot.press(*"adiós", "enter", *"/salir", "enter")
        await until(pilot, lambda: app.return_code is not None, "the app to end")
        assert app.return_code == 0
        # What was typed before /salir went out first.
        await bob.expect(Message, text="adiós")
        await bob.expect(System, event="leave", user="ana")


async def test_ctrl_q_exits_zero(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        app = make_app(server.port)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: connected(app))
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_code is not None, "the app to end")
        assert app.return_code == 0


async def test_reconnects_after_the_server_restarts(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, port=port)
    async with running(config) as server:
        bob = await Peer.connect(port)
        await bob.hello("bob")
        await bob.say("antes")
        await bob.sync()
        app = make_app(port, rooms=["dev"])
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: connected(app) and "antes" in log_text(app))
            await bob.close()
            await server.stop()
            status = app.query_one(StatusLine)
            await until(pilot, lambda: status.state == "disconnected")
            await pilot.press(*"escrito sin conexión", "enter")
            await until(pilot, lambda: status.pending == 1)
            # Said while the app was away (written while no server runs).
            seed(config.db, [("general", "cleo", "mientras tanto"), ("dev", "cleo", "en dev")])
            async with running(config):
                await until(pilot, lambda: status.state == "connected", "the reconnect")
                await until(pilot, lambda: status.pending == 0, "the queued line")
                await until(pilot, lambda: "escrito sin conexión" in log_text(app))
                text = log_text(app)
                assert text.count("antes") == 1 and text.count("mientras tanto") == 1
                assert text.index("mientras tanto") < text.index("escrito sin conexión")
                assert log_text(app, "dev").count("en dev") == 1
                assert set(app._tab_ids) == {"general", "dev"}
                dora = await Peer.connect(port)
                _, (history,) = await dora.hello("dora")
                assert [m.text for m in history.messages].count("escrito sin conexión") == 1
                await dora.close()


async def test_asks_for_a_name_and_again_when_refused(tmp_path: Path) -> None:
    async with chat(tmp_path, wait=False, nick=None, lang="en") as (app, pilot, bob):
        await pilot.press(*"bob", "enter")
        await until(pilot, lambda: "already" in problem_text(app), "the refusal")
        field = app.screen.query_one("#nick")
        field.value = ""  # type: ignore[attr-defined]
        await pilot.press(*"ana", "enter")
        await until(pilot, lambda: connected(app))
        assert app.nick == "ana"
        await until(pilot, lambda: "connected as ana" in log_text(app))
        await bob.expect(System, event="join", user="ana")
        await bob.send({"type": "say", "text": "/usuarios"})
        users = await bob.expect(Users)
        assert users.users == ["ana", "bob"]


def test_log_is_never_focused() -> None:
    assert not ChatLog.can_focus


async def test_long_absence_fills_the_gap_in_order(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, port=port, resume_cap=5)
    seed(config.db, [("general", "bob", "antes")])
    async with running(config) as server:
        app = make_app(port)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: connected(app) and "antes" in log_text(app))
            await server.stop()
            await until(pilot, lambda: app.query_one(StatusLine).state == "disconnected")
            seed(config.db, [("general", "bob", f"fuera {i:02}") for i in range(12)])
            async with running(config):
                await until(pilot, lambda: "fuera 00" in log_text(app), "the older page")
                lines = [line for line in log_text(app).splitlines() if "bob │" in line]
                assert [line.split("│ ")[1] for line in lines] == ["antes"] + [
                    f"fuera {i:02}" for i in range(12)
                ]


async def test_keys_arriving_in_one_burst_keep_their_order(tmp_path: Path) -> None:
    """As from tmux, a script or a fast typist: many keys in one read of the terminal."""
    async with chat(tmp_path) as (app, pilot, bob):
        burst = [*"uno", "enter", *"dox", "backspace", "s", "enter", *"res", "home", "t"]
        for key in burst:
            char = {"enter": "\r", "backspace": "\x7f", "home": None}.get(key, key)
            app.post_message(events.Key(key, char))
        got = [(await bob.expect(Message, user="ana")).text for _ in range(2)]
        assert got == ["uno", "dos"]
        await until(pilot, lambda: app.query_one(ChatInput).value == "tres")


async def test_pgup_past_the_start_fetches_older_messages(tmp_path: Path) -> None:
    seed(tmp_path / "charla.db", [("general", "bob", f"m{i:02}") for i in range(80)])
    async with running(make_config(tmp_path)) as server:
        app = make_app(server.port)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "m79" in log_text(app))
            log = app.current_log
            assert "m29" not in log_text(app) and "m30" in log_text(app)
            while log.scroll_y > 0:
                await pilot.press("pageup")
            await pilot.press("pageup")
            await until(pilot, lambda: "m00" in log_text(app), "the older page")
            texts = [line.split("│ ")[1] for line in log.plain_lines() if "bob │" in line]
            assert texts == [f"m{i:02}" for i in range(80)]
            # The view stayed where it was: the older page is above it.
            assert log.scroll_y > 0 and not log.following


async def test_leaving_offline_with_unsent_lines_asks_first() -> None:
    app = make_app(free_port(), lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.query_one(StatusLine)
        await until(pilot, lambda: status.state == "disconnected")
        await pilot.press(*"perdido?", "enter", "ctrl+q")
        await until(pilot, lambda: "lines not sent yet: 1" in log_text(app))
        assert app.return_code is None
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None, "the app to end")
    assert app.return_code == 0


async def test_no_color_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with running(make_config(tmp_path)) as server:
        app = make_app(server.port)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: connected(app))
            assert app.no_color
            svg = app.export_screenshot()
    # Monochrome: every colour in the picture is a grey (r == g == b).
    # (The screenshot frame: window buttons and default text colour; not the app.)
    colours = set(re.findall(r"#([0-9a-f]{6})", svg)) - {"ff5f57", "febc2e", "28c840", "c5c8c6"}
    assert colours and [c for c in colours if not c[0:2] == c[2:4] == c[4:6]] == []


async def test_a_rule_marks_each_new_day(tmp_path: Path) -> None:
    seed(
        tmp_path / "charla.db",
        [("general", "bob", "ayer 1"), ("general", "bob", "ayer 2")],
        day="2026-11-24",
    )
    seed(tmp_path / "charla.db", [("general", "bob", "hoy")])
    async with running(make_config(tmp_path)) as server:
        app = make_app(server.port)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "hoy" in log_text(app))
            lines = [line.strip() for line in log_text(app).splitlines()]
            at = lines.index("──── 2026-11-24 ────")
            assert "ayer 1" in lines[at + 1] and "ayer 2" in lines[at + 2]
            assert lines[at + 3] == "──── 2026-11-25 ────" and "hoy" in lines[at + 4]


async def test_leaving_the_only_room_says_what_to_do(tmp_path: Path) -> None:
    async with chat(tmp_path, bob_rooms=["dev"]) as (app, pilot, bob):
        await pilot.press(*"/part", "enter")
        await until(pilot, lambda: "has salido de #general" in log_text(app), "the notice")
        # The screen still shows the room left, not an empty one.
        assert app.room == "general" and list(app._tab_ids) == ["general"]
        await pilot.press(*"/join dev", "enter")
        await until(pilot, lambda: app.room == "dev" and list(app._tab_ids) == ["dev"])
        await pilot.press(*"de vuelta", "enter")
        await bob.expect(Message, text="de vuelta", room="dev")
