#!/usr/bin/env bash
# What TLS and token checks cost on the session path, side by side in one run: four release daemons in turn
# (plaintext, TLS, auth, TLS + auth), each measured with `statehousectl bench --clients 64` over the session stream
# (1-write commits and point gets), ROUNDS rounds alternating between them. TLS is RSA 2048 made with openssl as
# docs/security.md shows; auth runs with --auth required and a token holding three grants (the one used, two others).
# Prints a markdown table of medians: throughput, daemon CPU per operation (from /proc) and p99, each against
# plaintext; the runs themselves after it.
# Usage: scripts/bench-security.sh [BIN_DIR (default: a release build)] [SECONDS per run, default 8] [ROUNDS, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
seconds="${2:-8}"
rounds="${3:-3}"
if [ -z "$bin" ]; then
    swift build -c release --product statehoused >/dev/null
    swift build -c release --product statehousectl >/dev/null
    bin=.build/release
fi
command -v openssl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }

work="$(mktemp -d)"
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Certificates as in docs/security.md.
(
    cd "$work"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=statehoused -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 1001 -days 2 -extfile server.ext \
        -out server.crt 2>/dev/null
)

# Starts the daemon of a configuration in a fresh data directory; sets pid, port and client (the client's options).
start() {
    local config="$1" args=() log="$work/$1.log"
    rm -rf "$work/data"
    client=()
    case "$config" in
        tls | tls+auth) args+=(--tls-cert "$work/server.crt" --tls-key "$work/server.key"); client+=(--tls-ca "$work/ca.crt") ;;
    esac
    case "$config" in
        auth | tls+auth) args+=(--auth required) ;;
    esac
    "$bin/statehoused" --listen 127.0.0.1:0 --http-listen off --data-dir "$work/data" "${args[@]}" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do grep -q "Listening" "$log" && break; sleep 0.05; done
    port="$(grep 'Listening' "$log" | grep -o 'address=[^ ]*' | head -1 | sed 's/.*://')"
    [ -n "$port" ] || { echo "error: statehoused ($config) did not start: $(cat "$log")" >&2; exit 1; }
    if [ -f "$work/data/admin.token" ]; then
        local token
        token="$("$bin/statehousectl" --addr "127.0.0.1:$port" "${client[@]}" --token-file "$work/data/admin.token" \
            token create --name bench --grant 'bench:write' --grant 'other-*:read' --grant 'ops:admin' -o json \
            | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')"
        printf '%s\n' "$token" >"$work/bench.token"
        client+=(--token-file "$work/bench.token")
    fi
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

configs=(plaintext tls auth tls+auth)
for round in $(seq "$rounds"); do
    for config in "${configs[@]}"; do
        start "$config"
        for workload in put get; do
            "$bin/statehousectl" bench --addr "127.0.0.1:$port" "${client[@]}" -n bench --workload "$workload" \
                --clients 64 --duration "$seconds" --daemon-pid "$pid" --json \
                >"$work/run-$config-$workload-$round.json"
        done
        stop
    done
done

python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
configs = ["plaintext", "tls", "auth", "tls+auth"]
def runs(config, workload):
    return [json.load(open(f"{work}/run-{config}-{workload}-{r}.json")) for r in range(1, rounds + 1)]
def pick(run, *names):
    latency = run.get("latency_us") or run.get("latency") or {}
    for name in names:
        if name in run: return float(run[name])
        if name in latency: return float(latency[name])
    raise KeyError(names)
print("| workload, 64 clients | configuration | ops/s | ÷ plaintext | daemon CPU µs/op | p99 µs |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for workload in ["put", "get"]:
    base = statistics.median(pick(r, "ops_per_second", "throughput") for r in runs("plaintext", workload))
    for config in configs:
        rs = runs(config, workload)
        ops = statistics.median(pick(r, "ops_per_second", "throughput") for r in rs)
        cpu = statistics.median(pick(r, "daemon_cpu_us_per_op", "daemon_cpu_per_op_us") for r in rs)
        p99 = statistics.median(pick(r, "p99_us", "p99") for r in rs)
        print(f"| {workload} | {config} | {ops:,.0f} | {ops / base:.2f}x | {cpu:.1f} | {p99:,.0f} |")
print()
for workload in ["put", "get"]:
    for config in configs:
        values = ", ".join(f"{pick(r, 'ops_per_second', 'throughput'):,.0f}" for r in runs(config, workload))
        print(f"- {workload}, {config}: {values} ops/s")
PY
echo
echo "statehoused $("$bin/statehoused" --version | head -1); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
