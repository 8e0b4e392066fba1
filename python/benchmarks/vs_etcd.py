"""Statehouse against etcd: one Python gRPC client drives a statehoused and an etcd on the same workloads.

    python python/benchmarks/vs_etcd.py --statehouse 127.0.0.1:PORT --statehouse-pid PID \\
        --etcd 127.0.0.1:PORT --etcd-pid PID [--seconds 5] [--rounds 3] [--concurrency 1 64] [--json FILE]

scripts/bench-vs-etcd.sh starts both servers (durable, temporary data directories) and runs this. The client stack
is the same for both servers so that its cost does not favour either: grpc.aio generic calls on bytes (no stubs, no
protobuf objects while timing), requests encoded before the runs in a pool of 1,000 distinct keys that the workers
cycle through. Per run it measures operations per second, client-side latency, and the server's CPU per operation
from /proc/PID/stat (user + system time over the run), which is the fairest number on a machine whose cores the
client shares. Servers alternate per workload (statehoused's ways of doing it, then etcd's), rounds repeat, and the
table shows medians. It never fails on a number (benchmarks report, tests assert).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import struct
import sys
import time
from typing import Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

import grpc

from statehouse._proto import statehouse_pb2 as pb

POOL = 1000  # distinct pre-encoded requests per workload, cycled
VALUE_BYTES = 100
NAMESPACE = "bench"
AGENT = "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STALL_SECONDS = 30.0

V2 = "/statehouse.v2.StatehouseService/"
V1 = "/statehouse.v1.StatehouseService/"
ETCD_KV = "/etcdserverpb.KV/"


# ---- protobuf wire format, by hand (etcd's few messages, statehouse.v1's Struct values, session framing) ----------


def varint(number: int) -> bytes:
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def field_bytes(number: int, data: bytes) -> bytes:
    """A length-delimited field (bytes, string, embedded message)."""
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def read_varint(data: bytes, offset: int) -> Tuple[int, int]:
    """The varint at data[offset:] and the offset after it."""
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


def first_string_field(data: bytes, number: int) -> bytes:
    """The first length-delimited field `number` of a message (top level), or b"" if absent."""
    offset = 0
    while offset < len(data):
        tag, offset = read_varint(data, offset)
        wire = tag & 7
        if wire == 0:
            _, offset = read_varint(data, offset)
        elif wire == 2:
            length, offset = read_varint(data, offset)
            if tag >> 3 == number:
                return data[offset : offset + length]
            offset += length
        elif wire == 1:
            offset += 8
        elif wire == 5:
            offset += 4
        else:
            break
    return b""


# ---- the data both servers store ----------------------------------------------------------------------------------


def key_name(index: int) -> str:
    return f"k{index:06d}"


def value_json(index: int) -> bytes:
    """A JSON object of exactly VALUE_BYTES bytes: {"n":INDEX,"pad":"xxx..."} (as statehoused stores a v1 Struct)."""
    head, tail = f'{{"n":{index},"pad":"', '"}'
    return (head + "x" * (VALUE_BYTES - len(head) - len(tail)) + tail).encode()


def struct_value(index: int) -> bytes:
    """The google.protobuf.Struct of value_json(index), for statehouse.v1 (n is a double there, an integer stored)."""
    pad = json.loads(value_json(index))["pad"]
    number = field_bytes(1, b"n") + field_bytes(2, varint(2 << 3 | 1) + struct.pack("<d", float(index)))
    text = field_bytes(1, b"pad") + field_bytes(2, field_bytes(3, pad.encode()))
    return field_bytes(1, number) + field_bytes(1, text)


def sh_operation(index: int) -> pb.Operation:
    return pb.Operation(agent_id=AGENT, key=key_name(index), kind=pb.OPERATION_KIND_PUT, value=value_json(index))


def sh_apply(indexes: Sequence[int]) -> pb.ApplyRequest:
    return pb.ApplyRequest(namespace=NAMESPACE, operations=[sh_operation(index) for index in indexes])


def sh_get(index: int) -> pb.GetStateRequest:
    return pb.GetStateRequest(namespace=NAMESPACE, agent_id=AGENT, key=key_name(index))


def etcd_key(index: int) -> bytes:
    return f"{AGENT}/{key_name(index)}".encode()


def etcd_put(index: int) -> bytes:
    """PutRequest{key=1, value=2}."""
    return field_bytes(1, etcd_key(index)) + field_bytes(2, value_json(index))


def etcd_txn(indexes: Sequence[int]) -> bytes:
    """TxnRequest{success=2 repeated RequestOp{request_put=2}}, no compare: always the success branch."""
    return b"".join(field_bytes(2, field_bytes(2, etcd_put(index))) for index in indexes)


def etcd_range(index: int) -> bytes:
    """RangeRequest{key=1}: one key, etcd's default (linearizable) read."""
    return field_bytes(1, etcd_key(index))


