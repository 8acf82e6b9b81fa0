"""Debian's irssi and the charla TUI side by side in tmux, chatting through a real server.

The left pane is irssi (its own home directory and generated config, nothing of the
user's), connected to charla's IRC port as ana; the right pane is ``charla join`` as bob.
Each says something the other must show: in ``#general``, with ``/me``, a topic, and a
direct message, both ways.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ..client.test_tmux import Tmux, join_command, tmux  # noqa: F401 (fixture)
from .helpers import irc_server

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("irssi") is None,
    reason="tmux or irssi is not installed",
)

#: irssi's config: one server that it connects to at start, #general joined on connect
#: (as an irssi user configures it: an IRC server joins nobody), no flood queue (irssi sends
#: at most one line every 2.2 s after a burst of five by default, which only makes the
#: test slower), and every channel and query in the one window the test reads.
IRSSI_CONFIG = """\
servers = (
  {{ address = "127.0.0.1"; chatnet = "charla"; port = "{port}"; use_tls = "no";
     autoconnect = "yes"; }}
);
chatnets = {{ charla = {{ type = "IRC"; }}; }};
channels = ( {{ name = "#general"; chatnet = "charla"; autojoin = "yes"; }} );
settings = {{
  core = {{ real_name = "Ana"; user_name = "ana"; nick = "ana"; }};
  "irc/core" = {{ cmd_queue_speed = "0"; cmds_max_at_once = "100"; }};
  "fe-common/core" = {{ autocreate_windows = "no"; }};
}};
"""


def irssi_command(home: Path, port: int) -> str:
    """irssi as ana on the IRC ``port``, as a shell line for a tmux pane."""
    home.mkdir()
    (home / "config").write_text(IRSSI_CONFIG.format(port=port))
    # screen's terminfo is in every Debian (ncurses-base), whatever TERM the test ran with.
    return f"env TERM=screen irssi --home={shlex.quote(str(home))}; sleep 5"


def says(who: str, text: str) -> Callable[[str], bool]:
    """A screen check: some line shows ``who`` and, after it, ``text``."""

    def check(screen: str) -> bool:
        return any(who in line and text in line.partition(who)[2] for line in screen.splitlines())

    return check


async def test_irssi_and_the_tui_talk_in_general_and_in_private(
    tmp_path: Path,
    tmux: Tmux,  # noqa: F811 (the fixture imported above)
) -> None:
    async with irc_server(tmp_path) as server:
        tmux.run(
            "new-session", "-d", "-s", tmux.name, "-x", "200", "-y", "40",
            f"{join_command(server.port, 'en_US.UTF-8', nick='bob')}; sleep 5",
        )  # fmt: skip
        tui = tmux.pane(tmux.run("display-message", "-p", "-t", tmux.name, "#{pane_id}").strip())
        await tui.wait_for("connected as bob")
        irssi_pane = tmux.run(
            "split-window", "-h", "-d", "-P", "-F", "#{pane_id}", "-t", tui.target,
            irssi_command(tmp_path / "irssi", server.irc_ports[0]),
        )  # fmt: skip
        irssi = tmux.pane(irssi_pane.strip())
        await irssi.wait_for("ana [ana@charla] has joined #general")
        await tui.wait_for("ana joined #general")

        # #general, both ways.
        irssi.keys("hello from irssi", "Enter")
        await tui.wait_for(says("ana", "hello from irssi"))
        tui.keys("hi ana, bob here", "Enter")
        await irssi.wait_for("< bob> hi ana, bob here")

        # /me, both ways.
        irssi.keys("/me waves from irssi", "Enter")
        await tui.wait_for(says("*", "ana waves from irssi"))
        tui.keys("/me waves from the tui", "Enter")
        await irssi.wait_for("* bob waves from the tui")

        # The topic, set from each side.
        irssi.keys("/topic set in irssi", "Enter")
        await tui.wait_for("ana set the topic of #general: set in irssi")
        tui.keys("/topic set in the tui", "Enter")
        await irssi.wait_for("bob changed the topic of #general to: set in the tui")

        # A direct message, both ways: the TUI opens ana's tab, where her answer shows.
        tui.keys("/msg ana just for you", "Enter")
        await irssi.wait_for("<bob> just for you")
        irssi.keys("/msg bob just for you too", "Enter")
        await tui.wait_for(says("ana", "just for you too"))
