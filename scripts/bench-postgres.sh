#!/usr/bin/env bash
# The PostgreSQL backend side by side with SQLite, in one run: a private PostgreSQL (scripts/postgres.sh, fsync on),
# release binaries, 64 clients in all (statehousectl bench, session stream, 100-byte values).
#   - SQLite: one daemon.
#   - PostgreSQL: 1, 2 and 3 daemons over one fresh database each time, the clients split between them (one bench
#     process per daemon), each process in a namespace of its own ("spread") and then all in one ("shared": every
#     commit takes the same namespace's row lock).
#   - pgbench at 64 clients: an upsert of a key plus an inserted event row per transaction, PostgreSQL's own rate for
#     the work a one-write commit asks of it.
#   - with 2 daemons, how long a commit through one takes to reach a watcher on the other (scripts/
#     bench-watch-latency.py, with the test venv's SDK; PYTHON names another interpreter).
# Prints ops/s and daemon CPU µs per op (daemons' /proc, summed) and PostgreSQL's CPU µs per op (every postgres
# process of the private server). Benchmarks report; they never fail CI.
#
# Usage: scripts/bench-postgres.sh [BIN_DIR] [SECONDS]     (BIN_DIR default .build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/release}"
seconds="${2:-5}"
work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    scripts/postgres.sh stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT
server="$(scripts/postgres.sh start "$work/pg")"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
ticks="$(getconf CLK_TCK)"
cpu() { local total=0; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo "$total"; }
pg_cpu() { scripts/postgres.sh cpu "$work/pg"; }

start_daemon() {  # start_daemon NAME ARGS... -> sets daemon_port, daemon_pid
    local name="$1"
    shift
    "$bin/statehoused" --listen 127.0.0.1:0 --http-listen off --data-dir "$work/$name" "$@" >"$work/$name.log" 2>&1 &
    daemon_pid=$!
    pids+=("$daemon_pid")
    for _ in $(seq 400); do grep -q "Listening" "$work/$name.log" && break; sleep 0.05; done
    daemon_port="$(grep 'Listening' "$work/$name.log" | grep -o 'address=[^ ]*' | head -1 | sed 's/.*://')"
    [ -n "$daemon_port" ] || { echo "error: statehoused did not start: $(cat "$work/$name.log")" >&2; exit 1; }
}

# run_bench LABEL WORKLOAD SHARED PORT... : one bench process per port, 64 clients split between them.
run_bench() {
    local label="$1" workload="$2" shared="$3"
    shift 3
    local ports=("$@") count=$# outputs=() index=0 bench_pids=()
    local before_daemons before_pg
    before_daemons="$(cpu "${daemon_pids[@]}")"
    before_pg="$(pg_cpu)"
    for port in "${ports[@]}"; do
        local clients=$((64 / count + (index < 64 % count ? 1 : 0)))
        local namespace="bench-$index"
        [ "$shared" = shared ] && namespace=bench
        "$bin/statehousectl" --addr "127.0.0.1:$port" bench -n "$namespace" --workload "$workload" \
            --clients "$clients" --duration "$seconds" -o json >"$work/out-$index" 2>/dev/null &
        bench_pids+=($!)
        outputs+=("$work/out-$index")
        index=$((index + 1))
    done
    for pid in "${bench_pids[@]}"; do wait "$pid"; done
    local after_daemons after_pg
    after_daemons="$(cpu "${daemon_pids[@]}")"
    after_pg="$(pg_cpu)"
    python3 - "$label" "$ticks" "$((after_daemons - before_daemons))" "$((after_pg - before_pg))" "${outputs[@]}" <<'EOF'
import json, sys
label, ticks, daemon_ticks, pg_ticks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
runs = [json.load(open(path)) for path in sys.argv[5:]]
ops = sum(run["ops"] for run in runs)
rate = sum(run["ops_per_second"] for run in runs)
p99 = max(run["p99_us"] for run in runs)
print(f"| {label} | {rate:,.0f} | {daemon_ticks / ticks / ops * 1e6:.1f} | {pg_ticks / ticks / ops * 1e6:.1f} | {p99:,} |")
EOF
}

echo "| setup, workload | ops/s | daemon CPU µs/op | PostgreSQL CPU µs/op | p99 µs (slowest process) |"
echo "| --- | ---: | ---: | ---: | ---: |"
start_daemon sqlite
daemon_pids=("$daemon_pid")
run_bench "SQLite, 1 daemon, put" put spread "$daemon_port"
run_bench "SQLite, 1 daemon, get" get spread "$daemon_port"
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true

for daemons in 1 2 3; do
    database="bench_$daemons"
    "$pg_bin/psql" "$server" -qc "CREATE DATABASE $database"
    url="${server%/*}/$database?sslmode=disable"
    ports=()
    daemon_pids=()
    for index in $(seq "$daemons"); do
        key_args=()
        [ "$index" -gt 1 ] && key_args=(--signing-key "$work/pg-$daemons-1/ledger-signing-key.pem")
        start_daemon "pg-$daemons-$index" --backend postgres --postgres-url "$url" "${key_args[@]}"
        ports+=("$daemon_port")
        daemon_pids+=("$daemon_pid")
    done
    run_bench "PostgreSQL, $daemons daemon(s), put, spread" put spread "${ports[@]}"
    run_bench "PostgreSQL, $daemons daemon(s), put, shared" put shared "${ports[@]}"
    run_bench "PostgreSQL, $daemons daemon(s), get" get spread "${ports[@]}"
    if [ "$daemons" = 2 ]; then
        watch_latency="$("${PYTHON:-.build/python-venv/bin/python}" scripts/bench-watch-latency.py \
            "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]}" 500 10)"
    fi
    for pid in "${daemon_pids[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
done

# PostgreSQL's own rate for an upsert plus an event row per transaction, 64 clients.
"$pg_bin/psql" "$server" -qc "CREATE DATABASE pgbench_upsert"
"$pg_bin/psql" "${server%/*}/pgbench_upsert" -q <<'EOF'
CREATE TABLE kv(agent TEXT, key TEXT, version BIGINT, value BYTEA, PRIMARY KEY(agent, key));
CREATE TABLE events(id BIGSERIAL PRIMARY KEY, agent TEXT, key TEXT, version BIGINT, at TIMESTAMPTZ, value BYTEA);
EOF
cat >"$work/upsert.sql" <<'EOF'
\set k random(1, 64000)
BEGIN;
INSERT INTO kv VALUES ('bench-' || (:k % 64), 'key/' || :k, 1, decode(repeat('78', 100), 'hex'))
    ON CONFLICT (agent, key) DO UPDATE SET version = kv.version + 1, value = EXCLUDED.value;
INSERT INTO events(agent, key, version, at, value) VALUES ('bench-' || (:k % 64), 'key/' || :k, 1, now(), decode(repeat('78', 100), 'hex'));
COMMIT;
EOF
before_pg="$(pg_cpu)"
rate="$("$pg_bin/pgbench" -n -c 64 -j 2 -T "$seconds" -f "$work/upsert.sql" "${server%/*}/pgbench_upsert" 2>/dev/null \
    | grep -o 'tps = [0-9.]*' | head -1 | sed 's/tps = //')"
after_pg="$(pg_cpu)"
python3 -c "
rate = float('$rate'); ticks = $((after_pg - before_pg)) / $ticks
print(f'| pgbench, upsert + event row, 64 clients | {rate:,.0f} | – | {ticks / (rate * $seconds) * 1e6:.1f} | – |')"
echo
echo "$watch_latency (a commit through daemon 1 of 2, its arrival at a watcher on daemon 2)"
