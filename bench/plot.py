"""Plot a saved ``charla bench --json`` run again (needs the ``bench`` extra).

PYTHONPATH=src python bench/plot.py RUN.json OUT.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from charla.bench.report import plot, results_from_json


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    document = json.loads(Path(argv[0]).read_text())
    plot(
        results_from_json(document),
        Path(argv[1]),
        p99_limit_ms=document["plan"]["p99_limit_ms"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
