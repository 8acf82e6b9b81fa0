"""The real ``charla join`` in a real terminal (tmux), driven as a person would."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from charla.protocol import Message

from ..helpers import TIMEOUT, Peer, charla_cmd, make_config, running, subprocess_env

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, name: str, target: str | None = None) -> None:
        self.name = name
        #: The pane that keys go to and screens come from (default: the session's).
        self.target = target or name

    def run(self, *args: str) -> str:
        # A tmux server of its own (-L) with no user configuration (-f): sessions of other
        # tmux users on the machine cannot change this window's size or options.
        return subprocess.run(
            ["tmux", "-L", self.name, "-f", "/dev/null", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.target, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target)

    def pane(self, target: str) -> Tmux:
        """The pane ``target`` (e.g. ``%1``) of this tmux server."""
        return Tmux(self.name, target)

    async def wait_for(self, text: str | Callable[[str], bool]) -> str:
        """The screen, once it shows ``text`` (or satisfies it, given a function)."""
        check = text if callable(text) else (lambda screen: text in screen)
        try:
            async with asyncio.timeout(TIMEOUT):
                while not check(screen := self.screen()):
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"not on the screen:\n{self.screen()}") from None
        return screen


def join_command(port: int, lang: str, nick: str = "ana") -> str:
    """``charla join`` as ``nick`` on ``port``, as a shell line for a tmux pane."""
    env = subprocess_env(LANG=lang, TERM="xterm-256color")
    command = " ".join(
        shlex.quote(part) for part in charla_cmd("join", "--port", str(port), "--nick", nick)
    )
    exports = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in env.items()
        if k in ("PYTHONPATH", "LANG", "TERM", "PATH")
    )
    # A tmux server started with no terminal around it hands its panes COLUMNS=80 and
    # LINES=24, which would pin the app's size: drop them.
    return f"env -u COLUMNS -u LINES {exports} {command}"


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    session = Tmux(f"charla-test-{uuid.uuid4().hex[:8]}")
    yield session
    subprocess.run(["tmux", "-L", session.name, "kill-server"], capture_output=True)


async def test_join_in_a_real_terminal(tmp_path: Path, tmux: Tmux) -> None:
    status_file = tmp_path / "status"
    async with running(make_config(tmp_path)) as server:
        bob = await Peer.connect(server.port)
        await bob.hello("bob")
        command = join_command(server.port, "en_US.UTF-8")
        status = shlex.quote(str(status_file))
        tmux.run(
            "new-session",
            "-d",
            "-s",
            tmux.name,
            "-x",
            "100",
            "-y",
            "30",
            f"{command}; echo $? > {status}; sleep 5",
        )
        screen = await tmux.wait_for("connected as ana")
        # The whole 100 columns are used: the status line ends with its key hint there.
        assert any(
            line.rstrip().endswith("F1 keys") and len(line.rstrip()) > 95
            for line in screen.splitlines()
        )
        assert "#general" in tmux.screen() and "● connected" in tmux.screen()
        tmux.keys("hello from a terminal", "Enter")
        await bob.expect(Message, user="ana", text="hello from a terminal")
        await bob.say("hi ana, \x1b[2Jwelcome [b]here[/b]")
        screen = await tmux.wait_for("welcome [b]here[/b]")
        assert "bob │ hi ana" in screen
        # A long line wraps to the window, and wraps again when the window grows.
        long_text = "palabra " * 20 + "FIN"
        await bob.say(long_text)
        screen = await tmux.wait_for("FIN")
        assert "bob │ palabra" in screen and screen.count("palabra") == 20
        assert not any("FIN" in line and "bob │" in line for line in screen.splitlines())
        tmux.run("resize-window", "-t", tmux.name, "-x", "220", "-y", "30")
        await tmux.wait_for(
            lambda screen: any(
                "bob │ palabra" in line and "FIN" in line for line in screen.splitlines()
            )
        )
        # Tab completes the nick at the start of the line.
        tmux.keys("bo", "Tab", "ok", "Enter")
        await bob.expect(Message, user="ana", text="bob: ok")
        tmux.keys("/quit", "Enter")
        async with asyncio.timeout(TIMEOUT):
            while not status_file.exists() or not status_file.read_text().strip():
                await asyncio.sleep(0.05)
        assert status_file.read_text().strip() == "0"
        await bob.close()
