"""Runs of messages from many IRC senders at once: each sender's own copy of a run is
rendered from lines shared with everybody else, and must still be its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from .helpers import RawIrc, irc_server

#: Messages each sender pipelines in one write: enough that the store hands fan-out runs
#: holding several senders' messages.
LINES = 30


async def privmsgs(client: RawIrc, count: int) -> list[tuple[str, str, str | None]]:
    """The next ``count`` PRIVMSGs: (source nick, text, label)."""
    seen = []
    for _ in range(count):
        message = await client.expect("PRIVMSG")
        seen.append((message.source.split("!")[0], message.params[1], message.tags.get("label")))
    return seen


async def test_labelled_senders_each_get_their_own_labels_in_shared_runs(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        port = server.irc_ports[0]
        caps = ("echo-message", "labeled-response", "message-tags")
        senders = [await RawIrc.connect(port) for _ in range(3)]
        for index, sender in enumerate(senders):
            await sender.register(f"s{index}", *caps)
        reader = await RawIrc.connect(port)
        await reader.register("reader")

        await asyncio.gather(
            *(
                sender.send(*(f"@label=l{i} PRIVMSG #general :s{index}-{i}" for i in range(LINES)))
                for index, sender in enumerate(senders)
            )
        )
        everyone = await privmsgs(reader, LINES * len(senders))
        assert all(label is None for _, _, label in everyone)
        for index, sender in enumerate(senders):
            nick = f"s{index}"
            seen = await privmsgs(sender, LINES * len(senders))
            # The others' messages as everybody got them (its own echoes come when each
            # labelled response is complete, so they may come later among them)...
            others = [line for line in seen if line[0] != nick]
            assert others == [line for line in everyone if line[0] != nick]
            # ... and its own, in order, each with its label.
            own = [(text, label) for who, text, label in seen if who == nick]
            assert own == [(f"{nick}-{i}", f"l{i}") for i in range(LINES)]
        for client in (*senders, reader):
            await client.close()
