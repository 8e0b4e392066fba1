#!/usr/bin/env bash
# Statehouse against etcd, side by side: a release statehoused and an etcd, each on a loopback port with a temporary
# data directory, both durable (statehoused fsyncs before every acknowledgement by default, etcd too), driven by one
# Python client (python/benchmarks/vs_etcd.py: the same grpc.aio stack and pre-encoded requests for both), workloads
# alternating between the two servers. Prints a markdown table of medians: ops/s, the server's CPU µs per operation
# (from /proc) and p99, with statehoused/etcd ratios. Installs Debian's etcd-server when `etcd` is missing.
#
# Usage: scripts/bench-vs-etcd.sh [STATEHOUSED_BIN_DIR] [SECONDS_PER_RUN] [ROUNDS] [-- VS_ETCD_OPTIONS...]
#   STATEHOUSED_BIN_DIR: a directory with a release statehoused; default: build .build/release (swift build).
#   e.g. scripts/bench-vs-etcd.sh /tmp/base/.build/release 5 3 -- --json /tmp/vs-etcd.json
set -euo pipefail
cd "$(dirname "$0")/.."
positional=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do positional+=("$1"); shift; done
[ $# -gt 0 ] && shift  # the "--": what follows goes to vs_etcd.py
bin="${positional[0]:-}"
seconds="${positional[1]:-5}"
rounds="${positional[2]:-3}"
if [ -z "$bin" ]; then
    swift build -c release --product statehoused >/dev/null
    bin="$(swift build -c release --show-bin-path)"
fi
[ -x "$bin/statehoused" ] || {
    echo "error: no statehoused in $bin; build it with: swift build -c release --product statehoused" >&2
    exit 1
}

if ! command -v etcd >/dev/null; then
    echo "etcd not found: installing Debian's etcd-server" >&2
    apt-get update -qq && apt-get install -y -qq etcd-server >/dev/null
    # The package may start a system etcd (127.0.0.1:2379, /var/lib/etcd); we use our own ports and data directory,
    # and an idle server would only take memory and CPU from the runs.
    service etcd stop >/dev/null 2>&1 || systemctl stop etcd >/dev/null 2>&1 || true
fi

venv=.build/python-venv
if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import grpc, statehouse._proto.statehouse_pb2" 2>/dev/null; }
then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check ./python
fi

work="$(mktemp -d)"
pids=()
cleanup() {  # both servers by their PIDs, then their data
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

source scripts/bench-lib.sh
start_statehoused

# Two free loopback ports for etcd's clients and peers (the kernel's choice; etcd binds them a moment later).
read -r client_port peer_port < <("$venv/bin/python" -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))')
etcd --name default --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$client_port" --advertise-client-urls "http://127.0.0.1:$client_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" >"$work/etcd.log" 2>&1 &
etcd_pid=$!
pids+=("$etcd_pid")
for _ in $(seq 200); do grep -q "ready to serve client requests" "$work/etcd.log" && break; sleep 0.05; done
grep -q "ready to serve client requests" "$work/etcd.log" || {
    echo "error: etcd did not start: $(tail -20 "$work/etcd.log")" >&2
    exit 1
}

echo "$("$bin/statehoused" --version 2>/dev/null | head -1) ($bin/statehoused); $(etcd --version | head -1)" \
    "($(command -v etcd)); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)" >&2
"$venv/bin/python" python/benchmarks/vs_etcd.py \
    --statehouse "127.0.0.1:$statehouse_port" --statehouse-pid "$statehouse_pid" \
    --etcd "127.0.0.1:$client_port" --etcd-pid "$etcd_pid" --seconds "$seconds" --rounds "$rounds" "$@" || true
