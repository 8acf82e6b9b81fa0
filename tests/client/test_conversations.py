"""Replies, reactions, edits and deletes in plain mode, in scripts and in a resuming session."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from charla.client.format import format_line
from charla.client.session import Connected, Disconnected, Incoming
from charla.protocol import Deleted, Edited, Message, Parent, Reaction

from ..helpers import TIMEOUT, Peer, charla_cmd, free_port, make_config, running, subprocess_env
from .test_session import session_on
from .tui_helpers import run_charla

ESCAPE_OR_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
TS = "2026-11-25T10:00:00.000Z"


def _lines(frames: list[object], lang: str) -> list[str]:
    out = [format_line(f, lang) or "" for f in frames]
    for line in out:
        assert not ESCAPE_OR_CONTROL.search(line.replace("\n", "")), line
    # The clock is local time: only what follows it is compared.
    return [re.sub(r"^\[\d\d:\d\d\] ", "", line) for line in out]


def test_plain_lines_say_what_answers_what_and_what_changed() -> None:
    question = "¿alguien ha hecho el ejercicio 3 del tema 2?"
    reply = Message(
        id=124,
        user="beto",
        text="sí, el 3 sale así",
        ts=TS,
        room="clase",
        reply_to=123,
        thread=123,
        parent=Parent(user="ana", text=question),
    )
    frames: list[object] = [
        reply,
        Reaction(id=123, seq=125, user="ana", emoji="👍", on=True, room="clase"),
        Reaction(id=123, seq=126, user="ana", emoji="👍", on=False, room="clase"),
        Edited(id=123, seq=127, user="ana", text="texto", edited=TS, room="clase"),
        Deleted(id=123, seq=128, by="ana", room="clase"),
        Message(id=123, user="ana", ts=TS, room="clase", deleted=True),
        Message(id=129, user="ana", text="hola", ts=TS, room="clase", reactions={"🎉": ["b"]}),
    ]
    assert _lines(frames, "es") == [
        "#clase <beto> ↪ ana: ¿alguien ha hecho el ej… | sí, el 3 sale así",
        "#clase * ana 👍 #123",
        "#clase * ana 👍 #123 (retirada)",
        "#clase <ana> (editado #123) texto",
        "#clase * mensaje #123 borrado",
        "#clase * mensaje #123 borrado",
        "#clase <ana> hola\n    🎉 1",
    ]
    assert _lines(frames[3:5], "en") == [
        "#clase <ana> (edited #123) texto",
        "#clase * message #123 deleted",
    ]


def test_hostile_text_in_a_parent_or_an_emoji_prints_no_escape() -> None:
    reply = Message(
        id=2,
        user="beto",
        text="ok",
        ts=TS,
        room="x",
        parent=Parent(user="ana", text="\x1b]52;c;bad\x07\nfalso <admin> hola"),
    )
    (line,) = _lines([reply], "es")
    assert "\n" not in line and "52;c" not in line


async def test_plain_mode_replies_reacts_edits_and_deletes_with_commands(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.say("¿quién trae café?")
        question = await ana.expect(Message)
        script = (
            f"/responder {question.id} yo\n/reaccionar {question.id} :+1:\nme equivoqué\n"
        ).encode()
        status, out, _ = await run_charla(
            "join", "--port", str(server.port), "--nick", "beto", "--plain", stdin=script
        )
        assert status == 0, out
        reply = await ana.expect(Message, user="beto", text="yo")
        assert reply.reply_to == question.id
        assert (await ana.expect(Reaction)).emoji == "👍"
        mistake = await ana.expect(Message, text="me equivoqué")
        assert "<beto> ↪ ana: ¿quién trae café? | yo" in out
        assert f"* beto 👍 #{question.id}" in out
        # Another connection of beto (unregistered) may not touch it; ana may not either.
        status, out, _ = await run_charla(
            "join",
            "--port",
            str(server.port),
            "--nick",
            "ana2",
            "--plain",
            stdin=f"/borrar {mistake.id}\n".encode(),
        )
        assert "no es tuyo" in out  # in the default language
        await ana.close()


async def test_send_reply_to_and_tail_json_prints_changes_with_their_type(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        port = str(server.port)
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.say("¿despliego?")
        question = await ana.expect(Message)
        proc = await asyncio.create_subprocess_exec(
            *charla_cmd("tail", "--port", port, "--json"),
            stdout=asyncio.subprocess.PIPE,
            env=subprocess_env(),
        )
        assert proc.stdout is not None

        async def next_json() -> dict[str, object]:
            line = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)  # type: ignore[union-attr]
            return json.loads(line)  # type: ignore[no-any-return]

        assert (await next_json())["text"] == "¿despliego?"
        status, _, err = await run_charla(
            "send", "--port", port, "--nick", "ci", "--reply-to", str(question.id), "hecho"
        )
        assert status == 0, err
        reply = await next_json()
        assert (reply["type"], reply["reply_to"], reply["thread"]) == (
            "message",
            question.id,
            question.id,
        )
        await ana.send({"type": "react", "id": question.id, "emoji": "🚀"})
        await ana.send({"type": "edit", "id": question.id, "text": "¿despliego ya?"})
        await ana.send({"type": "delete", "id": question.id})
        changes = [await next_json() for _ in range(3)]
        assert [c["type"] for c in changes] == ["reaction", "edited", "deleted"]
        assert changes[0]["emoji"] == "🚀" and changes[0]["on"] is True
        assert all(c["id"] == question.id for c in changes)
        status, _, err = await run_charla("send", "--port", port, "--reply-to", "999999", "x")
        assert status == 1 and "Traceback" not in err
        proc.terminate()
        await proc.wait()
        await ana.close()


async def test_a_session_sees_the_changes_it_missed_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, port=port)
    async with running(config) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.say("uno")
        first = await ana.expect(Message)
        await ana.close()
        async with session_on(port, "bob") as (_, rec):
            await rec.wait(lambda e: isinstance(e, Connected))
            await server.stop()
            await rec.wait(lambda e: isinstance(e, Disconnected))
            # The reaction is made on a server the session cannot reach...
            async with running(make_config(tmp_path, port=free_port())) as elsewhere:
                ana = await Peer.connect(elsewhere.port)
                await ana.hello("ana2")
                await ana.say(f"/reaccionar {first.id} 👀")
                await ana.sync()
                await ana.close()
            # ...and reaches it in the replay of its resume.
            async with running(config):
                await rec.wait(lambda e: isinstance(e, Connected) and e.resumed)
                event = await rec.wait(
                    lambda e: isinstance(e, Incoming) and isinstance(e.frame, Reaction)
                )
                assert isinstance(event, Incoming) and isinstance(event.frame, Reaction)
                assert (event.frame.id, event.frame.user) == (first.id, "ana2")
