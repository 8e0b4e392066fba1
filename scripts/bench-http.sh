#!/usr/bin/env bash
# The HTTP API beside gRPC, on one release statehoused in one run: point GETs and one-key PUTs (durable commits) over
# HTTP/1.1 keep-alive connections driven by wrk (Debian's package, installed if missing), and the same operations over
# the gRPC session stream driven by `statehousectl bench`; both compiled clients on the same machine. For each:
# throughput, p50/p99 latency and the daemon's CPU time per request (from /proc). Prints a markdown table.
# Usage: scripts/bench-http.sh [BIN_DIR (default: a release build)] [SECONDS per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
seconds="${2:-10}"
if [ -z "$bin" ]; then
    swift build -c release --product statehoused >/dev/null
    swift build -c release --product statehousectl >/dev/null
    bin=.build/release
fi
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
source scripts/bench-lib.sh

work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
start_statehoused
base="http://127.0.0.1:$statehouse_http_port"
ticks_per_second="$(getconf CLK_TCK)"

# 1,000 keys of 100-byte values to read back.
value="\"$(head -c 98 /dev/zero | tr '\0' 'x')\""
cat >"$work/put.lua" <<LUA
local i = 0
request = function()
    i = (i % 1000) + 1
    return wrk.format("PUT", "/v1/namespaces/bench-http/agents/a/keys/k" .. i, {["Content-Type"] = "application/json"}, '$value')
end
LUA
cat >"$work/get.lua" <<'LUA'
local i = 0
request = function()
    i = (i % 1000) + 1
    return wrk.format("GET", "/v1/namespaces/bench-http/agents/a/keys/k" .. i)
end
done = function(summary, latency, requests)
    io.write(string.format("errors %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
for i in $(seq 1000); do echo "$i"; done | xargs -P 8 -I{} curl -s -o /dev/null -X PUT -H 'content-type: application/json' \
    --data "$value" "$base/v1/namespaces/bench-http/agents/a/keys/k{}"

# wrk's latency lines are "50%  1.23ms"; in microseconds.
micros() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); print v } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 } else { sub(/s$/, "", v); print v * 1000000 } }' "$2"; }

echo "| operation | client | in flight | requests/s | p50 µs | p99 µs | daemon CPU µs/request |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for workload in get put; do
    for connections in 1 64; do
        threads=$(( connections < 2 ? 1 : 2 ))
        before="$(cpu_ticks "$statehouse_pid")"
        wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -s "$work/$workload.lua" "$base" >"$work/wrk.txt" 2>&1
        after="$(cpu_ticks "$statehouse_pid")"
        requests="$(awk '/requests in/ {print $1}' "$work/wrk.txt")"
        rps="$(awk '/Requests\/sec/ {printf "%d", $2}' "$work/wrk.txt")"
        non2xx="$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")"
        [ -z "$non2xx" ] || { echo "error: $non2xx non-2xx answers: $(cat "$work/wrk.txt")" >&2; exit 1; }
        cpu="$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}')"
        echo "| $workload | HTTP (wrk) | $connections | $rps | $(micros 50% "$work/wrk.txt") | $(micros 99% "$work/wrk.txt") | $cpu |"
        "$bin/statehousectl" bench --addr "127.0.0.1:$statehouse_port" -n bench-grpc --workload "$workload" \
            --clients "$connections" --duration "$seconds" --daemon-pid "$statehouse_pid" --json >"$work/grpc.json"
        python3 - "$work/grpc.json" "$workload" "$connections" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r.get("latency_us") or r.get("latency") or {}
def pick(*names):
    for n in names:
        if n in r: return r[n]
        if n in lat: return lat[n]
    return "?"
print(f"| {sys.argv[2]} | gRPC session (statehousectl bench) | {sys.argv[3]} | {pick('ops_per_second', 'throughput'):.0f} | "
      f"{pick('p50_us', 'p50')} | {pick('p99_us', 'p99')} | {pick('daemon_cpu_us_per_op', 'daemon_cpu_per_op_us')} |")
PY
    done
done
echo
echo "statehoused $("$bin/statehoused" --version | head -1); wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}'); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
