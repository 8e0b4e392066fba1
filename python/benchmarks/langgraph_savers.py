"""LangGraph checkpointers side by side: StatehouseSaver, SqliteSaver and PostgresSaver on the same machine, driven by
the same Python threads (scripts/bench-langgraph.sh starts the servers).

Operations, as LangGraph calls them: ``put`` (a checkpoint with a 2 KB message channel and a counter, chained to its
parent), ``put_writes`` (one task's two writes), ``get_tuple`` (the latest checkpoint of a thread with its values
and writes) and ``list(limit=10)``; at 1 and 64 concurrent threads (each worker on its own LangGraph thread); the
reads on threads with a history of 1 and of 10,000 checkpoints. Each row runs for a bounded time and a bounded
number of calls; the output is a JSON line per row (ops/s, p50, p99 in µs, server CPU µs per call from /proc when
the saver has a server process) and a markdown table at the end.

Usage: python langgraph_savers.py --statehouse HOST:PORT --statehouse-pid PID --postgres URL --postgres-pid PID
       [--sqlite PATH] [--seconds S] [--history N] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from langgraph.checkpoint.base import empty_checkpoint

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAX_CALLS = 200_000  # every row stops at this many calls even if its time is not up
MESSAGE = "x" * 2000


def process_cpu_seconds(pids: List[int]) -> float:
    """User + system CPU of the processes and their children that are still alive (PostgreSQL's backends)."""
    total = 0.0
    for pid in pids:
        family = [pid]
        try:
            family += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            pass
        for member in family:
            try:
                fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


class Bench:
    def __init__(self, name: str, saver: Any, server_pids: List[int]) -> None:
        self.name = name
        self.saver = saver
        self.server_pids = server_pids

    def checkpoint(self, step: int) -> Dict[str, Any]:
        checkpoint = empty_checkpoint()
        # The same unique version strings for every saver, so that each put writes its channel values anew (an
        # integer version would repeat across threads and let a saver that skips known blobs skip the work).
        version = f"{step + 1:032}.{uuid.uuid4().hex}"
        checkpoint["channel_values"] = {"messages": [MESSAGE, step], "step": step}
        checkpoint["channel_versions"] = {"messages": version, "step": version}
        return checkpoint

    def put_chain(self, thread_id: str, count: int, parent: Optional[dict] = None) -> dict:
        config = parent or {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        for step in range(count):
            checkpoint = self.checkpoint(step)
            config = self.saver.put(
                config, checkpoint, {"source": "loop", "step": step}, dict(checkpoint["channel_versions"])
            )
        return config


def measure(
    bench: Bench, operation: str, threads: int, seconds: float, call: Callable[[int, int], None]
) -> Dict[str, Any]:
    latencies: List[List[float]] = [[] for _ in range(threads)]
    deadline = time.perf_counter() + seconds
    budget = MAX_CALLS // threads

    def worker(index: int) -> None:
        mine = latencies[index]
        iteration = 0
        while iteration < budget and time.perf_counter() < deadline:
            started = time.perf_counter()
            call(index, iteration)
            mine.append(time.perf_counter() - started)
            iteration += 1

    cpu_before = process_cpu_seconds(bench.server_pids)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker, index) for index in range(threads)]:
            future.result()
    elapsed = time.perf_counter() - started
    cpu = process_cpu_seconds(bench.server_pids) - cpu_before
    every = sorted(value for mine in latencies for value in mine)
    count = len(every)
    return {
        "saver": bench.name,
        "operation": operation,
        "threads": threads,
        "calls": count,
        "ops_per_s": round(count / elapsed),
        "p50_us": round(statistics.median(every) * 1e6),
        "p99_us": round(every[min(count - 1, int(count * 0.99))] * 1e6),
        "server_cpu_us_per_op": round(cpu / count * 1e6, 1) if bench.server_pids else None,
    }


