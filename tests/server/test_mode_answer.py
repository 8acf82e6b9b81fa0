"""``/modo``: the modes as the command writes them, and the answer to it alone."""

from __future__ import annotations

from charla.protocol import ClientMode, RoomMode, describe_modes

from ..helpers import frames_of as _of
from .fakes import Chat, send, settle


def test_modes_are_written_as_the_mode_command_takes_them() -> None:
    change = ClientMode(room="x", invite_only=False, slow=10, open_topic=True)
    assert describe_modes(change) == "-i +s 10 -t"


async def test_the_answer_says_a_room_nobody_owns_has_no_mode() -> None:
    chat = await Chat().start()
    ana, ana_link = await chat.welcomed("ana")
    send(ana, {"type": "say", "text": "/modo", "label": "m"})
    await settle()
    (answer,) = _of(RoomMode, ana_link.frames(), label="m")
    # Nobody owns #general: anyone may set its topic, and no mode is set.
    assert answer == RoomMode(room="general", open_topic=True, label="m")
