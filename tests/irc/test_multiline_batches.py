"""A client's ``draft/multiline`` batches through a real server: the opening's label and
client tags, blank lines, and batches that break the rules."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import Message

from ..helpers import Peer
from .helpers import RawIrc, irc_server

CAPS = ("draft/multiline", "batch", "message-tags", "echo-message", "labeled-response")


async def test_a_labelled_batch_is_answered_by_its_echo_and_keeps_blank_lines(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.registered(server.irc_ports[0], "ana", *CAPS)
        eva = await RawIrc.registered(server.irc_ports[0], "eva", *CAPS)
        leo = await RawIrc.registered(server.irc_ports[0], "leo", "message-tags")

        await ana.send(
            "@label=m1;+example/kind=poem BATCH +b1 draft/multiline #general",
            "@batch=b1 PRIVMSG #general :uno",
            "@batch=b1 PRIVMSG #general :",
            "@batch=b1 PRIVMSG #general :dos",
            "BATCH -b1",
        )
        echo = await ana.until("BATCH")
        opening = echo[-1]
        assert opening.params[1:] == ["draft/multiline", "#general"]
        assert opening.tags["label"] == "m1"  # no ACK before: the echo answers it
        assert not [m for m in echo if m.command == "ACK"]
        native = await bob.expect(Message, user="ana")
        assert (native.text, native.tags) == ("uno\n\ndos", {"+example/kind": "poem"})
        relayed = [m for m in await eva.until("BATCH")]
        relayed += [await eva.expect("PRIVMSG") for _ in range(3)]
        assert [m.params[1] for m in relayed if m.command == "PRIVMSG"] == ["uno", "", "dos"]
        # Without multiline, the lines one by one, the blank one left out.
        lines = [await leo.expect("PRIVMSG") for _ in range(2)]
        assert [m.params[1] for m in lines] == ["uno", "dos"]
        assert all(m.tags["+example/kind"] == "poem" for m in lines)
        for client in (ana, eva, leo):
            await client.close()
        await bob.close()


async def test_a_batch_that_breaks_the_rules_is_refused(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        ana = await RawIrc.registered(server.irc_ports[0], "ana", *CAPS)

        await ana.send("BATCH +b1 draft/multiline #general", "@batch=otro PRIVMSG #general :hi")
        assert (await ana.expect("FAIL")).params[:2] == ["BATCH", "MULTILINE_INVALID"]
        await ana.send(
            "@batch=b1 PRIVMSG #general :hola",
            "@batch=b1;draft/multiline-concat PRIVMSG #general :",
            "BATCH -b1",
        )
        assert (await ana.expect("FAIL")).params[:2] == ["BATCH", "MULTILINE_INVALID"]
        await ana.close()
