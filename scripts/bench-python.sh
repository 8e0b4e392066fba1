#!/usr/bin/env bash
# The Python SDK's numbers next to the Swift client's: a release statehoused on a loopback port with a temporary data
# directory; python/benchmarks/bench.py (sync and async; one-write transactions and gets at 1 and 64 concurrent),
# then `statehousectl bench` on the same workloads. Usage: scripts/bench-python.sh [SECONDS_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
swift build -c release --product statehoused >/dev/null
swift build -c release --product statehousectl >/dev/null
bin="$(swift build -c release --show-bin-path)"
venv=.build/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check ./python
data="$(mktemp -d)"
log="$data.log"
"$bin/statehoused" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$data" >"$log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$data" "$log"' EXIT
for _ in $(seq 100); do grep -q "Listening" "$log" && break; sleep 0.1; done
port="$(grep -o 'address=[0-9.]*:[0-9]*' "$log" | head -1 | sed 's/.*://')"
"$venv/bin/python" python/benchmarks/bench.py --url "127.0.0.1:$port" --seconds "$seconds" --concurrency 1 64
for workload in interactive get; do
    for clients in 1 64; do
        "$bin/statehousectl" bench --addr "127.0.0.1:$port" -n bench-swift --duration "$seconds" -o json \
            --workload "$workload" --clients "$clients" 2>/dev/null
    done
done
