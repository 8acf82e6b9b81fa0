"""Replies, reactions, edits, deletes and read markers as IRCv3, through a real server."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import Deleted, Message, Reaction

from ..helpers import Peer
from .helpers import PASSWORD, RawIrc, irc_server, registered


async def test_replies_reactions_edits_and_deletes_both_ways(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.register("ana", "message-tags", "draft/message-redaction")
        await bob.say("¿quién viene?")
        question = (await ana.expect("PRIVMSG")).tags["msgid"]

        await ana.send(f"@+draft/reply={question} PRIVMSG #general :yo")
        answer = await bob.expect(Message, user="ana")
        assert (answer.reply_to, answer.text) == (int(question), "yo")
        await bob.send({"type": "say", "text": "genial", "reply_to": answer.id})
        reply = await ana.expect("PRIVMSG", lambda m: m.params[1] == "genial")
        assert reply.tags["+draft/reply"] == str(answer.id)

        await ana.send(f"@+draft/react=👍;+draft/reply={question} TAGMSG #general")
        reaction = await bob.expect(Reaction, user="ana")
        assert (reaction.id, reaction.emoji, reaction.on) == (int(question), "👍", True)
        await bob.send({"type": "react", "id": answer.id, "emoji": "🎉"})
        tagmsg = await ana.expect("TAGMSG")
        assert (tagmsg.source, tagmsg.params) == ("bob!bob@charla", ["#general"])
        assert tagmsg.tags == {"+draft/react": "🎉", "+draft/reply": str(answer.id)}

        await bob.send({"type": "edit", "id": int(question), "text": "¿quién viene hoy?"})
        edited = await ana.expect("NOTICE", lambda m: m.params[0] == "#general")
        assert edited.params[1] == "(edited) ¿quién viene hoy?"
        assert edited.tags["+draft/reply"] == question

        await ana.send(f"REDACT #general {question}")  # not hers
        fail = await ana.expect("FAIL")
        assert fail.params[:3] == ["REDACT", "REDACT_FORBIDDEN", "#general"]
        await ana.send(f"REDACT #general {answer.id}")
        await bob.expect(Deleted, id=answer.id, by="ana")
        redact = await ana.expect("REDACT")
        assert (redact.source, redact.params) == ("ana!ana@charla", ["#general", str(answer.id)])
        await bob.send({"type": "delete", "id": int(question)})
        redact = await ana.expect("REDACT")
        assert (redact.source, redact.params) == ("bob!bob@charla", ["#general", question])
        await ana.close()
        await bob.close()


async def test_read_markers_are_markread_and_come_back_on_join(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        await registered(server.port, "ana")
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.send(f"PASS {PASSWORD}")
        await ana.register("ana", "server-time", "draft/read-marker")
        for text in ("uno", "dos"):
            await bob.say(text)
        first = await ana.expect("PRIVMSG", lambda m: m.params[1] == "uno")
        await ana.expect("PRIVMSG", lambda m: m.params[1] == "dos")

        await ana.send(f"MARKREAD #general timestamp={first.tags['time']}")
        marked = await ana.expect("MARKREAD")
        assert marked.params == ["#general", f"timestamp={first.tags['time']}"]
        await ana.send("MARKREAD #general")
        assert (await ana.expect("MARKREAD")).params == marked.params
        await ana.send("MARKREAD #general timestamp=2000-01-01T00:00:00.000Z")
        assert (await ana.expect("FAIL")).params[:2] == ["MARKREAD", "INVALID_PARAMS"]
        await ana.close()

        again = await RawIrc.connect(server.irc_ports[0])
        await again.send(f"PASS {PASSWORD}")
        await again.send("CAP LS 302", "CAP REQ :server-time draft/read-marker")
        await again.send("NICK ana", "USER ana 0 * :ana", "CAP END")
        await again.expect("001")
        await again.send("JOIN #general")
        seen = await again.until("MARKREAD")
        assert seen[-1].params == marked.params
        assert [m.params[1] for m in seen if m.command == "PRIVMSG"] == ["uno", "dos"]
        await again.close()
        await bob.close()
