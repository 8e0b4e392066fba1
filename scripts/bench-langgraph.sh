#!/usr/bin/env bash
# LangGraph checkpointers side by side (python/benchmarks/langgraph_savers.py): StatehouseSaver on a release
# statehoused, SqliteSaver on a file, PostgresSaver on a PostgreSQL 15 server, each with a temporary data directory
# on this machine, all durable (fsync before a commit is acknowledged: statehoused's default, SQLite's
# synchronous=FULL in WAL mode, PostgreSQL's synchronous_commit=on). Installs the pinned LangGraph packages and
# psycopg into the test venv; PostgreSQL runs as the `postgres` user when started by root (initdb refuses root).
#
# Usage: scripts/bench-langgraph.sh [STATEHOUSED_BIN_DIR] [SECONDS_PER_ROW] [HISTORY] [-- OPTIONS...]
#   e.g. scripts/bench-langgraph.sh "" 3 10000 -- --only statehouse,sqlite
set -euo pipefail
cd "$(dirname "$0")/.."
positional=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do positional+=("$1"); shift; done
[ $# -gt 0 ] && shift
bin="${positional[0]:-}"
seconds="${positional[1]:-3}"
history="${positional[2]:-10000}"
if [ -z "$bin" ]; then
    swift build -c release --product statehoused >/dev/null
    bin="$(swift build -c release --show-bin-path)"
fi
[ -x "$bin/statehoused" ] || { echo "error: no statehoused in $bin" >&2; exit 1; }
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$pg_bin/postgres" ] || { echo "error: PostgreSQL server binaries not found (Debian: postgresql)" >&2; exit 1; }

venv=.build/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "./python[test]" \
    "langgraph-checkpoint-postgres==3.2.0" "psycopg[binary]==3.3.9" "psycopg-pool==3.3.3"

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
as_postgres=()
[ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
    rm -rf "$work"
}
trap cleanup EXIT

source scripts/bench-lib.sh
start_statehoused

pg_port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir "$work/postgres"
[ "$(id -u)" = 0 ] && chown postgres "$work/postgres"
"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/postgres/data" -U bench --auth=trust >"$work/initdb.log" 2>&1
"${as_postgres[@]}" "$pg_bin/postgres" -D "$work/postgres/data" -h 127.0.0.1 -p "$pg_port" -k "$work/postgres" \
    -c max_connections=100 -c fsync=on -c synchronous_commit=on >"$work/postgres.log" 2>&1 &
postgres_pid=$!
pids+=("$postgres_pid")
for _ in $(seq 200); do grep -q "ready to accept connections" "$work/postgres.log" && break; sleep 0.05; done
grep -q "ready to accept connections" "$work/postgres.log" || {
    echo "error: PostgreSQL did not start: $(tail -20 "$work/postgres.log")" >&2
    exit 1
}

echo "$("$bin/statehoused" --version 2>/dev/null | head -1); $("$pg_bin/postgres" --version); sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1);" \
    "$(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)" >&2
"$venv/bin/python" python/benchmarks/langgraph_savers.py \
    --statehouse "127.0.0.1:$statehouse_port" --statehouse-pid "$statehouse_pid" \
    --postgres "postgresql://bench@127.0.0.1:$pg_port/postgres" --postgres-pid "$postgres_pid" \
    --sqlite "$work/sqlite-saver.db" --seconds "$seconds" --history "$history" "$@"
