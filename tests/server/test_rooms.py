"""Rooms, direct messages and the other commands (issue: rooms, DMs, /nick, /me, /help)."""

from __future__ import annotations

import pytest

from charla.protocol import (
    Error,
    History,
    Joined,
    Message,
    Parted,
    Rooms,
    System,
    Users,
)


async def test_join_answers_joined_history_and_announces(connect) -> None:
    ana = await connect("ana")
    bob = await connect("bob")
    await ana.say("/join dev")
    await ana.expect(Joined, room="dev")
    assert (await ana.expect(History)).room == "dev"
    await bob.say("/unirse #Dev")
    await bob.expect(Joined, room="dev")
    history = await bob.expect(History, room="dev")
    assert history.messages == []
    joined = await ana.expect(System, event="join", room="dev")
    assert joined.user == "bob"


async def test_hello_may_join_several_rooms(connect) -> None:
    peer = await connect()
    _, histories = await peer.hello("ana", rooms=["dev", "#Random"])
    assert [h.room for h in histories] == ["general", "dev", "random"]


async def test_joining_a_room_twice_announces_nothing(connect) -> None:
    ana = await connect("ana")
    bob = await connect("bob", rooms=["dev"])
    await ana.say("/join dev")
    await bob.expect(System, event="join", user="ana", room="dev")
    await ana.expect(History, room="dev")
    await ana.say("/join dev")
    await ana.expect(Joined, room="dev")
    await ana.say("marker", room="dev")
    # bob sees the marker and no second join announcement before it.
    frame = await bob.recv()
    while not isinstance(frame, Message):
        assert not isinstance(frame, System), frame
        frame = await bob.recv()
    assert frame.text == "marker"


@pytest.mark.parametrize("name", ["", "a" * 33, "con espacio", "dev/ops", "#", "a,b"])
async def test_invalid_room_names_are_refused(connect, name) -> None:
    ana = await connect("ana")
    await ana.say(f"/join {name}" if name else "/join")
    assert (await ana.expect(Error)).code in ("room_invalid", "bad_arguments")


