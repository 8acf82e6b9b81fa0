"""Replies, reactions, edits, deletes, threads and code in the full-screen client, with
Pilot, against a real server over real sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from charla.client.tui.chatinput import ChatInput
from charla.client.tui.complete import candidates
from charla.client.tui.composebar import ComposeBar
from charla.client.tui.editor import edit_text, editor_command
from charla.client.tui.threadpane import ThreadPane
from charla.protocol import Deleted, Edited, Message, Reaction

from .test_tui import chat
from .tui_helpers import log_text, until

pytestmark = pytest.mark.usefixtures("utc")  # times are shown in local time


async def test_reply_and_react_with_the_keys(tmp_path: Path) -> None:
    async with chat(tmp_path, size=(100, 30)) as (app, pilot, bob):
        await bob.say("¿alguien ha hecho el ejercicio 3?")
        question = await bob.expect(Message, user="bob")
        await until(pilot, lambda: "ejercicio 3" in log_text(app))
        await pilot.press("alt+up")
        assert app.conversation.selected == question.id
        assert "▶" in log_text(app)
        await pilot.press("alt+r")
        assert app.query_one(ComposeBar).display
        await pilot.press(*"sí, sale así", "enter")
        reply = await bob.expect(Message, user="ana")
        assert (reply.text, reply.reply_to, reply.thread) == (
            "sí, sale así",
            question.id,
            question.id,
        )
        await until(pilot, lambda: "↪ bob: ¿alguien ha hecho el ejercicio 3?" in log_text(app))
        assert not app.query_one(ComposeBar).display
        # The first message counts its replies.
        await until(pilot, lambda: "1 respuesta" in log_text(app))
        # A click picks a message too; react from the picker: 1 is 👍.
        await pilot.click("#log-room-1", offset=(30, 1))
        assert app.conversation.selected == question.id
        await pilot.press("alt+a")
        await pilot.press("1")
        reaction = await bob.expect(Reaction)
        assert (reaction.id, reaction.emoji, reaction.on) == (question.id, "👍", True)
        await until(pilot, lambda: "👍 1" in log_text(app))


async def test_edit_the_last_message_with_up_and_delete_it(tmp_path: Path) -> None:
    async with chat(tmp_path, lang="en") as (app, pilot, bob):
        await pilot.press(*"hola a todso", "enter")
        mine = await bob.expect(Message, user="ana")
        await until(pilot, lambda: "todso" in log_text(app))
        await pilot.press("up")
        assert app.query_one(ChatInput).value == "hola a todso"
        await pilot.press("backspace", "backspace", "backspace", *"dos", "enter")
        edited = await bob.expect(Edited)
        assert (edited.id, edited.text) == (mine.id, "hola a todos")
        await until(pilot, lambda: "hola a todos (edited)" in log_text(app))
        await pilot.press("alt+up", "alt+d")
        assert (await bob.expect(Deleted)).id == mine.id
        await until(pilot, lambda: "message deleted" in log_text(app))
        assert "todos" not in log_text(app)


async def test_changes_by_others_are_shown_live_and_not_mine_are_not_editable(
    tmp_path: Path,
) -> None:
    async with chat(tmp_path) as (app, pilot, bob):
        await bob.say("mensaje de bob")
        message = await bob.expect(Message, user="bob")
        await until(pilot, lambda: "mensaje de bob" in log_text(app))
        await bob.send({"type": "react", "id": message.id, "emoji": "🎉"})
        await until(pilot, lambda: "🎉 1" in log_text(app))
        await bob.send({"type": "edit", "id": message.id, "text": "mensaje corregido"})
        await until(pilot, lambda: "mensaje corregido (editado)" in log_text(app))
        await pilot.press("alt+up", "alt+e")
        await until(pilot, lambda: "solo puedes cambiar tus propios mensajes" in log_text(app))
        await bob.send({"type": "delete", "id": message.id})
        await until(pilot, lambda: "mensaje borrado" in log_text(app))
        assert "corregido" not in log_text(app)


async def test_a_thread_opens_beside_the_room_and_its_input_answers_it(tmp_path: Path) -> None:
    async with chat(tmp_path, size=(120, 30)) as (app, pilot, bob):
        await bob.say("¿quién revisa el PR?")
        root = await bob.expect(Message, user="bob")
        await bob.send({"type": "say", "text": "yo no puedo", "reply_to": root.id})
        await until(pilot, lambda: "yo no puedo" in log_text(app))
        await pilot.press("alt+up", "alt+t")
        await until(pilot, lambda: bool(app.query(ThreadPane)))
        pane = app.query_one(ThreadPane)
        await until(pilot, lambda: len(pane.thread_log.entries) == 2, "the thread's page")
        await until(pilot, lambda: app.focused is pane.query_one(ChatInput))
        await pilot.press(*"yo lo miro", "enter")
        answer = await bob.expect(Message, user="ana")
        assert answer.thread == root.id
        await until(pilot, lambda: len(pane.thread_log.entries) == 3)
        await pilot.press("escape")  # closes the pane
        await until(pilot, lambda: not app.query(ThreadPane))


async def test_code_blocks_are_highlighted_and_copied_whole(tmp_path: Path) -> None:
    code = "def hola():\n    return 'mundo'  " + "x" * 120
    async with chat(tmp_path, size=(80, 24)) as (app, pilot, bob):
        await bob.say(f"mira esto:\n```python\n{code}\n```\ny usa `hola()`")
        await until(pilot, lambda: "def hola" in log_text(app))
        text = log_text(app)
        assert "```" not in text and "`hola()`" not in text and "y usa hola()" in text
        assert "mundo" in text and "x" * 150 not in text  # cut at the edge, never wrapped
        await pilot.press("alt+up", "alt+c")
        assert app.clipboard == code


def test_shortcodes_complete_to_emoji() -> None:
    [tada] = candidates(":tad", 4, nicks=[])
    assert tada.value == "🎉 "
    assert [c.value for c in candidates("/reac", 5, nicks=[])] == ["/reaccionar ", "/react "]


def test_the_editor_gets_the_line_and_gives_it_back(tmp_path: Path) -> None:
    script = "printf '\\n```python\\nprint(1)\\n```\\n' >> \"$1\""
    assert edit_text("mira", ["sh", "-c", script, "sh"]) == "mira\n```python\nprint(1)\n```"
    assert edit_text("x", ["sh", "-c", "exit 1"]) is None
    assert edit_text("x", [str(tmp_path / "missing")]) is None
    assert editor_command({"EDITOR": "code -w"}) == ["code", "-w"]
    assert editor_command({}) == ["vi"]
