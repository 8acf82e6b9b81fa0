"""``REDACT`` as the draft message-redaction spec has it, through a real server: the
reason travels, a refusal names the message, and a message is found only in its own
channel."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import Deleted

from ..helpers import Peer
from .helpers import RawIrc, irc_server

CAPS = ("message-tags", "echo-message", "draft/message-redaction")


async def test_redact_carries_its_reason_and_refusals_name_the_message(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.registered(
            server.irc_ports[0], "ana", *CAPS, channels=("#general", "#otra")
        )
        eva = await RawIrc.registered(server.irc_ports[0], "eva", *CAPS)

        await ana.send("PRIVMSG #general :ups")
        msgid = (await eva.expect("PRIVMSG")).tags["msgid"]

        # Not eva's message: refused, naming it.
        await eva.send(f"REDACT #general {msgid} :no")
        assert (await eva.expect("FAIL")).params[:4] == [
            "REDACT",
            "REDACT_FORBIDDEN",
            "#general",
            msgid,
        ]
        # Not a message of #otra.
        await ana.send(f"REDACT #otra {msgid} :mal canal")
        assert (await ana.expect("FAIL")).params[:4] == ["REDACT", "UNKNOWN_MSGID", "#otra", msgid]

        await ana.send(f"REDACT #general {msgid} :me equivoqué")
        own = await ana.expect("REDACT")
        seen = await eva.expect("REDACT")
        assert own.params == seen.params == ["#general", msgid, "me equivoqué"]
        deleted = await bob.expect(Deleted, by="ana")
        assert (deleted.id, deleted.reason) == (int(msgid), "me equivoqué")
        for client in (ana, eva):
            await client.close()
        await bob.close()
