#!/usr/bin/env bash
# Export and import side by side for two builds: one export file (1-write commits from 64 clients, then 10-write
# commits), then, alternating between the builds, a fresh release statehoused per run (temporary data directory,
# durable) into which that build's statehousectl imports the file. Prints per build the median events/s of export and
# import, the daemon's CPU µs per imported event (from /proc) and the client's, and B/A ratios.
#
# Usage: scripts/bench-import.sh A_BIN_DIR B_BIN_DIR [ONE_WRITE_COMMITS] [ROUNDS]
#   e.g. the previous commit built with `swift build -c release` and its binaries copied to /tmp/base:
#   scripts/bench-import.sh /tmp/base .build/release 200000 3
set -euo pipefail
a_bin="${1:?usage: bench-import.sh A_BIN_DIR B_BIN_DIR [ONE_WRITE_COMMITS] [ROUNDS]}"
b_bin="${2:?usage: bench-import.sh A_BIN_DIR B_BIN_DIR [ONE_WRITE_COMMITS] [ROUNDS]}"
commits="${3:-200000}"
rounds="${4:-3}"
work="$(mktemp -d)"
pids=()
trap 'for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
ticks="$(getconf CLK_TCK)"

start() {  # start BIN_DIR NAME -> sets port_NAME and pid_NAME (a fresh data directory)
    rm -rf "$work/$2"
    mkdir -p "$work/$2"
    "$1/statehoused" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/$2/data" >"$work/$2/log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do grep -q "Listening" "$work/$2/log" && break; sleep 0.05; done
    local port
    port="$(grep 'Listening' "$work/$2/log" | grep -o 'address=[^ ]*' | head -1 | sed 's/.*://')"
    [ -n "$port" ] || { echo "error: $1/statehoused did not start: $(cat "$work/$2/log")" >&2; exit 1; }
    eval "port_$2=$port; pid_$2=$pid"
}
now() { date +%s.%N; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Each build's daemon holds the same source namespace, written the same way.
for side in a b; do
    bin_var="${side}_bin"
    start "${!bin_var}" "source_$side"
    port_var="port_source_$side"
    "${!bin_var}/statehousectl" --addr "127.0.0.1:${!port_var}" bench -n src --workload put --clients 64 --keys 2000 \
        --ops "$commits" --duration 3600 >/dev/null
    "${!bin_var}/statehousectl" --addr "127.0.0.1:${!port_var}" bench -n src --workload txn --clients 64 \
        --ops "$((commits / 10))" --duration 3600 >/dev/null
done
events="$((commits + commits / 10))"
results="$work/results"
: >"$results"
for round in $(seq "$rounds"); do
    for side in a b; do
        bin_var="${side}_bin"
        bin="${!bin_var}"
        port_var="port_source_$side"
        began="$(now)"
        "$bin/statehousectl" --addr "127.0.0.1:${!port_var}" -n src export --out "$work/export.jsonl" >/dev/null 2>&1
        export_seconds="$(python3 -c "print($(now) - $began)")"
        # The source daemons are paused while the import runs: only the importing pair uses the machine.
        kill -STOP "$pid_source_a" "$pid_source_b"
        start "$bin" target
        before="$(cpu "$pid_target")"
        began="$(now)"
        client="$({ /usr/bin/time -f '%U %S' "$bin/statehousectl" --addr "127.0.0.1:$port_target" -n copy \
            import "$work/export.jsonl" >/dev/null; } 2>&1 | tail -1)"
        import_seconds="$(python3 -c "print($(now) - $began)")"
        after="$(cpu "$pid_target")"
        kill "$pid_target"
        wait "$pid_target" 2>/dev/null || true
        kill -CONT "$pid_source_a" "$pid_source_b"
        echo "$side $events $export_seconds $import_seconds $((after - before)) $client" >>"$results"
    done
done

python3 - "$results" "$ticks" <<'EOF'
import statistics, sys
path, ticks = sys.argv[1], int(sys.argv[2])
rows = {"a": [], "b": []}
for line in open(path):
    side, events, export_s, import_s, daemon_ticks, user, system = line.split()
    events = int(events)
    rows[side].append((events / float(export_s), events / float(import_s),
                       int(daemon_ticks) / ticks / events * 1e6, (float(user) + float(system)) / events * 1e6))
names = ["export events/s", "import events/s", "import daemon µs/event", "import client µs/event"]
medians = {side: [statistics.median(row[i] for row in rows[side]) for i in range(4)] for side in rows}
print(f"{'':26}{'A':>12}{'B':>12}{'B/A':>8}")
for i, name in enumerate(names):
    a, b = medians["a"][i], medians["b"][i]
    print(f"{name:26}{a:12.1f}{b:12.1f}{b / a:8.2f}")
print(f"({len(rows['a'])} runs each, {events} events per export)")
EOF
