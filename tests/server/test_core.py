"""The hub on fakes: order, labels, watching, limits and timeouts, with no socket, no
thread and no sleep (the clock is a fake one the test moves)."""

from __future__ import annotations

from charla.protocol import Bye, Error, History, Message, Pong, System, Users, Welcome

from .fakes import Chat, kinds, send, settle


async def test_say_with_hello_is_answered_live_after_the_join_and_users_after_it() -> None:
    chat = await Chat().start()
    member, link = chat.connect()
    send(
        member,
        {"type": "hello", "nick": "ana"},
        {"type": "say", "text": "hola", "label": "s1"},
        {"type": "say", "text": "/usuarios", "label": "u1"},
    )
    await settle()
    frames = link.frames()
    assert kinds(frames) == ["welcome", "joined", "history", "message", "users"]
    history, message, users = frames[2], frames[3], frames[4]
    assert isinstance(history, History) and history.messages == []
    assert isinstance(message, Message) and message.label == "s1" and message.text == "hola"
    assert isinstance(users, Users) and users.label == "u1" and users.users == ["ana"]


async def test_a_label_reaches_its_sender_only() -> None:
    chat = await Chat().start()
    _, ana_link = await chat.welcomed("ana")
    bob, bob_link = await chat.welcomed("bob")
    ana_link.frames()
    send(bob, {"type": "say", "text": "hola", "label": "mine"})
    await settle()
    (own,) = bob_link.frames()
    (theirs,) = ana_link.frames()
    assert isinstance(own, Message) and own.label == "mine"
    assert isinstance(theirs, Message) and theirs.label is None and theirs.id == own.id


async def test_in_a_run_of_several_senders_each_label_reaches_only_its_sender() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    bob, bob_link = await chat.welcomed("bob")
    _, carl_link = await chat.welcomed("carl")
    for link in (ana_link, bob_link):
        link.frames()
    chat.bus.hold = True  # the four messages are delivered as one run
    send(ana, {"type": "say", "text": "a1", "label": "a1"})
    send(bob, {"type": "say", "text": "b1", "label": "b1"})
    send(ana, {"type": "say", "text": "a2", "label": "a2"})
    send(bob, {"type": "say", "text": "b2"})
    await settle()
    chat.bus.release()
    await settle()
    seen = {
        name: [(f.text, f.label) for f in link.frames() if isinstance(f, Message)]
        for name, link in (("ana", ana_link), ("bob", bob_link), ("carl", carl_link))
    }
    assert seen == {
        "ana": [("a1", "a1"), ("b1", None), ("a2", "a2"), ("b2", None)],
        "bob": [("a1", None), ("b1", "b1"), ("a2", None), ("b2", None)],
        "carl": [("a1", None), ("b1", None), ("a2", None), ("b2", None)],
    }


async def test_a_refusal_carries_the_label_of_the_request_it_refuses() -> None:
    chat = await Chat().start()
    member, link = await chat.welcomed("ana")
    send(member, {"type": "say", "text": "/nope", "label": "x"})
    send(member, {"type": "part", "room": "nowhere", "label": "y"})
    await settle()
    errors = link.frames()
    assert [(e.code, e.label) for e in errors if isinstance(e, Error)] == [
        ("unknown_command", "x"),
        ("not_in_room", "y"),
    ]


async def test_an_unprintable_label_is_a_bad_frame_and_is_not_echoed() -> None:
    chat = await Chat().start()
    member, link = await chat.welcomed("ana")
    send(member, {"type": "ping", "label": "a\x1bb"})
    await settle()
    (error,) = link.frames()
    assert isinstance(error, Error) and error.code == "bad_frame" and error.label is None


async def test_a_request_waits_for_the_messages_sent_before_it() -> None:
    chat = await Chat().start()
    member, link = await chat.welcomed("ana")
    chat.bus.hold = True
    send(member, {"type": "say", "text": "uno"}, {"type": "ping", "token": "t"})
    await settle()
    assert link.frames() == []  # the pong waits for the message being stored
    chat.bus.release()
    await settle()
    assert kinds(link.frames()) == ["message", "pong"]


async def test_messages_do_not_wait_for_each_other() -> None:
    chat = await Chat().start()
    member, link = await chat.welcomed("ana")
    chat.bus.hold = True
    send(member, *({"type": "say", "text": str(i)} for i in range(5)))
    await settle()
    chat.bus.release()
    await settle()
    assert [f.text for f in link.frames() if isinstance(f, Message)] == list("01234")