def ten_keys(request: int) -> List[int]:
    """The keys of 10-write request number `request`: 10 distinct keys, and no two requests of the pool share one."""
    return [request * 10 + offset for offset in range(10)]


# ---- the client: generic calls on bytes -----------------------------------------------------------------------------


class Session:
    """statehoused's Session stream on bytes: requests tagged with ids, many outstanding, answered as they complete.

    Like the Python SDK's session, everything queued when the sender wakes goes out as one stream message (a lone
    request as itself, more as the `batch` field, 16), so 64 callers do not cost 64 gRPC writes. A request body is
    pre-encoded without its id; the id (field 1, a varint) is prepended per request, which is valid protobuf in any
    field order.
    """

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._call = channel.stream_stream(V2 + "Session", request_serializer=None, response_deserializer=None)()
        self._queue: List[bytes] = []
        self._wake = asyncio.Event()
        self._pending: Dict[int, asyncio.Future[bytes]] = {}
        self._next_id = 0
        self.failure: Optional[BaseException] = None
        self._tasks = [asyncio.ensure_future(self._send()), asyncio.ensure_future(self._read())]

    async def request(self, body: bytes) -> bytes:
        if self.failure is not None:
            raise ConnectionError(f"the session failed: {self.failure}")
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._queue.append(field_varint(1, request_id) + body)
        self._wake.set()
        return await future

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(0)  # let the callers that are ready queue theirs into this same message
            self._wake.clear()
            items, self._queue = self._queue, []
            if len(items) == 1:
                await self._call.write(items[0])
            elif items:
                await self._call.write(b"".join(field_bytes(16, item) for item in items))

    async def _read(self) -> None:
        failure: BaseException = ConnectionError("statehoused ended the session")
        try:
            while True:
                response = await self._call.read()
                if response is grpc.aio.EOF:
                    break
                request_id, _ = read_varint(response, 1) if response[:1] == b"\x08" else (0, 0)
                future = self._pending.pop(request_id, None)
                if future is not None and not future.done():
                    future.set_result(response)
        except grpc.aio.AioRpcError as error:
            failure = error
        self.failure = failure
        for future in self._pending.values():
            if not future.done():
                future.set_exception(failure)
        self._pending.clear()

    async def close(self) -> None:
        self._call.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def session_failed(response: bytes) -> bool:
    """A SessionResponse whose answer is field 2 (SessionError) instead of a result."""
    offset = read_varint(response, 1)[1] if response[:1] == b"\x08" else 0
    return response[offset : offset + 1] == b"\x12"


Op = Callable[[int], Awaitable[bool]]  # one operation on pool entry i; False when the server answered with an error


