"""What the IRC conformance suite found, through a real server: IRC clients and native
clients in the same rooms."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import History, Message, System

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
