#!/usr/bin/env bash
# Artifacts streamed in and out of a release statehoused on loopback: a SIZE-MiB file of random bytes uploaded with
# `statehousectl artifact put` and downloaded with `artifact get`, each timed, with the daemon's RSS sampled every
# 50 ms (its growth over the run is what the issue bounds: 64 MB for a 1 GiB upload). Prints a markdown table.
# Usage: scripts/bench-artifacts.sh [BIN_DIR (default: a release build)] [SIZE in MiB, default 1024]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
size="${2:-1024}"
if [ -z "$bin" ]; then
    swift build -c release --product statehoused >/dev/null
    swift build -c release --product statehousectl >/dev/null
    bin=.build/release
fi
source scripts/bench-lib.sh
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
start_statehoused
head -c "$((size << 20))" /dev/urandom >"$work/blob"
rss() { awk '/VmRSS/ {print $2}' "/proc/$statehouse_pid/status"; }
before="$(rss)"
echo "$before" >"$work/peak"
( while kill -0 "$statehouse_pid" 2>/dev/null; do r="$(rss)"; [ "$r" -gt "$(cat "$work/peak")" ] && echo "$r" >"$work/peak"; sleep 0.05; done ) &
sampler=$!
now() { date +%s.%N; }
t0="$(now)"
digest="$("$bin/statehousectl" --addr "127.0.0.1:$statehouse_port" artifact put "$work/blob" | awk '{print $1}')"
t1="$(now)"
"$bin/statehousectl" --addr "127.0.0.1:$statehouse_port" artifact get "$digest" --out "$work/copy" >/dev/null
t2="$(now)"
kill "$sampler" 2>/dev/null || true
cmp -s "$work/blob" "$work/copy" || { echo "error: the copy differs" >&2; exit 1; }
peak="$(cat "$work/peak")"
echo "| direction | MiB | seconds | MB/s |"
echo "| --- | ---: | ---: | ---: |"
awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN {printf "| put | %d | %.2f | %.0f |\n", s, b - a, s * 1.048576 / (b - a)}'
awk -v s="$size" -v a="$t1" -v b="$t2" 'BEGIN {printf "| get | %d | %.2f | %.0f |\n", s, b - a, s * 1.048576 / (b - a)}'
echo
echo "daemon RSS: $((before / 1024)) MiB before, peak $((peak / 1024)) MiB (growth $(((peak - before) / 1024)) MiB)"
echo "statehoused $("$bin/statehoused" --version | head -1); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
