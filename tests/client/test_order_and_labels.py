"""The order rule and labels, seen from a client over real sockets: requests sent in one
write are answered in order, and a label comes back on its answers to its sender only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from charla.client.connection import ConnectOptions, Link, connect
from charla.protocol import (
    REQUESTS,
    Away,
    Back,
    Ban,
    Bans,
    Bot,
    Bye,
    ClientBans,
    ClientDms,
    ClientFrame,
    ClientHistory,
    ClientMode,
    ClientModlog,
    ClientPing,
    ClientPong,
    ClientRooms,
    ClientTags,
    ClientTyping,
    ClientUsers,
    Delete,
    Deleted,
    Deop,
    Devoice,
    Dms,
    Edit,
    Edited,
    Error,
    Hello,
    Help,
    History,
    Invite,
    Join,
    Joined,
    Kick,
    Kill,
    MarkRead,
    Me,
    Message,
    Modlog,
    Msg,
    Mute,
    Nick,
    Op,
    Owner,
    Part,
    Parted,
    Passwd,
    Pong,
    Quit,
    React,
    Reaction,
    Read,
    Register,
    RelayedTags,
    Results,
    RoomMode,
    Rooms,
    Say,
    Search,
    ServerFrame,
    System,
    Topic,
    Typing,
    Unban,
    Unmute,
    Unregister,
    Unwatch,
    Unwatched,
    Users,
    Voice,
    Watch,
    Watching,
    Welcome,
)

from ..helpers import TIMEOUT, make_config, running


async def _next(link: Link) -> ServerFrame:
    async with asyncio.timeout(TIMEOUT):
        frame = await link.recv()
    assert frame is not None, "the server closed the connection"
    return frame


@contextlib.asynccontextmanager
async def _link(port: int) -> AsyncIterator[Link]:
    link = await connect(ConnectOptions(port=port))
    try:
        yield link
    finally:
        link.close()
        await link.wait_closed()


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "plain"])
async def test_hello_say_and_users_in_one_write_are_answered_in_order(
    tmp_path: Path, labelled: bool
) -> None:
    say_label = "say-1" if labelled else None
    for attempt in range(20):
        # A freshly started server each time: the order must not depend on a warm one.
        config = make_config(tmp_path, db=tmp_path / f"{attempt}.db")
        async with running(config) as server, _link(server.port) as link:
            await link.send_together(
                [
                    Hello(nick="ana"),
                    Say(text="primero", label=say_label),
                    Say(text="/usuarios"),
                ]
            )
            frames = [await _next(link)]
            while not isinstance(frames[-1], Users):
                frames.append(await _next(link))
        kinds = [type(f).__name__ for f in frames]
        assert kinds == ["Welcome", "Joined", "History", "Message", "Users"], attempt
        _, _, history, message, users = frames
        assert isinstance(history, History) and history.messages == []
        assert isinstance(message, Message) and message.text == "primero"
        assert message.label == say_label
        assert isinstance(users, Users) and users.users == ["ana"] and users.label is None


#: Every typed request ana sends, in this order, and the kind of frame that answers it
#: (with its label). bob shares her rooms and records everything he receives.
SCRIPT: list[tuple[ClientFrame, type[ServerFrame]]] = [
    (Hello(nick="ana", rooms=["dev"]), Welcome),
    (Say(text="hola", room="dev"), Message),  # message 1 of a new database
    (React(id=1, emoji="👍"), Reaction),
    (Edit(id=1, text="hola, editado"), Edited),
    (ClientHistory(room="dev", thread=1), History),
    (Delete(id=1), Deleted),
    (MarkRead(room="dev", id=1), Read),
    (ClientTyping(room="dev", state="active"), Typing),  # relayed to bob without it
    (ClientTags(room="dev", tags={"+example/color": "red"}), RelayedTags),  # relayed too
    (ClientHistory(room="dev"), History),
    (ClientPing(token="t"), Pong),
    (Join(room="sala"), Joined),
    (Part(room="sala"), Parted),
    (Watch(room="otra"), Watching),
    (Unwatch(room="otra"), Unwatched),
    (ClientUsers(room="dev"), Users),
    (ClientRooms(), Rooms),
    (Msg(to="bob", text="psst"), Message),
    (Me(text="saluda", room="dev"), Message),
    (Nick(nick="ana2"), System),
    (Register(password="secreto-1"), System),
    (Passwd(old="secreto-1", new="secreto-2"), System),
    (ClientDms(), Dms),  # direct conversations are kept for registered nicks
    # Registered, ana creates a room and owns it: the moderation requests.
    (Join(room="aula"), Joined),
    (Topic(room="aula", text="ejercicio 3"), System),
    (ClientMode(room="aula"), RoomMode),  # no change asked: the modes are read
    (Invite(room="aula", nick="bob"), System),
    (Ban(room="aula", nick="bob", duration=60), System),
    (ClientBans(room="aula"), Bans),
    (Unban(room="aula", nick="bob"), System),
    (Mute(room="aula", nick="bob"), System),
    (Unmute(room="aula", nick="bob"), System),
    (Kick(room="aula", nick="bob"), Error),  # bob is not in aula
    (Voice(room="aula", nick="bob"), Error),  # roles are for registered nicks
    (Devoice(room="aula", nick="bob"), Error),
    (Op(room="aula", nick="bob"), Error),
    (Deop(room="aula", nick="bob"), Error),
    (Owner(room="aula", nick="bob"), Error),  # operators only
    (Kill(nick="bob"), Error),  # operators only
    (ClientModlog(room="aula"), Modlog),
    (Unregister(password="secreto-2"), System),
    (Away(text="comiendo"), System),
    (Back(), System),
    (Bot(), System),
    (Help(), System),
    (Search(query="hola"), Results),
    (Quit(reason="adiós"), Bye),
]


def test_the_script_covers_every_typed_request() -> None:
    # A pong answers the server; it has no answer of its own to carry a label.
    asked = {type(frame) for frame, _ in SCRIPT}
    assert asked == {r.frame for r in REQUESTS} - {ClientPong}


async def test_a_label_on_each_request_comes_back_on_its_answer_and_nowhere_else(
    tmp_path: Path,
) -> None:
    async with (
        running(make_config(tmp_path)) as server,
        _link(server.port) as ana,
        _link(server.port) as bob,
    ):
        await bob.send(Hello(nick="bob", rooms=["dev", "sala"]))
        await bob.send(ClientPing(token="bob-ready"))
        while not isinstance(frame := await _next(bob), Pong):
            pass
        for i, (request, answer_kind) in enumerate(SCRIPT):
            label = f"L{i}-{type(request).__name__}"
            await ana.send(msgspec.structs.replace(request, label=label))
            answers = await _answers_to(ana, label, last=isinstance(request, Quit))
            labelled = [f for f in answers if f.label is not None]
            assert {f.label for f in labelled} == {label}, (request, answers)
            assert any(isinstance(f, answer_kind) for f in labelled), (request, answers)
        await bob.send(ClientPing(token="bob-done"))
        seen: list[ServerFrame] = []
        while not isinstance(frame := await _next(bob), Pong):
            seen.append(frame)
    # bob saw ana's message, its reaction, edit and delete, her direct message, her /me,
    # her nick and her leaving...
    assert {type(f) for f in seen} >= {Message, Reaction, Edited, Deleted, System}
    assert [f.text for f in seen if isinstance(f, Message)] == ["hola", "psst", "saluda"]
    # ...and none of her labels.
    assert [f for f in seen if f.label is not None] == []


async def _answers_to(link: Link, label: str, *, last: bool) -> list[ServerFrame]:
    """Everything the server sends up to the end of the answer to request ``label``: a
    ping barrier after it (or the end of the connection after a quit)."""
    if last:
        frames: list[ServerFrame] = []
        async with asyncio.timeout(TIMEOUT):
            while (frame := await link.recv()) is not None:
                frames.append(frame)
        return frames
    barrier = f"after-{label}"
    await link.send(ClientPing(token=barrier))
    frames = []
    while not isinstance(frame := await _next(link), Pong) or frame.token != barrier:
        frames.append(frame)
    return frames
