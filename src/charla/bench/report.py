"""Showing bench results: the live progress line, the summary table, JSON, a plot."""

from __future__ import annotations

import importlib.metadata
import itertools
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .runner import ServerResult, StepResult

__all__ = ["LiveDisplay", "Ratio", "machine", "plot", "ratio", "ratio_line", "summary", "table"]

_HEADER = (
    f"{'server':<8} {'step':>4} {'offered/s':>9} {'deliveries/s':>12} {'delivered':>9} "
    f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'srv CPU':>7} {'ns/copy':>7} {'srv RSS':>8} "
    f"{'gen CPU':>7}  ok"
)


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _si(value: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.2f}{unit}"
    return f"{value:.0f}"


def row(name: str, index: int, step: StepResult) -> str:
    return (
        f"{name:<8} {index:>4} {step.rate:>9.0f} {_si(step.deliveries_per_s):>12} "
        f"{step.delivered_pct:>8.2f}% {_num(step.p50_ms, '.2f'):>7} {_num(step.p99_ms, '.2f'):>7} "
        f"{_num(step.max_ms, '.1f'):>7} {_num(step.server_cpu_pct, '.0f') + '%':>7} "
        f"{_num(step.server_ns_per_delivery, '.0f'):>7} "
        f"{_num(step.server_rss_mib, '.0f') + ' MiB':>8} {step.loadgen_cpu_pct:>6.0f}%  "
        f"{'yes' if step.passed else 'NO'}"
    )


class LiveDisplay:
    """One status line rewritten in place on a terminal; a row per finished step."""

    def __init__(self, out: TextIO = sys.stderr, *, quiet: bool = False) -> None:
        self.out = out
        self.tty = out.isatty()
        self.quiet = quiet
        self._steps: dict[str, int] = {}
        self._header = False

    def progress(
        self, name: str, index: int, rate: float, elapsed: float, delivered: int, sent: int
    ) -> None:
        if self.quiet or not self.tty:
            return
        line = (
            f"  {name} step {index}: {rate:.0f} msg/s offered, {elapsed:4.1f} s, "
            f"{sent} sent, {_si(delivered)} copies received"
        )
        self.out.write("\r\x1b[2K" + line)
        self.out.flush()

    def step(self, name: str, step: StepResult) -> None:
        if self.quiet:
            return
        if not self._header:
            self.note(_HEADER)
            self._header = True
        self._steps[name] = self._steps.get(name, 0) + 1
        self.note(row(name, self._steps[name], step))

    def note(self, text: str) -> None:
        if self.quiet:
            return
        if self.tty:
            self.out.write("\r\x1b[2K")
        self.out.write(text + "\n")
        self.out.flush()


def table(results: Sequence[ServerResult]) -> str:
    lines = [_HEADER]
    for result in results:
        lines += [row(result.name, i, s) for i, s in enumerate(result.steps, 1)]
    return "\n".join(lines)


def summary(results: Sequence[ServerResult]) -> str:
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.name}: {r.error}")
            if not r.steps:
                continue
        best = r.best
        if best is None:
            first = r.steps[0]
            lines.append(f"{r.name}: FAILED its first step: {_step_figures(first)}")
        else:
            lines.append(f"{r.name}: {r.figure:,.0f} deliveries/s (at {_step_figures(best)})")
        per_client = r.rss_per_client_kib
        if per_client is not None:
            lines.append(
                f"{r.name}: {r.clients} clients connected in {r.connect_seconds:.1f} s, "
                f"server RSS {r.rss_before_mib:.0f} -> {r.rss_connected_mib:.0f} MiB "
                f"({per_client:.1f} KiB per client)"
            )
    if len(results) == 2:
        lines.append(ratio_line(results[0], results[1]))
    return "\n".join(lines)


def _step_figures(step: StepResult) -> str:
    return (
        f"{step.rate:g} msg/s offered, {_si(step.deliveries_per_s)} deliveries/s, "
        f"{step.delivered_pct:.1f}% delivered, p99 {_num(step.p99_ms, '.1f')} ms"
    )


