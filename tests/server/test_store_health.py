"""The database file removed under a running server: nothing is acknowledged that is
not durable, every refusal is answered, and storing resumes once the file is back."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import Error, Message, System

from ..helpers import Peer, make_config, running


async def test_a_removed_database_refuses_messages_and_accounts_until_it_is_back(
    tmp_path: Path,
) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        db = tmp_path / "charla.db"
        db.rename(tmp_path / "aside.db")
        assert not server.store.health.check()  # what the server's duty does every second

        await ana.say("hola")
        await ana.say("/register una-clave-buena")
        frames = await ana.sync()
        errors = [(f.code, f.text) for f in frames if isinstance(f, Error)]
        assert errors == [("unavailable", "hola"), ("unavailable", None)]
        assert not any(isinstance(f, Message) for f in frames)
        assert not any(isinstance(f, System) and f.event == "registered" for f in frames)
        assert not any(isinstance(f, Message) for f in await bob.sync())

        (tmp_path / "aside.db").rename(db)
        assert server.store.health.check()
        await ana.say("otra vez")
        assert (await bob.expect(Message)).text == "otra vez"
        await ana.say("/register una-clave-buena")
        await ana.expect(System, event="registered")
        await ana.close()
        await bob.close()
