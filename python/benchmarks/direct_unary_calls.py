"""Daemon CPU per call for unary methods answered from their HTTP/2 frames, against the same daemon build sending every
call through grpc-swift (`--grpc-direct-unary false`).

    python python/benchmarks/direct_unary_calls.py BIN_DIR [--seconds 4] [--rounds 2] [--threads 16]

For each method and round: a fresh daemon of each kind (temporary data directory, loopback, no HTTP listener) with the
same small data set (one key with 50 versions, 20 recorded events of one session), a second of warm-up, then
`--threads` threads calling the method for `--seconds`. Prints calls/s and the daemon's CPU µs per call (from /proc)
for both, and their ratio. The client shares the machine with the daemon, so compare ratios within one run.
Benchmarks report; they never fail CI.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, List, Tuple

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from statehouse._proto import statehouse_pb2 as pb  # noqa: E402

V2 = "/statehouse.v2.StatehouseService/"
METHODS: List[Tuple[str, str, Any]] = [
    ("History, 10 versions", "History", pb.HistoryRequest(namespace="d", agent_id="a", key="k", limit=10)),
    (
        "GetEvents, one session's 20",
        "GetEvents",
        pb.GetEventsRequest(namespace="d", filter=pb.AgentEventFilter(session_id="s1")),
    ),
    ("Search, one word", "Search", pb.SearchRequest(namespace="d", query="hello", limit=10)),
    ("GetHead", "GetHead", pb.GetHeadRequest(namespace="d")),
]


class Daemon:
    def __init__(self, bin_dir: str, direct: bool) -> None:
        self.directory = tempfile.mkdtemp()
        switch = "true" if direct else "false"
        self.process = subprocess.Popen(
            [f"{bin_dir}/statehoused", "--listen", "127.0.0.1:0", "--http-listen", "off"]
            + ["--data-dir", f"{self.directory}/data", "--grpc-direct-unary", switch],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        port = None
        for line in self.process.stderr:
            if "Listening" in line:
                found = re.search(r"address=[^ ]*:(\d+)", line)
                port = found.group(1) if found else None
                break
        if port is None:
            raise SystemExit(f"statehoused did not start (direct={direct})")
        stderr = self.process.stderr
        threading.Thread(target=lambda: [None for _ in stderr], daemon=True).start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")

    def method(self, name: str) -> Callable[[bytes], bytes]:
        return self.channel.unary_unary(V2 + name, request_serializer=None, response_deserializer=None)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().split(")")[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.channel.close()
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def seed(daemon: Daemon) -> None:
    apply = daemon.method("Apply")
    for index in range(50):
        value = b'{"n":%d,"text":"hello world"}' % index
        operation = pb.Operation(agent_id="a", key="k", kind=pb.OPERATION_KIND_PUT, value=value)
        apply(pb.ApplyRequest(namespace="d", operations=[operation]).SerializeToString())
    draft = pb.AgentEventDraft(agent_id="a", type="note", session_id="s1", content=b'{"text":"hello world"}')
    daemon.method("RecordEvents")(pb.RecordEventsRequest(namespace="d", events=[draft] * 20).SerializeToString())


def measure(bin_dir: str, direct: bool, name: str, request: Any, seconds: float, threads: int) -> Tuple[float, float]:
    """(calls/s, daemon CPU µs per call)."""
    daemon = Daemon(bin_dir, direct)
    try:
        seed(daemon)
        method = daemon.method(name)
        raw = request.SerializeToString()
        warm_until = time.monotonic() + 1
        while time.monotonic() < warm_until:
            method(raw)
        counts = [0] * threads
        before = daemon.cpu_seconds()
        began = time.monotonic()
        end = began + seconds

        def work(index: int) -> None:
            calls = 0
            while time.monotonic() < end:
                method(raw)
                calls += 1
            counts[index] = calls

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
        took = time.monotonic() - began
        total = sum(counts)
        return total / took, (daemon.cpu_seconds() - before) / total * 1e6
    finally:
        daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bin_dir")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    options = parser.parse_args()
    print(
        "| method | round | through grpc-swift: calls/s (CPU µs) | direct: calls/s (CPU µs) | CPU direct / grpc-swift |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, name, request in METHODS:
        for round_number in range(1, options.rounds + 1):
            off = measure(options.bin_dir, False, name, request, options.seconds, options.threads)
            on = measure(options.bin_dir, True, name, request, options.seconds, options.threads)
            print(
                f"| {label} | {round_number} | {off[0]:,.0f} ({off[1]:.1f}) | {on[0]:,.0f} ({on[1]:.1f}) "
                f"| {on[1] / off[1]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
