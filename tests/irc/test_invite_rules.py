"""``INVITE`` as "Modern IRC" has it, without a server: only a channel's members invite."""

from __future__ import annotations

from charla.irc.messages import parse
from charla.protocol import Invite, Joined

from .test_session import registered


def test_only_a_member_of_the_channel_may_invite() -> None:
    session = registered()
    session.receive_line("INVITE beto #clase")
    out, asked = session.take()
    (refused,) = [parse(line.decode().rstrip("\r\n")) for line in out]
    assert (refused.command, refused.params[:2]) == ("442", ["ana", "#clase"])
    assert asked == []  # charla was not asked

    session.receive_frame(Joined(room="clase"))
    session.take()
    session.receive_line("INVITE beto #clase")
    (asked,) = session.take()[1]
    assert isinstance(asked, Invite) and (asked.room, asked.nick) == ("#clase", "beto")
