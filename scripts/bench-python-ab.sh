#!/usr/bin/env bash
# The Python SDK (async, 64 in flight: python/benchmarks/bench.py, gets and one-write applies) against two daemon
# builds, alternating, each on a fresh temporary data directory and a free loopback port; prints each run's line and
# the daemon's CPU over it (from /proc). Reports only; compare the sides of one run, never runs of different days.
#
# Usage: scripts/bench-python-ab.sh A_BIN_DIR B_BIN_DIR [SECONDS_PER_RUN (5)] [ROUNDS (3)]
set -euo pipefail
cd "$(dirname "$0")/.."
a_bin="${1:?usage: bench-python-ab.sh A_BIN_DIR B_BIN_DIR [SECONDS] [ROUNDS]}"
b_bin="${2:?usage: bench-python-ab.sh A_BIN_DIR B_BIN_DIR [SECONDS] [ROUNDS]}"
seconds="${3:-5}"
rounds="${4:-3}"
python=.build/python-venv/bin/python
[ -x "$python" ] || { python3 -m venv .build/python-venv; "$python" -m pip install -q "./python[test]"; }
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for round in $(seq "$rounds"); do
    for side in A B; do
        bin="$a_bin"; [ "$side" = B ] && bin="$b_bin"
        port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        rm -rf "$work/data"
        "$bin/statehoused" --data-dir "$work/data" --listen "127.0.0.1:$port" --http-listen off >"$work/log" 2>&1 &
        pid=$!
        for _ in $(seq 200); do grep -q "Listening" "$work/log" && break; sleep 0.05; done
        before="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
        # The checkout's SDK, whatever the venv has installed.
        result="$(PYTHONPATH="$PWD/python" "$python" python/benchmarks/bench.py --url "127.0.0.1:$port" --seconds "$seconds" --concurrency 64 \
            --ops get apply --clients async | grep -v '^#' | tr -s ' ' | tr '\n' ';')"
        after="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
        echo "$side round $round: $result daemon CPU $(awk -v t=$((after - before)) 'BEGIN {printf "%.2f", t / 100}') s"
        kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    done
done
