"""Plot a saved ``charla bench --json`` run again (needs the ``bench`` extra).

charla bench plot RUN.json OUT.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .report import plot, results_from_json

__all__ = ["add_arguments", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, metavar="RUN.json", help="output of charla bench --json")
    parser.add_argument("out", type=Path, metavar="OUT.png")


def main(args: argparse.Namespace) -> int:
    document = json.loads(args.run.read_text())
    plot(results_from_json(document), args.out, p99_limit_ms=document["plan"]["p99_limit_ms"])
    return 0
