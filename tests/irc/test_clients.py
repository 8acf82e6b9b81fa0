"""IRC clients and native charla clients in the same rooms, through a real server."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import Message, Pong, System

from ..helpers import Peer
from .helpers import LibraryClient, RawIrc, irc_server


async def test_irc_library_and_native_client_chat_in_general(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ana = LibraryClient(server.irc_ports[0], "ana")
        try:
            await ana.expect("welcome")
            await ana.expect("join", lambda e: e.target == "#general")
            await bob.expect(System, event="join", user="ana")

            await bob.say("hola ana")
            said = await ana.expect("pubmsg")
            assert (said.source.nick, said.target, said.arguments) == (
                "bob",
                "#general",
                ["hola ana"],
            )
            ana.connection.privmsg("#general", "hola bob")
            heard = await bob.expect(Message, user="ana")
            assert (heard.room, heard.text) == ("general", "hola bob")

            # /me both ways.
            await bob.send({"type": "me", "text": "saluda", "room": "general"})
            action = await ana.expect("action")
            assert (action.source.nick, action.arguments) == ("bob", ["saluda"])
            ana.connection.action("#general", "sonríe")
            acted = await bob.expect(Message, user="ana", action=True)
            assert acted.text == "sonríe"

            # Direct messages both ways.
            await bob.send({"type": "msg", "to": "ana", "text": "en privado"})
            private = await ana.expect("privmsg")
            assert (private.source.nick, private.arguments) == ("bob", ["en privado"])
            ana.connection.privmsg("bob", "recibido")
            direct = await bob.expect(Message, user="ana", to="bob")
            assert direct.text == "recibido"
        finally:
            await ana.close()
            await bob.close()


async def test_history_on_join_and_a_reconnect(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        for i in range(3):
            await bob.say(f"antes {i}")
        await bob.sync()
        ana = LibraryClient(server.irc_ports[0], "ana")
        try:
            replayed = [(await ana.expect("pubmsg")).arguments[0] for _ in range(3)]
            assert replayed == ["antes 0", "antes 1", "antes 2"]
            ana.connection.privmsg("#general", "me voy")
            await bob.expect(Message, user="ana", text="me voy")
        finally:
            await ana.close()
        await bob.expect(System, event="leave", user="ana")
        # The nick is free again, and the history now holds what ana said.
        again = LibraryClient(server.irc_ports[0], "ana")
        try:
            await again.expect("welcome", lambda e: e.target == "ana")
            await again.expect("pubmsg", lambda e: e.arguments == ["me voy"])
        finally:
            await again.close()
            await bob.close()


async def test_a_bot_logs_in_with_sasl_and_a_wrong_password_fails(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        owner = await Peer.connect(server.port)
        await owner.hello("robot")
        await owner.send({"type": "register", "password": "s3cret-pass"})
        await owner.expect(System, event="registered")
        await owner.close()

        bot = LibraryClient(
            server.irc_ports[0], "robot", password="s3cret-pass", sasl_login="robot"
        )
        try:
            await bot.expect("saslsuccess")
            welcome = await bot.expect("welcome")
            assert welcome.target == "robot"
        finally:
            await bot.close()

        thief = LibraryClient(
            server.irc_ports[0], "robot", password="wrong-pass", sasl_login="robot"
        )
        try:
            await thief.expect("saslfail")
        finally:
            await thief.close()

        # Without SASL, the registered nick is refused like a taken one.
        raw = await RawIrc.connect(server.irc_ports[0])
        await raw.send("NICK robot", "USER robot 0 * :robot")
        refused = await raw.expect("433")
        assert refused.params[1] == "robot"
        await raw.close()


async def test_nicks_are_one_namespace_across_both_protocols(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        raw = await RawIrc.connect(server.irc_ports[0])
        await raw.send("NICK BOB", "USER x 0 * :x")
        await raw.expect("433")
        await raw.send("NICK ana")
        await raw.expect("001")
        await bob.send({"type": "hello", "nick": "Ana"})

        error = await bob.error()
        assert error.code == "already_welcomed"
        other = await Peer.connect(server.port)
        await other.send({"type": "hello", "nick": "Ana"})
        assert (await other.error()).code == "nick_taken"
        await raw.close()
        await bob.close()
        await other.close()


async def test_capabilities_tags_labels_echo_and_chathistory(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        await bob.say("primero")
        await bob.sync()
        raw = await RawIrc.connect(server.irc_ports[0])
        await raw.send("CAP LS 302")
        listed = await raw.expect("CAP")
        assert "sasl=PLAIN" in listed.params[-1].split()
        caps = "message-tags server-time echo-message labeled-response batch draft/chathistory"
        await raw.register("ana", *caps.split())

        # A labelled PRIVMSG comes back (echo-message) with its label, id and time.
        await raw.send("@label=m1 PRIVMSG #general :hola")
        echo = await raw.expect("PRIVMSG", lambda m: m.tags.get("label") == "m1")
        heard = await bob.expect(Message, user="ana")
        assert echo.tags["msgid"] == str(heard.id)
        assert echo.tags["time"] == heard.ts

        # A labelled command without an answer is acknowledged.
        await raw.send("@label=p1 PONG :x")
        ack = await raw.expect("ACK")
        assert ack.tags["label"] == "p1"

        # CHATHISTORY LATEST: a chathistory batch of the room's messages, oldest first.
        await raw.send("@label=h1 CHATHISTORY LATEST #general * 10")
        seen = await raw.until("BATCH")  # the labeled-response batch opens
        assert seen[-1].tags.get("label") == "h1"
        lines: list[str] = []
        while (message := await raw.recv()) is not None and message.params[0] != seen[-1].params[
            0
        ].replace("+", "-"):
            if message.command == "PRIVMSG":
                lines.append(message.params[1])
        assert lines == ["primero", "hola"]
        await raw.close()
        await bob.close()


async def test_multiline_messages_without_and_with_draft_multiline(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        plain = await RawIrc.connect(server.irc_ports[0])
        await plain.register("plano")
        modern = await RawIrc.connect(server.irc_ports[0])
        await modern.register("moderno", "batch", "draft/multiline", "message-tags")
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        await bob.say("uno\ndos")
        first = await plain.expect("PRIVMSG")
        second = await plain.expect("PRIVMSG")
        assert [first.params[1], second.params[1]] == ["uno", "dos"]
        opening = await modern.expect("BATCH")
        assert opening.params[1:] == ["draft/multiline", "#general"]
        inner = [await modern.expect("PRIVMSG") for _ in range(2)]
        assert [m.params[1] for m in inner] == ["uno", "dos"]
        assert all(m.tags["batch"] == opening.params[0][1:] for m in inner)

        # A client's multiline batch is one charla message.
        await modern.send(
            "BATCH +x draft/multiline #general",
            "@batch=x PRIVMSG #general :tres",
            "@batch=x PRIVMSG #general :cuatro",
            "BATCH -x",
        )
        joined = await bob.expect(Message, user="moderno")
        assert joined.text == "tres\ncuatro"
        for client in (plain, modern):
            await client.close()
        await bob.close()


async def test_numerics_for_what_charla_refuses(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        raw = await RawIrc.connect(server.irc_ports[0])
        await raw.send("PRIVMSG #general :too early")
        await raw.expect("451")
        await raw.register("ana")
        await raw.send("PRIVMSG nadie :hola")
        assert (await raw.expect("401")).params[1] == "nadie"
        await raw.send("PRIVMSG #otra :hola")
        assert (await raw.expect("404")).params[1] == "#otra"
        await raw.send("JOIN #mal!nombre")
        assert (await raw.expect("403")).params[1] == "#mal!nombre"
        await raw.send("PART #otra")
        assert (await raw.expect("442")).params[1] == "#otra"
        await raw.send("FOO bar")
        assert (await raw.expect("421")).params[1] == "FOO"
        await raw.send("TOPIC #general")
        await raw.expect("331")
        await raw.send("KICK #general ana")
        await raw.expect("482")
        await raw.send("NOTICE nadie :silence")  # NOTICE never gets an error back
        await raw.send("PING :fin")
        pong = await raw.until("PONG")
        assert pong[-1].params[-1] == "fin"
        assert [m.command for m in pong] == ["PONG"]
        await raw.send("QUIT :adios")
        error = await raw.expect("ERROR")
        assert "adios" in error.params[0]
        assert await raw.recv() is None
        await raw.close()


async def test_registration_waits_for_cap_end_and_pass_is_the_server_password(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("clave")
    async with irc_server(tmp_path, server_password="clave") as server:
        raw = await RawIrc.connect(server.irc_ports[0])
        await raw.send("PASS mala", "NICK ana", "USER ana 0 * :Ana")
        await raw.expect("464")
        assert (await raw.expect("ERROR")) is not None
        await raw.close()
        good = await RawIrc.connect(server.irc_ports[0])
        await good.send("CAP LS 302", "PASS clave", "NICK ana", "USER ana 0 * :Ana", "PING :x")
        # Nothing is registered before CAP END.
        assert (await good.expect("PONG")).params[-1] == "x"
        await good.send("CAP END")
        await good.expect("001")
        await good.close()
        peer = await Peer.connect(server.port)
        await peer.send({"type": "hello", "nick": "bob", "server_password": "clave"})
        await peer.send({"type": "ping", "token": "t"})
        await peer.expect(Pong, token="t")
        await peer.close()


async def test_a_script_that_sends_everything_at_once_is_heard(tmp_path: Path) -> None:
    """The CI notifier of a thousand READMEs: one write of NICK, USER, JOIN, PRIVMSG and
    QUIT, without waiting for the welcome, as to any IRC server."""
    async with irc_server(tmp_path) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        ci = await RawIrc.connect(server.irc_ports[0])
        await ci.send(
            "NICK ci", "USER ci 0 * :ci", "JOIN #general", "PRIVMSG #general :build ok", "QUIT"
        )
        heard = await bob.expect(Message, user="ci")
        assert (heard.room, heard.text) == ("general", "build ok")
        seen = await ci.until("ERROR")
        assert "451" not in [m.command for m in seen]
        await ci.close()
        await bob.close()
