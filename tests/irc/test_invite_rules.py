"""``INVITE`` as "Modern IRC" has it: only a channel's members invite, and nobody invites
somebody who is in the channel already."""

from __future__ import annotations

from pathlib import Path

from charla.irc.messages import parse
from charla.irc.session import IrcSession
from charla.irc.transport import irc_options
from charla.protocol import ClientPing, Invite, Joined, Pong, ServerInfo, Welcome, nick_key
from charla.server.presence import LocalPresence

from ..helpers import Peer
from ..server.fakes import Chat
from .helpers import RawIrc, irc_server
from .test_session import lines, options, registered


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


def test_inviting_somebody_already_in_the_channel_is_443_before_charla_is_asked() -> None:
    session = IrcSession(options(in_channel=lambda nick, name: nick == "beto"))
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    session.take()
    session.receive_line("INVITE beto #clase")  # from outside the channel: 442 first
    assert [m.command for m in lines(session)] == ["442"]
    session.receive_frame(Joined(room="clase"))
    session.take()

    session.receive_line("INVITE beto #clase")
    (barrier,) = session.take()[1]  # its answer waits for the names asked on joining
    session.receive_frame(Pong(token="barrier", label=barrier.label))
    out, asked = session.take()
    (refused,) = [parse(line.decode().rstrip("\r\n")) for line in out]
    assert isinstance(barrier, ClientPing)  # charla is only asked whether it is done
    assert (refused.command, refused.params[:3]) == ("443", ["ana", "beto", "#clase"])
    assert asked == []

    session.receive_line("INVITE carla #clase")  # not in it: charla decides
    assert [type(f) for f in session.take()[1]] == [Invite]


async def test_a_member_inviting_a_user_in_the_channel_gets_443_and_otherwise_482(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        port = server.irc_ports[0]
        ana = await RawIrc.registered(port, "ana", channels=("#clase",))
        beto = await RawIrc.registered(port, "beto", channels=("#clase",))
        carla = await Peer.connect(server.port)  # a charla client, in another room
        await carla.hello("carla")
        try:
            await ana.send("INVITE BETO #clase")
            refused = await ana.expect("443")
            assert refused.params[1:3] == ["BETO", "#clase"]
            await ana.send("INVITE carla #clase")  # not in it: only moderators invite
            assert (await ana.expect("482")).params[1] == "#clase"
        finally:
            await carla.close()
            await beto.close()
            await ana.close()


class _EvaInClase(LocalPresence):
    """The cluster as a node sees it: eva, on another node, is in #clase."""

    def find(self, nick: str) -> str | None:
        return "eva" if nick_key(nick) == "eva" else None

    def in_room(self, nick: str, room: str) -> bool:
        return nick_key(nick) == "eva" and room == "clase"

    def users(self, room: str) -> list[str]:
        raise AssertionError("an INVITE listed every user of the cluster in the room")


async def test_whether_an_invitee_is_in_the_channel_asks_about_that_user_alone() -> None:
    """``443`` is answered by the front-end, before charla's rate limit: asking must
    not walk the room's members on every node."""
    chat = await Chat().start()
    await chat.welcomed("ana")  # in #general
    chat.hub.presence = _EvaInClase()
    in_channel = irc_options(chat.hub, "today").in_channel
    assert in_channel("ANA", "#general") and not in_channel("ana", "#clase")
    assert in_channel("Eva", "#clase") and not in_channel("eva", "#general")
    assert not in_channel("nadie", "#clase") and not in_channel("eva", "#no vale")
