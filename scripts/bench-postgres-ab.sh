#!/usr/bin/env bash
# Two builds side by side on PostgreSQL: one daemon of each on a private PostgreSQL (scripts/postgres.sh, fsync on),
# each round on a fresh database, alternating A and B so that the machine's load hits both alike. Workloads: 1-write
# commits at 64 and 16 clients and 10-write transactions at 16 (statehousectl bench, session stream). Prints one line
# per build, round and workload: ops/s, p99 µs, the daemon's CPU µs per op and PostgreSQL's (every process of the
# private server, from /proc). Benchmarks report; they never fail CI.
#
# Usage: scripts/bench-postgres-ab.sh A_BIN_DIR B_BIN_DIR [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
a_bin="${1:?usage: bench-postgres-ab.sh A_BIN_DIR B_BIN_DIR [ROUNDS] [SECONDS]}"
b_bin="${2:?usage: bench-postgres-ab.sh A_BIN_DIR B_BIN_DIR [ROUNDS] [SECONDS]}"
rounds="${3:-3}"
seconds="${4:-5}"
work="$(mktemp -d)"
chmod 755 "$work"
daemon=""
cleanup() {
    if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
    scripts/postgres.sh stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT
server="$(scripts/postgres.sh start "$work/pg")"
server="${server%/postgres}"
psql="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql"
ticks="$(getconf CLK_TCK)"
pg_cpu() { scripts/postgres.sh cpu "$work/pg"; }
for round in $(seq "$rounds"); do
    for side in A B; do
        bin="$a_bin"
        [ "$side" = B ] && bin="$b_bin"
        database="ab_$(echo "$side" | tr AB ab)_${round}"
        "$psql" -q "$server/postgres" -c "CREATE DATABASE $database"
        rm -rf "$work/daemon"
        mkdir -p "$work/daemon"
        "$bin/statehoused" --listen 127.0.0.1:0 --http-listen off --data-dir "$work/daemon/data" \
            --backend postgres --postgres-url "$server/$database" >"$work/daemon/log" 2>&1 &
        daemon=$!
        for _ in $(seq 400); do grep -q "Listening" "$work/daemon/log" && break; sleep 0.05; done
        port="$(grep 'Listening' "$work/daemon/log" | grep -o 'address=[^ ]*' | head -1 | sed 's/.*://' || true)"
        [ -n "$port" ] || { echo "error: $bin/statehoused did not start: $(cat "$work/daemon/log")" >&2; exit 1; }
        for workload in "put --clients 64" "put --clients 16" "txn --clients 16"; do
            before="$(pg_cpu)"
            # shellcheck disable=SC2086
            result="$("$bin/statehousectl" bench --addr "127.0.0.1:$port" --workload $workload --duration "$seconds" \
                --daemon-pid "$daemon" -o json)"
            after="$(pg_cpu)"
            python3 - "$side" "$round" "$workload" "$result" "$before" "$after" "$ticks" <<'EOF'
import json, sys
side, round_, workload, payload, before, after, ticks = sys.argv[1:]
run = json.loads(payload)
operations = max(run["ops"], 1)
postgres = (int(after) - int(before)) / int(ticks) / operations * 1e6
print(f"{side} round {round_} | {workload:<18} | {run['ops_per_second']:8,.0f} ops/s | p99 {run['p99_us']:7,.0f} µs | "
      f"daemon {run['daemon_cpu_us_per_op']:6.1f} µs/op | PostgreSQL {postgres:6.1f} µs/op")
EOF
        done
        kill "$daemon"
        wait "$daemon" 2>/dev/null || true
        daemon=""
        "$psql" -q "$server/postgres" -c "DROP DATABASE $database"
    done
done