async def test_rooms_are_isolated(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    bob = await connect("bob")
    await ana.say("solo dev", room="dev")
    await ana.say("para todos")
    first = await bob.expect(Message)
    assert first.text == "para todos" and first.room == "general"
    got = [await ana.expect(Message), await ana.expect(Message)]
    assert {(m.room, m.text) for m in got} == {("dev", "solo dev"), ("general", "para todos")}


async def test_saying_into_a_room_you_are_not_in_is_refused(connect) -> None:
    ana = await connect("ana")
    await ana.say("hola", room="secret")
    assert (await ana.expect(Error)).code == "not_in_room"
    await ana.say("hola", room="not valid!")
    assert (await ana.expect(Error)).code == "room_invalid"


async def test_part_leaves_and_announces(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    bob = await connect("bob", rooms=["dev"])
    await bob.say("/part dev")
    await bob.expect(Parted, room="dev")
    left = await ana.expect(System, event="leave", room="dev")
    assert left.user == "bob"
    await bob.say("hola", room="dev")
    assert (await bob.expect(Error)).code == "not_in_room"
    await bob.say("/dejar dev")
    assert (await bob.expect(Error)).code == "not_in_room"


async def test_general_can_be_left(connect) -> None:
    ana = await connect("ana")
    await ana.say("/part general")
    await ana.expect(Parted, room="general")
    await ana.say("hola")
    assert (await ana.expect(Error)).code == "not_in_room"


async def test_rooms_lists_rooms_with_counts(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    await connect("bob", rooms=["dev", "ops"])
    for command in ("/rooms", "/salas"):
        await ana.say(command)
        rooms = {r.name: (r.users, r.joined) for r in (await ana.expect(Rooms)).rooms}
        assert rooms == {"general": (2, True), "dev": (2, True), "ops": (1, False)}


async def test_usuarios_of_the_room_said_in_or_named(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    await connect("bob")
    await connect("cleo", rooms=["dev"])
    await ana.say("/usuarios", room="dev")
    assert (await ana.expect(Users)).users == ["ana", "cleo"]
    await ana.say("/usuarios general", room="dev")
    assert (await ana.expect(Users)).users == ["ana", "bob", "cleo"]
    await ana.say("/usuarios nobody-here")
    assert (await ana.expect(Users)).users == []


async def test_direct_message_reaches_only_recipient_and_sender(connect) -> None:
    ana = await connect("ana")
    bob = await connect("bob")
    eve = await connect("eve")
    await ana.say("/msg Bob secreto")
    for peer in (ana, bob):
        dm = await peer.expect(Message)
        assert (dm.user, dm.to, dm.text, dm.room) == ("ana", "bob", "secreto", None)
    await ana.say("público")
    assert (await eve.expect(Message)).text == "público"  # eve never saw the secret


async def test_direct_message_to_yourself_and_to_nobody(connect) -> None:
    ana = await connect("ana")
    await ana.say("/m ana nota")
    dm = await ana.expect(Message)
    assert dm.to == "ana" and dm.text == "nota"
    await ana.say("/msg ghost hola")
    assert (await ana.expect(Error)).code == "no_such_user"
    await ana.say("/msg bob")
    assert (await ana.expect(Error)).code == "bad_arguments"


async def test_direct_messages_are_not_in_history(connect) -> None:
    ana = await connect("ana")
    await connect("bob")
    await ana.say("/msg bob secreto")
    await ana.say("visible")
    await ana.sync()
    cleo = await connect()
    _, (history,) = await cleo.hello("cleo")
    assert [m.text for m in history.messages] == ["visible"]


async def test_nick_change_is_announced_and_used(connect) -> None:
    ana = await connect("ana", rooms=["dev"])
    bob = await connect("bob", rooms=["dev"])
    await ana.say("/nick anita")
    changes = [await bob.expect(System, event="nick") for _ in range(2)]
    assert {(c.room, c.user, c.new) for c in changes} == {
        ("general", "ana", "anita"),
        ("dev", "ana", "anita"),
    }
    await ana.say("hola")
    assert (await bob.expect(Message)).user == "anita"
    await ana.say("/usuarios")
    assert (await ana.expect(Users)).users == ["anita", "bob"]
    # The old nick is free again.
    dora = await connect()
    welcome, _ = await dora.hello("ana")
    assert welcome.nick == "ana"


async def test_nick_change_validated_like_hello(connect) -> None:
    ana = await connect("ana")
    await connect("bob")
    await ana.say("/nick BOB")
    assert (await ana.expect(Error)).code == "nick_taken"
    await ana.say("/nick no valid")
    assert (await ana.expect(Error)).code == "nick_invalid"
    await ana.say("/nick Ana")  # a change of case is allowed
    assert (await ana.expect(System, event="nick")).new == "Ana"


async def test_me_is_an_action(connect) -> None:
    ana = await connect("ana")
    await ana.say("/me saluda")
    action = await ana.expect(Message)
    assert action.action is True and action.text == "saluda"


@pytest.mark.parametrize(
    ("lang", "word"), [("es", "Comandos"), ("en", "Commands"), (None, "Comandos")]
)
async def test_help_in_the_clients_language(connect, lang, word) -> None:
    extra = {"lang": lang} if lang else {}
    ana = await connect("ana", **extra)
    for command in ("/help", "/ayuda"):
        await ana.say(command)
        help_ = await ana.expect(System, event="help")
        assert help_.text.startswith(word)
        for name in ("/usuarios", "/salir", "/join", "/part", "/rooms", "/msg", "/nick", "/me"):
            assert name in help_.text


async def test_unknown_command_is_named(connect) -> None:
    ana = await connect("ana")
    await ana.say("/bailar ahora")
    error = await ana.expect(Error)
    assert error.code == "unknown_command" and "/bailar" in error.message


@pytest.mark.parametrize(
    ("lang", "typed", "says"),
    [
        ("es", "/unirse", "uso: /unirse <sala>"),
        ("en", "/unirse", "usage: /unirse <room>"),
        ("en", "/JOIN", "usage: /join <room>"),
        ("es", "/vetar", "uso: /vetar [*] <usuario> [duración] [motivo]"),
        ("es", "/responder x hola", "uso: /responder <id> <texto> (un número de mensaje)"),
    ],
)
async def test_a_command_without_its_arguments_is_told_its_usage(
    connect, lang, typed, says
) -> None:
    ana = await connect("ana", lang=lang)
    await ana.send({"type": "say", "text": typed, "label": "u"})
    error = await ana.expect(Error, label="u")
    assert (error.code, error.message) == ("bad_arguments", says)


async def test_join_announcement_in_each_members_language(connect) -> None:
    es = await connect("es_user", lang="es")
    en = await connect("en_user", lang="en")
    await connect("newcomer")
    assert "ha entrado" in (await es.expect(System, event="join", user="newcomer")).text
    assert "joined" in (await en.expect(System, event="join", user="newcomer")).text


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("es", "no estás en #cocina"),
        ("en", "you are not in #cocina"),
        (None, "no estás en #cocina"),
    ],
)
async def test_errors_come_in_the_members_language(connect, lang, says) -> None:
    extra = {"lang": lang} if lang else {}
    ana = await connect("ana", **extra)
    await ana.send({"type": "part", "room": "cocina", "label": "p"})
    error = await ana.expect(Error, label="p")
    assert (error.code, error.message) == ("not_in_room", says)


async def test_a_refused_hello_is_answered_in_the_language_it_asks(connect) -> None:
    await connect("ana")
    en = await connect()
    await en.send({"type": "hello", "nick": "ana", "lang": "en", "label": "h"})
    assert (await en.expect(Error, label="h")).message == "ana is already in use"
    await en.send({"type": "hello", "nick": "ana", "lang": "es", "label": "h"})
    assert (await en.expect(Error, label="h")).message == "ana ya está en uso"


async def test_leaving_a_room_before_its_history_arrives_sends_no_history(connect) -> None:
    # /join then /part in one write: requests take effect in order, so the history
    # comes before "parted", never after it for a room the client is no longer in.
    ana = await connect("ana")
    await ana.say("/join sala")
    await ana.say("/part sala")
    frames = await ana.sync()
    kinds = [type(f).__name__ for f in frames if getattr(f, "room", None) == "sala"]
    assert kinds == ["Joined", "History", "Parted"]
    await ana.say("/join sala")
    await ana.say("/part sala")
    await ana.say("/join sala")
    frames = await ana.sync()
    kinds = [type(f).__name__ for f in frames if getattr(f, "room", None) == "sala"]
    assert kinds == ["Joined", "History", "Parted", "Joined", "History"]


async def test_a_failed_history_read_undoes_the_join_visibly(
    server, connect, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ana = await connect("ana", rooms=["dev"])
    bob = await connect("bob")
    recent = server.store.recent

    def broken(room: str, limit: int):  # type: ignore[no-untyped-def]
        if room == "dev":
            raise OSError("disk I/O error")
        return recent(room, limit)

    monkeypatch.setattr(server.store, "recent", broken)
    await bob.say("/join dev")
    assert (await bob.expect(Error)).code == "unavailable"
    assert (await ana.expect(System, event="join", room="dev")).user == "bob"
    assert (await ana.expect(System, event="leave", room="dev")).user == "bob"
    await bob.say("hola", room="dev")
    assert (await bob.expect(Error)).code == "not_in_room"
