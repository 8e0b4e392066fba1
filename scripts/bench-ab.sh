#!/usr/bin/env bash
# Side-by-side benchmark of two builds: each build's release statehoused (temporary data directory, durable) driven
# by its own statehousectl bench, workloads alternating between the two so that the machine's load hits both alike.
# Prints, per workload, ops/s, the daemon's CPU µs per operation (from /proc) and p99 for A and B, and B/A ratios.
#
# Usage: scripts/bench-ab.sh A_BIN_DIR B_BIN_DIR [SECONDS_PER_RUN] [ROUNDS]
#   e.g. a checkout of the previous commit built with `swift build -c release` in /tmp/base:
#   scripts/bench-ab.sh /tmp/base/.build/release .build/release 5 2
set -euo pipefail
a_bin="${1:?usage: bench-ab.sh A_BIN_DIR B_BIN_DIR [SECONDS] [ROUNDS]}"
b_bin="${2:?usage: bench-ab.sh A_BIN_DIR B_BIN_DIR [SECONDS] [ROUNDS]}"
seconds="${3:-5}"
rounds="${4:-2}"
work="$(mktemp -d)"
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT

start() {  # start BIN_DIR NAME -> sets port_NAME and pid_NAME
    local bin="$1" name="$2"
    mkdir -p "$work/$name"
    "$bin/statehoused" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/$name/data" >"$work/$name/log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do grep -q "Listening" "$work/$name/log" && break; sleep 0.05; done
    local port
    port="$(grep 'Listening' "$work/$name/log" | grep -o 'address=[^ ]*' | head -1 | sed 's/.*://')"
    [ -n "$port" ] || { echo "error: $bin/statehoused did not start: $(cat "$work/$name/log")" >&2; exit 1; }
    eval "port_$name=$port; pid_$name=$pid"
}
start "$a_bin" a
start "$b_bin" b

workloads=(
    "--workload put --clients 64"
    "--workload put --clients 64 --unary"
    "--workload interactive --clients 64"
    "--workload txn --clients 16"
    "--workload get --clients 64"
    "--workload get --clients 64 --unary"
    # One client: every call pays the daemon's wake-ups and any delay before a response is written.
    "--workload get --clients 1"
    "--workload get --clients 1 --unary"
    "--workload put --clients 1 --unary"
)
results="$work/results"
: >"$results"
for round in $(seq "$rounds"); do
    for index in "${!workloads[@]}"; do
        for side in a b; do
            bin_var="${side}_bin"; port_var="port_$side"; pid_var="pid_$side"
            # shellcheck disable=SC2086
            line="$("${!bin_var}/statehousectl" bench --addr "127.0.0.1:${!port_var}" -n bench --duration "$seconds" \
                --daemon-pid "${!pid_var}" -o json ${workloads[$index]} 2>/dev/null)"
            echo "$round $index $side $line" >>"$results"
        done
    done
done

python3 - "$results" "${workloads[@]}" <<'EOF'
import json, statistics, sys
path, workloads = sys.argv[1], sys.argv[2:]
runs = {}
for line in open(path):
    round_, index, side, payload = line.split(" ", 3)
    runs.setdefault((int(index), side), []).append(json.loads(payload))
def median(index, side, field):
    return statistics.median(float(run[field]) for run in runs[(index, side)])
print("| workload | A ops/s | B ops/s | A CPU µs/op | B CPU µs/op | A p99 µs | B p99 µs | B/A CPU per op | B/A p99 |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for index, workload in enumerate(workloads):
    row = [median(index, side, field) for field in ("ops_per_second", "daemon_cpu_us_per_op", "p99_us") for side in "ab"]
    print(f"| {workload.replace('--workload ', '')} | {row[0]:,.0f} | {row[1]:,.0f} | {row[2]:.1f} | {row[3]:.1f} | "
          f"{row[4]:,.0f} | {row[5]:,.0f} | {row[3] / row[2]:.2f} | {row[5] / row[4]:.2f} |")
EOF
