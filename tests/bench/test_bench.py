"""charla bench at a tiny size against a real server: the counts it reports are right."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest

from charla.bench import main as bench_main
from charla.bench import servers, wire
from charla.bench.loadgen import is_sender
from charla.bench.profile import self_time
from charla.bench.report import Ratio, ratio, summary
from charla.bench.runner import Plan, ServerResult, StepResult, percentile, run_load
from charla.bench.servers import ProcStats, Target
from charla.cli import build_parser
from charla.protocol import Message, Pong

from ..helpers import Peer, charla_cmd, make_config, running, subprocess_env

pytestmark = pytest.mark.timeout(120)

TINY = Plan(clients=20, senders=10, rates=(20, 40), step_seconds=0.5, workers=2, warmup_seconds=0.3)


async def test_tiny_run_counts_every_copy(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        target = Target(
            name="charla",
            host="127.0.0.1",
            port=server.port,
            dialect="charla",
            stats=ProcStats(os.getpid()),
        )
        result = await asyncio.to_thread(run_load, target, TINY)
        assert result.error is None
        assert [s.rate for s in result.steps] == [20, 40]
        for step in result.steps:
            assert step.sent == step.rate * step.seconds
            # Every member gets every message, its sender included (that copy is the ack).
            assert step.expected == step.sent * 20
            assert step.delivered == step.expected
            assert step.delivered_pct == 100
            assert step.deliveries_per_s == step.delivered / step.seconds
            # At this rate every message is a latency probe.
            assert step.probes == step.delivered
            assert step.p50_ms is not None and step.p50_ms <= step.p99_ms <= step.max_ms
            assert step.dropped == 0
            assert step.passed
        assert result.figure == result.steps[-1].deliveries_per_s
        # A warm-up at the lowest rate ran first and is not one of the steps.
        assert result.warmup is not None and result.warmup.rate == 20
        assert result.warmup.seconds == TINY.warmup_seconds
        # The messages went through the server for real: accepted, stored, fanned out.
        assert server.hub.metrics.messages_in == result.warmup.sent + 30
        assert server.store.last_id >= 30
        watcher = await Peer.connect(server.port)
        _, (history,) = await watcher.hello("watcher")
        assert all("~" in m.text for m in history.messages[-30:])
        await watcher.close()


async def test_rooms_of_a_few_get_only_their_own_messages(tmp_path: Path) -> None:
    plan = Plan(clients=12, senders=6, rates=(40,), step_seconds=0.5, room_size=4, warmup_seconds=0)
    async with running(make_config(tmp_path)) as server:
        target = Target(name="charla", host="127.0.0.1", port=server.port, dialect="charla")
        result = await asyncio.to_thread(run_load, target, plan)
        assert result.error is None
        (step,) = result.steps
        assert step.sent == 20 and step.expected == 20 * 4 == step.delivered
        # The messages went to the clients' own rooms, none to general.
        assert server.store.recent("general", 100) == []
        assert sum(len(server.store.recent(f"r{k}", 100)) for k in range(3)) == 20


async def test_a_failing_step_ends_the_run(tmp_path: Path) -> None:
    # An impossible latency limit: the first step fails and the second never runs.
    plan = Plan(
        clients=4, senders=2, rates=(10, 20), step_seconds=0.3, p99_limit_ms=0.001,
        warmup_seconds=0.2,
    )  # fmt: skip
    async with running(make_config(tmp_path)) as server:
        target = Target(name="relay", host="127.0.0.1", port=server.port, dialect="charla")
        result = await asyncio.to_thread(run_load, target, plan)
    assert len(result.steps) == 1
    assert not result.steps[0].passed and result.steps[0].delivered_pct == 100
    assert result.figure == 0
    # Reported as a failure with its numbers, never as 0 deliveries/s in a ratio.
    report = summary([_passing("charla", (10, 20), failed_at=40), result])
    assert "relay: FAILED its first step: 10 msg/s offered" in report
    assert "100.0% delivered" in report
    assert "no charla / relay ratio: relay passed no step" in report
    assert ratio(_passing("charla", (10,)), result) is None


async def test_logins_refused_are_reported_not_hung(tmp_path: Path) -> None:
    plan = Plan(clients=6, senders=2, rates=(10,), step_seconds=0.3, connect_timeout=10)
    async with running(make_config(tmp_path, max_per_ip=3)) as server:
        target = Target(name="charla", host="127.0.0.1", port=server.port, dialect="charla")
        result = await asyncio.to_thread(run_load, target, plan)
    assert result.error is not None and "too_many_connections" in result.error
    assert result.steps == []


def test_cli_json_against_its_own_server() -> None:
    out = subprocess.run(
        charla_cmd(
            "bench",
            "--clients",
            "10",
            "--senders",
            "4",
            "--rates",
            "10,20",
            "--step-seconds",
            "0.4",
            "--workers",
            "2",
            "--warmup-seconds",
            "0.3",
            "--json",
        ),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    document = json.loads(out.stdout)
    (charla,) = document["results"]
    assert charla["name"] == "charla" and charla["error"] is None
    assert [s["delivered_pct"] for s in charla["steps"]] == [100, 100]
    assert [s["sent"] for s in charla["steps"]] == [4, 8]
    assert charla["figure"] == 200
    assert charla["steps"][0]["server_rss_mib"] > 0
    assert document["machine"]["cpus"] >= 1
    assert "deliveries/s" in out.stderr  # the summary table
    assert document["ratio"] is None and document["plan"]["warmup_seconds"] == 0.3
    assert charla["warmup"]["rate"] == 10


def test_peer_ngircd_missing_says_how_to_install(monkeypatch, capsys) -> None:
    monkeypatch.setattr("charla.bench.ngircd_path", lambda: None)
    args = build_parser().parse_args(["bench", "--peer", "ngircd"])
    assert bench_main(args) == 2
    assert "apt-get install ngircd" in capsys.readouterr().err


def test_ngircd_config_switches_the_limits_off(tmp_path: Path) -> None:
    config = servers.ngircd_config(6667, tmp_path)
    for line in ("MaxConnectionsIP = 0", "MaxPenaltyTime = 0", "Listen = 127.0.0.1"):
        assert line in config
    assert (tmp_path / "motd").exists()


def test_senders_are_spread_evenly() -> None:
    picked = [i for i in range(1000) if is_sender(i, 1000, 500)]
    assert len(picked) == 500 and all(b - a == 2 for a, b in itertools.pairwise(picked))
    assert sum(is_sender(i, 7, 3) for i in range(7)) == 3


def test_percentile_reads_the_histogram() -> None:
    # Buckets of 10 µs: 98 copies at ~0.01 ms, 2 at ~5 ms.
    histogram = {0: 98, 499: 2}
    assert percentile(histogram, 0.5) == 0.01
    assert percentile(histogram, 0.99) == 5.0
    assert percentile({}, 0.99) is None


def test_irc_login_follows_numerics_not_substrings() -> None:
    login = wire.Login(wire.IRC, "b1")
    assert login.start().startswith(b"NICK b1\r\n")
    assert login.feed(b":srv 001 b1 :Welcome") == b"JOIN #bench\r\n"
    assert login.feed(b":srv 251 b1 :There are 433 users") == b""
    assert login.error is None and not login.done
    assert login.feed(b"PING :srv") == b"PONG :srv\r\n"
    login.feed(b":srv 366 b1 #bench :End of NAMES list")
    assert login.done


def test_charla_login_with_a_room_joins_only_that_room() -> None:
    login = wire.Login(wire.CHARLA, "b1", "r3")
    hello = json.loads(login.start())
    assert (hello["rooms"], hello["join_default"]) == (["r3"], False)
    assert login.feed(b'{"type":"joined","room":"r3"}') == b""
    assert not login.done
    login.feed(b'{"type":"history","room":"r3","messages":[]}')
    assert login.done
    assert json.loads(wire.CHARLA.message("r3", b"hola")) == {
        "type": "say",
        "room": "r3",
        "text": "hola",
    }


def test_charla_login_ends_with_the_first_history() -> None:
    login = wire.Login(wire.CHARLA, "b1")
    assert json.loads(login.start()) == {"type": "hello", "nick": "b1", "lang": "en"}
    login.feed(b'{"type":"welcome","nick":"b1","server":{"name":"c","version":"1"}}')
    assert not login.done
    login.feed(b'{"type":"history","room":"general","messages":[]}')
    assert login.done


def test_marker_and_probe_are_found_in_a_real_frame() -> None:
    text = wire.marker("ab12", 3) + b"p123456" + wire.FILLER
    frame = Message(id=1, room="general", user="b1", text=text.decode(), ts="t")
    from charla.protocol import encode

    data = encode(frame) * 3
    assert data.count(wire.marker("ab12", 3)) == 3
    assert data.count(wire.marker("ab12", 33)) == 0
    assert wire.probe_pattern("ab12", 3).findall(data) == [b"123456"] * 3


async def test_the_keepalive_frame_is_accepted_silently(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        peer = await Peer.connect(server.port)
        await peer.hello("b1")
        await peer.send(wire.CHARLA.keepalive_frame)
        await peer.send({"type": "ping", "token": "after"})
        frame = await peer.recv()
        assert isinstance(frame, Pong) and frame.token == "after"  # no error in between
        await peer.close()


def _step(rate: float, passed: bool) -> StepResult:
    return StepResult(
        rate=rate, seconds=1, sent=int(rate), expected=int(rate) * 10,
        delivered=int(rate) * 10, deliveries_per_s=rate * 10, delivered_pct=100,
        p50_ms=1, p99_ms=5 if passed else 500, max_ms=9, probes=1, server_cpu_pct=None,
        server_ns_per_delivery=None, server_rss_mib=None, loadgen_cpu_pct=50, dropped=0,
        passed=passed,
    )  # fmt: skip


def _passing(name: str, rates: tuple[float, ...], failed_at: float | None = None) -> ServerResult:
    steps = [_step(r, True) for r in rates]
    if failed_at is not None:
        steps.append(_step(failed_at, False))
    return ServerResult(name=name, clients=10, senders=5, steps=steps)


def test_the_ratio_says_how_far_the_ladder_lets_it_be_trusted() -> None:
    charla = _passing("charla", (100, 200, 400), failed_at=800)
    peer = _passing("ngircd", (100,), failed_at=200)
    found = ratio(charla, peer)
    assert found == Ratio(value=4.0, low=2.0, high=8.0)
    line = summary([charla, peer]).splitlines()[-1]
    assert line.startswith("charla / ngircd: 4.00x, somewhere between 2.00x and 8.00x")
    assert "steps are up to 2.00x apart" in line
    # A server that passed the whole ladder has no upper bound.
    assert ratio(_passing("charla", (100, 200)), peer) == Ratio(value=2.0, low=1.0, high=None)


def test_the_other_benchmarks_are_charla_bench_tools() -> None:
    parser = build_parser()
    assert parser.parse_args(["bench", "--clients", "5"]).tool is None  # the ladder, as before
    args = parser.parse_args(["bench", "room-rate", "--senders", "2"])
    assert (args.tool, args.senders) == ("room-rate", 2)
    out = subprocess.run(
        charla_cmd("bench", "store-scale", "--messages", "2000", "--rooms", "2"),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "built 2,000 messages" in out.stdout and "last 50 of a room" in out.stdout


def test_profile_sums_the_main_threads_self_time() -> None:
    raw = (
        'thread (0x1) "MainThread";run (app.py:1);flush (connection.py:9) 30\n'
        'thread (0x1) "MainThread";run (app.py:1);deliver (hub.py:3) 10\n'
        'thread (0x2) "Thread-2";commit (store.py:5) 60\n'
    )
    lines = self_time(raw).splitlines()
    assert lines[0] == "main thread: 40 samples; self time:"
    assert lines[1:] == ["  75.0 %  flush", "  25.0 %  deliver"]
    assert self_time("") == "main thread: 0 samples; self time:"
