#!/usr/bin/env bash
# Runs the research agent against a Statehouse daemon.
#
#   ./run.sh --task "What is 42 * 137?" [--crash-after N] [--replay]
#
# The daemon is the one at $STATEHOUSE_URL (default 127.0.0.1:50051). When none answers there, this script starts
# statehoused on that address with its data in $STATEHOUSE_AGENT_DATA (default $TMPDIR/statehouse-agent-research,
# kept between runs so that a crashed run can resume) and stops it when the agent exits.
# The daemon binary is $STATEHOUSED, else statehoused on PATH, else the repository's build (built if missing).
# The Python SDK is installed from ../../python when `import statehouse` fails; $PYTHON picks the interpreter.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
url="${STATEHOUSE_URL:-127.0.0.1:50051}"
python="${PYTHON:-python3}"

if ! "$python" -c "import statehouse" 2>/dev/null; then
    "$python" -m pip install -q "$repo/python"
fi

reachable() {
    "$python" - "$url" <<'PY' 2>/dev/null
import sys
from statehouse import Statehouse
with Statehouse(url=sys.argv[1], timeout=2) as client:
    sys.exit(0 if client.health() == "ok" else 1)
PY
}

daemon_pid=""
stop_daemon() {
    if [ -n "$daemon_pid" ]; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
}

if ! reachable; then
    binary="${STATEHOUSED:-}"
    if [ -z "$binary" ]; then
        if command -v statehoused >/dev/null 2>&1; then
            binary="$(command -v statehoused)"
        elif built="$(ls -t "$repo"/.build/{release,debug}/statehoused 2>/dev/null | head -n 1)" && [ -n "$built" ]; then
            binary="$built"  # the newer of the repository's release and debug builds
        else
            echo "building statehoused (first run only)..." >&2
            swift build --package-path "$repo" -c release --product statehoused >&2
            binary="$repo/.build/release/statehoused"
        fi
    fi
    data="${STATEHOUSE_AGENT_DATA:-${TMPDIR:-/tmp}/statehouse-agent-research}"
    mkdir -p "$data"
    "$binary" --listen "$url" --data-dir "$data/data" >>"$data/statehoused.log" 2>&1 &
    daemon_pid=$!
    trap stop_daemon EXIT
    for _ in $(seq 1 300); do
        reachable && break
        if ! kill -0 "$daemon_pid" 2>/dev/null; then
            echo "statehoused failed to start; see $data/statehoused.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    reachable || { echo "statehoused did not answer at $url; see $data/statehoused.log" >&2; exit 1; }
    echo "started statehoused at $url (data in $data/data)" >&2
fi

status=0
"$python" "$here/agent.py" --url "$url" "$@" || status=$?
exit "$status"
