"""``draft/read-marker`` answers every client, registered or not, through a real server."""

from __future__ import annotations

from pathlib import Path

from .helpers import RawIrc, irc_server


async def test_markread_is_always_answered_and_join_tells_the_marker_before_the_names(
    tmp_path: Path,
) -> None:
    async with irc_server(tmp_path) as server:
        ana = await RawIrc.registered(server.irc_ports[0], "ana", "draft/read-marker", channels=())

        await ana.send("JOIN #nueva")
        told = [m.command for m in await ana.until("366")]
        assert "MARKREAD" in told and told.index("JOIN") < told.index("MARKREAD")
        # A channel nobody here reads, and a nick without a marker: "*".
        await ana.send("MARKREAD #ninguna")
        assert (await ana.expect("MARKREAD")).params == ["#ninguna", "*"]
        await ana.send("MARKREAD")
        assert (await ana.expect("FAIL")).params[:2] == ["MARKREAD", "NEED_MORE_PARAMS"]
        await ana.close()
