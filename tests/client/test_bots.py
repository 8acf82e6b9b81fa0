"""Messages programs send (webhooks, clients in bot mode) as the full-screen client
shows them: marked, so that nobody takes them for a person's."""

from __future__ import annotations

from charla.client.tui.render import message_entry
from charla.protocol import Message

TS = "2026-01-01T10:00:00.000Z"


def test_a_bots_message_is_marked_and_a_persons_is_not() -> None:
    bot = message_entry(
        Message(id=1, user="ci", text="build ok", ts=TS, room="a", bot=True), me="ana"
    )
    person = message_entry(Message(id=2, user="ana2", text="build ok", ts=TS, room="a"), me="ana")
    assert bot.body.plain == " bot  build ok"
    assert person.body.plain == "build ok"


def test_a_deleted_bot_message_shows_only_that_it_was_deleted() -> None:
    gone = Message(id=1, user="ci", text="", ts=TS, room="a", bot=True, deleted=True)
    assert " bot " not in message_entry(gone, me="ana").body.plain
