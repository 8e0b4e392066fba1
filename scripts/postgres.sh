#!/usr/bin/env bash
# A private PostgreSQL server for tests and benchmarks: its own data directory, loopback only, a free port, stopped by
# its PID. Debian's server package is installed when no server binaries are found (CI machines start clean).
#
#   scripts/postgres.sh start DIR   initdb into DIR/data (first time only), start the server (on the port of its
#                                   first start in DIR, so a restart keeps its URL), wait until it accepts
#                                   connections; prints its URL (postgres://statehouse@127.0.0.1:PORT/postgres, trust
#                                   authentication, loopback only) and writes it to DIR/url, the PID to DIR/pid
#   scripts/postgres.sh stop DIR    stop the server started in DIR (SIGINT: fast shutdown) and wait for it to exit
#   scripts/postgres.sh cpu DIR     print the CPU time (clock ticks) the server started in DIR has used: the
#                                   postmaster's own and its reaped children's, plus its live children's (connections
#                                   that exit are counted through the postmaster's fields once reaped); benchmarks
#                                   take the difference around a run
#
# initdb refuses to run as root: as root the server runs as the `postgres` user the Debian package creates.
set -euo pipefail
command="${1:?usage: postgres.sh start|stop|cpu DIR}"
dir="${2:?usage: postgres.sh start|stop|cpu DIR}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

case "$command" in
start)
    bin="$(pg_bin)"
    if [ ! -x "$bin/postgres" ]; then
        echo "postgres.sh: installing Debian's postgresql server package..." >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin="$(pg_bin)"
    fi
    [ -x "$bin/postgres" ] || { echo "postgres.sh: no PostgreSQL server binaries after installing" >&2; exit 1; }
    as_postgres=()
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ "$(id -u)" = 0 ]; then
        as_postgres=(runuser -u postgres --)
        chown postgres "$dir"
        chmod 755 "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        "${as_postgres[@]}" "$bin/initdb" -D "$dir/data" -U statehouse --auth=trust --encoding=UTF8 --locale=C \
            >"$dir/initdb.log" 2>&1 || { echo "postgres.sh: initdb failed: $(tail -5 "$dir/initdb.log")" >&2; exit 1; }
    fi
    # A restart in the same DIR keeps the port, so clients and daemons reconnect to the URL they have.
    if [ -f "$dir/port" ]; then
        port="$(cat "$dir/port")"
    else
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        echo "$port" >"$dir/port"
    fi
    "${as_postgres[@]}" "$bin/postgres" -D "$dir/data" -h 127.0.0.1 -p "$port" -k "$dir" -c max_connections=200 \
        -c fsync=on -c synchronous_commit=on >"$dir/postgres.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do
        grep -q "ready to accept connections" "$dir/postgres.log" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if ! grep -q "ready to accept connections" "$dir/postgres.log" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        echo "postgres.sh: PostgreSQL did not start: $(tail -20 "$dir/postgres.log")" >&2
        exit 1
    fi
    # The postmaster's own PID (as root, $! is runuser's).
    head -1 "$dir/data/postmaster.pid" >"$dir/pid"
    echo "postgres://statehouse@127.0.0.1:$port/postgres" | tee "$dir/url"
    ;;
stop)
    [ -f "$dir/pid" ] || exit 0
    pid="$(cat "$dir/pid")"
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    ;;
cpu)
    postmaster="$(cat "$dir/pid")"
    total="$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")"
    for pid in $(pgrep -P "$postmaster"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
    ;;
*)
    echo "usage: postgres.sh start|stop|cpu DIR" >&2
    exit 2
    ;;
esac
