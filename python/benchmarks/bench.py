"""Measures the Python SDK against a running statehoused: one-write transactions and point reads, sync and async.

    python python/benchmarks/bench.py --url 127.0.0.1:50051 [--seconds 5] [--concurrency 1 64]

Sync runs N threads sharing one Statehouse client; async runs N coroutines sharing one AsyncStatehouse (pipelined
over its session stream). Each run is bounded by --seconds and --max-ops. Reports operations per second and
latency percentiles; it never fails on a number (benchmarks report, tests assert).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from typing import Dict, List

from statehouse import AsyncStatehouse, Put, Statehouse


def percentile(samples: List[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def summarize(name: str, mode: str, concurrency: int, latencies: List[float], elapsed: float) -> Dict[str, object]:
    return {
        "op": name,
        "client": mode,
        "concurrency": concurrency,
        "ops": len(latencies),
        "ops_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
    }


def run_sync(client: Statehouse, op: str, concurrency: int, seconds: float, max_ops: int) -> Dict[str, object]:
    latencies: List[List[float]] = [[] for _ in range(concurrency)]
    deadline = time.perf_counter() + seconds
    per_worker = max(1, max_ops // concurrency)

    def worker(index: int) -> None:
        samples = latencies[index]
        agent = f"bench-{index}"
        count = 0
        while count < per_worker and time.perf_counter() < deadline:
            started = time.perf_counter()
            if op == "txn":
                tx = client.begin_transaction()
                tx.write(agent, f"k{count % 1000}", {"n": count})
                tx.commit()
            elif op == "apply":
                client.apply([Put(agent, f"k{count % 1000}", {"n": count})])
            else:
                client.get_state("bench-0", f"k{count % 100}")
            samples.append(time.perf_counter() - started)
            count += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return summarize(op, "sync", concurrency, [x for samples in latencies for x in samples], elapsed)


async def run_async(
    url: str, namespace: str, op: str, concurrency: int, seconds: float, max_ops: int
) -> Dict[str, object]:
    latencies: List[float] = []
    per_worker = max(1, max_ops // concurrency)
    async with AsyncStatehouse(url=url, namespace=namespace) as client:
        await client.health()
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            agent = f"bench-{index}"
            count = 0
            while count < per_worker and time.perf_counter() < deadline:
                started = time.perf_counter()
                if op == "txn":
                    tx = await client.begin_transaction()
                    tx.write(agent, f"k{count % 1000}", {"n": count})
                    await tx.commit()
                elif op == "apply":
                    await client.apply([Put(agent, f"k{count % 1000}", {"n": count})])
                else:
                    await client.get_state("bench-0", f"k{count % 100}")
                latencies.append(time.perf_counter() - started)
                count += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(index) for index in range(concurrency)))
        elapsed = time.perf_counter() - started
    return summarize(op, "async", concurrency, latencies, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="127.0.0.1:50051")
    parser.add_argument("--namespace", default="bench-python")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-ops", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--ops", nargs="+", default=["txn", "get"], choices=["txn", "apply", "get"])
    parser.add_argument("--clients", nargs="+", default=["sync", "async"], choices=["sync", "async"])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()

    with Statehouse(url=args.url, namespace=args.namespace) as client:
        client.health()
        client.apply([Put("bench-0", f"k{index}", {"n": index}) for index in range(100)])  # what "get" reads
        results = []
        for op in args.ops:
            for mode in args.clients:
                for concurrency in args.concurrency:
                    if mode == "sync":
                        result = run_sync(client, op, concurrency, args.seconds, args.max_ops)
                    else:
                        result = asyncio.run(
                            run_async(args.url, args.namespace, op, concurrency, args.seconds, args.max_ops)
                        )
                    results.append(result)
                    if args.json:
                        print(json.dumps(result), flush=True)
                    else:
                        print(
                            f"{op:5} {mode:5} x{concurrency:<3} {result['ops_per_s']:>7}/s  "
                            f"p50 {result['p50_ms']:>7} ms  p99 {result['p99_ms']:>7} ms",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
