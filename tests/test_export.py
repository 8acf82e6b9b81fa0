"""``charla export`` while the server runs: three formats, and an HTML page that stays inert."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from charla.protocol import Message
from charla.server import ChatServer

from .helpers import Peer, charla_cmd

HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'x\'">'


async def _export(db: Path, *args: str) -> str:
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        *charla_cmd("export", "--db", str(db), *args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def _chat(connect) -> Peer:  # type: ignore[no-untyped-def]
    ana = await connect("ana", rooms=["clase"])
    for text in ("bienvenidos al curso", HOSTILE, "línea uno\nlínea dos"):
        await ana.say(text, room="clase")
        await ana.expect(Message, room="clase")
    await ana.say("en general")
    await ana.expect(Message, room="general")
    return ana  # type: ignore[no-any-return]


async def test_export_a_room_in_three_formats_while_the_server_runs(
    connect, server: ChatServer
) -> None:
    await _chat(connect)
    db = server.config.db
    lines = (await _export(db, "--room", "clase", "--format", "jsonl")).splitlines()
    frames = [json.loads(line) for line in lines]
    assert [f["type"] for f in frames] == ["message"] * 3
    assert [f["text"] for f in frames][1] == HOSTILE and frames[0]["room"] == "clase"
    text = await _export(db, "--room", "clase")
    assert re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d\] #clase <ana> bienvenidos al curso\n", text)
    assert "línea uno\n    línea dos" in text and "en general" not in text
    page = await _export(db, "--room", "clase", "--format", "html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert await _export(db, "--room", "clase", "--since", "2999-01-01") == ""


def test_export_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    missing = subprocess.run(
        charla_cmd("export", "--db", str(tmp_path / "none.db")), capture_output=True, text=True
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    (tmp_path / "junk.db").write_text("not a database")
    junk = subprocess.run(
        charla_cmd("export", "--db", str(tmp_path / "junk.db")), capture_output=True, text=True
    )
    assert junk.returncode == 1 and "charla export:" in junk.stderr


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
async def test_the_html_export_renders_in_a_browser_and_hostile_text_stays_text(
    connect, server: ChatServer, tmp_path: Path
) -> None:
    await _chat(connect)
    page = tmp_path / "clase.html"
    page.write_text(await _export(server.config.db, "--room", "clase", "--format", "html"))
    browser = _chromium()
    assert browser is not None
    # The DOM after load: had any script run, the title would have changed and an <img>
    # or <script> element would exist.
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "<title>#clase</title>" in dom
    assert "<img" not in dom and "<script" not in dom
    assert "&lt;script&gt;document.title" in dom and "bienvenidos al curso" in dom
    shot = tmp_path / "clase.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=900,500",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=60,
    )
    assert shot.stat().st_size > 1000
