#!/usr/bin/env bash
# LangGraph checkpointers side by side (python/benchmarks/langgraph_savers.py): StatehouseSaver on a release
# statehoused, SqliteSaver on a file, PostgresSaver on a PostgreSQL 15 server, each with a temporary data directory
# on this machine, all durable (fsync before a commit is acknowledged: statehoused's default, SQLite's
# synchronous=FULL in WAL mode, PostgreSQL's synchronous_commit=on). Installs the pinned LangGraph packages and
# psycopg into the test venv; PostgreSQL is started by scripts/postgres.sh (a private server, loopback only).
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

venv=.build/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "./python[test]" \
    "langgraph-checkpoint-postgres==3.2.0" "psycopg[binary]==3.3.9" "psycopg-pool==3.3.3"

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
    scripts/postgres.sh stop "$work/postgres"
    rm -rf "$work"
}
trap cleanup EXIT

source scripts/bench-lib.sh
start_statehoused

postgres_url="$(scripts/postgres.sh start "$work/postgres")"
postgres_pid="$(cat "$work/postgres/pid")"
echo "$("$bin/statehoused" --version 2>/dev/null | head -1); $(psql --version); sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1);" \
    "$(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)" >&2
"$venv/bin/python" python/benchmarks/langgraph_savers.py \
    --statehouse "127.0.0.1:$statehouse_port" --statehouse-pid "$statehouse_pid" \
    --postgres "${postgres_url/postgres:\/\//postgresql://}" --postgres-pid "$postgres_pid" \
    --sqlite "$work/sqlite-saver.db" --seconds "$seconds" --history "$history" "$@"
