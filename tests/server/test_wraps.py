"""Wraps on messages: carried to the readers and kept in the history with the text they
cut, moved when cleaning moves the text, dropped by an edit; hostile ones refused."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import MAX_WRAPS, Edited, Error, History, Message

from ..helpers import Peer, make_config, running
from ..helpers import frames_of as _of
from .fakes import Chat, send, settle


async def test_wraps_reach_the_readers_and_the_history() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    send(ana, {"type": "say", "text": "hola\n#how is everyone?", "wraps": [13]})
    send(ana, {"type": "msg", "to": "beto", "text": "uno dos", "wraps": [4]})
    send(ana, {"type": "say", "text": "sin cortes"})
    await settle()
    assert [m.wraps for m in _of(Message, beto_link.frames())] == [[13], [4], None]
    send(ana, {"type": "history", "room": "general", "label": "h"})
    await settle()
    (history,) = _of(History, ana_link.frames(), label="h")
    assert [(m.text, m.wraps) for m in history.messages] == [
        ("hola\n#how is everyone?", [13]),
        ("sin cortes", None),
    ]


async def test_the_wraps_follow_the_text_when_cleaning_moves_it() -> None:
    chat = await Chat().start()
    ana, _ = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    send(ana, {"type": "say", "text": "a\x07b\x1bcd", "wraps": [4]})  # "a?b?" + "cd"
    await settle()
    (message,) = _of(Message, beto_link.frames())
    assert (message.text, message.wraps) == ("abcd", [2])


async def test_an_edit_drops_the_wraps_of_the_old_text(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.send({"type": "say", "text": "uno dos", "wraps": [4]})
        said = await ana.expect(Message)
        assert said.wraps == [4]
        await ana.send({"type": "edit", "id": said.id, "text": "uno, dos y tres"})
        await ana.expect(Edited)
        await ana.send({"type": "history", "room": "general", "label": "h"})
        history = await ana.expect(History, label="h")
        assert [(m.text, m.wraps) for m in history.messages] == [("uno, dos y tres", None)]
        await ana.close()


async def test_hostile_wraps_are_refused_and_nothing_is_said() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    for wraps in [[0], [5], [99], [2, 2], [3, 1], [2**40], [-1], ["2"], list(range(MAX_WRAPS + 1))]:
        send(ana, {"type": "say", "text": "ab\ncd", "wraps": wraps, "label": "s"})
        await settle()
        # Not ints >= 1 is a bad frame (answered without its label, docs/protocol.md).
        (error,) = _of(Error, ana_link.frames())
        assert error.code in ("bad_arguments", "bad_frame"), wraps
    assert _of(Message, beto_link.frames()) == []
