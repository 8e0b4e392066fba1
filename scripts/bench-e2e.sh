#!/usr/bin/env bash
# End-to-end benchmark: a release statehoused on a loopback port with a temporary data directory, driven by
# `statehousectl bench`. Prints one JSON line per run. Usage: scripts/bench-e2e.sh [SECONDS_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
swift build -c release --product statehoused >/dev/null
swift build -c release --product statehousectl >/dev/null
bin="$(swift build -c release --show-bin-path)"
data="$(mktemp -d)"
log="$data.log"
"$bin/statehoused" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$data" >"$log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$data" "$log"' EXIT
for _ in $(seq 100); do grep -q "Listening" "$log" && break; sleep 0.1; done
port="$(grep -o 'address=[0-9.]*:[0-9]*' "$log" | head -1 | sed 's/.*://')"
run() { "$bin/statehousectl" bench --addr "127.0.0.1:$port" -n bench --duration "$seconds" --daemon-pid "$daemon" -o json "$@" 2>/dev/null; }
for workload in put txn get; do
    for clients in 1 16 64; do run --workload "$workload" --clients "$clients"; done
done
run --workload replay --clients 1
for workload in put get; do run --workload "$workload" --clients 64 --unary; done
run --workload interactive --clients 64
