"""LangGraph checkpointers side by side: StatehouseSaver, SqliteSaver and PostgresSaver on the same machine, each in
its asyncio form (AsyncStatehouseSaver, AsyncSqliteSaver, AsyncPostgresSaver), driven by the same asyncio tasks
(scripts/bench-langgraph.sh starts the servers).

Operations, as LangGraph calls them: ``put`` (a checkpoint with a 2 KB message channel and a counter, chained to its
parent), ``put_writes`` (one task's two writes), ``get_tuple`` (the latest checkpoint of a thread with its values
and writes) and ``list(limit=10)``; with 1 and 64 concurrent LangGraph threads (each task on its own thread for the
writes); the reads on threads with a history of 1 and of 10,000 checkpoints. Each row runs for a bounded time and a
bounded number of calls; the output is a JSON line per row (ops/s, p50 and p99 in µs, this process's CPU µs per call
and the server's, from /proc, when the saver has a server) and a markdown table at the end.

Usage: python langgraph_savers.py --statehouse HOST:PORT --statehouse-pid PID --postgres URL --postgres-pid PID
       [--sqlite PATH] [--seconds S] [--history N] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

from langgraph.checkpoint.base import empty_checkpoint

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAX_CALLS = 200_000  # every row stops at this many calls even if its time is not up
MESSAGE = "x" * 2000


def process_tree_cpu_seconds(root: int) -> float:
    """User + system CPU of a process and its descendants that are alive (PostgreSQL's backends)."""
    parents: Dict[int, int] = {}
    times: Dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total = 0.0
    for pid, cpu in times.items():
        ancestor = pid
        while ancestor not in (0, 1) and ancestor != root:
            ancestor = parents.get(ancestor, 0)
        if ancestor == root:
            total += cpu
    return total


class Bench:
    def __init__(self, name: str, saver: Any, server_pid: int | None) -> None:
        self.name = name
        self.saver = saver
        self.server_pid = server_pid

    def checkpoint(self, step: int) -> Dict[str, Any]:
        checkpoint = empty_checkpoint()
        # The same unique version strings for every saver, so that each put writes its channel values anew (an
        # integer version would repeat across threads and let a saver that skips known blobs skip the work).
        version = f"{step + 1:032}.{uuid.uuid4().hex}"
        checkpoint["channel_values"] = {"messages": [MESSAGE, step], "step": step}
        checkpoint["channel_versions"] = {"messages": version, "step": version}
        return checkpoint

    async def put(self, config: dict, step: int) -> dict:
        checkpoint = self.checkpoint(step)
        metadata = {"source": "loop", "step": step}
        return await self.saver.aput(config, checkpoint, metadata, dict(checkpoint["channel_versions"]))

    async def put_chain(self, thread_id: str, count: int) -> dict:
        config: dict = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        for step in range(count):
            config = await self.put(config, step)
        return config


async def measure(
    bench: Bench, operation: str, tasks: int, seconds: float, call: Callable[[int, int], Awaitable[None]]
) -> Dict[str, Any]:
    latencies: List[List[float]] = [[] for _ in range(tasks)]
    deadline = time.perf_counter() + seconds
    budget = MAX_CALLS // tasks

    async def worker(index: int) -> None:
        mine = latencies[index]
        iteration = 0
        while iteration < budget and time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(index, iteration)
            mine.append(time.perf_counter() - started)
            iteration += 1

    server_before = process_tree_cpu_seconds(bench.server_pid) if bench.server_pid else 0.0
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker(index) for index in range(tasks)))
    elapsed = time.perf_counter() - started
    client = time.process_time() - client_before
    server = (process_tree_cpu_seconds(bench.server_pid) - server_before) if bench.server_pid else None
    every = sorted(value for mine in latencies for value in mine)
    count = len(every)
    return {
        "saver": bench.name,
        "operation": operation,
        "threads": tasks,
        "calls": count,
        "ops_per_s": round(count / elapsed),
        "p50_us": round(statistics.median(every) * 1e6),
        "p99_us": round(every[min(count - 1, int(count * 0.99))] * 1e6),
        "client_cpu_us_per_op": round(client / count * 1e6, 1),
        "server_cpu_us_per_op": round(server / count * 1e6, 1) if server is not None else None,
    }


async def run(bench: Bench, seconds: float, history: int) -> List[Dict[str, Any]]:
    rows = []
    run_id = uuid.uuid4().hex[:8]
    print(f"{bench.name}: writing a history of {history} checkpoints", file=sys.stderr)
    histories = {}
    for length in (1, history):
        thread_id = f"{run_id}-history-{length}"
        head = await bench.put_chain(thread_id, length)
        await bench.saver.aput_writes(head, [("messages", MESSAGE), ("step", 1)], "task-0")
        histories[length] = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    for tasks in (1, 64):
        heads: Dict[int, dict] = {
            index: {"configurable": {"thread_id": f"{run_id}-{tasks}-{index}", "checkpoint_ns": ""}}
            for index in range(tasks)
        }

        async def put(index: int, iteration: int, heads: Dict[int, dict] = heads) -> None:
            heads[index] = await bench.put(heads[index], iteration)

        rows.append(await measure(bench, "put", tasks, seconds, put))

        async def put_writes(index: int, iteration: int, heads: Dict[int, dict] = heads) -> None:
            await bench.saver.aput_writes(heads[index], [("messages", MESSAGE), ("step", iteration)], f"t-{iteration}")

        rows.append(await measure(bench, "put_writes", tasks, seconds, put_writes))
        for length, latest in histories.items():

            async def get_tuple(index: int, iteration: int, latest: dict = latest) -> None:
                assert await bench.saver.aget_tuple(latest) is not None

            async def list_ten(index: int, iteration: int, latest: dict = latest) -> None:
                assert [item async for item in bench.saver.alist(latest, limit=10)]

            rows.append({**await measure(bench, "get_tuple", tasks, seconds, get_tuple), "history": length})
            rows.append({**await measure(bench, "list(limit=10)", tasks, seconds, list_ten), "history": length})
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


async def main() -> None:
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
        from statehouse import AsyncStatehouse
        from statehouse.langgraph import AsyncStatehouseSaver

        async with AsyncStatehouse(url=args.statehouse) as client:
            saver = AsyncStatehouseSaver(client, namespace=f"bench-{uuid.uuid4().hex[:6]}")
            rows += await run(Bench("StatehouseSaver", saver, args.statehouse_pid), args.seconds, args.history)
    if "sqlite" in wanted and args.sqlite:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(args.sqlite) as saver:
            await saver.setup()
            rows += await run(Bench("SqliteSaver", saver, None), args.seconds, args.history)
    if "postgres" in wanted and args.postgres:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        async with AsyncConnectionPool(
            args.postgres,
            min_size=8,
            max_size=64,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        ) as pool:
            saver = AsyncPostgresSaver(pool)
            await saver.setup()
            rows += await run(Bench("PostgresSaver", saver, args.postgres_pid), args.seconds, args.history)
    print(table(rows))


if __name__ == "__main__":
    asyncio.run(main())
