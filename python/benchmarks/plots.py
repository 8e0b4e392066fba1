"""The curves of docs/benchmarks.md, drawn from the benchmarks' own JSON output (scripts/plot-benchmarks.sh runs them).

    plots.py concurrency RUNS.jsonl OUT.svg   statehousectl bench -o json lines: ops/s and daemon CPU per operation
                                              against clients, one line per workload and mode
    plots.py vs-etcd RUNS.json OUT.svg        python/benchmarks/vs_etcd.py --json: statehoused / etcd ratios of server
                                              CPU per operation and of p99, per operation, at each concurrency
    plots.py soak SAMPLES.json OUT.svg        python/tools/soak.py --json: RSS, WAL size and open files over the run

Each figure is an SVG with its numbers' source in its title; medians where a cell has several runs."""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

import matplotlib
import matplotlib.ticker

matplotlib.use("svg")
# Text as text (smaller files, searchable), and fixed element ids: the same numbers make the same file.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "statehouse"
import matplotlib.pyplot as plt  # noqa: E402
from vs_etcd import STATEHOUSE_OPS  # noqa: E402  (this directory is on the path of a script run from it)

# vs_etcd.py's rows, their labels shortened for an axis.
AXIS_LABELS = {
    "session-put": "1-write commit\nsession",
    "unary-apply": "1-write commit\nunary",
    "v1-begin-write-commit": "original API\nbegin+write+commit",
    "session-get": "point get\nsession",
    "unary-get": "point get\nunary",
    "session-txn10": "10-write commit\nsession",
    "unary-txn10": "10-write commit\nunary",
}
VS_ETCD_OPS = [(ours, theirs, AXIS_LABELS[ours]) for ours, _, theirs in STATEHOUSE_OPS]


def save(figure: Any, out: Path) -> None:
    figure.tight_layout()
    # No date in the file, so that an unchanged figure is an unchanged file.
    figure.savefig(out, format="svg", metadata={"Date": None})
    plt.close(figure)


def concurrency(runs_path: Path, out: Path) -> None:
    cells: Dict[Tuple[str, int], List[Dict[str, Any]]] = defaultdict(list)
    for line in runs_path.read_text().splitlines():
        if line.strip():
            run = json.loads(line)
            cells[(f"{run['workload']} ({run['mode']})", int(run["clients"]))].append(run)
    series = sorted({name for name, _ in cells})
    figure, (throughput, cpu) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in series:
        clients = sorted(count for label, count in cells if label == name)
        ops = [statistics.median(r["ops_per_second"] for r in cells[(name, c)]) for c in clients]
        cost = [statistics.median(r["daemon_cpu_us_per_op"] for r in cells[(name, c)]) for c in clients]
        throughput.plot(clients, ops, marker="o", label=name)
        cpu.plot(clients, cost, marker="o", label=name)
    every_count = sorted({count for _, count in cells})
    for axis, title, unit in (
        (throughput, "throughput", "operations/s"),
        (cpu, "daemon CPU per operation", "µs"),
    ):
        axis.set_xscale("log", base=2)
        axis.set_xticks(every_count, [str(count) for count in every_count])
        axis.set_xlabel("clients (in flight)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
    cpu.set_yscale("log")
    cpu.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    cpu.yaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    throughput.legend(fontsize=8)
    figure.suptitle(f"statehoused against concurrency ({runs_path.name}; durable, 100-byte values)", fontsize=10)
    save(figure, out)


def vs_etcd(runs_path: Path, out: Path) -> None:
    payload = json.loads(runs_path.read_text())
    runs: List[Dict[str, Any]] = payload["runs"]

    def median(name: str, in_flight: int, field: str) -> float:
        values = [r[field] for r in runs if r["op"] == name and r["concurrency"] == in_flight and r[field]]
        return statistics.median(values) if values else float("nan")

    levels = sorted({int(r["concurrency"]) for r in runs})
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    width = 0.8 / len(levels)
    positions = range(len(VS_ETCD_OPS))
    for axis, field, title in (
        (axes[0], "server_cpu_us_per_op", "server CPU per operation"),
        (axes[1], "p99_ms", "p99 latency"),
    ):
        for index, in_flight in enumerate(levels):
            ratios = [
                median(ours, in_flight, field) / median(theirs, in_flight, field) for ours, theirs, _ in VS_ETCD_OPS
            ]
            axis.bar([p + index * width for p in positions], ratios, width, label=f"{in_flight} in flight")
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_yscale("log")
        ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8]
        axis.set_yticks(ticks, [f"{tick:g}x" for tick in ticks])
        axis.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xticks([p + width * (len(levels) - 1) / 2 for p in positions])
        axis.set_xticklabels([label for _, _, label in VS_ETCD_OPS], fontsize=7, rotation=30, ha="right")
        axis.set_title(f"{title}: statehoused / etcd (below 1: cheaper, quicker)", fontsize=9)
        axis.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel("ratio (log scale)")
    axes[0].legend(fontsize=8)
    versions = payload.get("versions", {})
    figure.suptitle(
        f"statehoused {versions.get('statehoused', '?')} against etcd {versions.get('etcd', '?')} "
        f"({runs_path.name}; one Python grpc.aio client for both)",
        fontsize=10,
    )
    save(figure, out)


def soak(samples_path: Path, out: Path) -> None:
    payload = json.loads(samples_path.read_text())
    samples = payload["samples"]
    minutes = [s["elapsed_s"] / 60 for s in samples]
    figure, (memory, files) = plt.subplots(1, 2, figsize=(11, 4))
    memory.plot(minutes, [s["rss_mib"] for s in samples], marker="o", label="RSS")
    memory.plot(minutes, [s["wal_mib"] for s in samples], marker="o", label="WAL file")
    memory.plot(minutes, [s["db_mib"] for s in samples], marker="o", label="database file")
    memory.set_ylabel("MiB")
    memory.legend(fontsize=8)
    files.plot(minutes, [s["fds"] for s in samples], marker="o", color="tab:red")
    files.set_ylabel("open file descriptors")
    files.set_ylim(bottom=0)
    for axis in (memory, files):
        axis.set_xlabel("minutes")
        axis.grid(True, alpha=0.3)
    figure.suptitle(
        f"statehoused under a {payload['minutes']:g}-minute soak ({samples_path.name}: {payload['writers']} writers, "
        "readers, watchers and a replayer)",
        fontsize=10,
    )
    save(figure, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["concurrency", "vs-etcd", "soak"])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    {"concurrency": concurrency, "vs-etcd": vs_etcd, "soak": soak}[args.kind](args.source, args.out)


if __name__ == "__main__":
    main()
