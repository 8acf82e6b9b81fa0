"""A client's ``draft/multiline`` batches through a real server: the opening's label and
client tags, blank lines, and batches that break the rules."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from charla.irc.messages import IrcMessage
from charla.protocol import Message
from charla.server import ChatServer

from ..helpers import Peer
from .helpers import RawIrc, irc_server

CAPS = ("draft/multiline", "batch", "message-tags", "echo-message", "labeled-response")


@contextlib.asynccontextmanager
async def _readers(
    tmp_path: Path,
) -> AsyncIterator[tuple[ChatServer, Peer, RawIrc, RawIrc, RawIrc]]:
    """A server with ``bob`` (charla), ``ana`` and ``eva`` (IRC with multiline) and
    ``leo`` (IRC without it) in #general."""
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.registered(server.irc_ports[0], "ana", *CAPS)
        eva = await RawIrc.registered(server.irc_ports[0], "eva", *CAPS)
        leo = await RawIrc.registered(server.irc_ports[0], "leo", "message-tags")
        yield server, bob, ana, eva, leo
        for client in (ana, eva, leo):
            await client.close()
        await bob.close()


async def test_a_labelled_batch_is_answered_by_its_echo_and_keeps_blank_lines(
    tmp_path: Path,
) -> None:
    async with _readers(tmp_path) as (_, bob, ana, eva, leo):
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


def _lines(messages: list[IrcMessage]) -> list[tuple[str, bool]]:
    """The PRIVMSG texts of ``messages``, each with whether it continues the line before."""
    return [
        (m.params[1], "draft/multiline-concat" in m.tags)
        for m in messages
        if m.command == "PRIVMSG"
    ]


async def test_lines_sent_in_pieces_reach_every_reader_in_the_same_pieces(
    tmp_path: Path,
) -> None:
    async with _readers(tmp_path) as (server, bob, ana, eva, leo):
        await ana.send(
            "BATCH +b1 draft/multiline #general",
            "@batch=b1 PRIVMSG #general :/hello",
            "@batch=b1 PRIVMSG #general :#how is ",
            "@batch=b1;draft/multiline-concat PRIVMSG #general :every",
            "@batch=b1;draft/multiline-concat PRIVMSG #general :one?",
            "BATCH -b1",
        )
        sent = [("/hello", False), ("#how is ", False), ("every", True), ("one?", True)]
        # A native client gets the text, and where the pieces met.
        native = await bob.expect(Message, user="ana")
        assert (native.text, native.wraps) == ("/hello\n#how is everyone?", [15, 20])
        relayed = await eva.until("BATCH")
        relayed += [await eva.expect("PRIVMSG") for _ in range(4)]
        assert _lines(relayed) == sent
        # Without multiline, each piece is a line of its own.
        lines = [await leo.expect("PRIVMSG") for _ in range(4)]
        assert _lines(lines) == [(text, False) for text, _ in sent]

        # The history keeps them: a multiline batch nested in the history's batch.
        zoe = await RawIrc.registered(server.irc_ports[0], "zoe", *CAPS)
        await zoe.send("CHATHISTORY LATEST #general * 10")
        history = await zoe.until("BATCH")  # the history's opening
        history += await zoe.until("BATCH")  # the message's opening
        opening = history[-1]
        assert opening.params[1] == "draft/multiline"
        assert opening.tags["batch"] == history[-2].params[0][1:]
        history += [await zoe.expect("PRIVMSG") for _ in range(4)]
        assert _lines(history) == sent
        await zoe.close()


async def test_a_line_too_long_for_one_irc_line_continues_in_the_next(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        eva = await RawIrc.registered(server.irc_ports[0], "eva", *CAPS)

        long = "palabra " * 150  # 1200 bytes: three IRC lines
        await ana.send({"type": "say", "text": f"{long}\nfin"})
        opening = await eva.expect("BATCH")
        assert opening.params[1] == "draft/multiline"
        lines = _lines(await eva.until("BATCH"))
        assert "".join(text for text, _ in lines[:-1]) == long
        assert [continues for _, continues in lines] == [False, True, True, False]
        assert lines[-1] == ("fin", False)
        await eva.close()
        await ana.close()
