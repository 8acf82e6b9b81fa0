"""``charla bench``: how many deliveries per second a server fans out, side by side.

``charla bench TOOL`` runs the other benchmarks, one module each: ``room-rate``
(:mod:`.room_rate`), ``store-scale`` (:mod:`.store_scale`), ``search`` (:mod:`.search`),
``profile`` (:mod:`.profile`), ``plot`` (:mod:`.replot`, a saved run drawn again),
``storm`` (:mod:`.storm`, thousands of clients coming back at once), ``attack``
(:mod:`.attack`, a well-behaved client under every abuse at once) and ``soak``
(:mod:`.soak`, hundreds of clients for half an hour; both share :mod:`.abuse`).

The workload: ``--clients`` clients in one room, ``--senders`` of them sending, the offered
rate raised step by step (``--rates``). :mod:`.runner` runs it, :mod:`.loadgen` is the
load generator (worker processes), :mod:`.wire` what it says to charla or to an IRC server,
:mod:`.servers` starts the servers under test and :mod:`.report` shows the results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from . import attack, profile, replot, room_rate, search, soak, store_scale, storm
from .report import LiveDisplay, machine, plot, ratio, summary, table
from .runner import Plan, ServerResult, default_workers, parse_rates, run_load
from .servers import (
    NGIRCD_MISSING,
    Target,
    charla_server,
    ngircd_path,
    ngircd_server,
    relay_server,
    remote_target,
)

PEERS = {"ngircd": ngircd_server, "relay": relay_server}


class Tool(Protocol):
    """A benchmark module runnable as ``charla bench NAME``."""

    __doc__: str | None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def main(self, args: argparse.Namespace) -> int: ...


TOOLS: dict[str, Tool] = {
    "room-rate": room_rate,
    "store-scale": store_scale,
    "search": search,
    "profile": profile,
    "storm": storm,
    "plot": replot,
    "attack": attack,
    "soak": soak,
}

__all__ = ["Plan", "ServerResult", "add_arguments", "main", "run_load"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    default = Plan()
    p.add_argument("--clients", type=int, default=default.clients, help="(default %(default)s)")
    p.add_argument("--senders", type=int, default=default.senders, help="(default %(default)s)")
    p.add_argument(
        "--rates",
        type=parse_rates,
        default=default.rates,
        help="offered messages/s per step, comma-separated (default 100,200,...,51200)",
    )
    p.add_argument(
        "--room-size",
        type=int,
        default=0,
        help="clients per room (must divide --clients); default: everyone in one room",
    )
    p.add_argument("--step-seconds", type=float, default=default.step_seconds)
    p.add_argument("--p99-limit-ms", type=float, default=default.p99_limit_ms)
    p.add_argument(
        "--warmup-seconds",
        type=float,
        default=default.warmup_seconds,
        help="a run at the lowest rate before the ladder, not counted (default %(default)s)",
    )
    p.add_argument(
        "--target",
        metavar="HOST:PORT[,…]",
        help="load this charla server instead; several: nodes of one cluster, clients in turn",
    )
    p.add_argument(
        "--peer",
        choices=("ngircd", "relay"),
        help="also run the workload against ngircd, or a trivial relay (calibration)",
    )
    p.add_argument(
        "--proto",
        choices=("charla", "irc"),
        default="charla",
        help="what the load speaks to charla: its own protocol, or IRC to --irc (the same "
        "workload ngircd gets)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="load generator processes (default %(default)s)",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=default.connect_timeout,
        help="seconds for all clients to log in (default %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--plot", type=Path, metavar="PNG", help="plot the results (bench extra)")
    p.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra flag for the charla server the bench starts (repeatable)",
    )
    tools = p.add_subparsers(
        dest="tool", metavar="TOOL", title="other benchmarks (charla bench TOOL --help)"
    )
    for name, tool in TOOLS.items():
        doc = tool.__doc__ or ""
        sub = tools.add_parser(
            name,
            help=doc.splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        tool.add_arguments(sub)


def _ratio_json(results: list[ServerResult]) -> dict[str, Any]:
    """``ratio`` (None when either passed no step) and the range the ladder allows."""
    found = ratio(*results) if len(results) == 2 else None
    if found is None:
        return {"ratio": None, "ratio_range": None}
    return {"ratio": found.value, "ratio_range": [found.low, found.high]}


@contextlib.contextmanager
def _charla(args: argparse.Namespace) -> Iterator[Target]:
    if args.target:
        yield remote_target(args.target)
    else:
        with charla_server(args.clients, extra=tuple(args.server_arg), proto=args.proto) as target:
            yield target


def main(args: argparse.Namespace) -> int:
    if args.tool is not None:
        return TOOLS[args.tool].main(args)
    if not 0 < args.senders <= args.clients:
        print("charla bench: --senders must be between 1 and --clients", file=sys.stderr)
        return 2
    if args.room_size < 0 or (args.room_size and args.clients % args.room_size):
        print("charla bench: --room-size must divide --clients", file=sys.stderr)
        return 2
    if args.peer == "ngircd" and ngircd_path() is None:
        print(f"charla bench: {NGIRCD_MISSING}", file=sys.stderr)
        return 2
    plan = Plan(
        clients=args.clients,
        senders=args.senders,
        rates=args.rates,
        step_seconds=args.step_seconds,
        p99_limit_ms=args.p99_limit_ms,
        workers=args.workers,
        connect_timeout=args.connect_timeout,
        room_size=args.room_size,
        warmup_seconds=args.warmup_seconds,
    )
    display = LiveDisplay()
    display.note(
        f"charla bench: {plan.clients} clients, {plan.senders} senders, "
        f"{plan.step_seconds:g} s steps, pass = >=99% delivered and p99 <= "
        f"{plan.p99_limit_ms:g} ms; {plan.workers} load generator processes"
    )
    results: list[ServerResult] = []
    try:
        with _charla(args) as target:
            results.append(run_load(target, plan, progress=display.progress, finished=display.step))
        if args.peer is not None:
            with PEERS[args.peer]() as target:
                results.append(
                    run_load(target, plan, progress=display.progress, finished=display.step)
                )
    except (RuntimeError, ValueError, OSError) as exc:  # a server that would not start
        print(f"charla bench: {exc}", file=sys.stderr)
        return 1
    display.note("")
    display.note(table(results))
    display.note(summary(results))
    if args.plot is not None:
        plot(results, args.plot, p99_limit_ms=plan.p99_limit_ms)
    if args.json:
        document = {
            "machine": machine(),
            "plan": {
                "clients": plan.clients,
                "senders": plan.senders,
                "rates": list(plan.rates),
                "step_seconds": plan.step_seconds,
                "p99_limit_ms": plan.p99_limit_ms,
                "workers": plan.workers,
                "warmup_seconds": plan.warmup_seconds,
            },
            "results": [r.to_json() for r in results],
            **_ratio_json(results),
        }
        print(json.dumps(document, indent=2))
    return 1 if any(r.error for r in results) else 0
