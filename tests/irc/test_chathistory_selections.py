"""``CHATHISTORY`` selections by message id through a real server, and its targets."""

from __future__ import annotations

from pathlib import Path

from charla.protocol import ClientHistory

from .helpers import RawIrc, irc_server
from .test_session import registered

CAPS = ("batch", "message-tags", "echo-message", "draft/chathistory")


async def _history(client: RawIrc, command: str) -> list[str]:
    await client.send(command, "PING :fin")
    got = await client.until("PONG")
    return [m.params[1] for m in got if m.command == "PRIVMSG"]


async def test_each_selection_reads_the_messages_it_names(tmp_path: Path) -> None:
    async with irc_server(tmp_path) as server:
        ana = await RawIrc.registered(server.irc_ports[0], "ana", *CAPS)
        ids = []
        for n in range(8):
            await ana.send(f"PRIVMSG #general :m{n}")
            ids.append((await ana.expect("PRIVMSG")).tags["msgid"])
        m = [f"m{n}" for n in range(8)]

        assert await _history(ana, "CHATHISTORY LATEST #general * 3") == m[5:]
        assert await _history(ana, f"CHATHISTORY LATEST #general msgid={ids[5]} 9") == m[6:]
        assert await _history(ana, f"CHATHISTORY BEFORE #general msgid={ids[3]} 2") == m[1:3]
        assert await _history(ana, f"CHATHISTORY AFTER #general msgid={ids[2]} 3") == m[3:6]
        assert await _history(ana, f"CHATHISTORY AROUND #general msgid={ids[4]} 3") == m[3:6]
        between = f"CHATHISTORY BETWEEN #general msgid={ids[1]} msgid={ids[6]} 2"
        assert await _history(ana, between) == m[2:4]  # from the first end named
        between = f"CHATHISTORY BETWEEN #general msgid={ids[6]} msgid={ids[1]} 2"
        assert await _history(ana, between) == m[4:6]

        await ana.send("CHATHISTORY LATEST #otra * 5")
        refused = await ana.expect("FAIL")
        assert refused.params[:4] == ["CHATHISTORY", "INVALID_TARGET", "LATEST", "#otra"]
        await ana.close()


def test_a_nick_target_reads_the_direct_conversation() -> None:
    session = registered()
    session.receive_line("CHATHISTORY LATEST bea * 5")
    out, (asked,) = session.take()
    assert out == []
    assert isinstance(asked, ClientHistory) and (asked.with_, asked.limit) == ("bea", 5)
