"""Client-only tags: carried on messages (stored, in the history) and relayed alone
(``tags``: never stored, throttled), on a hub with a fake clock."""

from __future__ import annotations

from charla.protocol import MAX_TAGS_BYTES, Error, History, Message, RelayedTags, check_tags

from ..helpers import frames_of as _of
from .fakes import Chat, send, settle


async def test_tags_on_a_message_reach_its_readers_and_its_history() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    tags = {"+example.com/color": "red", "+flag": ""}
    send(ana, {"type": "say", "text": "hola", "tags": tags, "label": "s"})
    send(ana, {"type": "msg", "to": "beto", "text": "psst", "tags": {"+x": "a b;c"}})
    send(ana, {"type": "say", "text": "sin"})
    await settle()
    assert [m.tags for m in _of(Message, beto_link.frames())] == [tags, {"+x": "a b;c"}, None]
    assert _of(Message, ana_link.frames(), label="s")[0].tags == tags
    send(ana, {"type": "history", "room": "general", "label": "h"})
    await settle()
    (history,) = _of(History, ana_link.frames(), label="h")
    assert [m.tags for m in history.messages] == [tags, None]


async def test_hostile_tags_are_refused_and_nothing_is_said() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    for tags in [
        {"label": "x"},  # a server tag: not the client's to set
        {"+": "x"},
        {"+a b": "x"},
        {"+vendor/": "x"},
        {"+ok": "line\r\nPRIVMSG #x :injected"},
        {"+ok": "\x00"},
        {"+big": "x" * MAX_TAGS_BYTES},
    ]:
        send(ana, {"type": "say", "text": "hola", "tags": tags, "label": "s"})
        await settle()
        (error,) = _of(Error, ana_link.frames(), label="s")
        assert error.code == "bad_arguments", tags
    assert _of(Message, beto_link.frames()) == []


def test_the_size_counts_the_tags_as_irc_writes_them() -> None:
    room = MAX_TAGS_BYTES - len("+a=")
    assert check_tags({"+a": "x" * room}) == {"+a": "x" * room}
    # A space is written "\s": one byte more.
    for tags in [{"+a": "x" * (room + 1)}, {"+a": " " + "x" * (room - 1)}]:
        try:
            check_tags(tags)
        except Exception as refused:
            assert "at most" in str(refused)
        else:
            raise AssertionError(f"{len(tags['+a'])} bytes were taken")


async def test_tags_alone_are_relayed_to_the_room_and_throttled() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    for n in range(7):
        send(ana, {"type": "tags", "room": "general", "tags": {"+n": str(n)}, "label": f"t{n}"})
    await settle()
    relayed = _of(RelayedTags, beto_link.frames())
    assert [(f.user, f.room, f.tags["+n"], f.label) for f in relayed] == [
        ("ana", "general", str(n), None) for n in range(5)
    ]  # five every 3 s: the rest are dropped
    echoes = _of(RelayedTags, ana_link.frames())
    assert [f.label for f in echoes] == [f"t{n}" for n in range(7)]  # each answered
    chat.clock.advance(3)
    send(ana, {"type": "tags", "to": "beto", "tags": {"+draft/react": "🎉"}})
    await settle()
    (direct,) = _of(RelayedTags, beto_link.frames())
    assert (direct.to, direct.tags) == ("beto", {"+draft/react": "🎉"})
    send(ana, {"type": "history", "room": "general", "label": "h"})
    await settle()
    assert _of(History, ana_link.frames(), label="h")[0].messages == []  # never stored


async def test_bad_tags_frames_are_refused() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    for frame, code in [
        ({"room": "otra", "tags": {"+a": "1"}}, "not_in_room"),
        ({"to": "nadie", "tags": {"+a": "1"}}, "no_such_user"),
        ({"tags": {"+a": "1"}}, "bad_arguments"),
        ({"room": "general", "tags": {}}, "bad_arguments"),
        ({"room": "general", "tags": {"msgid": "1"}}, "bad_arguments"),
        ({"room": "general", "tags": ["+a"]}, "bad_frame"),
    ]:
        send(ana, {"type": "tags", "label": "x", **frame})
        await settle()
        (error,) = _of(Error, ana_link.frames())
        assert error.code == code, frame
