"""Replies, threads, reactions, edits and deletes over real sockets, with several clients."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from charla.changes import MAX_REACTIONS
from charla.protocol import Deleted, Edited, Error, History, Message, Reaction, Welcome

from ..helpers import Peer, frames_of, make_config, running


async def _say(peer: Peer, text: str, **extra: Any) -> Message:
    await peer.send({"type": "say", "text": text, **extra})
    return await peer.expect(Message, text=text)  # type: ignore[no-any-return]


async def _error(peer: Peer, frame: dict[str, Any]) -> str:
    await peer.send({**frame, "label": "x"})
    error = await peer.expect(Error, label="x")
    return str(error.code)


async def test_a_reply_and_a_reply_to_the_reply_are_one_thread_paged(connect) -> None:
    ana = await connect("ana")
    beto = await connect("beto")
    question = await _say(ana, "¿alguien ha hecho el ejercicio 3? " + "x" * 200)
    answer = await _say(beto, "sí, el 3 sale así", reply_to=question.id)
    assert answer.reply_to == question.id and answer.thread == question.id
    assert answer.parent is not None and answer.parent.user == "ana"
    assert answer.parent.text.startswith("¿alguien ha hecho") and len(answer.parent.text) == 80
    seen_by_ana = await ana.expect(Message, id=answer.id)
    assert seen_by_ana.parent == answer.parent
    again = await _say(ana, "gracias", reply_to=answer.id)
    assert again.thread == question.id and again.reply_to == answer.id
    await _say(ana, "not in the thread")
    for i in range(5):
        await _say(beto, f"más {i}", reply_to=question.id)
    # The thread, paged three at a time, oldest first, back to its first message.
    pages: list[list[str]] = []
    before = None
    while True:
        request: dict[str, Any] = {"type": "history", "room": "general", "thread": question.id}
        request.update(limit=3, label="t")
        if before is not None:
            request["before"] = before
        await ana.send(request)
        page = await ana.expect(History, label="t")
        assert page.thread == question.id
        if not page.messages:
            break
        pages.insert(0, [m.text for m in page.messages])
        before = page.messages[0].id
    flat = [text for page in pages for text in page]
    assert flat[1:] == ["sí, el 3 sale así", "gracias", *(f"más {i}" for i in range(5))]
    assert flat[0].startswith("¿alguien") and all(len(p) <= 3 for p in pages)


async def test_replies_only_to_what_the_sender_can_see(connect) -> None:
    ana = await connect("ana", rooms=["secreto"])
    beto = await connect("beto")
    hidden = await _say(ana, "solo en secreto", room="secreto")
    visible = await _say(ana, "en general")
    reply = {"type": "say", "text": "eh", "reply_to": hidden.id}
    assert await _error(beto, reply) == "no_such_message"
    assert await _error(beto, {**reply, "reply_to": 10**9}) == "no_such_message"
    # The right id in the wrong room is not a reply either.
    assert await _error(ana, {**reply, "room": "secreto", "reply_to": visible.id}) == (
        "no_such_message"
    )
    dm = {"type": "msg", "to": "ana", "text": "hola", "reply_to": visible.id}
    assert await _error(beto, dm) == "no_such_message"
    assert await _error(beto, {"type": "react", "id": hidden.id, "emoji": "👍"}) == (
        "no_such_message"
    )


async def test_reactions_toggled_by_two_users_are_seen_by_a_third_joining_later(connect) -> None:
    ana = await connect("ana")
    beto = await connect("beto")
    message = await _say(ana, "¿pizza el viernes?")
    # Each waits for the other's reactions: the order of two connections is otherwise free.
    await beto.send({"type": "react", "id": message.id, "emoji": "👍"})
    seen = [await ana.expect(Reaction)]
    await ana.send({"type": "react", "id": message.id, "emoji": ":+1:"})
    await ana.send({"type": "react", "id": message.id, "emoji": "🎉"})
    seen += [await ana.expect(Reaction) for _ in range(2)]
    await beto.expect(Reaction, emoji="🎉")
    await beto.send({"type": "react", "id": message.id, "emoji": "👍"})  # taken back
    seen.append(await ana.expect(Reaction))
    assert [(r.user, r.emoji, r.on) for r in seen] == [
        ("beto", "👍", True),
        ("ana", "👍", True),
        ("ana", "🎉", True),
        ("beto", "👍", False),
    ]
    assert all(r.id == message.id and r.room == "general" for r in seen)
    assert seen == sorted(seen, key=lambda r: r.seq) and seen[0].seq > message.id
    carla = await connect()
    _, (history,) = await carla.hello("carla")
    (stored,) = [m for m in history.messages if m.id == message.id]
    assert stored.reactions == {"👍": ["ana"], "🎉": ["ana"]}


async def test_a_reaction_is_one_emoji_and_a_message_holds_at_most_twenty(connect) -> None:
    ana = await connect("ana")
    message = await _say(ana, "vota")
    for bad in ("a", "👍👍", "ok", "", "\u200d", "👍" + "\u0301" * 3, ":nope:"):
        assert await _error(ana, {"type": "react", "id": message.id, "emoji": bad}) == (
            "bad_arguments"
        ), bad
    emoji = [chr(0x1F600 + i) for i in range(MAX_REACTIONS + 1)]
    for e in emoji[:MAX_REACTIONS]:
        await ana.send({"type": "react", "id": message.id, "emoji": e})
    assert await _error(ana, {"type": "react", "id": message.id, "emoji": emoji[-1]}) == (
        "too_many_reactions"
    )
    # One more of an emoji already there is fine.
    beto = await connect("beto")
    await beto.send({"type": "react", "id": message.id, "emoji": emoji[0], "label": "r"})
    assert (await beto.expect(Reaction, label="r")).on


async def test_edit_and_delete_are_seen_live_and_only_the_author_may(connect) -> None:
    ana = await connect("ana")
    beto = await connect("beto")
    message = await _say(ana, "hola a todso")
    edit = {"type": "edit", "id": message.id, "text": "hola a todos"}
    assert await _error(beto, edit) == "not_allowed"
    assert await _error(beto, {"type": "delete", "id": message.id}) == "not_allowed"
    await ana.send(edit)
    edited = await beto.expect(Edited)
    assert (edited.id, edited.text, edited.room) == (message.id, "hola a todos", "general")
    assert edited.seq > message.id and edited.edited
    await ana.send({"type": "delete", "id": message.id, "label": "d"})
    assert (await ana.expect(Deleted, label="d")).by == "ana"
    deleted = await beto.expect(Deleted)
    assert deleted.id == message.id and deleted.label is None
    assert await _error(ana, edit) == "no_such_message"
    assert await _error(beto, {"type": "react", "id": message.id, "emoji": "👍"}) == (
        "no_such_message"
    )
    carla = await connect()
    _, (history,) = await carla.hello("carla")
    (gone,) = [m for m in history.messages if m.id == message.id]
    assert gone.deleted and gone.text == "" and gone.edited is None


async def test_a_resume_replays_the_edits_deletes_and_reactions_missed(connect) -> None:
    ana = await connect("ana")
    beto = await connect("beto")
    first = await _say(ana, "uno")
    second = await _say(ana, "dos")
    await beto.expect(Message, id=second.id)
    last_seen = second.id
    await beto.close()
    await ana.send({"type": "edit", "id": first.id, "text": "uno (corregido)"})
    await ana.send({"type": "delete", "id": second.id})
    await ana.send({"type": "react", "id": first.id, "emoji": "✅"})
    third = await _say(ana, "tres")
    back = await connect()
    _, (history,) = await back.hello("beto", since=last_seen)
    assert [m.text for m in history.messages] == ["tres"] and history.messages[0].id == third.id
    edited = await back.expect(Edited)
    deleted = await back.expect(Deleted)
    reaction = await back.expect(Reaction)
    assert (edited.id, edited.text) == (first.id, "uno (corregido)")
    assert deleted.id == second.id and (reaction.id, reaction.emoji) == (first.id, "✅")
    # The delete took the edit and the reactions of its message with it.
    await back.sync()


async def test_edits_and_deletes_survive_a_restart_and_the_text_leaves_the_file(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    secret = "mi-clave-secreta-4242"
    async with running(config) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        kept = await _say(ana, "se queda")
        gone = await _say(ana, f"uy, {secret}")
        fixed = await _say(ana, "antes")
        await ana.send({"type": "edit", "id": gone.id, "text": f"otra vez {secret}"})
        await ana.send({"type": "edit", "id": fixed.id, "text": "después"})
        await ana.send({"type": "react", "id": gone.id, "emoji": "👀"})
        await ana.send({"type": "delete", "id": gone.id})
        await ana.expect(Deleted)
        await ana.close()
    db = config.db
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            assert secret.encode() not in path.read_bytes(), path
    async with running(config) as server:
        beto = await Peer.connect(server.port)
        _, (history,) = await beto.hello("beto")
        by_id = {m.id: m for m in history.messages}
        assert by_id[kept.id].text == "se queda" and not by_id[kept.id].deleted
        assert by_id[gone.id].deleted and by_id[gone.id].reactions is None
        assert by_id[fixed.id].text == "después" and by_id[fixed.id].edited
        await beto.close()


async def test_an_impostor_on_a_freed_unregistered_nick_cannot_edit_its_messages(
    connect,
) -> None:
    ana = await connect("ana")
    message = await _say(ana, "lo dije yo")
    await ana.close()
    impostor = await connect()
    async with asyncio.timeout(10):
        while True:  # the nick is free once the server has seen the first one go
            await impostor.send({"type": "hello", "nick": "ana"})
            frame = await impostor.expect(Welcome | Error)  # type: ignore[arg-type]
            if isinstance(frame, Welcome):
                break
    edit = {"type": "edit", "id": message.id, "text": "no lo dije"}
    assert await _error(impostor, edit) == "not_allowed"
    assert await _error(impostor, {"type": "delete", "id": message.id}) == "not_allowed"


async def test_a_registered_nick_edits_its_messages_from_another_session(connect) -> None:
    ana = await connect("ana")
    await ana.say("/registrar clave-larga-1")
    await ana.sync()
    message = await _say(ana, "desde el portátil")
    other = await connect("ana2")
    await other.close()
    await ana.close()
    phone = await connect()
    await phone.send({"type": "hello", "nick": "ana", "password": "clave-larga-1"})
    await phone.expect(Welcome)
    await phone.send({"type": "edit", "id": message.id, "text": "desde el móvil"})
    assert (await phone.expect(Edited)).text == "desde el móvil"


async def _registered(connect: Any, nick: str) -> Peer:
    """A peer holding ``nick``, registered (direct messages are kept for those only)."""
    peer: Peer = await connect(nick)
    await peer.say(f"/registrar clave-de-{nick}")
    await peer.sync()
    return peer


async def _dm(peer: Peer, to: str, text: str, **extra: Any) -> Message:
    await peer.send({"type": "msg", "to": to, "text": text, **extra})
    return await peer.expect(Message, text=text)  # type: ignore[no-any-return]


async def test_a_direct_message_is_answered_and_reacted_to_by_its_parties_only(connect) -> None:
    ana = await _registered(connect, "ana")
    beto = await _registered(connect, "beto")
    carla = await connect("carla")
    question = await _dm(ana, "beto", "¿vienes mañana?")
    answer = await _dm(beto, "ana", "sí, a las diez", reply_to=question.id)
    assert answer.to == "ana" and answer.reply_to == question.id
    assert answer.thread == question.id and answer.parent is not None
    assert (answer.parent.user, answer.parent.text) == ("ana", "¿vienes mañana?")
    assert (await ana.expect(Message, id=answer.id)).parent == answer.parent
    await ana.send({"type": "react", "id": answer.id, "emoji": "👍"})
    for party in (ana, beto):
        seen = await party.expect(Reaction, id=answer.id)
        assert (seen.user, seen.emoji, seen.on, seen.room) == ("ana", "👍", True, None)
        assert seen.to == "beto"  # the other party, as in ana's ``msg``
    # The third user saw none of it, and can act on none of it.
    missed = await carla.sync()
    assert not frames_of(Message, missed, to="ana") + frames_of(Reaction, missed)
    for frame in (
        {"type": "msg", "to": "ana", "text": "yo también", "reply_to": question.id},
        {"type": "msg", "to": "beto", "text": "yo también", "reply_to": question.id},
        {"type": "react", "id": question.id, "emoji": "👍"},
        {"type": "edit", "id": question.id, "text": "mío"},
        {"type": "delete", "id": question.id},
    ):
        assert await _error(carla, frame) == "no_such_message"
    # A party answers only within the conversation: not a message of it sent elsewhere.
    await _registered(connect, "dani")
    elsewhere = {"type": "msg", "to": "dani", "text": "eh", "reply_to": question.id}
    assert await _error(beto, elsewhere) == "no_such_message"


async def test_a_direct_message_is_edited_and_deleted_by_its_author(connect) -> None:
    ana = await _registered(connect, "ana")
    beto = await _registered(connect, "beto")
    carla = await connect("carla")
    typo = await _dm(ana, "beto", "nos vemos a las dies")
    assert await _error(beto, {"type": "edit", "id": typo.id, "text": "no"}) == "not_allowed"
    await ana.send({"type": "edit", "id": typo.id, "text": "nos vemos a las diez"})
    for party in (ana, beto):
        edited = await party.expect(Edited, id=typo.id)
        assert (edited.text, edited.to, edited.room) == ("nos vemos a las diez", "beto", None)
    await ana.send({"type": "delete", "id": typo.id})
    for party in (ana, beto):
        assert (await party.expect(Deleted, id=typo.id)).to == "beto"
    missed = await carla.sync()
    assert not frames_of(Edited, missed) + frames_of(Deleted, missed)
    await beto.send({"type": "history", "with": "ana", "label": "h"})
    (kept,) = (await beto.expect(History, label="h")).messages
    assert kept.id == typo.id and kept.deleted and not kept.text


async def test_an_unregistered_party_acts_on_no_direct_message(connect) -> None:
    ana = await _registered(connect, "ana")
    beto = await connect("beto")
    note = await _dm(ana, "beto", "hola")
    await beto.expect(Message, id=note.id)
    # As for reading direct messages back: beto's nick may be someone else's tomorrow.
    assert await _error(beto, {"type": "react", "id": note.id, "emoji": "👍"}) == (
        "no_such_message"
    )
