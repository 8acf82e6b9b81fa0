"""A cluster on a NATS that asks for credentials and TLS, and nodes that trust nothing
they read from it."""

from __future__ import annotations

import asyncio
import logging
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest

from charla.protocol import Message, RelayedTags, System, Typing, format_ts

from ..helpers import charla_cmd, subprocess_env
from .conftest import Cluster, eventually, messages, nats_server_binary
from .secure import PASSWORDS, Secure, start_secure

nats = pytest.importorskip("nats", reason="the cluster tests need nats-py (the cluster extra)")


@pytest.fixture
def secure(cluster_name: str, tmp_path: Path) -> Iterator[Secure]:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server not found next to python or on PATH")
    directory = tmp_path / "secure"
    directory.mkdir()
    server = start_secure(binary, cluster_name, directory)
    yield server
    server.nats.stop()


@pytest.fixture
async def secure_cluster(
    secure: Secure, cluster_name: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    cluster = Cluster(secure.nats, cluster_name, tmp_path)
    try:
        yield cluster
    finally:
        await cluster.close()


async def test_nodes_with_credentials_and_tls_chat_and_never_log_a_password(
    secure: Secure, secure_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = secure.nats.port
    cluster = secure_cluster
    try:
        await cluster.node("n1", nats_creds=secure.creds("n1"), **secure.tls())
        # Credentials in the URL still work, and are never logged.
        url = f"nats://n2:{PASSWORDS['n2']}@127.0.0.1:{port}"
        await cluster.node("n2", nats=url, **secure.tls())
        ana = await cluster.connect("n1", "ana")
        bea = await cluster.connect("n2", "bea")
        await ana.sync()
        await bea.say("hola desde n2")
        [got] = await messages(ana, 1)
        assert (got.user, got.text) == ("bea", "hola desde n2")
    finally:
        await cluster.close()
    logged = caplog.text
    assert f"disconnected from nats://127.0.0.1:{port}" in logged  # the URL is logged...
    assert PASSWORDS["n2"] not in logged  # ...without its password
    assert PASSWORDS["n1"] not in logged
    assert "the --nats URL holds credentials" in logged


def _serve(tmp_path: Path, secure: Secure, *flags: str) -> tuple[int, str]:
    done = subprocess.run(
        charla_cmd(
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "c.db"),
            "--nats",
            secure.nats.url,
            *secure.tls_flags(),
            *flags,
        ),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode, done.stderr


def test_a_node_without_credentials_is_refused_clearly(tmp_path: Path, secure: Secure) -> None:
    code, stderr = _serve(tmp_path, secure)
    assert code == 1
    assert "NATS refused the credentials" in stderr
    assert "Traceback" not in stderr


def test_a_wrong_password_is_refused_and_not_printed(tmp_path: Path, secure: Secure) -> None:
    code, stderr = _serve(tmp_path, secure, "--nats-creds", str(secure.creds("n1", "wrong-pw-42")))
    assert code == 1
    assert "NATS refused the credentials" in stderr
    assert "wrong-pw-42" not in stderr
    assert "Traceback" not in stderr


async def test_a_neighbour_on_the_same_nats_cannot_read_direct_messages(
    secure: Secure, secure_cluster: Cluster, cluster_name: str
) -> None:
    cluster = secure_cluster
    tls = secure.tls()
    for node in ("n1", "n2"):
        await cluster.node(node, nats_creds=secure.creds(node), **tls)
    refused: list[str] = []
    denied = asyncio.Event()

    async def error_cb(exc: Exception) -> None:
        refused.append(str(exc))
        denied.set()

    context = ssl.create_default_context(cafile=str(tls["nats_tls_ca"]))
    context.load_cert_chain(tls["nats_tls_cert"], tls["nats_tls_key"])
    neighbour = await nats.connect(
        secure.nats.url,
        user="other",
        password=PASSWORDS["other"],
        tls=context,
        error_cb=error_cb,
        allow_reconnect=False,
    )
    seen: list[bytes] = []

    async def spy(msg: object) -> None:
        seen.append(msg.data)  # type: ignore[attr-defined]

    try:
        await neighbour.subscribe(f"{cluster_name}.log.dm", cb=spy)
        async with asyncio.timeout(10):
            await denied.wait()
        ana = await cluster.connect("n1", "ana")
        bea = await cluster.connect("n2", "bea")
        await ana.sync()
        # Presence crosses nodes eventually: a DM sent before n2 knows ana is no_such_user.
        await eventually(lambda: cluster.nodes["n2"].presence.find("ana") == "ana")
        await bea.say("/msg ana un secreto")
        [dm] = await messages(ana, 1, room=None)
        assert dm.text == "un secreto"
        # Nor can it create a consumer of the stream to read it that way.
        with pytest.raises(nats.errors.Error):
            await neighbour.jetstream(timeout=1).stream_info(f"{cluster_name.upper()}_LOG")
    finally:
        await neighbour.close()
    denial = f'permissions violation for subscription to "{cluster_name}.log.dm"'
    assert any(denial in text.lower() for text in refused), refused
    assert seen == []


async def test_entries_injected_into_the_stream_never_reach_a_client(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a = await cluster.node("a")
    ana = await cluster.connect("a", "ana")
    await ana.sync()
    settings = a.bus.settings  # type: ignore[attr-defined]
    general = settings.room_subject("general")
    nc = await nats.connect(cluster.nats.url)
    js = nc.jetstream()
    ts = format_ts(0)

    async def inject(subject: str, **fields: object) -> None:
        await js.publish(subject, msgspec.json.encode(fields))

    try:
        await inject(general, u="mallory", t="\x1b]0;pwned\x07\x1b[2J", ts=ts, r="general")
        await inject(general, u="bad nick", t="hola", ts=ts, r="general")
        await inject(general, u="mallory", t="x" * 5000, ts=ts, r="general")
        await inject(settings.dm_subject, u="mallory", t="hola", ts=ts, r="general")
        await inject(settings.dm_subject, u="mallory", t="hola", ts=ts, to="ana\x1b[0m")
        await inject(general, u="mallory", t="hola", ts=ts, r="general", ct={"+a": "\r\n"})
        await inject(general, u="mallory", t="hola", ts=ts, r="general", ct={"label": "x"})
        await inject(general, u="mallory", t="hola", ts=ts, r="general", w=[9])
        await inject(general, u="mallory", t="ho\nla", ts=ts, r="general", w=[2])
        presence = settings.presence_subject
        await inject(presence, ev="hello", node="evil", boot="0e", user="eve\x1b[31m")
        await inject(presence, ev="join", node="evil\nnode", boot="0e", user="eve", room="general")
        await inject(general, u="mallory", t="the only one", ts=ts, r="general")
        [got] = await messages(ana, 1)
        await ana.say("and mine")
        frames = await ana.sync()
    finally:
        await nc.close()
    assert (got.user, got.text) == ("mallory", "the only one")
    assert [f.text for f in frames if isinstance(f, Message)] == ["and mine"]
    assert not [f for f in frames if isinstance(f, System)]
    # One warning, not one per entry: whoever writes to NATS cannot flood the log.
    for what in ("stream message", "presence event"):
        skips = [r.getMessage() for r in caplog.records if f"skipping {what}" in r.getMessage()]
        assert len(skips) == 1, skips
    assert "\x1b" not in caplog.text


async def test_forged_relays_and_leave_reasons_never_reach_a_client(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a = await cluster.node("a")
    b = await cluster.node("b")
    ana = await cluster.connect("a", "ana")
    await cluster.connect("b", "bea")
    assert a.hub is not None
    presence = a.hub.presence
    await eventually(lambda: presence.in_room("bea", "general"))
    settings = a.bus.settings  # type: ignore[attr-defined]
    of_b = {"node": "b", "boot": b.bus.boot}  # type: ignore[attr-defined]
    ref = "t0123456789abcdef"
    nc = await nats.connect(cluster.nats.url)
    js = nc.jetstream()

    async def relay(**fields: object) -> None:
        await nc.publish(settings.relay_subject, msgspec.json.encode(fields))

    async def leave(**fields: object) -> None:
        event = {"ev": "leave", **of_b, "user": "bea", "room": "general", **fields}
        await js.publish(settings.presence_subject, msgspec.json.encode(event))

    try:
        # Relays (plain NATS): what no node writes is skipped and logged...
        await nc.publish(settings.relay_subject, b"\x1b[2J not json")
        await relay(**of_b, user="bea", room="general", state="shouting")
        await relay(**of_b, user="bea\x1b[31m", room="general", state="active")
        await relay(**of_b, user="bea", room="general", to="ana", state="active")
        await relay(**of_b, user="bea", room="general", tags={"+a": "\r\n"}, ref=ref)
        await relay(**of_b, user="bea", room="general", tags={"label": "x"}, ref=ref)
        await relay(**of_b, user="bea", room="general", tags={"+a": "1"}, ref="\x1b[2J")
        await relay(**of_b, user="bea", room="general", tags={"+a": "1"}, ref=ref, state="done")
        await relay(node="evil\nnode", boot="0e", user="bea", room="general", state="active")
        # ...what the cluster does not know is dropped: nobody of that name on b, not
        # her spelling, not her room, not b's current run, nobody here to write to.
        await relay(**of_b, user="eve", room="general", state="active")
        await relay(**of_b, user="Bea", room="general", state="active")
        await relay(**of_b, user="bea", room="dev", state="active")
        await relay(node="b", boot="0e", user="bea", room="general", state="active")
        await relay(**of_b, user="bea", to="nadie", state="active")
        for _ in range(5):  # a flood: twice b's own rate gets through, no more
            await relay(**of_b, user="bea", to="ana", state="active")
        await relay(**of_b, user="bea", room="general", state="done")
        typing = []
        async with asyncio.timeout(20):
            while not typing or typing[-1].state != "done":
                frame = await ana.recv()
                assert frame is not None
                if isinstance(frame, (Typing, RelayedTags)):
                    typing.append(frame)
        assert [(f.room, f.to, f.state) for f in typing] == [
            (None, "ana", "active"),
            (None, "ana", "active"),
            ("general", None, "done"),
        ]

        # Leaves (in the stream) with a reason or quit no node writes: skipped whole.
        await leave(reason="\x1b]0;pwned\x07")
        await leave(reason="x" * 301)
        await leave(reason="dos\nlíneas")
        await leave(reason="")
        await leave(quit="yes")
        await leave(ev="join", reason="hola")
        await leave(ev="quit", quit=True)
        ts = format_ts(0)
        await js.publish(
            settings.room_subject("general"),
            msgspec.json.encode({"u": "mallory", "t": "after them", "ts": ts, "r": "general"}),
        )
        await ana.expect(Message, text="after them")
        frames = await ana.sync()
    finally:
        await nc.close()
    assert not [f for f in frames if isinstance(f, (System, Typing, RelayedTags))]
    assert presence.in_room("bea", "general")  # none of the leaves was applied
    # One warning per node and kind, not one per input; no traceback, no escape.
    relays = [r for r in caplog.records if "skipping relay" in r.getMessage()]
    assert len(relays) == 2, [r.getMessage() for r in relays]  # nodes a and b
    events = [r for r in caplog.records if "skipping presence event" in r.getMessage()]
    assert len(events) == 2, [r.getMessage() for r in events]
    assert not [r for r in caplog.records if r.exc_info]
    assert "\x1b" not in caplog.text
