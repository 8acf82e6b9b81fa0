"""The seed's chat over real sockets: history, relay and ack, /usuarios, /salir, leaves."""

from __future__ import annotations

import asyncio
from pathlib import Path

from charla.protocol import Bye, History, Message, System, Users, Welcome

from ..helpers import Peer, make_config, running


async def test_message_reaches_everyone_and_comes_back_as_ack(connect) -> None:
    ana, bob = await connect("ana"), await connect("bob")
    await ana.send({"type": "say", "text": "hola", "user": "mallory", "id": 1, "ts": "x"})
    for peer in (ana, bob):
        message = await peer.expect(Message)
        assert (message.user, message.text, message.room) == ("ana", "hola", "general")
        assert message.id >= 1 and message.ts.endswith("Z") and "T" in message.ts


async def test_ids_increase_with_every_message(connect) -> None:
    ana = await connect("ana")
    for i in range(5):
        await ana.say(f"m{i}")
    ids = [(await ana.expect(Message)).id for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5


async def test_newcomer_gets_exactly_the_last_50_oldest_first(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        for i in range(60):
            await ana.say(f"m{i}")
        await ana.sync()
        bob = await Peer.connect(server.port)
        _, (history,) = await bob.hello("bob")
        assert [m.text for m in history.messages] == [f"m{i}" for i in range(10, 60)]
        await ana.close()
        await bob.close()
    # A restarted server on the same file replays the same 50.
    async with running(make_config(tmp_path)) as server:
        cleo = await Peer.connect(server.port)
        _, (history,) = await cleo.hello("cleo")
        assert [m.text for m in history.messages] == [f"m{i}" for i in range(10, 60)]
        await cleo.close()


async def test_history_size_follows_the_flag(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, history=3)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        for i in range(5):
            await ana.say(f"m{i}")
        await ana.sync()
        bob = await Peer.connect(server.port)
        _, (history,) = await bob.hello("bob")
        assert [m.text for m in history.messages] == ["m2", "m3", "m4"]
        await ana.close()
        await bob.close()


async def test_empty_history_is_an_empty_list(connect) -> None:
    peer = await connect()
    _, (history,) = await peer.hello("ana")
    assert isinstance(history, History) and history.room == "general" and history.messages == []


async def test_usuarios_lists_everyone_sorted(connect) -> None:
    await connect("zoe")
    ana = await connect("Ana")
    await connect("bob")
    for command in ("/usuarios", "/users"):
        await ana.say(command)
        users = await ana.expect(Users)
        assert users.room == "general" and users.users == ["Ana", "bob", "zoe"]


async def test_salir_says_bye_and_closes(connect) -> None:
    for word in ("/salir", "/quit", "/exit"):
        peer = await connect(f"u{word[1:]}")
        await peer.say("adiós")
        await peer.say(word)
        frames = await peer.until_closed()
        # The acknowledgement of what was said before comes before the goodbye.
        kinds = [type(f) for f in frames]
        assert kinds[-1] is Bye and Message in kinds


async def test_others_see_a_join_and_a_leave(connect) -> None:
    ana = await connect("ana")
    bob = await connect("bob")
    joined = await ana.expect(System, event="join")
    assert (joined.user, joined.room) == ("bob", "general")
    await bob.say("/salir")
    left = await ana.expect(System, event="leave")
    # No reason given, none told ("bob left #general", not "... (quit)").
    assert (left.user, left.room, left.reason, left.quit) == ("bob", "general", None, True)


async def test_abrupt_disconnect_leaves_no_ghost(connect) -> None:
    ana = await connect("ana")
    bob = await connect("bob")
    bob.writer.transport.abort()
    await ana.expect(System, event="leave", user="bob")
    await ana.say("/usuarios")
    assert (await ana.expect(Users)).users == ["ana"]
    # ... and the nick is free again.
    again = await connect()
    welcome, _ = await again.hello("bob")
    assert welcome.nick == "bob"


async def test_two_hundred_clients_all_receive_one_broadcast(server) -> None:
    peers = await asyncio.gather(*(Peer.connect(server.port) for _ in range(200)))
    await asyncio.gather(*(p.hello(f"user{i}") for i, p in enumerate(peers)))
    await peers[0].say("a todos")
    received = await asyncio.gather(*(p.expect(Message, text="a todos", timeout=20) for p in peers))
    assert len({m.id for m in received}) == 1 and len(received) == 200
    await asyncio.gather(*(p.close() for p in peers))


async def test_welcome_names_the_server(connect) -> None:
    peer = await connect()
    welcome, _ = await peer.hello("ana")
    assert isinstance(welcome, Welcome)
    assert welcome.server.name == "charla" and welcome.server.version


async def test_double_slash_sends_a_literal_slash(connect) -> None:
    ana = await connect("ana")
    await ana.say("//usuarios no es un comando")
    assert (await ana.expect(Message)).text == "/usuarios no es un comando"


async def test_ping_answers_after_earlier_messages_are_acknowledged(connect) -> None:
    ana = await connect("ana")
    for i in range(20):
        await ana.say(f"m{i}")
    await ana.send({"type": "ping", "token": "t1"})
    frames = []
    while not frames or getattr(frames[-1], "token", None) != "t1":
        frames.append(await ana.recv())
    assert sum(isinstance(f, Message) for f in frames) == 20


async def test_empty_lists_are_on_the_wire(connect) -> None:
    # The contract says "empty list if none": a client in another language reads
    # frame["messages"] and must not find the field missing.
    import json

    peer = await connect()
    await peer.send({"type": "hello", "nick": "ana"})
    frames: dict[str, dict[str, object]] = {}
    while "history" not in frames:
        frame = json.loads(await asyncio.wait_for(peer.reader.readline(), 10))
        frames[frame["type"]] = frame
    await peer.say("/usuarios vacia")
    await peer.say("/dejar")
    await peer.say("/salas")
    await peer.send({"type": "ping", "token": "end"})
    while "pong" not in frames:
        line = await asyncio.wait_for(peer.reader.readline(), 10)
        frame = json.loads(line)
        frames[frame["type"]] = frame
    assert frames["history"]["messages"] == []
    assert frames["users"]["users"] == []
    assert frames["rooms"]["rooms"] == []


async def test_nothing_sent_after_salir_is_relayed(connect) -> None:
    watcher = await connect("watcher")
    ana = await connect("ana")
    await ana.send(
        b'{"type":"say","text":"antes"}\n{"type":"say","text":"/salir"}\n'
        b'{"type":"say","text":"despues"}\n'
    )
    frames = await ana.until_closed()
    assert [f.text for f in frames if isinstance(f, Message)] == ["antes"]
    await watcher.say("fin")
    texts = []
    while "fin" not in texts:
        texts.append((await watcher.expect(Message)).text)
    assert texts == ["antes", "fin"]
