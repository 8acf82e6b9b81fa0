#!/usr/bin/env bash
# Profile a charla server under `charla bench` load with py-spy (pip install py-spy).
#
#   bench/profile.sh OUT.txt [RATES] [SECONDS]
#
# Starts `charla serve` (limits off, a temporary db) under `py-spy record`, loads it with
# `charla bench --target`, and writes py-spy's raw (collapsed) stacks to OUT.txt; the
# summary printed at the end is the self time per function of the server's main thread.
# Runs for SECONDS (default 30) and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/profile.sh OUT.txt [RATES] [SECONDS]}
RATES=${2:-1600,1600,1600}
SECONDS_=${3:-30}
PYTHON=${PYTHON:-python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}

py-spy record --nonblocking --threads -r 200 -f raw -o "$OUT" -d "$SECONDS_" -- \
    "$PYTHON" -m charla serve --host 127.0.0.1 --port "$PORT" --db "$TMP/bench.db" \
    --rate-limit 0 --max-per-ip 0 > "$TMP/server.log" 2>&1 &
SPY=$!
for _ in $(seq 100); do
    "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
    sleep 0.1
done
timeout $((SECONDS_ + 60)) "$PYTHON" -m charla bench --target "127.0.0.1:$PORT" --rates "$RATES" || true
wait "$SPY" || true

"$PYTHON" - "$OUT" <<'PY'
import collections, sys
self_time = collections.Counter()
total = 0
for line in open(sys.argv[1]):
    stack, _, count = line.rstrip().rpartition(" ")
    if "MainThread" not in stack.split(";")[0]:
        continue
    total += int(count)
    self_time[stack.split(";")[-1].split(" (")[0]] += int(count)
print(f"main thread: {total} samples; self time:")
for name, count in self_time.most_common(15):
    print(f"{100 * count / total:6.1f} %  {name}")
PY
