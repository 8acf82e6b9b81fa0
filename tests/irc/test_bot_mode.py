"""IRCv3 bot mode (``BOT=B``, ``MODE nick +B``) as charla's ``bot`` flag of a session."""

from __future__ import annotations

from pathlib import Path

from charla.irc.messages import parse
from charla.protocol import Bot, Message, System

from ..helpers import Peer
from .helpers import RawIrc, irc_server
from .test_session import lines, registered


async def test_an_irc_bot_is_shown_as_one_to_irc_and_charla_clients(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        port = server.irc_ports[0]
        carla = await Peer.connect(server.port)
        await carla.hello("carla")  # a charla client, in #general
        ana = await RawIrc.registered(port, "ana", "message-tags")
        plain = await RawIrc.registered(port, "beto")  # without message-tags
        robot = await RawIrc.connect(port)
        await robot.send("NICK robot", "USER robot 0 * :robot")
        isupport = await robot.expect("005", lambda m: any(p.startswith("BOT=") for p in m.params))
        assert "BOT=B" in isupport.params
        await robot.send("JOIN #general")
        await robot.expect("366")
        try:
            await robot.send("MODE robot +B")
            mode = await robot.expect("MODE")
            assert mode.params == ["robot", "+B"]
            await robot.send("MODE robot")
            assert (await robot.expect("221")).params[1] == "+B"

            await robot.send("PRIVMSG #general :beep")
            heard = await ana.expect("PRIVMSG", lambda m: m.source.startswith("robot!"))
            assert "bot" in heard.tags
            untagged = await plain.expect("PRIVMSG", lambda m: m.source.startswith("robot!"))
            assert untagged.tags == {}
            assert (await carla.expect(Message, user="robot")).bot

            await ana.send("WHO #general")
            who = await ana.expect("352", lambda m: m.params[5] == "robot")
            assert who.params[6] == "HB"
            await ana.send("WHOIS robot")
            whois = await ana.until("318")
            assert [m.params[1] for m in whois if m.command == "335"] == ["robot"]

            await robot.send("MODE robot -B", "PRIVMSG #general :boop")
            assert (await robot.expect("MODE")).params == ["robot", "-B"]
            heard = await ana.expect("PRIVMSG", lambda m: m.params[1] == "boop")
            assert "bot" not in heard.tags
            assert not (await carla.expect(Message, user="robot")).bot
            await ana.send("WHOIS robot")
            assert "335" not in [m.command for m in await ana.until("318")]
        finally:
            await robot.close()
            await plain.close()
            await ana.close()
            await carla.close()


async def test_a_charla_bot_says_so_in_its_hello_and_irc_sees_it(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        ana = await RawIrc.registered(server.irc_ports[0], "ana", "message-tags")
        robot = await Peer.connect(server.port)
        await robot.hello("robot", bot=True)
        try:
            await ana.expect("JOIN", lambda m: m.source.startswith("robot!"))
            await robot.say("beep")
            assert (await robot.expect(Message, text="beep")).bot
            assert "bot" in (await ana.expect("PRIVMSG")).tags
            await ana.send("WHO robot")
            assert (await ana.expect("352")).params[6] == "HB"

            await robot.send({"type": "bot", "on": False, "label": "b"})
            await robot.expect(System, event="unbot", label="b")
            await robot.say("boop")
            assert not (await robot.expect(Message, text="boop")).bot
            assert "bot" not in (await ana.expect("PRIVMSG")).tags
            # What was said as a bot stays a bot's: the joined history replays it so.
            await ana.send("PART #general", "JOIN #general")
            replayed = [m for m in await ana.until("366") if m.command == "PRIVMSG"]
            assert [("bot" in m.tags, m.params[1]) for m in replayed] == [
                (True, "beep"),
                (False, "boop"),
            ]
        finally:
            await robot.close()
            await ana.close()


def test_user_modes_other_than_i_and_b_are_refused_and_b_is_still_set() -> None:
    session = registered()
    session.receive_line("MODE ana +iBx")
    out, asked = session.take()
    assert [parse(line.decode().rstrip("\r\n")).command for line in out] == ["501"]
    assert [type(frame) for frame in asked] == [Bot]
    assert isinstance(asked[0], Bot) and asked[0].on


def test_setting_the_mode_a_session_has_asks_nothing_and_tells_nothing() -> None:
    session = registered()
    session.receive_line("MODE ana -B")
    assert session.take() == ([], [])
    session.receive_frame(System(event="bot", user="ana"))  # charla says it is a bot now
    assert [(m.command, m.params) for m in lines(session)] == [("MODE", ["ana", "+B"])]
    session.receive_line("MODE ana +B")
    assert session.take() == ([], [])
    session.receive_line("MODE ana")
    assert [m.params[1] for m in lines(session)] == ["+B"]
