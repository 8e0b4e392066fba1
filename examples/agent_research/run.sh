#!/usr/bin/env bash
# Runs the research agent against a Statehouse daemon.
#
#   ./run.sh --task "What is 42 * 137?" [--crash-after N] [--replay]
#
# The agent runs in a virtual environment, $STATEHOUSE_AGENT_VENV (default .venv beside this script), made with
# python3 on the first run; the Python SDK is installed into it from ../../python, and installed again whenever
# those sources change. $PYTHON instead runs the agent with that interpreter as it is (it must import statehouse).
# The daemon is the one at $STATEHOUSE_URL (default 127.0.0.1:50051). When none answers there, this script starts
# statehoused on that address with its data in $STATEHOUSE_AGENT_DATA (default $TMPDIR/statehouse-agent-research,
# kept between runs so that a crashed run can resume) and stops it when the agent exits.
# The daemon binary is $STATEHOUSED, else statehoused on PATH, else the repository's build (built if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
url="${STATEHOUSE_URL:-127.0.0.1:50051}"

if [ -n "${PYTHON:-}" ]; then
    python="$PYTHON"
    if ! "$python" -c "import statehouse" 2>/dev/null; then
        echo "run.sh: $python cannot import statehouse: install the SDK into it (pip install $repo/python)," \
            "or leave PYTHON unset to use a virtual environment" >&2
        exit 1
    fi
else
    venv="${STATEHOUSE_AGENT_VENV:-$here/.venv}"
    python="$venv/bin/python"
    if [ ! -x "$python" ]; then
        echo "creating a virtual environment in $venv (first run only)..." >&2
        python3 -m venv "$venv" >&2 || {
            echo "run.sh: python3 -m venv failed (on Debian and Ubuntu: apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    # Installed again when the SDK's sources are newer than the last install, or when it no longer imports.
    stamp="$venv/.statehouse-sdk-installed"
    if [ ! -f "$stamp" ] \
        || [ -n "$(find "$repo/python/pyproject.toml" "$repo/python/statehouse" -type f -newer "$stamp" \
            ! -path '*/__pycache__/*' -print -quit)" ] \
        || ! "$python" -c "import statehouse" 2>/dev/null; then
        echo "installing the Python SDK from $repo/python into $venv..." >&2
        touch "$stamp.new"
        "$python" -m pip install -q --disable-pip-version-check "$repo/python" >&2
        mv "$stamp.new" "$stamp"
    fi
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

# bash itself reports a child that a signal killed ("line N: PID Killed ...") on its own stderr, which the braces
# send to /dev/null; the agent's stderr goes to the real one (fd 3), so its errors and tracebacks still show.
status=0
{ "$python" "$here/agent.py" --url "$url" "$@" 2>&3 3>&- || status=$?; } 3>&2 2>/dev/null
if [ "$status" -gt 128 ]; then
    if signal_name="$(kill -l "$((status - 128))" 2>/dev/null)"; then
        signal_name="SIG$signal_name"
    else
        signal_name="signal $((status - 128))"
    fi
    echo "run.sh: the agent was killed by $signal_name (exit status $status). The steps it finished are committed" \
        "in Statehouse; run it again (without --crash-after) to resume." >&2
fi
exit "$status"
