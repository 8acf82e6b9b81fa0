"""Notices (IRC's ``NOTICE``) as charla's clients show them: ``-nick- text``."""

from __future__ import annotations

from charla.client.format import format_line
from charla.client.tui.render import Kind, message_entry
from charla.protocol import Joined, Message

NOTICE = Message(
    id=1, user="bot", text="build passed", ts="2026-01-01T10:00:00.000Z", room="a", notice=True
)


def test_the_line_client_shows_a_notice_as_irc_clients_do() -> None:
    line = format_line(NOTICE, "en") or ""
    assert line.endswith("#a -bot- build passed")
    plain = format_line(Message(id=2, user="bot", text="x", ts=NOTICE.ts, room="a"), "en")
    assert (plain or "").endswith("#a <bot> x")


def test_the_tui_shows_a_notice_as_a_message_from_nick_between_dashes() -> None:
    entry = message_entry(NOTICE, me="ana")
    assert entry.kind is Kind.MESSAGE  # a message all the same: selectable, answerable
    assert "-bot- " in entry.prefix.plain


def test_the_line_client_tells_the_topic_of_a_room_it_joins() -> None:
    joined = Joined(room="dev", topic="Examen el \x1b[2Jviernes")
    assert format_line(joined, "es") == "-- tema de #dev: Examen el viernes"  # no escape
    assert format_line(Joined(room="dev"), "es") is None  # no topic, no line
