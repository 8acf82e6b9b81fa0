"""What the IRC conformance suite found, through a real server: IRC clients and native
clients in the same rooms."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import History, Message, System, Welcome

from ..helpers import Peer
from .helpers import RawIrc, irc_server


async def test_a_notice_stays_a_notice_for_irc_native_clients_and_the_history(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.register("ana")
        eva = await RawIrc.connect(server.irc_ports[0])
        await eva.register("eva")

        await ana.send("NOTICE #general :build passed")
        heard = await bob.expect(Message, user="ana")
        assert (heard.text, heard.notice) == ("build passed", True)
        notice = await eva.expect("NOTICE", lambda m: m.source == "ana!ana@charla")
        assert notice.params == ["#general", "build passed"]

        # A native client's notice reaches IRC as one, and a PRIVMSG stays a PRIVMSG.
        await bob.send({"type": "say", "text": "deploying", "room": "general", "notice": True})
        assert (await eva.expect("NOTICE", lambda m: m.source == "bob!bob@charla")).params == [
            "#general",
            "deploying",
        ]
        await ana.send("PRIVMSG #general :thanks")
        assert (await bob.expect(Message, user="ana")).notice is False

        # Direct notices too.
        await ana.send("NOTICE eva :psst")
        direct = await eva.expect("NOTICE", lambda m: m.params[0] == "eva")
        assert direct.params[1] == "psst"

        # The history keeps what was a notice.
        await bob.send({"type": "history", "room": "general", "limit": 10})
        history = await bob.expect(History)
        kinds = [(m.text, m.notice) for m in history.messages]
        assert kinds == [("build passed", True), ("deploying", True), ("thanks", False)]
        for client in (ana, eva):
            await client.close()
        await bob.close()


async def test_a_part_carries_its_reason_and_a_disconnect_is_one_quit(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob", rooms=["tercera"])
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.register("ana", channels=("#general", "#otra", "#tercera"))
        eva = await RawIrc.connect(server.irc_ports[0])
        await eva.register("eva", channels=("#general", "#otra", "#tercera"))

        await eva.send("PART #tercera :hasta luego")
        own = await eva.expect("PART")
        assert own.params == ["#tercera", "hasta luego"]
        seen = await ana.expect("PART")
        assert (seen.source, seen.params) == ("eva!eva@charla", ["#tercera", "hasta luego"])
        left = await bob.expect(System, event="leave", user="eva")
        assert (left.reason, left.quit) == ("hasta luego", False)

        await eva.send("QUIT :me voy")
        await eva.expect("ERROR")
        quit = await bob.expect(System, event="leave", user="eva")
        assert (quit.reason, quit.quit) == ("me voy", True)
        await ana.send("PING :fin")
        told = await ana.until("PONG")
        quits = [m for m in told if m.command in ("QUIT", "PART")]
        assert [(m.command, m.source, m.params) for m in quits] == [
            ("QUIT", "eva!eva@charla", ["me voy"])
        ]  # once, for #general and #otra alike
        for client in (ana, eva):
            await client.close()
        await bob.close()


async def test_who_and_whois_tell_the_user_line_away_and_match_masks(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        carl = await Peer.connect(server.port)  # shares no room with anybody
        await carl.send({"type": "hello", "nick": "carl", "join_default": False})
        await carl.expect(Welcome)
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.send("NICK ana", "USER anita 0 * :Ana María")
        await ana.expect("001")
        await ana.send("JOIN #general")
        await ana.expect("366")
        eva = await RawIrc.connect(server.irc_ports[0])
        await eva.register("eva")

        async def who(mask: str) -> list[list[str]]:
            await eva.send(f"WHO {mask}")
            told = await eva.until("315")
            assert told[-1].params[1] == mask
            return sorted(m.params[1:] for m in told if m.command == "352")

        server_name = "charla"
        assert await who("ana") == [
            ["*", "anita", "charla", server_name, "ana", "H", "0 Ana María"]
        ]
        assert await who("bob") == [
            ["*", "bob", "charla", server_name, "bob", "H", "0 charla user"]
        ]
        await ana.send("AWAY :comiendo")
        await ana.expect("306")
        assert [r[5] for r in await who("ANA")] == ["G"]
        # Masks list only the users sharing a room with the asker (all are invisible).
        assert [r[4] for r in await who("*")] == ["ana", "bob", "eva"]
        assert [r[4] for r in await who("?n*")] == ["ana"]
        assert [r[4] for r in await who("*maría")] == ["ana"]  # by real name too
        assert await who("car*") == []
        assert [r[4] for r in await who("carl")] == ["carl"]  # a nick is not a mask

        await eva.send("WHOIS ana")
        told = await eva.until("318")
        user = next(m for m in told if m.command == "311")
        assert user.params[1:] == ["ana", "anita", "charla", "*", "Ana María"]
        assert next(m for m in told if m.command == "301").params[1:] == ["ana", "comiendo"]
        for client in (ana, eva):
            await client.close()
        for peer in (bob, carl):
            await peer.close()
