"""The servers under test: a charla server or ngircd in a subprocess, and their CPU/RSS.

Each ``*_server`` function is a context manager that starts the server on a free port of
127.0.0.1 with everything in a temporary directory, waits until it accepts connections,
yields a :class:`Target`, and stops it (SIGTERM, then SIGKILL) however the run ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import charla

__all__ = [
    "NGIRCD_MISSING",
    "ProcStats",
    "Target",
    "charla_serve_cmd",
    "charla_server",
    "free_port",
    "ngircd_config",
    "ngircd_server",
    "python_env",
    "relay_server",
    "remote_target",
    "wait_listening",
]

NGIRCD_MISSING = (
    "ngircd is not installed: install it with `apt-get install ngircd` (Debian/Ubuntu) "
    "or `dnf install ngircd`, or run without --peer."
)
#: Seconds a server gets to start listening, and to exit after SIGTERM.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class ProcStats:
    """CPU time and resident memory of a process (and all its threads), from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._tick = os.sysconf("SC_CLK_TCK")

    def cpu_seconds(self) -> float:
        """User + system time so far; 0 when the process is gone."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return 0.0
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / self._tick

    def rss_bytes(self) -> int:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A server to load: where it listens, what it speaks, and its process if known."""

    name: str
    host: str
    port: int
    dialect: str
    stats: ProcStats | None = None
    #: Further nodes of the same chat (a cluster): clients are spread over all of them.
    also: tuple[tuple[str, int], ...] = ()

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        return ((self.host, self.port), *self.also)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited at start:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on {host}:{port} in {START_TIMEOUT:.0f} s")


@contextlib.contextmanager
def _process(
    name: str, dialect: str, cmd: list[str], port: int, workdir: Path, env: dict[str, str]
) -> Iterator[Target]:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_listening("127.0.0.1", port, proc, log)
        yield Target(
            name=name, host="127.0.0.1", port=port, dialect=dialect, stats=ProcStats(proc.pid)
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def python_env() -> dict[str, str]:
    """The environment for a child Python that must import this very charla."""
    src = str(Path(charla.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


def charla_serve_cmd(port: int, db: Path, clients: int, extra: Sequence[str] = ()) -> list[str]:
    """``charla serve`` with the limits a benchmark needs off, storage on."""
    return [
        sys.executable,
        "-m",
        "charla",
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--db={db}",
        "--rate-limit=0",
        "--max-per-ip=0",
        f"--max-clients={clients + 100}",
        *extra,
    ]


@contextlib.contextmanager
def charla_server(
    clients: int, *, extra: tuple[str, ...] = (), proto: str = "charla"
) -> Iterator[Target]:
    """:func:`charla_serve_cmd` on a free port with a temporary database; with ``proto``
    ``irc``, the load speaks IRC to its IRC listener (docs/irc.md)."""
    port = free_port()
    loaded = port
    if proto == "irc":
        loaded = free_port()
        extra = (*extra, f"--irc=127.0.0.1:{loaded}")
    with tempfile.TemporaryDirectory(prefix="charla-bench-") as tmp:
        cmd = charla_serve_cmd(port, Path(tmp) / "bench.db", clients, extra)
        with _process("charla", proto, cmd, loaded, Path(tmp), python_env()) as target:
            yield target


@contextlib.contextmanager
def relay_server() -> Iterator[Target]:
    """The trivial relay of :mod:`charla.bench.relay` (calibrates the load generator)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="charla-bench-relay-") as tmp:
        cmd = [sys.executable, "-m", "charla.bench.relay", str(port)]
        with _process("relay", "charla", cmd, port, Path(tmp), python_env()) as target:
            yield target


def ngircd_config(port: int, workdir: Path) -> str:
    """A config for a benchmark: no flood penalties, no connection caps, no lookups."""
    motd = workdir / "motd"
    motd.write_text("charla bench\n")
    return f"""\
[Global]
Name = bench.charla.invalid
Info = charla bench peer
Listen = 127.0.0.1
Ports = {port}
PidFile = {workdir / "ngircd.pid"}
MotdFile = {motd}

[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 16
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600

[Options]
DNS = no
Ident = no
PAM = no
"""


def ngircd_path() -> str | None:
    return shutil.which("ngircd") or next(
        (p for p in ("/usr/sbin/ngircd", "/usr/local/sbin/ngircd") if os.access(p, os.X_OK)),
        None,
    )


@contextlib.contextmanager
def ngircd_server() -> Iterator[Target]:
    binary = ngircd_path()
    if binary is None:
        raise FileNotFoundError(NGIRCD_MISSING)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="charla-bench-ngircd-") as tmp:
        workdir = Path(tmp)
        config = workdir / "ngircd.conf"
        config.write_text(ngircd_config(port, workdir))
        cmd = [binary, "--nodaemon", "--config", str(config)]
        with _process("ngircd", "irc", cmd, port, workdir, dict(os.environ)) as target:
            yield target


def remote_target(addresses: str, dialect: str = "charla") -> Target:
    """``--target HOST:PORT[,HOST:PORT…]``: servers someone else started (no CPU/RSS
    figures). Several addresses are nodes of one cluster; clients take them in turn."""
    parsed = [_host_port(address) for address in addresses.split(",")]
    (host, port), *also = parsed
    return Target(name=dialect, host=host, port=port, dialect=dialect, also=tuple(also))


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--target wants HOST:PORT, not {address!r}")
    return host.strip("[]"), int(port)
