"""The web port without a browser: files and headers, the WebSocket through the session
core, the Origin check, and incoming webhooks posted with curl."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from charla.protocol import Code, History, Message
from charla.server import ChatServer

from ..helpers import Peer, charla_cmd, make_config, running, subprocess_env

HOSTILE_TIMEOUT = 10


@pytest.fixture
async def web(tmp_path: Path) -> Any:
    async with running(make_config(tmp_path, web="127.0.0.1:0")) as srv:
        yield srv


def base(server: ChatServer) -> str:
    return f"http://127.0.0.1:{server.web_port}"


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """(status, headers, body) of a request; errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=HOSTILE_TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


async def ws_open(server: ChatServer, origin: str | None = "own") -> ClientConnection:
    own = base(server)
    return await connect(
        f"ws://127.0.0.1:{server.web_port}/ws", origin=own if origin == "own" else origin
    )


async def ws_frame(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of type ``kind``, skipping the others."""
    async with asyncio.timeout(HOSTILE_TIMEOUT):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame  # type: ignore[no-any-return]


# --- files and headers ------------------------------------------------------------------


async def test_every_answer_carries_the_security_headers(web: ChatServer) -> None:
    for path, status in [("/", 200), ("/app.js", 200), ("/nope", 404), ("/../store.py", 404)]:
        got, headers, _ = await asyncio.to_thread(fetch, base(web) + path)
        assert got == status, path
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


async def test_the_page_loads_only_its_own_files(web: ChatServer) -> None:
    _, headers, page = await asyncio.to_thread(fetch, base(web) + "/")
    assert headers["Content-Type"].startswith("text/html")
    html = page.decode()
    assert "<script>" not in html  # no inline script: the CSP would refuse it anyway
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    _, headers, _ = await asyncio.to_thread(fetch, base(web) + "/app.js")
    assert headers["Content-Type"].startswith("text/javascript")


async def test_a_request_that_never_ends_is_closed(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, web="127.0.0.1:0", handshake_timeout=0.2)) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.web_port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        answer = await asyncio.wait_for(reader.read(), HOSTILE_TIMEOUT)
        assert answer.startswith(b"HTTP/1.1 408")
        writer.close()


async def test_a_garbage_request_gets_400(web: ChatServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", web.web_port)
    writer.write(b"\x16\x03\x01 hello\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), HOSTILE_TIMEOUT)
    assert answer.startswith(b"HTTP/1.1 400")
    writer.close()


# --- the WebSocket ------------------------------------------------------------------------


async def test_browser_and_terminal_chat_through_one_core(web: ChatServer) -> None:
    peer = await Peer.connect(web.port)
    await peer.hello("ana")
    ws = await ws_open(web)
    await ws.send(json.dumps({"type": "hello", "nick": "bea"}))
    assert (await ws_frame(ws, "welcome"))["nick"] == "bea"
    await ws.send(json.dumps({"type": "say", "text": "hola ana", "label": "b1"}))
    own = await ws_frame(ws, "message")
    assert own["label"] == "b1" and own["text"] == "hola ana"
    got = await peer.expect(Message)
    assert (got.user, got.text, got.label) == ("bea", "hola ana", None)
    await peer.say("hola bea")
    assert (await ws_frame(ws, "message"))["text"] == "hola bea"
    await ws.close()
    await peer.close()


async def test_a_foreign_origin_is_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path, web="127.0.0.1:0", web_origin="https://chat.example.org")
    async with running(config) as srv:
        for origin in ("https://evil.example", "null", None, f"https://127.0.0.1:{srv.web_port}"):
            with pytest.raises(InvalidStatus) as refused:
                await ws_open(srv, origin)
            assert refused.value.response.status_code == 403, origin
            assert (
                "frame-ancestors 'none'"
                in refused.value.response.headers["Content-Security-Policy"]
            )
        allowed = await ws_open(srv, "https://chat.example.org")
        await allowed.close()
        assert srv.hub is not None and len(srv.hub.admission) <= 1


async def test_websocket_clients_count_against_the_per_address_cap(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, web="127.0.0.1:0", max_per_ip=1)) as srv:
        peer = await Peer.connect(srv.port)
        await peer.hello("ana")
        ws = await ws_open(srv)
        error = await ws_frame(ws, "error")
        assert error["code"] == Code.TOO_MANY_CONNECTIONS
        await peer.close()


async def test_a_flooding_websocket_is_cut_off(tmp_path: Path) -> None:
    config = make_config(tmp_path, web="127.0.0.1:0", rate_limit=1, burst=2, flood_queue=3)
    async with running(config) as srv:
        ws = await ws_open(srv)
        await ws.send(json.dumps({"type": "hello", "nick": "bea"}))
        await ws_frame(ws, "history")
        for i in range(20):
            await ws.send(json.dumps({"type": "say", "text": f"spam {i}"}))
        assert (await ws_frame(ws, "error"))["code"] == Code.FLOOD
        assert srv.hub is not None and srv.hub.metrics.cut_offs[Code.FLOOD] == 1
        assert srv.store.count("general") <= 5


async def test_binary_messages_are_refused(web: ChatServer) -> None:
    ws = await ws_open(web)
    await ws.send(b'{"type":"hello","nick":"bea"}')
    await asyncio.wait_for(ws.wait_closed(), HOSTILE_TIMEOUT)
    assert ws.close_code == 1003


# --- webhooks -----------------------------------------------------------------------------


def create_hook(db: Path, room: str, name: str, url: str) -> str:
    out = subprocess.run(
        charla_cmd(
            "admin", "hook", "create", "--db", str(db), "--room", room, "--name", name, "--url", url
        ),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return out.strip().splitlines()[-1]


def curl(url: str, *args: str) -> tuple[int, str]:
    """POST with curl when it is installed (what a CI script does), else urllib."""
    if shutil.which("curl") is None:
        body = args[args.index("--data") + 1].encode() if "--data" in args else b""
        kind = args[args.index("-H") + 1].split(": ", 1)[1] if "-H" in args else ""
        status, _, answer = fetch(url, data=body, headers={"Content-Type": kind})
        return status, answer.decode()
    done = subprocess.run(
        ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", *args, url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    answer, _, status = done.stdout.rpartition("\n")
    return int(status), answer


async def test_a_webhook_posts_from_curl_as_a_bot(web: ChatServer, tmp_path: Path) -> None:
    url = await asyncio.to_thread(create_hook, web.config.db, "dev", "ci", base(web))
    assert url.startswith(base(web) + "/hooks/")
    token = url.rsplit("/", 1)[1]
    assert token not in (tmp_path / "charla.db").read_bytes().decode("latin-1")  # only its hash
    peer = await Peer.connect(web.port)
    await peer.hello("ana", rooms=["dev"])
    status, _ = await asyncio.to_thread(
        curl, url, "-H", "Content-Type: application/json", "--data", '{"text": "build 42 ok"}'
    )
    assert status == 200
    got = await peer.expect(Message, room="dev")
    assert (got.user, got.text, got.bot) == ("ci", "build 42 ok", True)
    status, _ = await asyncio.to_thread(curl, url, "--data-urlencode", "text=deploy done")
    assert status == 200
    assert (await peer.expect(Message, room="dev")).text == "deploy done"
    # Stored as a bot's: a newcomer's history says so too.
    late = await Peer.connect(web.port)
    _, histories = await late.hello("eva", rooms=["dev"])
    dev = next(h for h in histories if isinstance(h, History) and h.room == "dev")
    assert [(m.text, m.bot) for m in dev.messages] == [("build 42 ok", True), ("deploy done", True)]
    await peer.close()
    await late.close()


async def test_wrong_tokens_and_bad_bodies(web: ChatServer) -> None:
    url = await asyncio.to_thread(create_hook, web.config.db, "dev", "ci", base(web))
    wrong = url[:-4] + "AAAA"
    json_type = ("-H", "Content-Type: application/json")
    cases = [
        (wrong, (*json_type, "--data", '{"text": "x"}'), 404, "no such hook"),
        (base(web) + "/hooks/x", (*json_type, "--data", "nope"), 404, "no such hook"),
        (url, (*json_type, "--data", "not json"), 400, "bad JSON"),
        (url, (*json_type, "--data", '{"txt": "x"}'), 400, "text"),
        (url, (*json_type, "--data", '{"text": "   "}'), 400, "visible"),
        (url, ("-H", "Content-Type: text/plain", "--data", "hola"), 400, "application/json"),
        (url, ("--data", "a=1"), 400, "text field"),
        (url, ("--data", "build 42 ok"), 400, "text=<message>"),  # a form with no name
    ]
    for target, args, status, reason in cases:
        got, answer = await asyncio.to_thread(curl, target, *args)
        assert (got, reason in answer) == (status, True), (args, answer)
    assert web.store.count("dev") == 0


async def test_a_webhook_has_the_rate_limit_of_a_client(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, web="127.0.0.1:0", rate_limit=0.01, burst=2)) as srv:
        url = await asyncio.to_thread(create_hook, srv.config.db, "dev", "ci", base(srv))
        args = ("-H", "Content-Type: application/json", "--data", '{"text": "x"}')
        statuses = [(await asyncio.to_thread(curl, url, *args))[0] for _ in range(4)]
        assert statuses == [200, 200, 429, 429]
        assert srv.store.count("dev") == 2


def test_admin_lists_and_deletes_hooks(tmp_path: Path) -> None:
    db = tmp_path / "charla.db"
    from charla.store import Store

    Store(db).close()
    create_hook(db, "#Dev", "ci", "https://chat.example.org")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            charla_cmd("admin", "hook", *args, "--db", str(db)),
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )

    listed = run("list")
    assert "\t#dev\tci\t" in listed.stdout and "hooks/" not in listed.stdout
    assert run("delete", "1").returncode == 0
    assert run("list").stdout == ""
    assert run("delete", "1").returncode == 1
    refused = run("create", "--room", "dev", "--name", "root")
    assert refused.returncode == 2 and "reserved" in refused.stderr


async def test_with_tls_the_page_is_https_and_the_socket_wss(tmp_path: Path) -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    client = ssl.create_default_context()
    ca.configure_trust(client)
    config = make_config(tmp_path, web="127.0.0.1:0", tls_cert=cert_path, tls_key=key_path)
    async with running(config) as srv:
        own = f"https://127.0.0.1:{srv.web_port}"

        def get_page() -> int:
            with urllib.request.urlopen(own + "/", context=client, timeout=10) as response:
                return int(response.status)

        assert await asyncio.to_thread(get_page) == 200
        uri = f"wss://127.0.0.1:{srv.web_port}/ws"
        with pytest.raises(InvalidStatus):  # the http:// page of the same host is another origin
            await connect(uri, ssl=client, origin=f"http://127.0.0.1:{srv.web_port}")
        ws = await connect(uri, ssl=client, origin=own)
        await ws.send(json.dumps({"type": "hello", "nick": "bea"}))
        assert (await ws_frame(ws, "welcome"))["nick"] == "bea"
        await ws.close()
