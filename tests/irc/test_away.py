"""AWAY is charla's away state, through a real server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import irc.client

from charla.protocol import System, UserAway, UserBack

from ..helpers import Peer
from .helpers import LibraryClient, RawIrc, irc_server


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


def away_of(nick: str) -> Callable[[irc.client.Event], bool]:
    """An ``AWAY`` line from ``nick`` (the library names it like the 301 numeric)."""
    return lambda event: event.source.nick == nick


async def test_away_notify_tells_who_shares_a_channel_and_not_who_did_not_ask(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        port = server.irc_ports[0]
        ana = LibraryClient(port, "ana")
        bob = LibraryClient(port, "bob")
        try:
            await ana.expect("welcome")
            await bob.expect("welcome")
            # Asked after registration, as this library does.
            ana.connection.cap("REQ", "away-notify")
            await ana.expect("cap", lambda e: e.arguments[:2] == ["ACK", "away-notify"])
            carl = await RawIrc.connect(port)  # never asks
            await carl.register("carl")

            bob.connection.send_raw("AWAY :out for lunch")
            gone = await ana.expect("away", away_of("bob"))
            assert (gone.target, gone.arguments) == ("out for lunch", [])
            bob.connection.send_raw("AWAY")
            back = await ana.expect("away", away_of("bob"))
            assert (back.target, back.arguments) == (None, [])
            # carl heard neither (what he was sent before the answer to a later PING).
            await carl.send("PING :after")
            assert [m.command for m in await carl.until("PONG")] == ["PONG"]

            # An away user joining a channel: JOIN, then AWAY.
            ana.connection.join("#otra")
            await ana.expect("join", lambda e: e.target == "#otra")
            bob.connection.send_raw("AWAY :in class")
            await ana.expect("away", away_of("bob"))
            bob.connection.join("#otra")
            await ana.expect("join", lambda e: e.source.nick == "bob" and e.target == "#otra")
            joined_away = await ana.expect("away", away_of("bob"))
            assert joined_away.target == "in class"
            await carl.close()
        finally:
            await ana.close()
            await bob.close()


async def test_a_native_user_going_away_is_an_irc_away_and_back(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.send("CAP LS 302")
        assert "away-notify" in (await ana.expect("CAP")).params[-1].split()
        await ana.register("ana", "away-notify")
        bob = await Peer.connect(server.port)
        await bob.hello("bob", away_notify=True)
        plain = await Peer.connect(server.port)
        await plain.hello("plain")

        await bob.send({"type": "away", "text": "en clase"})
        gone = await ana.expect("AWAY")
        assert (gone.source, gone.params) == ("bob!bob@charla", ["en clase"])
        await bob.send({"type": "back"})
        back = await ana.expect("AWAY")
        assert (back.source, back.params) == ("bob!bob@charla", [])

        # The other way: a native client that asked hears the IRC user; one that did not,
        # nothing new (its users answers list who is away, as before).
        await ana.send("AWAY :comiendo")
        told = await bob.expect(UserAway, user="ana")
        assert told.text == "comiendo"
        await ana.send("AWAY")
        await bob.expect(UserBack, user="ana")
        frames = await plain.sync()
        assert not [f for f in frames if isinstance(f, UserAway | UserBack)]
        for peer in (bob, plain):
            await peer.close()
        await ana.close()