@dataclass(frozen=True, slots=True)
class Ratio:
    """``a``'s figure over ``b``'s, and the range the ladder allows: each figure is only
    known to one step (the real limit lies between the best passing step and the first
    failing one), so a ratio read off a doubling ladder is good to a factor of 2 each way.
    """

    value: float
    low: float
    high: float | None


def ratio(a: ServerResult, b: ServerResult) -> Ratio | None:
    """None when either server passed no step: 0 deliveries/s is a failure, not a figure."""
    a_limit, b_limit = a.limit, b.limit
    if a_limit is None or b_limit is None:
        return None
    (a_low, a_high), (b_low, b_high) = a_limit, b_limit
    return Ratio(
        value=a_low / b_low,
        low=a_low / b_high if b_high is not None else 0.0,
        high=a_high / b_low if a_high is not None else None,
    )


def ratio_line(a: ServerResult, b: ServerResult) -> str:
    found = ratio(a, b)
    if found is None:
        failed = [r.name for r in (a, b) if r.best is None]
        return f"no {a.name} / {b.name} ratio: {' and '.join(failed)} passed no step"
    high = f"{found.high:.2f}x" if found.high is not None else "unknown (no step failed)"
    low = f"{found.low:.2f}x" if found.low else "unknown (no step failed)"
    return (
        f"{a.name} / {b.name}: {found.value:.2f}x, somewhere between {low} and {high}: "
        f"the ladder's steps are up to {ladder_step(a, b):.2f}x apart, and each figure is "
        "only known to one step"
    )


def ladder_step(*results: ServerResult) -> float:
    """The largest factor between two consecutive rates of the ladder."""
    rates = sorted({s.rate for r in results for s in r.steps})
    return max((b / a for a, b in itertools.pairwise(rates)), default=1.0)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        loop = f"uvloop {importlib.metadata.version('uvloop')}"
    except importlib.metadata.PackageNotFoundError:
        loop = "asyncio"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "event_loop": loop,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
    }


def plot(results: Sequence[ServerResult], path: Path, *, p99_limit_ms: float) -> None:
    """deliveries/s and p99 against offered rate, one line per server (needs matplotlib,
    the ``bench`` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 7))
    for result in results:
        rates = [s.rate for s in result.steps]
        top.plot(rates, [s.deliveries_per_s for s in result.steps], marker="o", label=result.name)
        bottom.plot(rates, [s.p99_ms or 0 for s in result.steps], marker="o", label=result.name)
    seconds = results[0].steps[0].seconds if results and results[0].steps else 0
    top.set_ylabel("deliveries / s")
    top.set_yscale("log")
    top.set_xscale("log")
    top.legend()
    top.grid(True, which="both", alpha=0.3)
    bottom.axhline(p99_limit_ms, color="red", linestyle="--", linewidth=1, label="p99 limit")
    bottom.legend()
    bottom.set_ylabel("p99 latency (ms)")
    bottom.set_yscale("log")
    bottom.set_xlabel("offered messages / s (log)")
    bottom.set_xscale("log")
    rates = sorted({s.rate for r in results for s in r.steps})
    bottom.set_xticks(rates, [f"{r:g}" for r in rates], rotation=45)
    bottom.minorticks_off()
    bottom.grid(True, which="both", alpha=0.3)
    clients = results[0].clients if results else 0
    fig.suptitle(f"fan-out, {clients} clients in one room ({seconds:g} s steps)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def results_from_json(document: dict[str, Any]) -> list[ServerResult]:
    """The results of a ``charla bench --json`` document, to plot it again."""
    results = []
    for data in document["results"]:
        fields = {k: v for k, v in data.items() if k not in ("figure", "rss_per_client_kib")}
        fields["steps"] = [StepResult(**step) for step in data["steps"]]
        if fields.get("warmup") is not None:
            fields["warmup"] = StepResult(**fields["warmup"])
        results.append(ServerResult(**fields))
    return results
