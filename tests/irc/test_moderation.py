"""Channel operators on IRC are charla's moderation, through a real server."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import Joined, Parted, System

from ..helpers import Peer
from .helpers import PASSWORD, RawIrc, irc_server, registered


async def test_an_irc_owner_sets_topic_modes_roles_kicks_and_invites(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        await registered(server.port, "profe")
        await registered(server.port, "beto")  # roles are for registered nicks
        profe = await RawIrc.connect(server.irc_ports[0])
        await profe.send(f"PASS {PASSWORD}")
        await profe.register("profe", "multi-prefix")
        await profe.send("JOIN #clase")  # a registered nick creating a room owns it
        names = await profe.expect("353", lambda m: m.params[2] == "#clase")
        assert names.params[3] == "~@profe"
        beto = await Peer.connect(server.port)
        await beto.hello("beto", password=PASSWORD, rooms=["clase"])

        await profe.send("TOPIC #clase :tarea para el lunes")
        topic = await profe.expect("TOPIC")
        assert (topic.source, topic.params) == (
            "profe!profe@charla",
            ["#clase", "tarea para el lunes"],
        )
        await beto.expect(System, event="topic", by="profe")

        await profe.send("MODE #clase +v beto")
        voiced = await profe.expect("MODE")
        assert voiced.params == ["#clase", "+v", "beto"]
        await beto.expect(System, event="voice", user="beto")
        await profe.send("MODE #clase +m")
        assert (await profe.expect("MODE")).params == ["#clase", "+m"]
        await profe.send("NAMES #clase")
        listed = await profe.expect("353", lambda m: m.params[2] == "#clase")
        assert sorted(listed.params[3].split()) == ["+beto", "~@profe"]

        await profe.send("KICK #clase beto :fuera")
        kick = await profe.expect("KICK")
        assert kick.params == ["#clase", "beto", "fuera"]
        await beto.expect(Parted, room="clase")

        await profe.send("MODE #clase +i-m")
        assert (await profe.expect("MODE")).params == ["#clase", "+i-m"]
        await beto.send({"type": "join", "room": "clase"})
        assert (await beto.error()).code == "invite_only"
        await profe.send("INVITE beto #clase")
        inviting = await profe.expect("341")
        assert inviting.params[1:] == ["beto", "#clase"]
        await beto.expect(System, event="invite", user="beto")
        await beto.send({"type": "join", "room": "clase"})
        joined = await beto.expect(Joined, room="clase")
        assert joined.topic == "tarea para el lunes"
        await profe.send("MODE #clase")  # owned: only its moderators set the topic
        assert (await profe.expect("324")).params[1:] == ["#clase", "+it"]
        await profe.close()
        await beto.close()


async def test_an_irc_member_sees_changes_and_gets_the_refusal_numerics(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        await registered(server.port, "profe")
        profe = await Peer.connect(server.port)
        await profe.hello("profe", password=PASSWORD)
        await profe.send({"type": "join", "room": "clase"})  # and owns it
        await profe.expect(System, event="owner")
        await profe.send({"type": "topic", "room": "clase", "text": "hola"})
        await profe.expect(System, event="topic")
        ana = await RawIrc.connect(server.irc_ports[0])
        await ana.register("ana")
        await ana.send("JOIN #clase")
        assert (await ana.expect("332")).params[1:] == ["#clase", "hola"]
        names = await ana.expect("353", lambda m: m.params[2] == "#clase")
        assert sorted(names.params[3].split()) == ["ana", "~profe"]  # the highest prefix only

        await ana.send("TOPIC #clase :mío", "KICK #clase profe", "MODE #clase +m")
        for _ in range(3):
            assert (await ana.expect("482")).params[1] == "#clase"

        # Somebody else's changes come as the IRC lines, with the topic and modes.
        await profe.send({"type": "topic", "room": "clase", "text": "examen: viernes"})
        topic = await ana.expect("TOPIC")
        assert (topic.source, topic.params) == ("profe!profe@charla", ["#clase", "examen: viernes"])
        await profe.send({"type": "mode", "room": "clase", "moderated": True})
        mode = await ana.expect("MODE")
        assert (mode.source, mode.params) == ("profe!profe@charla", ["#clase", "-i+m+t"])
        await ana.send("PRIVMSG #clase :¿puedo hablar?")
        assert (await ana.expect("404")).params[1] == "#clase"

        await profe.send({"type": "ban", "room": "clase", "nick": "ana", "reason": "spam"})
        banned = await ana.expect("MODE")
        assert banned.params == ["#clase", "+b", "ana!*@*"]
        kicked = await ana.expect("KICK")
        assert (kicked.source, kicked.params) == ("profe!profe@charla", ["#clase", "ana", "spam"])
        await ana.send("JOIN #clase", "PING :fin")
        seen = await ana.until("PONG")
        assert [m.params[1] for m in seen if m.command == "474"] == ["#clase"]
        assert not [m for m in seen if m.command == "PART"]  # put out once, by the KICK
        await ana.close()
        await profe.close()


async def test_t_is_a_topic_only_moderators_set_and_they_may_open_it(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        await registered(server.port, "profe")
        profe = await RawIrc.connect(server.irc_ports[0])
        await profe.send(f"PASS {PASSWORD}", "NICK profe", "USER profe 0 * :profe")
        assert (await profe.expect("004")).params[-1] == "bimoqtv"
        isupport = await profe.expect("005", lambda m: any("CHANMODES=" in p for p in m.params))
        assert "CHANMODES=b,,,imt" in isupport.params
        await profe.send("JOIN #clase")  # and owns it
        await profe.expect("366")
        ana = await RawIrc.registered(server.irc_ports[0], "ana", channels=("#clase", "#libre"))
        await ana.send("MODE #clase", "MODE #libre")
        assert (await ana.expect("324")).params[1:] == ["#clase", "+t"]
        assert (await ana.expect("324")).params[1:] == ["#libre", "+"]  # nobody's: open

        await ana.send("TOPIC #clase :mío", "MODE #clase -t")
        for _ in range(2):
            assert (await ana.expect("482")).params[1] == "#clase"

        await profe.send("MODE #clase -t")
        assert (await profe.expect("MODE")).params == ["#clase", "-t"]
        seen = await ana.expect("MODE")
        assert (seen.source, seen.params) == ("profe!profe@charla", ["#clase", "-i-m-t"])
        await ana.send("TOPIC #clase :mío")
        assert (await ana.expect("TOPIC")).params == ["#clase", "mío"]
        assert (await profe.expect("TOPIC")).source == "ana!ana@charla"

        await profe.send("MODE #clase +t")
        assert (await profe.expect("MODE")).params == ["#clase", "+t"]
        await ana.send("TOPIC #clase :otro")
        assert (await ana.expect("482")).params[1] == "#clase"
        await ana.close()
        await profe.close()
