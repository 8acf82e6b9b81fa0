"""Client-only tags through a real server: IRC clients with and without
``message-tags`` and a native client, on messages (kept in the history) and alone
(``TAGMSG``)."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import History, Message, Reaction, RelayedTags, Typing

from ..helpers import Peer
from .helpers import RawIrc, irc_server

CAPS = ("message-tags", "echo-message", "labeled-response", "batch")


async def test_client_tags_on_messages_reach_who_asked_and_stay_in_the_history(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.registered(server.irc_ports[0], "ana", *CAPS)
        eva = await RawIrc.registered(server.irc_ports[0], "eva", "message-tags")
        leo = await RawIrc.registered(server.irc_ports[0], "leo")  # no message-tags: no tags

        await ana.send(r"@label=l1;+example.com/color=dark\sred;+bad\=x PRIVMSG #general :hola")
        echo = await ana.expect("PRIVMSG", lambda m: m.tags.get("label") == "l1")
        assert echo.tags["+example.com/color"] == "dark red"
        heard = await eva.expect("PRIVMSG", lambda m: m.source == "ana!ana@charla")
        assert heard.tags["+example.com/color"] == "dark red"
        assert heard.tags["msgid"] == echo.tags["msgid"]
        plain = await leo.expect("PRIVMSG", lambda m: m.source == "ana!ana@charla")
        assert plain.tags == {}
        native = await bob.expect(Message, user="ana")
        assert native.tags == {"+example.com/color": "dark red"}  # the invalid one dropped

        await ana.send("@+draft/typing-hint=1 PRIVMSG eva :psst")
        direct = await eva.expect("PRIVMSG", lambda m: m.params[0] == "eva")
        assert direct.tags["+draft/typing-hint"] == "1"

        await bob.send({"type": "history", "room": "general", "limit": 10})
        history = await bob.expect(History)
        assert [m.tags for m in history.messages] == [{"+example.com/color": "dark red"}]
        for client in (ana, eva, leo):
            await client.close()
        await bob.close()


async def test_tagmsg_is_a_reaction_when_charla_takes_it_and_relayed_otherwise(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.registered(server.irc_ports[0], "ana", *CAPS)
        eva = await RawIrc.registered(server.irc_ports[0], "eva", "message-tags")

        await ana.send("PRIVMSG #general :hola")
        msgid = (await eva.expect("PRIVMSG")).tags["msgid"]

        # A reaction charla takes is stored, and native clients see it as one.
        await ana.send(f"@+draft/reply={msgid};+draft/react=👍 TAGMSG #general")
        reaction = await bob.expect(Reaction, user="ana")
        assert (reaction.id, reaction.emoji, reaction.on) == (int(msgid), "👍", True)
        told = await eva.expect("TAGMSG")
        assert told.tags["+draft/react"] == "👍"

        # One it does not (not one emoji, an unknown message) is relayed as it is.
        await ana.send(f"@label=r1;+draft/reply={msgid};+draft/react=l😃l TAGMSG #general")
        echo = await ana.expect("TAGMSG", lambda m: m.tags.get("label") == "r1")
        assert echo.tags["+draft/react"] == "l😃l"
        relayed = await eva.expect("TAGMSG")
        assert (relayed.params, relayed.source) == (["#general"], "ana!ana@charla")
        assert relayed.tags == {
            "+draft/reply": msgid,
            "+draft/react": "l😃l",
            "msgid": echo.tags["msgid"],  # one id for the relay, not a message's
        }
        native = await bob.expect(RelayedTags, user="ana")
        assert (native.room, native.tags["+draft/react"]) == ("general", "l😃l")

        # To a nick, and to oneself (echo and delivery, as a message to oneself).
        await ana.send("@+example/ping=1 TAGMSG eva")
        assert (await eva.expect("TAGMSG")).params == ["eva"]
        await ana.send("PING :before")
        await ana.expect("PONG")
        await ana.send("@+example/ping=2 TAGMSG ana", "PING :after")
        both = [m for m in await ana.until("PONG") if m.command == "TAGMSG"]
        assert [(m.params, m.tags["+example/ping"]) for m in both] == [(["ana"], "2")] * 2
        for client in (ana, eva):
            await client.close()
        await bob.close()


async def test_the_typing_tag_is_charla_typing_both_ways(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.registered(server.irc_ports[0], "ana", "message-tags")

        await ana.send("@+typing=active TAGMSG #general")
        typing = await bob.expect(Typing, user="ana")
        assert (typing.room, typing.state) == ("general", "active")
        await bob.send({"type": "typing", "to": "ana", "state": "paused"})
        told = await ana.expect("TAGMSG")
        assert (told.source, told.params, told.tags) == (
            "bob!bob@charla",
            ["ana"],
            {"+typing": "paused"},
        )
        await ana.close()
        await bob.close()


async def test_a_full_irc_line_is_relayed_as_one_line_within_512_bytes(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.registered(server.irc_ports[0], "ana", "echo-message")
        eva = await RawIrc.registered(server.irc_ports[0], "eva")

        # As long as a client's line may be: relayed with ana's whole mask, it is cut.
        await ana.send("PRIVMSG #general :" + "b" * (510 - len("PRIVMSG #general :")))
        echo = await ana.expect("PRIVMSG")
        heard = await eva.expect("PRIVMSG")
        assert echo.params == heard.params
        line = f":ana!ana@charla PRIVMSG #general :{heard.params[1]}\r\n"
        assert len(line) == 512
        assert (await bob.expect(Message, user="ana")).text == heard.params[1]

        # A long native message reaches IRC in full lines, none over 512 bytes.
        await bob.send({"type": "say", "text": "c" * 1200, "room": "general"})
        lines = [await eva.expect("PRIVMSG", lambda m: m.source == "bob!bob@charla")]
        while sum(len(m.params[1]) for m in lines) < 1200:
            lines.append(await eva.expect("PRIVMSG"))
        assert "".join(m.params[1] for m in lines) == "c" * 1200
        sizes = [len(f":bob!bob@charla PRIVMSG #general :{m.params[1]}\r\n") for m in lines]
        assert sizes[:2] == [512, 512] and sizes[2] < 512
        for client in (ana, eva):
            await client.close()
        await bob.close()