class Workloads:
    """Every operation of the comparison, as a function of a pool index, over one channel per server."""

    def __init__(self, statehouse: grpc.aio.Channel, etcd: grpc.aio.Channel) -> None:
        self.statehouse, self.etcd = statehouse, etcd
        self.session: Optional[Session] = None

        def unary(channel: grpc.aio.Channel, method: str) -> grpc.aio.UnaryUnaryMultiCallable:
            return channel.unary_unary(method, request_serializer=None, response_deserializer=None)

        self.apply = unary(statehouse, V2 + "Apply")
        self.get_state = unary(statehouse, V2 + "GetState")
        self.begin = unary(statehouse, V1 + "BeginTransaction")
        self.write = unary(statehouse, V1 + "Write")
        self.commit = unary(statehouse, V1 + "Commit")
        self.put = unary(etcd, ETCD_KV + "Put")
        self.txn = unary(etcd, ETCD_KV + "Txn")
        self.range = unary(etcd, ETCD_KV + "Range")

        one = [sh_apply([index]) for index in range(POOL)]
        ten = [sh_apply(ten_keys(index)) for index in range(POOL)]
        gets = [sh_get(index) for index in range(POOL)]
        self.apply_one = [request.SerializeToString() for request in one]
        self.apply_ten = [request.SerializeToString() for request in ten]
        self.get_one = [request.SerializeToString() for request in gets]
        self.session_one = [pb.SessionRequest(apply=request).SerializeToString() for request in one]
        self.session_ten = [pb.SessionRequest(apply=request).SerializeToString() for request in ten]
        self.session_get = [pb.SessionRequest(get=request).SerializeToString() for request in gets]
        # statehouse.v1 WriteRequest{txn_id=1, namespace=2, agent_id=3, key=4, value=5}: all but the txn id.
        self.v1_write_tail = [
            field_bytes(2, NAMESPACE.encode())
            + field_bytes(3, AGENT.encode())
            + field_bytes(4, key_name(index).encode())
            + field_bytes(5, struct_value(index))
            for index in range(POOL)
        ]
        self.etcd_put = [etcd_put(index) for index in range(POOL)]
        self.etcd_txn = [etcd_txn(ten_keys(index)) for index in range(POOL)]
        self.etcd_range = [etcd_range(index) for index in range(POOL)]

    async def _session_op(self, body: bytes) -> bool:
        if self.session is None:
            self.session = Session(self.statehouse)
        return not session_failed(await self.session.request(body))

    async def close_session(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    # Each takes a pool index; a gRPC error propagates and is counted by the runner.
    async def session_apply_one(self, i: int) -> bool:
        return await self._session_op(self.session_one[i])

    async def session_apply_ten(self, i: int) -> bool:
        return await self._session_op(self.session_ten[i])

    async def session_get_one(self, i: int) -> bool:
        return await self._session_op(self.session_get[i])

    async def unary_apply_one(self, i: int) -> bool:
        await self.apply(self.apply_one[i])
        return True

    async def unary_apply_ten(self, i: int) -> bool:
        await self.apply(self.apply_ten[i])
        return True

    async def unary_get(self, i: int) -> bool:
        await self.get_state(self.get_one[i])
        return True

    async def v1_begin_write_commit(self, i: int) -> bool:
        """The original API's one-write transaction: three round trips (BeginTransaction, Write, Commit)."""
        txn_id = field_bytes(1, first_string_field(await self.begin(b""), 1))
        await self.write(txn_id + self.v1_write_tail[i])
        await self.commit(txn_id)
        return True

    async def etcd_put_one(self, i: int) -> bool:
        await self.put(self.etcd_put[i])
        return True

    async def etcd_txn_ten(self, i: int) -> bool:
        await self.txn(self.etcd_txn[i])
        return True

    async def etcd_range_one(self, i: int) -> bool:
        await self.range(self.etcd_range[i])
        return True


# statehoused's operations in the order of the table: (id, row label, the etcd operation it is compared with).
STATEHOUSE_OPS = [
    ("session-put", "one-write commit, session stream", "etcd-put"),
    ("unary-apply", "one-write commit, unary Apply", "etcd-put"),
    ("v1-begin-write-commit", "begin + write + commit (the original API's path)", "etcd-put"),
    ("session-get", "point get, session", "etcd-range"),
    ("unary-get", "point get, unary", "etcd-range"),
    ("session-txn10", "10-write commit, session", "etcd-txn10"),
    ("unary-txn10", "10-write commit, unary", "etcd-txn10"),
]
ETCD_LABELS = {"etcd-put": "Put", "etcd-range": "Range", "etcd-txn10": "Txn of 10 puts"}
# Run order: per workload, statehoused's ways, then etcd's, so that a change in the machine's load hits both.
SCHEDULE = [
    ["session-put", "unary-apply", "v1-begin-write-commit", "etcd-put"],
    ["session-txn10", "unary-txn10", "etcd-txn10"],
    ["session-get", "unary-get", "etcd-range"],
]


def operation(workloads: Workloads, name: str) -> Op:
    return {
        "session-put": workloads.session_apply_one,
        "unary-apply": workloads.unary_apply_one,
        "v1-begin-write-commit": workloads.v1_begin_write_commit,
        "session-get": workloads.session_get_one,
        "unary-get": workloads.unary_get,
        "session-txn10": workloads.session_apply_ten,
        "unary-txn10": workloads.unary_apply_ten,
        "etcd-put": workloads.etcd_put_one,
        "etcd-txn10": workloads.etcd_txn_ten,
        "etcd-range": workloads.etcd_range_one,
    }[name]


# ---- measuring -------------------------------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> Optional[int]:
    """utime + stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat); None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def percentile(samples: List[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def measure(op: Op, name: str, pid: int, concurrency: int, seconds: float, max_ops: int) -> Dict[str, object]:
    """`concurrency` coroutines run `op` back to back until the deadline or max_ops; the server's CPU over the run."""
    latencies: List[float] = []
    errors = 0
    next_index = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors, next_index
        while next_index < max_ops and time.perf_counter() < deadline:
            index = next_index % POOL
            next_index += 1
            started = time.perf_counter()
            try:
                ok = await op(index)
            except (grpc.aio.AioRpcError, ConnectionError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    ticks_before, client_before = cpu_ticks(pid), time.process_time()
    started = time.perf_counter()
    workers = asyncio.gather(*(worker() for _ in range(concurrency)))
    try:  # a server that stops answering ends the run STALL_SECONDS after its deadline, with what was measured
        await asyncio.wait_for(workers, timeout=seconds + STALL_SECONDS)
        stalled = False
    except asyncio.TimeoutError:
        stalled = True
    elapsed = time.perf_counter() - started
    ticks_after, client_cpu = cpu_ticks(pid), time.process_time() - client_before
    ops = len(latencies)
    server_cpu = None
    if ticks_before is not None and ticks_after is not None and ops:
        server_cpu = (ticks_after - ticks_before) / CLOCK_TICKS / ops * 1e6
    return {
        "op": name,
        "server": "etcd" if name.startswith("etcd") else "statehoused",
        "concurrency": concurrency,
        "ops": ops,
        "errors": errors,
        "stalled": stalled,
        "seconds": round(elapsed, 3),
        "ops_per_s": ops / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "server_cpu_us_per_op": server_cpu,
        "client_cpu_us_per_op": client_cpu / ops * 1e6 if ops else None,
    }


async def retry(call: Callable[[], Awaitable[bytes]], what: str, attempts: int = 50) -> bytes:
    """A first call that may come before the server is ready: up to `attempts` tries, 0.1 s apart."""
    for attempt in range(attempts):
        try:
            return await call()
        except grpc.aio.AioRpcError as error:
            if attempt == attempts - 1:
                raise SystemExit(f"error: {what}: {error.code().name} {error.details()}") from None
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def prepare(workloads: Workloads) -> Dict[str, str]:
    """Writes the keys that the gets read (all POOL keys on both servers) and returns the servers' versions."""
    version = await retry(lambda: workloads.statehouse.unary_unary(V2 + "Version")(b""), "statehoused Version")
    status = await retry(lambda: workloads.etcd.unary_unary("/etcdserverpb.Maintenance/Status")(b""), "etcd Status")
    for start in range(0, POOL, 100):
        batch = range(start, start + 100)
        await workloads.apply(sh_apply(batch).SerializeToString())
        await workloads.txn(etcd_txn(batch))  # etcd takes at most 128 operations per Txn by default
    check = pb.GetStateResponse.FromString(await workloads.get_state(workloads.get_one[POOL - 1]))
    if not check.record.exists or check.record.value != value_json(POOL - 1):
        raise SystemExit(f"error: statehoused did not return the value it was given: {check}")
    return {
        "statehoused": pb.VersionResponse.FromString(version).version,
        "etcd": first_string_field(status, 2).decode(),
    }


async def run(args: argparse.Namespace) -> Tuple[Dict[str, str], List[Dict[str, object]]]:
    results: List[Dict[str, object]] = []
    pids = {"statehoused": args.statehouse_pid, "etcd": args.etcd_pid}
    async with grpc.aio.insecure_channel(args.statehouse) as statehouse, grpc.aio.insecure_channel(args.etcd) as etcd:
        workloads = Workloads(statehouse, etcd)
        versions = await prepare(workloads)
        print(
            f"statehoused {versions['statehoused']} at {args.statehouse}, etcd {versions['etcd']} at {args.etcd}; "
            f"{args.rounds} rounds of {args.seconds:g} s per run",
            file=sys.stderr,
            flush=True,
        )
        for round_ in range(1, args.rounds + 1):
            for concurrency in args.concurrency:
                for group in SCHEDULE:
                    for name in (name for name in group if name in args.ops):
                        server = "etcd" if name.startswith("etcd") else "statehoused"
                        result = await measure(
                            operation(workloads, name), name, pids[server], concurrency, args.seconds, args.max_ops
                        )
                        await workloads.close_session()  # every session run starts a stream of its own
                        result["round"] = round_
                        results.append(result)
                        cpu = result["server_cpu_us_per_op"]
                        print(
                            f"round {round_} x{concurrency:<3} {name:22} {result['ops_per_s']:>9,.0f}/s  "
                            f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  server CPU "
                            f"{'-' if cpu is None else f'{cpu:.1f}'} µs/op"
                            + (f"  ({result['errors']} errors)" if result["errors"] else "")
                            + ("  (stalled: cut short)" if result["stalled"] else ""),
                            file=sys.stderr,
                            flush=True,
                        )
    return versions, results


# ---- the table -----------------------------------------------------------------------------------------------------


def median(results: List[Dict[str, object]], name: str, concurrency: int, field: str) -> Optional[float]:
    values = [
        float(r[field])
        for r in results  # type: ignore[arg-type]
        if r["op"] == name and r["concurrency"] == concurrency and r[field] is not None
    ]
    return statistics.median(values) if values else None


def ratio(a: Optional[float], b: Optional[float]) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def number(value: Optional[float], digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(results: List[Dict[str, object]], concurrency: int) -> str:
    lines = [
        f"{concurrency} in flight:",
        "",
        "| operation | etcd operation | statehoused ops/s | etcd ops/s | ops/s ratio | statehoused CPU µs/op "
        "| etcd CPU µs/op | CPU ratio | statehoused p99 ms | etcd p99 ms | p99 ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label, reference in STATEHOUSE_OPS:
        ours = [median(results, name, concurrency, field) for field in ("ops_per_s", "server_cpu_us_per_op", "p99_ms")]
        theirs = [
            median(results, reference, concurrency, field) for field in ("ops_per_s", "server_cpu_us_per_op", "p99_ms")
        ]
        if ours[0] is None and theirs[0] is None:
            continue  # left out with --ops
        lines.append(
            f"| {label} | {ETCD_LABELS[reference]} | {number(ours[0])} | {number(theirs[0])} "
            f"| {ratio(ours[0], theirs[0])} "
            f"| {number(ours[1], 1)} | {number(theirs[1], 1)} | {ratio(ours[1], theirs[1])} "
            f"| {number(ours[2], 2)} | {number(theirs[2], 2)} | {ratio(ours[2], theirs[2])} |"
        )
    errors = sum(int(r["errors"]) for r in results if r["concurrency"] == concurrency)  # type: ignore[arg-type]
    if errors:
        lines += ["", f"{errors} operations failed at {concurrency} in flight (not counted; see --json)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statehouse", required=True, help="statehoused address, HOST:PORT")
    parser.add_argument("--statehouse-pid", type=int, required=True, help="for its CPU time (/proc/PID/stat)")
    parser.add_argument("--etcd", required=True, help="etcd client address, HOST:PORT")
    parser.add_argument("--etcd-pid", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5.0, help="per run")
    parser.add_argument("--max-ops", type=int, default=200_000, help="per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64], help="operations in flight")
    parser.add_argument(
        "--ops",
        nargs="+",
        default=[name for group in SCHEDULE for name in group],
        choices=[name for group in SCHEDULE for name in group],
        help="default: all",
    )
    parser.add_argument("--json", metavar="FILE", help="write every run's raw result here ('-': stdout)")
    args = parser.parse_args()

    versions, results = asyncio.run(run(args))
    if args.json:
        payload = json.dumps({"versions": versions, "runs": results}, indent=1)
        if args.json == "-":
            print(payload)
        else:
            with open(args.json, "w") as out:
                out.write(payload + "\n")
    print(
        f"statehoused {versions['statehoused']} against etcd {versions['etcd']}; medians of {args.rounds} rounds "
        f"of {args.seconds:g} s; ratios are statehoused / etcd (ops/s: above 1 is faster; CPU and p99: below 1 is "
        "cheaper, quicker)\n"
    )
    print("\n\n".join(table(results, concurrency) for concurrency in args.concurrency))


if __name__ == "__main__":
    main()
