"""Profile a charla server under ``charla bench`` load with py-spy (``pip install py-spy``).

    charla bench profile OUT.txt [--rates 1600,1600,1600] [--seconds 30] [--clients 1000]
                                 [--proto irc]

Starts ``charla serve`` (limits off, a temporary database) under ``py-spy record``, loads
it with the fan-out workload, and writes py-spy's raw (collapsed) stacks to OUT.txt; the
summary printed at the end is the self time per function of the server's main thread.
With ``--proto irc`` the load speaks IRC to the server's ``--irc`` listener, as
``charla bench --proto irc`` does.
Runs for ``--seconds`` and stops by itself.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .runner import Plan, default_workers, parse_rates, run_load
from .servers import Target, charla_serve_cmd, free_port, python_env, wait_listening

__all__ = ["add_arguments", "main", "self_time"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT.txt", help="py-spy's raw stacks")
    parser.add_argument("--rates", type=parse_rates, default=(1600.0, 1600.0, 1600.0))
    parser.add_argument("--seconds", type=int, default=30, help="(default %(default)s)")
    parser.add_argument("--clients", type=int, default=1000, help="(default %(default)s)")
    parser.add_argument("--proto", choices=("charla", "irc"), default="charla")


def main(args: argparse.Namespace) -> int:
    # pip installs py-spy next to this interpreter, which need not be on PATH (a venv).
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.defpath}")
    py_spy = py_spy or shutil.which("py-spy")
    if py_spy is None:
        print("charla bench profile: py-spy is not installed (pip install py-spy)", file=sys.stderr)
        return 2
    port = loaded = free_port()
    extra: tuple[str, ...] = ()
    if args.proto == "irc":
        loaded = free_port()
        extra = (f"--irc=127.0.0.1:{loaded}",)
    plan = Plan(
        clients=args.clients,
        senders=args.clients // 2,
        rates=args.rates,
        workers=default_workers(),
    )
    with tempfile.TemporaryDirectory(prefix="charla-profile-") as tmp:
        spy = [
            *(py_spy, "record", "--nonblocking", "--threads", "-r", "200", "-f", "raw"),
            *("-o", str(args.out), "-d", str(args.seconds), "--"),
        ]
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            cmd = [*spy, *charla_serve_cmd(port, Path(tmp) / "bench.db", args.clients, extra)]
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=python_env())
        try:
            wait_listening("127.0.0.1", loaded, proc, log)
            target = Target(name="charla", host="127.0.0.1", port=loaded, dialect=args.proto)
            result = run_load(target, plan)
            print(result.error or f"{len(result.steps)} steps run", file=sys.stderr)
            proc.wait(args.seconds + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(self_time(args.out.read_text()))
    return 0


def self_time(raw: str, top: int = 15) -> str:
    """The share of the main thread's samples spent in each function itself."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if "MainThread" in stack.split(";")[0]:
            counts[stack.split(";")[-1].split(" (")[0]] += int(count)
    total = sum(counts.values())
    lines = [f"main thread: {total} samples; self time:"]
    lines += [f"{100 * n / max(total, 1):6.1f} %  {name}" for name, n in counts.most_common(top)]
    return "\n".join(lines)
