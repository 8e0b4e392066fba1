#!/usr/bin/env bash
# The web console's first load for an agent with a long history: a release statehoused, COMMITS one-key commits of
# one agent, then the agent's page opened in chromium (Playwright) RUNS times; reports the median and the slowest load
# to the timeline's first page and the keys on screen (python/benchmarks/console_load.py).
# Usage: scripts/bench-console.sh [BIN_DIR (default: a release build)] [COMMITS, default 10000] [RUNS, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
commits="${2:-10000}"
runs="${3:-5}"
if [ -z "$bin" ]; then
    swift build -c release --product statehoused >/dev/null
    bin=.build/release
fi
command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
venv=.build/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "./python[test]"
source scripts/bench-lib.sh
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
start_statehoused
"$venv/bin/python" python/benchmarks/console_load.py "127.0.0.1:$statehouse_port" \
    "http://127.0.0.1:$statehouse_http_port" "$commits" "$runs"
