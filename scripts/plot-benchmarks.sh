#!/usr/bin/env bash
# The curves of docs/benchmarks.md, measured and drawn in one run (python/benchmarks/plots.py, matplotlib installed
# into the test venv): throughput and daemon CPU per operation against concurrency (statehousectl bench over a fresh
# release daemon: puts and gets, session and unary, 1 to 64 clients), statehoused against etcd
# (scripts/bench-vs-etcd.sh), and RSS, files and open descriptors over a soak (scripts/soak). Writes
# docs/plots/{concurrency,vs-etcd,soak}.svg and the raw results beside them (.jsonl / .json), which the figures'
# titles name. Benchmarks report; nothing here fails on a number.
#
# Usage: scripts/plot-benchmarks.sh [BIN_DIR] [SECONDS_PER_RUN] [SOAK_MINUTES] [ONLY...]
#   BIN_DIR: a directory with release statehoused and statehousectl; default: build them (swift build -c release).
#   ONLY: any of concurrency, vs-etcd, soak (default: all three).
#   e.g. scripts/plot-benchmarks.sh "" 3 5
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
seconds="${2:-3}"
soak_minutes="${3:-5}"
shift $(($# < 3 ? $# : 3))
only=("$@")
[ ${#only[@]} -gt 0 ] || only=(concurrency vs-etcd soak)
if [ -z "$bin" ]; then
    swift build -c release --product statehoused >/dev/null
    swift build -c release --product statehousectl >/dev/null
    bin="$(swift build -c release --show-bin-path)"
fi
bin="$(cd "$bin" && pwd)"
venv=.build/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import statehouse" 2>/dev/null || "$venv/bin/python" -m pip install -q ./python
"$venv/bin/python" -c "import matplotlib" 2>/dev/null || "$venv/bin/python" -m pip install -q "matplotlib==3.9.4"
out=docs/plots
mkdir -p "$out"
work="$(mktemp -d)"
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

wants() { [[ " ${only[*]} " == *" $1 "* ]]; }

if wants concurrency; then
    start_statehoused
    runs="$out/concurrency.jsonl"
    : >"$runs"
    for clients in 1 4 16 64; do
        for workload in "put" "put --unary" "get" "get --unary"; do
            echo "concurrency: $workload, $clients clients" >&2
            # shellcheck disable=SC2086
            "$bin/statehousectl" bench --addr "127.0.0.1:$statehouse_port" -n bench --duration "$seconds" \
                --daemon-pid "$statehouse_pid" -o json --workload $workload --clients "$clients" 2>/dev/null >>"$runs"
        done
    done
    "$venv/bin/python" python/benchmarks/plots.py concurrency "$runs" "$out/concurrency.svg"
    echo "wrote $out/concurrency.svg" >&2
fi

if wants vs-etcd; then
    scripts/bench-vs-etcd.sh "$bin" "$seconds" 2 -- --json "$PWD/$out/vs-etcd.json" >&2
    "$venv/bin/python" python/benchmarks/plots.py vs-etcd "$out/vs-etcd.json" "$out/vs-etcd.svg"
    echo "wrote $out/vs-etcd.svg" >&2
fi

if wants soak; then
    STATEHOUSED="$bin/statehoused" scripts/soak --minutes "$soak_minutes" --interval 15 --json "$out/soak.json" >&2
    "$venv/bin/python" python/benchmarks/plots.py soak "$out/soak.json" "$out/soak.svg"
    echo "wrote $out/soak.svg" >&2
fi
