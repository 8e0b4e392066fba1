"""Soak: a bounded mixed load (writers, readers, watchers, replays) against statehoused for several minutes, sampling
the daemon's RSS and open file descriptors, to see that both level off.

    scripts/soak --minutes 5 [--interval 15]

Prints one line per sample (elapsed, RSS, fds, head commit_ts, operations done) and exits 0; it reports, it does
not judge. Only loopback; every loop stops at the deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from daemon import Daemon  # noqa: E402
from statehouse import Put, Statehouse, StatehouseError  # noqa: E402

NS = "soak"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def file_mib(path: Path) -> float:
    return path.stat().st_size / (1024 * 1024) if path.exists() else 0.0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--watchers", type=int, default=4)
    parser.add_argument("--value-bytes", type=int, default=200, help="padding in each written value")
    parser.add_argument(
        "--keep-versions",
        type=int,
        default=0,
        help="set the namespace's retention to keep this many versions per key (0: keep everything); pair it with "
        "--daemon-arg=--compaction-interval --daemon-arg=SECONDS",
    )
    parser.add_argument(
        "--daemon-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="passed to statehoused (repeat for each word), e.g. --daemon-arg=--cache-mib --daemon-arg=8",
    )
    parser.add_argument(
        "--json", metavar="FILE", help="also write every sample here, for scripts/plot-benchmarks.sh ('-': stdout)"
    )
    args = parser.parse_args(argv)
    samples: List[Dict[str, float]] = []

    work = Path(tempfile.mkdtemp(prefix="statehouse-soak-"))
    daemon = Daemon(work / "data", extra_args=args.daemon_arg).start()
    if args.keep_versions > 0:
        with Statehouse(url=daemon.url, namespace=NS) as client:
            client.set_retention(keep_versions=args.keep_versions)
    deadline = time.monotonic() + args.minutes * 60
    counts: Dict[str, int] = {"writes": 0, "reads": 0, "watched": 0, "replays": 0, "errors": 0}
    lock = threading.Lock()

    def count(name: str, amount: int = 1) -> None:
        with lock:
            counts[name] += amount

    def resilient(work):
        """Runs a worker until the deadline; an error is counted (the errors column) and the worker goes on."""

        def run(*args):
            while time.monotonic() < deadline:
                try:
                    work(*args)
                except StatehouseError as error:
                    count("errors")
                    print(f"  error in {work.__name__}: {error}", file=sys.stderr, flush=True)
                    time.sleep(0.5)

        return run

    @resilient
    def writer(index: int) -> None:
        with Statehouse(url=daemon.url, namespace=NS) as client:
            n = 0
            while time.monotonic() < deadline:
                tx = client.begin_transaction()
                for key in range(5):
                    tx.write(f"agent-{index}", f"k{(n + key) % 500}", {"n": n, "pad": "x" * args.value_bytes})
                tx.commit()
                client.apply([Put(f"agent-{index}", "counter", n)])
                n += 1
                count("writes", 2)

    @resilient
    def reader(index: int) -> None:
        with Statehouse(url=daemon.url, namespace=NS) as client:
            n = 0
            while time.monotonic() < deadline:
                client.get_state(f"agent-{n % args.writers}", f"k{n % 500}")
                client.scan_prefix(f"agent-{n % args.writers}", "k1")
                n += 1
                count("reads", 2)

    @resilient
    def watcher(index: int) -> None:
        # Watchers come and go: each follows for a while, closes, and opens a new watch from where it was.
        with Statehouse(url=daemon.url, namespace=NS) as client:
            next_ts = 1
            while time.monotonic() < deadline:
                stream = client.watch(from_ts=next_ts)
                until = min(deadline, time.monotonic() + 10)
                try:
                    for event in stream:
                        next_ts = event.commit_ts + 1
                        count("watched")
                        if time.monotonic() > until:
                            break
                finally:
                    stream.close()

    @resilient
    def replayer() -> None:
        with Statehouse(url=daemon.url, namespace=NS) as client:
            while time.monotonic() < deadline:
                head = client.head().commit_ts
                for _ in client.replay(start_ts=max(1, head - 20_000)):
                    pass
                count("replays")
                time.sleep(1)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.writers)]
    threads += [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
    threads += [threading.Thread(target=watcher, args=(i,)) for i in range(args.watchers)]
    threads.append(threading.Thread(target=replayer))
    pid = daemon.process.pid
    print(
        f"soak: {args.minutes} min, {args.writers} writers, {args.readers} readers, {args.watchers} watchers, "
        f"1 replayer; daemon pid {pid}",
        flush=True,
    )
    print(
        f"{'elapsed s':>9} {'RSS MiB':>8} {'fds':>5} {'db MiB':>7} {'wal MiB':>7} {'head':>8} {'writes':>8} "
        f"{'reads':>8} {'watched':>9} {'replays':>7} {'errors':>6}",
        flush=True,
    )
    started = time.monotonic()
    for thread in threads:
        thread.daemon = True
        thread.start()
    with Statehouse(url=daemon.url, namespace=NS) as probe:
        while True:
            with lock:
                snapshot = dict(counts)
            try:
                head = probe.head().commit_ts
            except StatehouseError:
                head = -1
            sample = {
                "elapsed_s": time.monotonic() - started,
                "rss_mib": rss_kib(pid) / 1024,
                "fds": fds(pid),
                "db_mib": file_mib(daemon.data_dir / "statehouse.db"),
                "wal_mib": file_mib(daemon.data_dir / "statehouse.db-wal"),
                "head": head,
                **snapshot,
            }
            samples.append(sample)
            print(
                f"{sample['elapsed_s']:9.0f} {sample['rss_mib']:8.1f} {sample['fds']:5d} {sample['db_mib']:7.1f} "
                f"{sample['wal_mib']:7.1f} {head:8d} {snapshot['writes']:8d} {snapshot['reads']:8d} "
                f"{snapshot['watched']:9d} {snapshot['replays']:7d} {snapshot['errors']:6d}",
                flush=True,
            )
            if time.monotonic() >= deadline:
                break
            time.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))
    for thread in threads:
        thread.join(timeout=60)
    print(f"after the load: RSS {rss_kib(pid) / 1024:.1f} MiB, {fds(pid)} fds", flush=True)
    # Whole-log verifies, one after another: each reads every event, so memory that one of them keeps and the next
    # does not reuse would show up as a rise per verify.
    ok = True
    with Statehouse(url=daemon.url, namespace=NS, timeout=600) as probe:
        for number in range(1, 4):
            began = time.monotonic()
            report = probe.verify()
            ok = ok and report.ok
            print(
                f"verify {number}: {'ok' if report.ok else 'FAILED'}, {report.events_checked} events in "
                f"{time.monotonic() - began:.1f} s; RSS {rss_kib(pid) / 1024:.1f} MiB, {fds(pid)} fds",
                flush=True,
            )
    daemon.stop()
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        payload = json.dumps({"minutes": args.minutes, "writers": args.writers, "samples": samples}, indent=1)
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
