#!/usr/bin/env python3
"""How long a commit made through one daemon takes to reach a watcher on another (PostgreSQL backend).

A writer commits COMMITS one-write transactions through daemon A at a steady pace; a watcher on daemon B records when
each arrives. Latency: arrival time minus the commit's committed_at (both from this machine's clock). Prints p50, p99
and max in milliseconds. Bounded: the watcher stops at the last commit or after 60 s.

Usage: bench-watch-latency.py ADDRESS_A ADDRESS_B [COMMITS] [INTERVAL_MS]
"""

from __future__ import annotations

import sys
import threading
import time

from statehouse import Put, Statehouse


def main() -> None:
    writer_address, watcher_address = sys.argv[1], sys.argv[2]
    commits = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    interval = (float(sys.argv[4]) if len(sys.argv) > 4 else 10.0) / 1000
    namespace = f"watch-latency-{int(time.time())}"
    arrivals: dict[int, float] = {}
    committed_at: dict[int, float] = {}
    ready = threading.Event()

    def watch(last: list[int]) -> None:
        with Statehouse(url=watcher_address, namespace=namespace) as watcher:
            with watcher.watch(from_ts=1) as stream:
                ready.set()
                deadline = time.monotonic() + 60
                for event in stream:
                    arrivals[event.commit_ts] = time.time()
                    if (last and event.commit_ts >= last[0]) or time.monotonic() > deadline:
                        break

    last: list[int] = []
    thread = threading.Thread(target=watch, args=(last,))
    thread.start()
    ready.wait(10)
    time.sleep(0.5)  # the watcher registers once it caught up with the (empty) log
    with Statehouse(url=writer_address, namespace=namespace) as writer:
        for step in range(commits):
            result = writer.apply([Put("probe", "k", step)])
            committed_at[result.commit_ts] = result.committed_at.timestamp()
            time.sleep(interval)
        last.append(result.commit_ts)
        writer.apply([Put("probe", "end", True)])  # wakes a watcher that already delivered the last one
    thread.join(70)
    latencies = sorted((arrivals[ts] - committed_at[ts]) * 1000 for ts in committed_at if ts in arrivals)
    missing = len(committed_at) - len(latencies)

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    print(
        f"watch latency across daemons: {len(latencies)} commits, p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, "
        f"max {latencies[-1]:.1f} ms, missing {missing}"
    )


if __name__ == "__main__":
    main()
