"""``charla serve --nats``: clear errors when the cluster cannot be used."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from ..helpers import charla_cmd, free_port, subprocess_env
from .conftest import Cluster


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        charla_cmd("serve", "--port", "0", "--db", str(tmp_path / "c.db"), *args),
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_without_nats_py_the_flag_says_what_to_install(tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "nats"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'nats'\")\n")
    env = subprocess_env()
    done = subprocess.run(
        charla_cmd("serve", "--port", "0", "--db", str(tmp_path / "c.db"), "--nats", "nats://x"),
        env={**env, "PYTHONPATH": f"{fake.parent}{os.pathsep}{env['PYTHONPATH']}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "pip install 'charla[cluster]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_nats_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    done = _serve(tmp_path, "--nats", f"nats://127.0.0.1:{port}")
    assert done.returncode == 1
    assert f"cannot reach NATS at nats://127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


async def test_the_node_name_defaults_to_host_and_pid(cluster: Cluster) -> None:
    server = await cluster.node("ignored", node_name=None)
    assert server.presence.node == f"{socket.gethostname().split('.')[0]}-{os.getpid()}"
    assert server.hub is not None and server.hub.identity.server_info.node == server.presence.node


def test_a_cluster_name_that_would_break_subjects_is_refused(tmp_path: Path) -> None:
    done = _serve(tmp_path, "--nats", "nats://127.0.0.1:1", "--cluster-name", "a.b")
    assert done.returncode == 2
    assert "--cluster-name" in done.stderr