def run(bench: Bench, seconds: float, history: int) -> List[Dict[str, Any]]:
    rows = []
    run_id = uuid.uuid4().hex[:8]
    long_thread = f"{run_id}-history-{history}"
    print(f"{bench.name}: writing a history of {history} checkpoints", file=sys.stderr)
    long_config = bench.put_chain(long_thread, history)
    bench.saver.put_writes(long_config, [("messages", MESSAGE), ("step", 1)], "task-0")
    short_thread = f"{run_id}-history-1"
    short_config = bench.put_chain(short_thread, 1)
    bench.saver.put_writes(short_config, [("messages", MESSAGE), ("step", 1)], "task-0")
    for threads in (1, 64):
        heads: Dict[int, dict] = {}
        lock = threading.Lock()

        def put(index: int, iteration: int) -> None:
            with lock:
                parent = heads.get(index)
            config = parent or {"configurable": {"thread_id": f"{run_id}-{threads}-{index}", "checkpoint_ns": ""}}
            checkpoint = bench.checkpoint(iteration)
            stored = bench.saver.put(
                config, checkpoint, {"source": "loop", "step": iteration}, dict(checkpoint["channel_versions"])
            )
            with lock:
                heads[index] = stored

        rows.append(measure(bench, "put", threads, seconds, put))

        def put_writes(index: int, iteration: int) -> None:
            bench.saver.put_writes(heads[index], [("messages", MESSAGE), ("step", iteration)], f"task-{iteration}")

        rows.append(measure(bench, "put_writes", threads, seconds, put_writes))
        for label, thread_id in (("1", short_thread), (str(history), long_thread)):
            latest = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}

            def get_tuple(index: int, iteration: int, latest: dict = latest) -> None:
                assert bench.saver.get_tuple(latest) is not None

            def list_ten(index: int, iteration: int, latest: dict = latest) -> None:
                assert len(list(bench.saver.list(latest, limit=10))) >= 1

            row = measure(bench, "get_tuple", threads, seconds, get_tuple)
            rows.append({**row, "history": int(label)})
            row = measure(bench, "list(limit=10)", threads, seconds, list_ten)
            rows.append({**row, "history": int(label)})
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def table(rows: List[Dict[str, Any]]) -> str:
    savers = list(dict.fromkeys(row["saver"] for row in rows))
    keys = list(dict.fromkeys((row["operation"], row["threads"], row.get("history")) for row in rows))
    lines = [
        "| operation | threads | history | " + " | ".join(f"{saver} ops/s (p99 µs)" for saver in savers) + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in savers) + " |",
    ]
    for operation, threads, history in keys:
        cells = []
        for saver in savers:
            match = [
                row
                for row in rows
                if row["saver"] == saver
                and (row["operation"], row["threads"], row.get("history")) == (operation, threads, history)
            ]
            cells.append(f"{match[0]['ops_per_s']:,} ({match[0]['p99_us']:,})" if match else "-")
        lines.append(
            f"| {operation} | {threads} | {history if history is not None else ''} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statehouse")
    parser.add_argument("--statehouse-pid", type=int)
    parser.add_argument("--postgres")
    parser.add_argument("--postgres-pid", type=int)
    parser.add_argument("--sqlite")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--only", default="statehouse,sqlite,postgres")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    rows: List[Dict[str, Any]] = []
    if "statehouse" in wanted and args.statehouse:
        from statehouse import Statehouse
        from statehouse.langgraph import StatehouseSaver

        with Statehouse(url=args.statehouse) as client:
            saver = StatehouseSaver(client, namespace=f"bench-{uuid.uuid4().hex[:6]}")
            rows += run(
                Bench("StatehouseSaver", saver, [args.statehouse_pid] if args.statehouse_pid else []),
                args.seconds,
                args.history,
            )
    if "sqlite" in wanted and args.sqlite:
        from langgraph.checkpoint.sqlite import SqliteSaver

        connection = sqlite3.connect(args.sqlite, check_same_thread=False)
        saver = SqliteSaver(connection)
        saver.setup()
        rows += run(Bench("SqliteSaver", saver, []), args.seconds, args.history)
        connection.close()
    if "postgres" in wanted and args.postgres:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        with ConnectionPool(
            args.postgres,
            min_size=8,
            max_size=64,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        ) as pool:
            saver = PostgresSaver(pool)
            saver.setup()
            rows += run(
                Bench("PostgresSaver", saver, [args.postgres_pid] if args.postgres_pid else []),
                args.seconds,
                args.history,
            )
    print(table(rows))


if __name__ == "__main__":
    main()
