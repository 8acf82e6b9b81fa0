"""AWAY is charla's away state, through a real server."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import System

from ..helpers import Peer
from .helpers import RawIrc, irc_server


async def test_away_both_ways_and_301_on_a_message_to_an_away_user(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.register("ana")

        await ana.send("AWAY :comiendo")
        await ana.expect("306")
        await ana.send("WHO #general")
        who = await ana.expect("352", lambda m: m.params[5] == "ana")
        assert who.params[6] == "G"
        await bob.send({"type": "msg", "to": "ana", "text": "¿estás?"})
        told = await bob.expect(System, event="away", user="ana")
        assert told.reason == "comiendo"
        await ana.send("AWAY")
        await ana.expect("305")

        await bob.send({"type": "away", "text": "en clase"})
        await bob.expect(System, event="away", user="bob")
        await ana.send("PRIVMSG bob :hola")
        away = await ana.expect("301")
        assert away.params[1:] == ["bob", "en clase"]
        await ana.close()
        await bob.close()
