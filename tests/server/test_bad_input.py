"""Bad input of every kind gets an error frame; the connection stays usable; nobody else
loses anything."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from charla.protocol import Error, Message, Welcome

from ..helpers import Peer, make_config, running

BAD_LINES = [
    (b"this is not json", "bad_json"),
    (b"\xff\xfe\x00garbage", "bad_utf8"),
    (b'{"type":"say","text":"\xc3\x28"}', "bad_utf8"),
    (b"[1, 2, 3]", "bad_frame"),
    (b'"just a string"', "bad_frame"),
    (b"42", "bad_frame"),
    (b"null", "bad_frame"),
    (b'{"text":"no type"}', "bad_frame"),
    (b'{"type":7}', "bad_frame"),
    (b'{"type":"say","text":5}', "bad_frame"),
    (b'{"type":"say"}', "bad_frame"),
    (b'{"type":"say","text":"x","room":["a"]}', "bad_frame"),
    (b'{"type":"launch_missiles"}', "unknown_type"),
    (b'{"type":"hello","nick":"ana","since":"yesterday"}', "bad_frame"),
    # Past SQLite's INTEGER: refused up front, not an OverflowError in the store.
    (b'{"type":"history","room":"general","before":99999999999999999999999}', "bad_frame"),
    (b'{"type":"hello","nick":"ana","since":99999999999999999999999}', "bad_frame"),
]


@pytest.mark.parametrize(("line", "code"), BAD_LINES)
async def test_bad_line_gets_an_error_and_the_connection_goes_on(connect, line, code) -> None:
    watcher = await connect("watcher")
    peer = await connect("ana")
    await peer.send(line + b"\n")
    error = await peer.expect(Error)
    assert error.code == code and error.message
    await peer.say("still here")
    assert (await peer.expect(Message)).text == "still here"
    assert (await watcher.expect(Message)).text == "still here"


@pytest.mark.parametrize(("line", "code"), BAD_LINES[:8])
async def test_bad_line_before_hello_then_hello_works(connect, line, code) -> None:
    peer = await connect()
    await peer.send(line + b"\n")
    assert (await peer.expect(Error)).code == code
    welcome, _ = await peer.hello("ana")
    assert welcome.nick == "ana"


async def test_say_before_hello_is_refused(connect) -> None:
    peer = await connect()
    await peer.say("hola")
    assert (await peer.expect(Error)).code == "not_welcomed"
    await peer.send({"type": "history", "room": "general"})
    assert (await peer.expect(Error)).code == "not_welcomed"


async def test_second_hello_is_refused(connect) -> None:
    peer = await connect("ana")
    await peer.send({"type": "hello", "nick": "otra"})
    assert (await peer.expect(Error)).code == "already_welcomed"


@pytest.mark.parametrize(
    "nick",
    [
        "",
        "a" * 33,
        "con espacio",
        "tab\there",
        "ctrl\x07",
        "emoji🎉",
        "semi;colon",
        "zw\u200bsp",
        "bidi\u202eevil",
        "sl/ash",
        "#room",
    ],
)
async def test_invalid_nicks_are_refused_and_may_retry(connect, nick) -> None:
    peer = await connect()
    await peer.send({"type": "hello", "nick": nick})
    assert (await peer.expect(Error)).code == "nick_invalid"
    welcome, _ = await peer.hello("valid_nick")
    assert welcome.nick == "valid_nick"


@pytest.mark.parametrize("nick", ["a", "a" * 32, "José", "Zoë.b-c_d", "日本語", "user42", "Ωmega"])
async def test_valid_nicks(connect, nick) -> None:
    peer = await connect()
    welcome, _ = await peer.hello(nick)
    assert welcome.nick == nick


async def test_nick_is_nfc_normalised_and_unique_by_casefold(connect) -> None:
    await connect("Jose\u0301")  # decomposed é
    peer = await connect()
    for taken in ("josé", "JOSÉ", "José"):
        await peer.send({"type": "hello", "nick": taken})
        assert (await peer.expect(Error)).code == "nick_taken"
    welcome, _ = await peer.hello("josefa")
    assert welcome.nick == "josefa"


async def test_text_too_long_is_refused_and_not_relayed(connect) -> None:
    watcher = await connect("watcher")
    ana = await connect("ana")
    await ana.say("x" * 4001)
    assert (await ana.expect(Error)).code == "text_too_long"
    await ana.say("x" * 4000)
    assert len((await watcher.expect(Message)).text) == 4000


async def test_empty_text_is_refused(connect) -> None:
    ana = await connect("ana")
    await ana.say("   ")
    assert (await ana.expect(Error)).code == "text_empty"


async def test_control_characters_are_removed_from_text(connect) -> None:
    ana = await connect("ana")
    await ana.say("a\x1b[2Jb\x00c\u202ed\tline\nnext")
    assert (await ana.expect(Message)).text == "a[2Jbcd\tline\nnext"


async def test_line_too_long_is_refused_and_closed_without_buffering(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_line=1024)) as server:
        watcher = await Peer.connect(server.port)
        await watcher.hello("watcher")
        peer = await Peer.connect(server.port)
        await peer.hello("ana")
        # No newline ever comes: the server must not wait for one.
        peer.writer.write(b'{"type":"say","text":"' + b"x" * 5000)
        frames = await peer.until_closed()
        assert isinstance(frames[-1], Error) and frames[-1].code == "line_too_long"
        await watcher.say("others go on")
        assert (await watcher.expect(Message)).text == "others go on"
        await watcher.close()


async def test_unknown_fields_are_ignored(connect) -> None:
    peer = await connect()
    await peer.send({"type": "hello", "nick": "ana", "colour": "blue", "v": [1, 2]})
    assert (await peer.expect(Welcome)).nick == "ana"


async def test_crlf_line_endings_are_accepted(connect) -> None:
    peer = await connect()
    await peer.send(b'{"type":"hello","nick":"ana"}\r\n')
    assert (await peer.expect(Welcome)).nick == "ana"


async def test_many_garbage_clients_leave_the_chat_working(server, connect) -> None:
    ana = await connect("ana")

    async def garbage(i: int) -> None:
        peer = await Peer.connect(server.port)
        await peer.send(bytes(range(256)) * 4 + b"\n{]\n" + b'{"type":"say"}\n')
        await peer.close()

    await asyncio.gather(*(garbage(i) for i in range(50)))
    await ana.say("sigo aquí")
    assert (await ana.expect(Message)).text == "sigo aquí"


async def test_a_resume_from_an_impossible_id_is_refused_before_the_welcome(connect) -> None:
    # It used to be welcomed, announced to the room, then dropped from every room by
    # an OverflowError reading the history: no history, a traceback in the log.
    peer = await connect()
    await peer.send({"type": "hello", "nick": "ana", "since": 2**64})
    assert (await peer.expect(Error)).code == "bad_frame"
    welcome, (history,) = await peer.hello("ana", since=0)
    assert welcome.nick == "ana" and history.room == "general"
