"""Search over real sockets: accents, prefixes, phrases, filters, paging, who sees what."""

from __future__ import annotations

from typing import Any

import pytest

from charla.protocol import Deleted, Edited, Error, History, Message, Results
from charla.server import visibility

from ..helpers import Peer


async def _post(peer: Peer, *texts: str, room: str = "general") -> list[int]:
    for text in texts:
        await peer.say(text, room=room)
    return [(await peer.expect(Message, room=room)).id for _ in texts]


async def _search(peer: Peer, query: str, **extra: Any) -> Results:
    await peer.send({"type": "search", "query": query, "label": "s", **extra})
    frame = await peer.expect(Results, label="s")
    assert frame.query == query
    return frame  # type: ignore[no-any-return]


def _texts(results: Results) -> list[str]:
    return [m.text for m in results.messages]


async def test_accents_both_ways_and_highlight_ranges(connect) -> None:
    ana = await connect("ana")
    await _post(ana, "una canción bonita", "el camion llegó", "nada que ver")
    found = await _search(ana, "cancion")
    assert _texts(found) == ["una canción bonita"]
    assert found.messages[0].match == [(4, 11)]  # "canción", marked for the client
    assert _texts(await _search(ana, "Camión")) == ["el camion llegó"]
    assert _texts(await _search(ana, "LLEGO camion")) == ["el camion llegó"]


async def test_prefix_phrase_and_words_anded(connect) -> None:
    ana = await connect("ana")
    await _post(
        ana,
        "el ejercicio 3 es difícil",
        "ejercitar la mente",
        "tres es difícil el ejercicio",
        "el ejercicio",
    )
    assert _texts(await _search(ana, "ejerc*")) == [
        "el ejercicio",
        "tres es difícil el ejercicio",
        "ejercitar la mente",
        "el ejercicio 3 es difícil",
    ]
    prefix = await _search(ana, "ejerc*")
    assert prefix.messages[2].match == [(0, 9)]
    assert _texts(await _search(ana, '"ejercicio 3 es"')) == ["el ejercicio 3 es difícil"]
    assert _texts(await _search(ana, "dificil ejercicio")) == [
        "tres es difícil el ejercicio",
        "el ejercicio 3 es difícil",
    ]


async def test_from_and_in_filters(connect) -> None:
    ana = await connect("ana", rooms=["clase"])
    beto = await connect("beto", rooms=["clase"])
    await _post(ana, "tarea de hoy", room="clase")
    await _post(beto, "tarea hecha", room="clase")
    await _post(beto, "tarea general")
    assert _texts(await _search(ana, "tarea from:beto")) == ["tarea general", "tarea hecha"]
    assert _texts(await _search(ana, "tarea in:#clase")) == ["tarea hecha", "tarea de hoy"]
    assert _texts(await _search(ana, "tarea from:BETO in:clase")) == ["tarea hecha"]
    assert _texts(await _search(ana, "tarea", room="general")) == ["tarea general"]


async def test_paging_newest_first_with_before(connect) -> None:
    ana = await connect("ana")
    ids = await _post(ana, *(f"nota {i}" for i in range(7)))
    seen: list[int] = []
    before = None
    while True:
        extra = {"limit": 3} if before is None else {"limit": 3, "before": before}
        page = await _search(ana, "nota", **extra)
        seen += [m.id for m in page.messages]
        if not page.more:
            break
        before = page.messages[-1].id
    assert seen == ids[::-1]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('"sin cerrar', "closing"),
        ("from:", "needs a value"),
        ("before:ayer hola", "not a date"),
        ("!!!", "letters or digits"),
        ("a*", "prefix"),
        ("from:ana", "at least one word"),
        ("in:#no%valid hola", "not a room"),
        ("x" * 501, "too long"),
    ],
)
async def test_a_bad_query_is_answered_with_bad_query(connect, query: str, says: str) -> None:
    ana = await connect("ana", lang="en")
    await ana.send({"type": "search", "query": query, "label": "q"})
    error = await ana.expect(Error, label="q")
    assert error.code == "bad_query" and says in error.message


async def test_fts5_syntax_is_only_text(connect) -> None:
    ana = await connect("ana")
    await _post(ana, "NEAR OR AND NOT ( ) ^ : - ganar")
    for query in ("NEAR(a b)", "OR AND", "-ganar", "ganar^", "col:ganar", '"a"" b"'):
        await ana.send({"type": "search", "query": query, "label": "q"})
        frame = await ana.expect((Results, Error), label="q")  # type: ignore[arg-type]
        assert isinstance(frame, Results) or frame.code == "bad_query"
    assert _texts(await _search(ana, "NEAR OR")) == ["NEAR OR AND NOT ( ) ^ : - ganar"]


async def test_date_filters(connect) -> None:
    ana = await connect("ana")
    await _post(ana, "fecha hoy")
    assert _texts(await _search(ana, "fecha after:2000-01-01")) == ["fecha hoy"]
    assert _texts(await _search(ana, "fecha before:2000-01-01")) == []


async def test_a_deleted_or_edited_message_is_found_as_it_is_now(connect) -> None:
    ana = await connect("ana")
    gone, edited = await _post(ana, "borrame pronto", "texto viejo")
    await ana.send({"type": "delete", "id": gone, "label": "d"})
    await ana.expect(Deleted, label="d")
    await ana.send({"type": "edit", "id": edited, "text": "texto nuevo", "label": "e"})
    await ana.expect(Edited, label="e")
    assert _texts(await _search(ana, "borrame")) == []
    assert _texts(await _search(ana, "viejo")) == []
    assert _texts(await _search(ana, "nuevo")) == ["texto nuevo"]


async def test_rooms_the_asker_may_not_read_are_never_returned(
    connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await connect("ana", rooms=["secreta"])
    await _post(ana, *(f"clave {i}" for i in range(30)), room="secreta")
    await _post(ana, "clave pública")
    beto = await connect("beto")
    monkeypatch.setattr(visibility, "may_read", lambda member, room: room != "secreta")
    found = await _search(beto, "clave", limit=5)
    assert _texts(found) == ["clave pública"] and not found.more
    assert _texts(await _search(beto, "clave in:#secreta")) == []
    await beto.send({"type": "history", "room": "secreta", "around": 1, "label": "h"})
    assert (await beto.expect(Error, label="h")).code == "not_in_room"


async def test_history_around_a_message_gives_its_context(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    ids = await _post(ana, *(f"m{i}" for i in range(20)))
    await _post(ana, "elsewhere", room="dev")
    middle = ids[10]
    await ana.send({"type": "history", "room": "general", "around": middle, "limit": 6})
    page = await ana.expect(History, around=middle)
    assert page.room == "general"
    assert [m.id for m in page.messages] == ids[7:13]
