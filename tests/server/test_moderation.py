"""Moderation over real sockets: operators, owners, moderators, and what they may do."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from charla.protocol import (
    Bans,
    Deleted,
    Error,
    Joined,
    Message,
    Modlog,
    Parted,
    Results,
    RoomMode,
    Rooms,
    System,
    Unwatched,
    Users,
)
from charla.server import ChatServer

from ..helpers import Peer, make_config, running

PASSWORD = "secreto123"


async def _registered(port: int, nick: str, *rooms: str) -> Peer:
    """A peer holding the registered nick ``nick`` (registered now if new)."""
    peer = await Peer.connect(port)
    await peer.hello(nick, password=PASSWORD)  # ignored while the nick is not registered
    answer = await _ask(peer, {"type": "register", "password": PASSWORD})
    assert isinstance(answer, System) or answer.code == "nick_registered", answer
    for room in rooms:
        await peer.send({"type": "join", "room": room})
        await peer.expect(Joined, room=room)
    await peer.sync()
    return peer


async def _plain(port: int, nick: str, *rooms: str) -> Peer:
    peer = await Peer.connect(port)
    await peer.hello(nick)
    for room in rooms:
        await peer.send({"type": "join", "room": room})
        await peer.expect(Joined, room=room)
    await peer.sync()
    return peer


async def _ask(peer: Peer, frame: dict[str, Any]) -> Any:
    """Send a labelled request; its first labelled answer."""
    await peer.send({**frame, "label": "q"})
    async with asyncio.timeout(10):
        while True:
            answer = await peer.recv()
            assert answer is not None, "closed"
            if getattr(answer, "label", None) == "q":
                return answer


async def _refused(peer: Peer, frame: dict[str, Any], code: str) -> Error:
    answer = await _ask(peer, frame)
    assert isinstance(answer, Error) and answer.code == code, answer
    return answer


def _hub(server: ChatServer) -> Any:
    assert server.hub is not None
    return server.hub


async def test_an_owner_names_a_moderator_who_moderates(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        port = server.port
        ana = await _registered(port, "ana")
        await ana.send({"type": "join", "room": "aula"})
        owned = await ana.expect(System, event="owner")  # ana created #aula: she owns it
        assert owned.user == "ana" and owned.room == "aula"
        luis = await _registered(port, "luis", "aula")
        bob = await _registered(port, "bob", "aula")
        eve = await _plain(port, "eve", "aula")

        # Roles only for registered nicks; an unregistered nick never gets one.
        await _refused(ana, {"type": "op", "room": "aula", "nick": "eve"}, "not_registered")
        await _refused(ana, {"type": "voice", "room": "aula", "nick": "eve"}, "not_registered")
        made = await _ask(ana, {"type": "op", "room": "aula", "nick": "luis"})
        assert isinstance(made, System) and made.event == "op" and made.user == "luis"
        seen = await luis.expect(System, event="op")
        assert seen.by == "ana" and seen.label is None
        users = await _ask(eve, {"type": "users", "room": "aula"})
        assert isinstance(users, Users) and users.roles == {"ana": "owner", "luis": "mod"}

        # Topic: everyone told; joined carries it.
        await _ask(luis, {"type": "topic", "room": "aula", "text": "Álgebra, tema 3"})
        told = await bob.expect(System, event="topic")
        assert told.text.endswith("Álgebra, tema 3") and told.by == "luis"

        # Kick: everyone told, the user too, who leaves and may come back.
        await _ask(luis, {"type": "kick", "room": "aula", "nick": "eve", "reason": "spam"})
        kicked = await eve.expect(System, event="kick")
        assert (kicked.user, kicked.by, kicked.reason) == ("eve", "luis", "spam")
        await eve.expect(Parted, room="aula")
        await bob.expect(System, event="kick", user="eve")
        back = await _ask(eve, {"type": "join", "room": "aula"})
        assert isinstance(back, Joined) and back.topic == "Álgebra, tema 3"

        # Mute: the user stays but cannot speak there; unmute lifts it.
        await _ask(luis, {"type": "mute", "room": "aula", "nick": "bob", "duration": 600})
        muted = await _refused(bob, {"type": "say", "room": "aula", "text": "hola"}, "muted")
        assert muted.retry_after is not None and 590 < muted.retry_after <= 600
        await _ask(luis, {"type": "unmute", "room": "aula", "nick": "bob"})
        await bob.say("ya puedo", room="aula")
        await eve.expect(Message, text="ya puedo")

        # Moderated: only moderators and voiced users speak.
        await _ask(luis, {"type": "mode", "room": "aula", "moderated": True})
        await _refused(bob, {"type": "say", "room": "aula", "text": "hola"}, "muted")
        await _ask(luis, {"type": "voice", "room": "aula", "nick": "bob"})
        said = await _ask(bob, {"type": "say", "room": "aula", "text": "con voz"})
        assert said.text == "con voz"
        await _refused(eve, {"type": "say", "room": "aula", "text": "yo no"}, "muted")
        await _ask(luis, {"type": "mode", "room": "aula", "moderated": False})

        # Slow mode: one message per N seconds per user, moderators exempt.
        await _ask(luis, {"type": "mode", "room": "aula", "slow": 60})
        await _ask(eve, {"type": "say", "room": "aula", "text": "uno"})
        slow = await _refused(eve, {"type": "say", "room": "aula", "text": "dos"}, "slow_mode")
        assert slow.retry_after is not None and 0 < slow.retry_after <= 60
        await _ask(luis, {"type": "say", "room": "aula", "text": "a"})
        await _ask(luis, {"type": "say", "room": "aula", "text": "b"})
        mode = await _ask(eve, {"type": "mode", "room": "aula"})
        assert isinstance(mode, RoomMode) and mode.slow == 60 and not mode.moderated

        # The modlog: who did what, when, why.
        page = await _ask(luis, {"type": "modlog", "room": "aula"})
        assert isinstance(page, Modlog)
        actions = [(e.action, e.by, e.nick) for e in page.entries]
        assert actions[:4] == [
            ("owner", "ana", "ana"),
            ("op", "ana", "luis"),
            ("topic", "luis", None),
            ("kick", "luis", "eve"),
        ]
        assert page.entries[3].reason == "spam" and page.entries[0].ts
        for peer in (ana, luis, bob, eve):
            await peer.close()


async def test_a_ban_holds_until_it_expires_also_after_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running(config) as server:
        ana = await _registered(server.port, "ana", "aula")  # owner
        bob = await _registered(server.port, "bob", "aula")
        eve = await _plain(server.port, "eve", "aula")
        await _ask(ana, {"type": "ban", "room": "aula", "nick": "bob", "duration": 3600})
        await bob.expect(System, event="ban")
        await bob.expect(Parted, room="aula")
        refused = await _refused(bob, {"type": "join", "room": "aula"}, "banned")
        assert refused.retry_after is not None and 3500 < refused.retry_after <= 3600
        # An unregistered nick is banned by nick and address.
        await _ask(ana, {"type": "ban", "room": "aula", "nick": "eve", "reason": "spam"})
        listed = await _ask(ana, {"type": "bans", "room": "aula"})
        assert isinstance(listed, Bans)
        assert {b.nick: b.reason for b in listed.bans} == {"bob": None, "eve": "spam"}
        for peer in (ana, bob, eve):
            await peer.close()
    async with running(config) as server:
        bob = await _registered(server.port, "bob")
        await _refused(bob, {"type": "join", "room": "aula"}, "banned")
        # Also in hello: the room is refused, the others joined.
        late = await Peer.connect(server.port)
        await late.send({"type": "hello", "nick": "bob2", "rooms": ["aula"]})
        await late.expect(Joined, room="general")
        moderation = _hub(server).moderation
        later = moderation.now() + 3601
        moderation.now = lambda: later  # an hour on
        back = await _ask(bob, {"type": "join", "room": "aula"})
        assert isinstance(back, Joined)
        await bob.close()
        await late.close()


async def test_moderators_open_the_topic_to_everyone_and_it_holds_after_a_restart(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    topic = {"type": "topic", "room": "aula", "text": "de todos"}
    read = {"type": "mode", "room": "aula"}
    async with running(config) as server:
        ana = await _registered(server.port, "ana", "aula")  # the owner
        eve = await _plain(server.port, "eve", "aula")
        await _refused(eve, topic, "not_allowed")  # an owned room: moderators only (+t)
        await _refused(eve, {**read, "open_topic": True}, "not_allowed")
        assert not (await _ask(eve, read)).open_topic
        await _ask(ana, {**read, "open_topic": True})
        told = await eve.expect(System, event="mode", by="ana")
        assert told.text.endswith("-t")
        assert isinstance(await _ask(eve, topic), System)
        assert (await _ask(eve, read)).open_topic
        await _ask(ana, {**read, "open_topic": False})
        await _refused(eve, topic, "not_allowed")
        await _ask(ana, {**read, "open_topic": True})
        page = await _ask(ana, {"type": "modlog", "room": "aula"})
        modes = [e.open_topic for e in page.entries if e.action == "mode"]
        assert modes == [True, False, True]
        for peer in (ana, eve):
            await peer.close()
    async with running(config) as server:
        eve = await _plain(server.port, "eve", "aula")
        mode = await _ask(eve, read)
        assert isinstance(mode, RoomMode) and mode.open_topic
        changed = await _ask(eve, {**topic, "text": "sigue abierto"})
        assert isinstance(changed, System) and changed.event == "topic"
        # A room nobody owns or moderates: anyone in it sets the topic, as always.
        assert (await _ask(eve, {**read, "room": "general"})).open_topic
        await eve.close()


async def test_invite_only_rooms_are_hidden_and_need_an_invite(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await _registered(server.port, "ana", "club")
        carl = await _plain(server.port, "carl")
        await ana.say("secreto", room="club")
        await _ask(ana, {"type": "mode", "room": "club", "invite_only": True})
        await _refused(carl, {"type": "join", "room": "club"}, "invite_only")
        await _refused(carl, {"type": "watch", "room": "club"}, "invite_only")
        await _refused(carl, {"type": "history", "room": "club"}, "not_allowed")
        await _refused(carl, {"type": "users", "room": "club"}, "not_allowed")
        for where in ({}, {"room": "club"}):  # search finds nothing of it, asked or not
            found = await _ask(carl, {"type": "search", "query": "secreto", **where})
            assert isinstance(found, Results) and found.messages == []
        mine = await _ask(ana, {"type": "search", "query": "secreto"})
        assert [m.text for m in mine.messages] == ["secreto"]
        listing = await _ask(carl, {"type": "rooms"})
        assert isinstance(listing, Rooms) and "club" not in [r.name for r in listing.rooms]
        await _ask(ana, {"type": "invite", "room": "club", "nick": "carl"})
        invite = await carl.expect(System, event="invite")
        assert invite.by == "ana" and invite.room == "club"
        joined = await _ask(carl, {"type": "join", "room": "club"})
        assert isinstance(joined, Joined)
        await ana.close()
        await carl.close()


REQUESTS: list[dict[str, Any]] = [
    {"type": "topic", "room": "aula", "text": "mío"},
    {"type": "kick", "room": "aula", "nick": "ana"},
    {"type": "ban", "room": "aula", "nick": "ana"},
    {"type": "ban", "server": True, "nick": "ana"},
    {"type": "unban", "room": "aula", "nick": "ana"},
    {"type": "bans", "room": "aula"},
    {"type": "mute", "room": "aula", "nick": "ana"},
    {"type": "unmute", "room": "aula", "nick": "ana"},
    {"type": "invite", "room": "aula", "nick": "ana"},
    {"type": "mode", "room": "aula", "invite_only": True},
    {"type": "voice", "room": "aula", "nick": "ana"},
    {"type": "devoice", "room": "aula", "nick": "ana"},
    {"type": "op", "room": "aula", "nick": "zoe"},
    {"type": "deop", "room": "aula", "nick": "ana"},
    {"type": "owner", "room": "aula", "nick": "zoe"},
    {"type": "kill", "nick": "ana"},
    {"type": "modlog", "room": "aula"},
    {"type": "say", "room": "aula", "text": "/echar ana"},
]


async def test_every_moderation_request_is_refused_to_a_plain_user(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await _registered(server.port, "ana", "aula")  # the owner
        await _ask(ana, {"type": "say", "room": "aula", "text": "ya hay historia"})
        zoe = await _registered(server.port, "zoe", "aula")  # registered, but no role
        eve = await _plain(server.port, "eve", "aula")
        for peer in (zoe, eve):
            for frame in REQUESTS:
                error = await _refused(peer, frame, "not_allowed")
                assert "solo pueden hacerlo" in error.message
        # An unregistered nick creating a room does not own it.
        await _ask(eve, {"type": "join", "room": "nueva"})
        await eve.sync()
        users = await _ask(eve, {"type": "users", "room": "nueva"})
        assert users.roles is None
        for peer in (ana, zoe, eve):
            await peer.close()


async def test_an_operator_from_the_config_kills_and_bans_server_wide(tmp_path: Path) -> None:
    config = make_config(tmp_path, operators=("profe",))
    async with running(config) as server:
        profe = await _registered(server.port, "profe", "aula")
        eve = await _plain(server.port, "eve", "aula")
        users = await _ask(eve, {"type": "users", "room": "aula"})
        assert users.roles == {"profe": "operator"}
        await _ask(profe, {"type": "kill", "nick": "eve", "reason": "basta"})
        frames = await eve.until_closed()
        killed = [f.message for f in frames if isinstance(f, Error) and f.code == "killed"]
        assert killed == ["desconectado por profe: basta"]  # in eve's language
        bob = await _plain(server.port, "bob")
        await _ask(profe, {"type": "ban", "server": True, "nick": "bob", "duration": 60})
        await bob.until_closed()
        again = await Peer.connect(server.port)
        await again.send({"type": "hello", "nick": "bob"})
        error = await again.expect(Error)
        assert error.code == "banned" and error.retry_after is not None
        assert error.message.startswith("tienes un veto en el servidor durante")
        # The operator gives a room an owner.
        await _registered(server.port, "ana")
        await _ask(profe, {"type": "owner", "room": "aula", "nick": "ana"})
        page = await _ask(profe, {"type": "modlog", "server": True})
        assert [e.action for e in page.entries] == ["kill", "ban"]
        # SIGHUP drops the operator: from then on, not_allowed.
        server.reload(dataclasses.replace(config, operators=()))
        await _refused(profe, {"type": "kill", "nick": "ana"}, "not_allowed")
        await profe.close()


@pytest.mark.parametrize(
    ("command", "frame"),
    [
        ("/vetar * ana 2h spam", {"type": "ban", "server": True, "duration": 7200}),
        ("/silenciar ana 10m", {"type": "mute", "room": "aula", "duration": 600}),
        ("/modo +i -m +s 30", {"type": "mode", "invite_only": True, "slow": 30}),
        ("/modo +t", {"type": "mode", "open_topic": False}),
        ("/modo +m -t", {"type": "mode", "moderated": True, "open_topic": True}),
        ("/modo +t -t", {"type": "mode", "invite_only": None, "open_topic": True}),
    ],
)
def test_commands_become_typed_requests(command: str, frame: dict[str, Any]) -> None:
    import msgspec

    from charla.protocol import Say, parse_command

    parsed = msgspec.to_builtins(parse_command(Say(text=command, room="aula")))
    assert {k: parsed.get(k) for k in frame} == frame


async def test_charla_admin_op_grants_an_operator_on_the_database(tmp_path: Path) -> None:
    from charla.cli import main

    config = make_config(tmp_path)
    async with running(config) as server:
        await (await _registered(server.port, "profe")).close()
    assert main(["admin", "op", "nadie", "--db", str(config.db)]) == 1  # not registered
    assert main(["admin", "op", "profe", "--db", str(config.db)]) == 0
    async with running(config) as server:
        profe = await _registered(server.port, "profe")
        page = await _ask(profe, {"type": "modlog", "server": True})
        assert [(e.action, e.nick) for e in page.entries] == [("operator", "profe")]
        await profe.close()
    assert main(["admin", "deop", "profe", "--db", str(config.db)]) == 0
    async with running(config) as server:
        profe = await _registered(server.port, "profe")
        await _refused(profe, {"type": "modlog", "server": True}, "not_allowed")
        await profe.close()


async def test_a_moderator_deletes_any_message_of_the_room_and_it_is_logged(
    tmp_path: Path,
) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await _registered(server.port, "ana", "aula")  # the owner
        bob = await _plain(server.port, "bob", "aula")
        zoe = await _plain(server.port, "zoe", "aula")
        said = await _ask(bob, {"type": "say", "room": "aula", "text": "spam spam"})
        assert isinstance(said, Message)
        # Someone without a role may not delete it, nor may the owner edit it.
        await _refused(zoe, {"type": "delete", "id": said.id}, "not_allowed")
        await _refused(ana, {"type": "edit", "id": said.id, "text": "x"}, "not_allowed")
        deleted = await _ask(ana, {"type": "delete", "id": said.id})
        assert isinstance(deleted, Deleted) and deleted.by == "ana"
        assert (await bob.expect(Deleted, id=said.id)).by == "ana"
        log = await _ask(ana, {"type": "modlog", "room": "aula"})
        assert isinstance(log, Modlog)
        entry = log.entries[-1]
        assert (entry.action, entry.by, entry.nick, entry.text) == (
            "delete",
            "ana",
            "bob",
            str(said.id),
        )
        found = await _ask(zoe, {"type": "search", "query": "spam"})
        assert isinstance(found, Results) and found.messages == []


async def test_a_muted_user_neither_edits_reacts_nor_types_but_may_delete(
    tmp_path: Path,
) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await _registered(server.port, "ana", "aula")  # owner
        bob = await _plain(server.port, "bob", "aula")
        said = await _ask(bob, {"type": "say", "room": "aula", "text": "hola"})
        await _ask(ana, {"type": "mute", "room": "aula", "nick": "bob"})
        edit = {"type": "edit", "id": said.id, "text": "spam"}
        await _refused(bob, edit, "muted")
        await _refused(bob, {"type": "react", "id": said.id, "emoji": "👍"}, "muted")
        await _refused(bob, {"type": "typing", "room": "aula", "state": "active"}, "muted")
        deleted = await _ask(bob, {"type": "delete", "id": said.id})
        assert isinstance(deleted, Deleted)
        await ana.close()
        await bob.close()


async def test_a_ban_or_invite_only_ends_a_watch_that_could_not_start(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await _registered(server.port, "ana", "aula", "club")  # owner of both
        eve = await _plain(server.port, "eve")
        carl = await _plain(server.port, "carl")
        for peer, room in ((eve, "aula"), (eve, "club"), (carl, "club")):
            await _ask(peer, {"type": "watch", "room": room})
        await _ask(ana, {"type": "invite", "room": "club", "nick": "carl"})
        await _ask(ana, {"type": "ban", "room": "aula", "nick": "eve"})
        await eve.expect(Unwatched, room="aula")
        await _ask(ana, {"type": "mode", "room": "club", "invite_only": True})
        await eve.expect(Unwatched, room="club")
        await ana.say("solo para invitados", room="club")
        await carl.expect(Message, text="solo para invitados")  # invited: still reads
        seen = await eve.sync()  # after the message went out
        assert not [f for f in seen if isinstance(f, Message) and f.room == "club"]
        for peer in (ana, eve, carl):
            await peer.close()
