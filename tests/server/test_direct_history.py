"""Direct messages kept as conversations, for registered parties only."""

from __future__ import annotations

from charla.protocol import Dms, Error, History, Message, Results, System

from ..helpers import Peer

PASSWORD = "una-clave-larga"


async def _register(peer: Peer) -> None:
    await peer.send({"type": "register", "password": PASSWORD, "label": "r"})
    await peer.expect(System, event="registered", label="r")


async def _dm(sender: Peer, to: str, *texts: str) -> list[int]:
    for text in texts:
        await sender.send({"type": "msg", "to": to, "text": text})
    return [(await sender.expect(Message, to=to)).id for _ in texts]


async def _conversation(peer: Peer, other: str, **extra: object) -> History:
    await peer.send({"type": "history", "with": other, "limit": 50, "label": "c", **extra})
    page = await peer.expect(History, label="c")
    assert page.with_ == other and page.room == ""
    return page  # type: ignore[no-any-return]


async def test_registered_parties_get_the_conversation_back(connect) -> None:
    ana = await connect("ana")
    beto = await connect("beto")
    await _register(ana)
    await _register(beto)
    ids = await _dm(ana, "beto", "hola beto", "¿vienes?")
    ids += await _dm(beto, "ana", "sí, voy")
    page = await _conversation(ana, "beto")
    assert [m.id for m in page.messages] == ids
    assert [(m.user, m.to) for m in page.messages][-1] == ("beto", "ana")
    older = await _conversation(beto, "ana", before=ids[-1])
    assert [m.text for m in older.messages] == ["hola beto", "¿vienes?"]
    await ana.send({"type": "dms", "label": "d"})
    listing = await ana.expect(Dms, label="d")
    assert [(c.nick, c.last_id) for c in listing.conversations] == [("beto", ids[-1])]
    found = await _search(beto, "vienes")
    assert [m.to for m in found.messages] == ["beto"]


async def _search(peer: Peer, query: str) -> Results:
    await peer.send({"type": "search", "query": query, "label": "s"})
    return await peer.expect(Results, label="s")  # type: ignore[no-any-return]


async def test_an_unregistered_nick_gets_direct_messages_live_only(connect) -> None:
    ana = await connect("ana")
    await _register(ana)
    beto = await connect("beto")
    await _dm(ana, "beto", "secreto para beto")
    await beto.expect(Message, text="secreto para beto")  # live, as before
    await beto.send({"type": "history", "with": "ana", "label": "c"})
    assert (await beto.expect(Error, label="c")).code == "not_registered"
    assert (await _search(beto, "secreto")).messages == []
    await beto.close()
    # Someone else takes "beto" and registers it: the old messages stay out of reach.
    impostor = await connect("beto")
    await _register(impostor)
    assert (await _conversation(impostor, "ana")).messages == []
    assert (await _search(impostor, "secreto")).messages == []
    await impostor.send({"type": "dms", "label": "d"})
    assert (await impostor.expect(Dms, label="d")).conversations == []
    await impostor.close()
    again = await connect()
    await again.send({"type": "hello", "nick": "beto", "password": PASSWORD, "since": 0})
    replayed = await again.sync()
    assert [f for f in replayed if isinstance(f, Message)] == []
    # ana, registered when she sent it, still has her side.
    assert [m.text for m in (await _conversation(ana, "beto")).messages] == ["secreto para beto"]


async def test_unregistering_drops_the_claim_on_old_direct_messages(connect) -> None:
    ana = await connect("ana")
    beto = await connect("beto")
    await _register(ana)
    await _register(beto)
    await _dm(ana, "beto", "antes de irme")
    await beto.send({"type": "unregister", "password": PASSWORD, "label": "u"})
    await beto.expect(System, event="unregistered", label="u")
    await _register(beto)  # registered again: a new holder as far as charla can tell
    assert (await _conversation(beto, "ana")).messages == []


async def test_a_resume_replays_the_direct_messages_missed(connect, server) -> None:
    ana = await connect("ana")
    beto = await connect("beto")
    await _register(ana)
    await _register(beto)
    (seen,) = await _dm(ana, "beto", "antes")
    # Sent while beto's connection was dying: it never showed them.
    missed = await _dm(ana, "beto", "mientras no estabas", "otra")
    await beto.close()
    await ana.sync()
    back = Peer(*(await _open(server.port)))
    await back.send(
        {"type": "hello", "nick": "beto", "password": PASSWORD, "since": seen, "label": "h"}
    )
    replayed = [await back.expect(Message, to="beto", label="h") for _ in missed]
    assert [m.id for m in replayed] == missed
    later = await back.sync()
    assert not [f for f in later if isinstance(f, Message)]  # no duplicate
    await back.close()


async def _open(port: int):  # type: ignore[no-untyped-def]
    import asyncio

    return await asyncio.open_connection("127.0.0.1", port, limit=2**24)
