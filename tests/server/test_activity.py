"""Away (said, and after --auto-away idle minutes) and typing, on a hub with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from charla.protocol import Error, RelayedTags, System, Typing, UserAway, Users
from charla.server.activity import TAGS_BURST, TYPING_EVERY
from charla.server.member import Member
from charla.server.rooms import Room

from ..helpers import frames_of as _of
from .fakes import Chat, FakeLink, send, settle


async def _users(chat: Chat, link: FakeLink, member: Any) -> Users:
    send(member, {"type": "users", "room": "general", "label": "u"})
    await settle()
    (users,) = _of(Users, link.frames(), label="u")
    return users


async def test_a_direct_message_to_an_away_user_is_answered_once_an_hour() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    beto, beto_link = await chat.welcomed("beto")
    send(ana, {"type": "away", "text": "comiendo", "label": "a"})
    await settle()
    (told,) = _of(System, ana_link.frames(), event="away")
    assert (told.label, told.reason) == ("a", "comiendo")
    assert (await _users(chat, beto_link, beto)).away == ["ana"]
    send(beto, {"type": "msg", "to": "ana", "text": "¿estás?", "label": "m"})
    await settle()
    (reply,) = _of(System, beto_link.frames(), event="away")
    assert (reply.user, reply.reason, reply.label) == ("ana", "comiendo", "m")
    send(beto, {"type": "msg", "to": "ana", "text": "¿hola?"})
    await settle()
    assert _of(System, beto_link.frames(), event="away") == []  # once an hour
    chat.clock.advance(3600)
    send(beto, {"type": "msg", "to": "ana", "text": "¿y ahora?"})
    await settle()
    assert len(_of(System, beto_link.frames(), event="away")) == 1
    send(ana, {"type": "back", "label": "b"})
    await settle()
    assert _of(System, ana_link.frames(), event="back", label="b")
    assert (await _users(chat, beto_link, beto)).away is None


async def test_an_away_message_is_one_line() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    send(ana, {"type": "away", "text": "en clase\n\nvuelvo  a las 12\r\n"})
    await settle()
    (told,) = _of(System, ana_link.frames(), event="away")
    assert told.reason == "en clase vuelvo a las 12"


async def test_idle_past_auto_away_is_away_until_active() -> None:
    chat = await Chat(auto_away=1).start()
    ana, ana_link = await chat.welcomed("ana")
    beto, beto_link = await chat.welcomed("beto")
    chat.clock.advance(50)
    send(beto, {"type": "say", "text": "hola"})
    await settle()
    chat.clock.advance(20)  # ana idle 70 s, beto 20 s
    chat.hub.check_timeouts()
    assert _of(System, ana_link.frames(), event="away", user="ana")
    assert _of(System, beto_link.frames(), event="away") == []
    assert (await _users(chat, beto_link, beto)).away == ["ana"]
    send(ana, {"type": "pong"})  # answering pings is not being there
    await settle()
    assert _of(System, ana_link.frames(), event="back") == []
    send(ana, {"type": "say", "text": "ya estoy"})
    await settle()
    assert _of(System, ana_link.frames(), event="back", user="ana")
    assert (await _users(chat, beto_link, beto)).away is None


async def test_typing_is_relayed_and_throttled() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    send(ana, {"type": "typing", "room": "general", "state": "active"})
    await settle()
    (relayed,) = _of(Typing, beto_link.frames())
    assert (relayed.user, relayed.room, relayed.state, relayed.label) == (
        "ana",
        "general",
        "active",
        None,
    )
    assert _of(Typing, ana_link.frames()) == []  # not to oneself; unlabelled: no answer
    send(ana, {"type": "typing", "room": "general", "state": "paused", "label": "t"})
    await settle()
    assert _of(Typing, beto_link.frames()) == []  # within 3 s: dropped
    assert _of(Typing, ana_link.frames(), label="t")  # a label is answered anyway
    chat.clock.advance(3)
    send(ana, {"type": "typing", "room": "general", "state": "done"})
    send(ana, {"type": "typing", "to": "beto", "state": "active"})  # another conversation
    await settle()
    states = [(f.room, f.to, f.state) for f in _of(Typing, beto_link.frames())]
    assert states == [("general", None, "done"), (None, "beto", "active")]


async def test_typing_and_tags_from_other_nodes_reach_readers_here_within_a_bound() -> None:
    chat = await Chat().start()
    _, ana_link = await chat.welcomed("ana")
    _, beto_link = await chat.welcomed("beto")
    activity = chat.hub.activity
    for _ in range(3):  # another node throttles its own; twice its rate gets through
        activity.typing_elsewhere(Typing(user="eva", state="active", room="general"))
    activity.typing_elsewhere(Typing(user="ana", state="active", room="general"))
    activity.typing_elsewhere(Typing(user="eva", state="active", to="beto"))
    activity.typing_elsewhere(Typing(user="eva", state="active", to="nadie"))
    assert [(f.user, f.to) for f in _of(Typing, ana_link.frames())] == [("eva", None)] * 2
    assert [(f.user, f.to) for f in _of(Typing, beto_link.frames())] == [
        ("eva", None),
        ("eva", None),
        ("ana", None),  # the typist's own sessions here do not get it
        ("eva", "beto"),
    ]
    for _ in range(2 * TAGS_BURST + 1):
        activity.tags_elsewhere(RelayedTags(user="eva", tags={"+x": "1"}, room="general"))
    assert len(_of(RelayedTags, beto_link.frames())) == 2 * TAGS_BURST
    # Direct tags: the other party's sessions here, and the sender's own.
    _, carla_link = await chat.welcomed("carla")
    activity.tags_elsewhere(RelayedTags(user="ana", tags={"+x": "1"}, to="carla"))
    assert _of(RelayedTags, ana_link.frames(), to="carla")
    assert _of(RelayedTags, carla_link.frames(), to="carla")
    assert _of(RelayedTags, beto_link.frames()) == []
    chat.clock.advance(TYPING_EVERY)
    activity.typing_elsewhere(Typing(user="eva", state="done", room="general"))
    assert [f.state for f in _of(Typing, beto_link.frames())] == ["done"]


async def test_relays_from_other_nodes_to_nobody_cost_nothing_and_reach_nobody() -> None:
    """A flood of relays, each to another made-up nick, neither reaches anyone nor grows
    what this node keeps: a relay counts against a throttle only when it goes out."""
    chat = await Chat().start()
    _, ana_link = await chat.welcomed("ana")
    activity = chat.hub.activity
    for i in range(50):
        activity.typing_elsewhere(Typing(user="eva", state="active", to=f"nadie{i}"))
        activity.typing_elsewhere(Typing(user="eva", state="active", room=f"sala{i}"))
        # ana's own tags to nobody (only ana has sessions here): no node sends those.
        activity.tags_elsewhere(RelayedTags(user="ana", tags={"+x": "1"}, to=f"nadie{i}"))
        activity.tags_elsewhere(RelayedTags(user="eva", tags={"+x": "1"}, room=f"sala{i}"))
    assert ana_link.frames() == []
    throttles = (activity._typed_elsewhere, activity._tagged_elsewhere)  # what it keeps
    assert [len(t) for t in throttles] == [0, 0]


async def test_bad_typing_is_refused() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    for frame, code in [
        ({"room": "otra", "state": "active"}, "not_in_room"),
        ({"to": "nadie", "state": "active"}, "no_such_user"),
        ({"state": "active"}, "bad_arguments"),
        ({"room": "general", "state": "shouting"}, "bad_frame"),
    ]:
        send(ana, {"type": "typing", "label": "x", **frame})
        await settle()
        (error,) = _of(Error, ana_link.frames())
        assert error.code == code, frame


async def test_a_crowd_going_away_is_told_to_who_asked_without_walking_the_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = await Chat(auto_away=1).start()
    _, ana_link = await chat.welcomed("ana", away_notify=True)
    crowd = [await chat.welcomed(f"u{i}") for i in range(30)]
    gone, _ = await chat.welcomed("gone", away_notify=True)
    chat.hub.remove(gone)
    walks = 0
    members = Room.members

    def counted(room: Room) -> Iterator[Member]:
        nonlocal walks
        walks += 1
        return members(room)

    monkeypatch.setattr(Room, "members", counted)
    ana_link.frames()
    chat.clock.advance(61)
    send(crowd[0][0], {"type": "say", "text": "aquí sigo"})  # the one still active
    await settle()
    chat.hub.check_timeouts()
    told = _of(UserAway, ana_link.frames())
    assert sorted(t.user for t in told) == sorted(f"u{i}" for i in range(1, 30))
    # Each of 29 users going away walked the room of 31 for one listener before.
    assert walks == 0
