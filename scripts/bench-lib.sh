# Shared by the side-by-side benchmark scripts (source it): a release statehoused on a loopback port the kernel picks,
# with its data in "$work/statehouse". Needs $bin (the binary's directory), $work and the array pids; sets
# statehouse_pid, statehouse_port and statehouse_http_port (the HTTP listener's) and adds the PID to pids (the
# caller's cleanup stops it).
# Extra daemon arguments come from STATEHOUSED_ARGS (split on spaces), e.g. "--backend postgres --postgres-url URL".
start_statehoused() {
    # shellcheck disable=SC2086
    "$bin/statehoused" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/statehouse" ${STATEHOUSED_ARGS:-} \
        >"$work/statehoused.log" 2>&1 &
    statehouse_pid=$!
    pids+=("$statehouse_pid")
    for _ in $(seq 200); do grep -q "Listening" "$work/statehoused.log" && break; sleep 0.05; done
    statehouse_port="$(grep 'Listening' "$work/statehoused.log" | grep -o 'address=[^ ]*' | head -1 | sed 's/.*://')"
    [ -n "$statehouse_port" ] || { echo "error: statehoused did not start: $(cat "$work/statehoused.log")" >&2; exit 1; }
    for _ in $(seq 200); do grep -q "HTTP serving" "$work/statehoused.log" && break; sleep 0.05; done
    statehouse_http_port="$(grep "HTTP serving" "$work/statehoused.log" | grep -o 'address=[^ ]*' | sed 's/.*://')"
}

# The CPU time (user + system) a process has used so far, in clock ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}
