"""In a real terminal (tmux): a mention arriving in a pane that is not focused writes the
notification sequence (passed through tmux), and one already read on the user's other
session does not. tmux's ``pipe-pane -O`` captures what the client writes, raw."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

from charla.protocol import Message

from ..helpers import TIMEOUT, Peer, charla_cmd, make_config, running, subprocess_env
from .test_tmux import Tmux, pytestmark, tmux  # noqa: F401 (the fixture and the skip)


async def test_a_mention_in_an_unfocused_pane_is_notified_unless_read_elsewhere(
    tmp_path: Path,
    tmux: Tmux,  # noqa: F811 (the fixture imported above)
) -> None:
    raw = tmp_path / "pane.raw"
    async with running(make_config(tmp_path)) as server:
        # ana's other terminal: registers the nick, then reads what it is told to.
        other = await Peer.connect(server.port)
        await other.hello("ana")
        await other.send({"type": "register", "password": "secreto1"})
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        env = subprocess_env(LANG="en_US.UTF-8", TERM="xterm-256color", CHARLA_PASSWORD="secreto1")
        exports = " ".join(
            f"{k}={shlex.quote(v)}"
            for k, v in env.items()
            if k in ("PYTHONPATH", "LANG", "TERM", "PATH", "CHARLA_PASSWORD")
        )
        command = shlex.join(charla_cmd("join", "--port", str(server.port), "--nick", "ana"))
        tmux.run(
            "new-session", "-d", "-s", tmux.name, "-x", "100", "-y", "30",
            f"env -u COLUMNS -u LINES {exports} {command}; sleep 5",
        )  # fmt: skip
        tmux.run("set-option", "-g", "focus-events", "on")
        tmux.run("pipe-pane", "-O", "-t", tmux.name, f"cat >> {shlex.quote(str(raw))}")
        await tmux.wait_for("connected as ana")
        # Another window in front: the client's pane is told it lost the focus.
        tmux.run("new-window", "-t", tmux.name)
        await asyncio.sleep(0.3)  # the focus-out reaches the client
        await bob.say("ana: first, read on the other terminal")
        first = await other.expect(Message, text="ana: first, read on the other terminal")
        await other.send({"type": "mark_read", "room": "general", "id": first.id})
        await bob.say("ana: second, \x1b]777;notify;fake;x\x07unread")
        notice = b"\x1bPtmux;\x1b\x1b]777;notify;charla #general;<bob> ana: second, "
        async with asyncio.timeout(TIMEOUT):
            while notice not in (raw.read_bytes() if raw.exists() else b""):
                await asyncio.sleep(0.05)
        written = raw.read_bytes()
        # The text's own escape sequence is gone: nothing in the body a terminal acts on.
        body = written[written.index(notice) + len(notice) :].split(b"\x1b\x1b\\")[0]
        assert body.endswith(b"unread") and b"\x1b" not in body and b"\x07" not in body
        # The first was read on the other terminal within its grace period: not notified.
        assert written.count(b"\x1bPtmux;") == 1
        await bob.close()
        await other.close()