async def test_a_watcher_reads_without_being_announced_listed_or_heard() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    tail, tail_link = chat.connect()
    send(tail, {"type": "hello", "nick": "lector", "rooms": []})
    await settle()
    # lector joined general on hello (v1), so read another room.
    send(ana, {"type": "join", "room": "dev"})
    await settle()
    ana_link.frames()
    tail_link.frames()
    send(tail, {"type": "watch", "room": "dev", "label": "w"})
    await settle()
    assert kinds(tail_link.frames()) == ["watching", "history"]
    assert ana_link.frames() == []  # not announced
    send(ana, {"type": "say", "text": "hola", "room": "dev"})
    send(ana, {"type": "users", "room": "dev"})
    await settle()
    assert [f.text for f in tail_link.frames() if isinstance(f, Message)] == ["hola"]
    users = [f for f in ana_link.frames() if isinstance(f, Users)]
    assert users[0].users == ["ana"]
    send(tail, {"type": "say", "text": "no", "room": "dev"})
    await settle()
    (error,) = tail_link.frames()
    assert isinstance(error, Error) and error.code == "not_in_room"


async def test_excess_requests_wait_for_the_rate_limit_in_order() -> None:
    chat = await Chat(rate_limit=1.0, burst=3).start()
    member, link = await chat.welcomed("ana")  # its join of general took a token
    send(member, *({"type": "say", "text": str(i)} for i in range(4)))
    await settle()
    assert [f.text for f in link.frames() if isinstance(f, Message)] == ["0", "1"]
    chat.clock.advance(1.0)
    chat.hub.pump(member)  # what the member's wait timer does
    await settle()
    assert [f.text for f in link.frames() if isinstance(f, Message)] == ["2"]


async def test_too_many_waiting_requests_is_a_flood() -> None:
    chat = await Chat(rate_limit=1.0, burst=1, flood_queue=10).start()
    member, link = await chat.welcomed("ana")
    send(member, *({"type": "ping"} for _ in range(12)))
    await settle()
    errors = [f for f in link.frames() if isinstance(f, Error)]
    assert [e.code for e in errors] == ["flood"] and link.closed


async def test_pings_behind_a_message_in_flight_are_bounded_too() -> None:
    chat = await Chat(flood_queue=10).start()
    member, link = await chat.welcomed("ana")
    chat.bus.hold = True
    send(member, {"type": "say", "text": "uno"})
    send(member, *({"type": "ping"} for _ in range(11)))
    await settle()
    assert link.closed


async def test_a_client_that_never_says_hello_is_cut_off_by_the_clock() -> None:
    chat = await Chat(handshake_timeout=5.0).start()
    _, link = chat.connect()
    chat.clock.advance(4.9)
    chat.hub.check_timeouts()
    assert not link.closed
    chat.clock.advance(0.2)
    chat.hub.check_timeouts()
    (error,) = link.frames()
    assert isinstance(error, Error) and error.code == "handshake_timeout" and link.closed


async def test_a_silent_client_is_pinged_then_dropped_and_announced() -> None:
    chat = await Chat(ping_interval=30.0, ping_timeout=90.0).start()
    ana, ana_link = await chat.welcomed("ana")
    bob, bob_link = await chat.welcomed("bob")
    ana_link.frames()
    chat.clock.advance(31)
    chat.hub.check_timeouts()
    assert kinds(bob_link.frames()) == ["ping"]
    send(ana, {"type": "pong"})  # ana answers; bob stays silent
    chat.clock.advance(60)
    chat.hub.check_timeouts()
    assert bob_link.closed and not ana_link.closed
    chat.hub.remove(bob)  # what the socket's connection_lost does
    (leave,) = [f for f in ana_link.frames() if isinstance(f, System)]
    assert leave.event == "leave" and leave.user == "bob"


async def test_quit_answers_pings_sent_after_it_then_says_bye_with_its_label() -> None:
    chat = await Chat().start()
    member, link = await chat.welcomed("ana")
    send(
        member,
        {"type": "quit", "label": "q"},
        {"type": "say", "text": "never said"},
        {"type": "ping", "token": "t"},
    )
    await settle()
    frames = link.frames()
    assert kinds(frames) == ["pong", "bye"]
    assert isinstance(frames[0], Pong) and isinstance(frames[1], Bye) and frames[1].label == "q"
    assert link.closed


async def test_a_hello_with_too_many_rooms_joins_up_to_the_cap() -> None:
    chat = await Chat(max_rooms_per_client=3).start()
    member, link = chat.connect()
    send(member, {"type": "hello", "nick": "ana", "rooms": [f"r{i}" for i in range(1000)]})
    await settle()
    frames = link.frames()
    assert isinstance(frames[0], Welcome)
    assert kinds(frames).count("joined") == 3  # general + 2
    assert [f.code for f in frames if isinstance(f, Error)] == ["too_many_rooms"]
    assert len(chat.hub.rooms) == 3


async def test_a_part_after_a_join_comes_after_its_history() -> None:
    chat = await Chat().start()
    member, link = await chat.welcomed("ana")
    send(member, {"type": "join", "room": "sala"}, {"type": "part", "room": "sala"})
    await settle()
    assert kinds(link.frames()) == ["joined", "history", "parted"]
