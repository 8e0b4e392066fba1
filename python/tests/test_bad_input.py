"""The bad-input catalogue: malformed and hostile requests sent to a real daemon as raw RPCs (bypassing the SDK's own
checks). Each case asserts the exact status code, a helpful message, and that the stored state and the log are
byte-for-byte what they were before."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List

import grpc
import pytest

from daemon import Daemon
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc

NS = "catalogue"
MIB = 1024 * 1024
SERVICE = "/statehouse.v2.StatehouseService/"


@dataclass
class World:
    """A daemon holding known state, and handles on transactions in every state."""

    stub: statehouse_pb2_grpc.StatehouseServiceStub
    channel: grpc.Channel
    committed_txn: str
    aborted_txn: str
    expired_txn: str
    open_txn: str
    keys_cursor: str
    history_cursor: str

    def raw(self, method: str, payload: bytes) -> bytes:
        """Sends hand-made protobuf bytes, for what a well-behaved client library cannot produce."""
        call = self.channel.unary_unary(SERVICE + method, request_serializer=None, response_deserializer=None)
        return call(payload, timeout=30)


def put(agent: str, key: str, value: bytes) -> pb.Operation:
    return pb.Operation(agent_id=agent, key=key, kind=pb.OPERATION_KIND_PUT, value=value)


def apply(*operations: pb.Operation, **fields: Any) -> pb.ApplyRequest:
    return pb.ApplyRequest(namespace=fields.pop("namespace", NS), operations=list(operations), **fields)


def varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, written by hand (so it can hold invalid UTF-8)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def raw_apply(agent: bytes, key: bytes, value: bytes) -> bytes:
    operation = field(1, agent) + field(2, key) + varint(3 << 3) + varint(1) + field(4, value)
    return field(1, NS.encode()) + field(2, operation)


def tamper(cursor: str) -> str:
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]


def snapshot(stub: statehouse_pb2_grpc.StatehouseServiceStub) -> List[bytes]:
    """Every namespace's head and every event of its log, as bytes."""
    parts: List[bytes] = []
    heads = stub.ListNamespaces(pb.ListNamespacesRequest(limit=1000)).namespaces
    for head in heads:
        parts.append(head.SerializeToString())
        cursor = ""
        while True:
            page = stub.ReadLog(pb.ReadLogRequest(filter=pb.LogFilter(namespace=head.namespace), cursor=cursor))
            parts.extend(event.SerializeToString() for event in page.events)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
    return parts


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    daemon = Daemon(tmp_path_factory.mktemp("catalogue") / "data").start()
    channel = grpc.insecure_channel(daemon.url, options=[("grpc.max_send_message_length", 64 * MIB)])
    stub = statehouse_pb2_grpc.StatehouseServiceStub(channel)
    stub.Apply(apply(put("a", "k", b'{"v":1}'), put("a", "other", b"[1]"), put("b", "k", b"true")))
    stub.Apply(apply(put("a", "k", b'{"v":2}'), idempotency_key="catalogue-seed"))

    def begin(timeout_ms: int = 0) -> str:
        return stub.BeginTransaction(pb.BeginTransactionRequest(namespace=NS, timeout_ms=timeout_ms)).txn_id

    committed = begin()
    stub.Commit(pb.CommitRequest(txn_id=committed, operations=[put("c", "k", b"1")]))
    aborted = begin()
    stub.Abort(pb.AbortRequest(txn_id=aborted))
    expired = begin(timeout_ms=1)
    time.sleep(0.05)
    open_txn = begin(timeout_ms=600_000)
    stub.Write(pb.WriteRequest(txn_id=open_txn, agent_id="a", key="staged", value=b"1"))
    keys_cursor = stub.ListKeys(pb.ListKeysRequest(namespace=NS, agent_id="a", limit=1)).next_cursor
    history_cursor = stub.History(pb.HistoryRequest(namespace=NS, agent_id="a", key="k", limit=1)).next_cursor
    assert keys_cursor and history_cursor
    yield World(stub, channel, committed, aborted, expired, open_txn, keys_cursor, history_cursor)
    channel.close()
    daemon.stop()


@dataclass
class Case:
    name: str
    code: Any  # a grpc.StatusCode, or a tuple of the codes that may arrive
    message: str
    send: Callable[[World], Any]


INVALID = grpc.StatusCode.INVALID_ARGUMENT

CASES: List[Case] = [
    # ---- names ----
    Case("empty agent_id", INVALID, "agent_id", lambda w: w.stub.Apply(apply(put("", "k", b"1")))),
    Case("empty key", INVALID, "key", lambda w: w.stub.Apply(apply(put("a", "", b"1")))),
    Case("agent_id over 256 bytes", INVALID, "agent_id", lambda w: w.stub.Apply(apply(put("x" * 257, "k", b"1")))),
    Case("key over 1024 bytes", INVALID, "key", lambda w: w.stub.Apply(apply(put("a", "k" * 1025, b"1")))),
    Case(
        "key of 1024 bytes of 2-byte characters plus one",
        INVALID,
        "key",
        lambda w: w.stub.Apply(apply(put("a", "é" * 512 + "x", b"1"))),
    ),
    Case("control character in a key", INVALID, "control", lambda w: w.stub.Apply(apply(put("a", "bad\x00key", b"1")))),
    Case("newline in an agent_id", INVALID, "control", lambda w: w.stub.Apply(apply(put("a\nb", "k", b"1")))),
    Case(
        "namespace with a slash",
        INVALID,
        "namespace",
        lambda w: w.stub.Apply(apply(put("a", "k", b"1"), namespace="bad/ns")),
    ),
    Case(
        "namespace too long",
        INVALID,
        "namespace",
        lambda w: w.stub.Apply(apply(put("a", "k", b"1"), namespace="n" * 1000)),
    ),
    # Protobuf strings must be UTF-8: the request is refused before it reaches the service.
    Case(
        "invalid UTF-8 in an agent_id",
        INVALID,
        "deserialize",
        lambda w: w.raw("Apply", raw_apply(b"\xff\xfe", b"k", b"1")),
    ),
    Case("invalid UTF-8 in a key", INVALID, "deserialize", lambda w: w.raw("Apply", raw_apply(b"a", b"k\xc3", b"1"))),
    Case("garbage bytes as a request", INVALID, "deserialize", lambda w: w.raw("Apply", b"\xff\xff\xff\xff\x0f")),
    # ---- values ----
    Case("invalid JSON", INVALID, "JSON", lambda w: w.stub.Apply(apply(put("a", "k", b"{broken")))),
    Case("empty value on a put", INVALID, "JSON", lambda w: w.stub.Apply(apply(put("a", "k", b"")))),
    Case("two JSON texts", INVALID, "JSON", lambda w: w.stub.Apply(apply(put("a", "k", b"1 2")))),
    Case("NaN is not JSON", INVALID, "JSON", lambda w: w.stub.Apply(apply(put("a", "k", b"NaN")))),
    Case("single-quoted string", INVALID, "JSON", lambda w: w.stub.Apply(apply(put("a", "k", b"'x'")))),
    Case("trailing comma", INVALID, "JSON", lambda w: w.stub.Apply(apply(put("a", "k", b"[1,2,]")))),
    Case(
        "invalid UTF-8 inside a JSON string", INVALID, "UTF-8", lambda w: w.stub.Apply(apply(put("a", "k", b'"\xff"')))
    ),
    Case("a number with a leading zero", INVALID, "JSON", lambda w: w.stub.Apply(apply(put("a", "k", b"012")))),
    Case("nesting 100,000 deep", INVALID, "nest", lambda w: w.stub.Apply(apply(put("a", "k", b"[" * 100_000)))),
    Case(
        "value of 1 MiB + 1 byte",
        INVALID,
        "limit",
        lambda w: w.stub.Apply(apply(put("a", "k", b'"' + b"x" * (MIB - 1) + b'"'))),
    ),
    Case(
        "a delete with a value",
        INVALID,
        "delete",
        lambda w: w.stub.Apply(apply(pb.Operation(agent_id="a", key="k", kind=pb.OPERATION_KIND_DELETE, value=b"1"))),
    ),
    Case(
        "operation kind unspecified",
        INVALID,
        "kind",
        lambda w: w.stub.Apply(apply(pb.Operation(agent_id="a", key="k", value=b"1"))),
    ),
    # ---- transactions ----
    Case(
        "a condition on an empty key",
        INVALID,
        "key",
        lambda w: w.stub.Apply(
            apply(put("a", "k", b"3"), conditions=[pb.Condition(agent_id="a", key="", must_not_exist=True)])
        ),
    ),
    Case(
        "10,001 operations",
        INVALID,
        "limit",
        lambda w: w.stub.Apply(apply(*[put("a", f"k{i}", b"1") for i in range(10_001)])),
    ),
    Case(
        "the same key twice in one apply",
        INVALID,
        "more than once",
        lambda w: w.stub.Apply(apply(put("a", "k", b"1"), put("a", "k", b"2"))),
    ),
    Case(
        "a condition with no expectation",
        INVALID,
        "condition",
        lambda w: w.stub.Apply(apply(put("a", "k", b"3"), conditions=[pb.Condition(agent_id="a", key="k")])),
    ),
    Case(
        "a condition that does not hold",
        grpc.StatusCode.ABORTED,
        "conflict",
        lambda w: w.stub.Apply(apply(put("a", "k", b"3"), conditions=[pb.Condition(agent_id="a", key="k", version=1)])),
    ),
    Case(
        "an idempotency key reused for other content",
        INVALID,
        "idempotency",
        lambda w: w.stub.Apply(apply(put("a", "k", b"99"), idempotency_key="catalogue-seed")),
    ),
    Case(
        "commit of an unknown transaction",
        grpc.StatusCode.NOT_FOUND,
        "not found",
        lambda w: w.stub.Commit(pb.CommitRequest(txn_id="no-such-transaction")),
    ),
    Case(
        "write to an unknown transaction",
        grpc.StatusCode.NOT_FOUND,
        "not found",
        lambda w: w.stub.Write(pb.WriteRequest(txn_id="no-such-transaction", agent_id="a", key="k", value=b"1")),
    ),
    Case(
        "commit of an aborted transaction",
        grpc.StatusCode.NOT_FOUND,
        "aborted",
        lambda w: w.stub.Commit(pb.CommitRequest(txn_id=w.aborted_txn)),
    ),
    Case(
        "write to a committed transaction",
        grpc.StatusCode.NOT_FOUND,
        "already committed",
        lambda w: w.stub.Write(pb.WriteRequest(txn_id=w.committed_txn, agent_id="a", key="k", value=b"1")),
    ),
    Case(
        "abort of a committed transaction",
        grpc.StatusCode.NOT_FOUND,
        "already committed",
        lambda w: w.stub.Abort(pb.AbortRequest(txn_id=w.committed_txn)),
    ),
    Case(
        "write to an expired transaction",
        grpc.StatusCode.FAILED_PRECONDITION,
        "expired",
        lambda w: w.stub.Write(pb.WriteRequest(txn_id=w.expired_txn, agent_id="a", key="k", value=b"1")),
    ),
    Case(
        "commit of an expired transaction",
        grpc.StatusCode.FAILED_PRECONDITION,
        "expired",
        lambda w: w.stub.Commit(pb.CommitRequest(txn_id=w.expired_txn)),
    ),
    Case(
        "a transaction timeout over 10 minutes",
        INVALID,
        "timeout",
        lambda w: w.stub.BeginTransaction(pb.BeginTransactionRequest(namespace=NS, timeout_ms=600_001)),
    ),
    Case(
        "a bad write staged with a commit",
        INVALID,
        "key",
        lambda w: w.stub.Commit(pb.CommitRequest(txn_id=w.open_txn, operations=[put("a", "", b"1")])),
    ),
    Case(
        "invalid JSON written into an open transaction",
        INVALID,
        "JSON",
        lambda w: w.stub.Write(pb.WriteRequest(txn_id=w.open_txn, agent_id="a", key="k", value=b"{")),
    ),
    # ---- reads ----
    Case(
        "version 0",
        INVALID,
        "version",
        lambda w: w.stub.GetStateAtVersion(pb.GetStateAtVersionRequest(namespace=NS, agent_id="a", key="k")),
    ),
    Case(
        "a version beyond the latest",
        INVALID,
        "no version 3",
        lambda w: w.stub.GetStateAtVersion(pb.GetStateAtVersionRequest(namespace=NS, agent_id="a", key="k", version=3)),
    ),
    Case(
        "10,001 keys in one GetMany",
        INVALID,
        "limit",
        lambda w: w.stub.GetMany(
            pb.GetManyRequest(namespace=NS, keys=[pb.KeyAddress(agent_id="a", key=f"k{i}") for i in range(10_001)])
        ),
    ),
    Case(
        "a tampered listing cursor",
        INVALID,
        "cursor",
        lambda w: w.stub.ListKeys(pb.ListKeysRequest(namespace=NS, agent_id="a", cursor=tamper(w.keys_cursor))),
    ),
    Case(
        "a cursor that is not base64",
        INVALID,
        "cursor",
        lambda w: w.stub.ListKeys(pb.ListKeysRequest(namespace=NS, agent_id="a", cursor="!!not a cursor!!")),
    ),
    Case(
        "a listing cursor used for history",
        INVALID,
        "cursor",
        lambda w: w.stub.History(pb.HistoryRequest(namespace=NS, agent_id="a", key="k", cursor=w.keys_cursor)),
    ),
    Case(
        "a history cursor used for another agent",
        INVALID,
        "cursor",
        lambda w: w.stub.History(pb.HistoryRequest(namespace=NS, agent_id="b", key="k", cursor=w.history_cursor)),
    ),
    Case(
        "a page over 10,000",
        INVALID,
        "page size",
        lambda w: w.stub.ListKeys(pb.ListKeysRequest(namespace=NS, agent_id="a", limit=10_001)),
    ),
    Case(
        "an inverted commit_ts range",
        INVALID,
        "range",
        lambda w: w.stub.ReadLog(
            pb.ReadLogRequest(filter=pb.LogFilter(namespace=NS, from_commit_ts=5, to_commit_ts=2))
        ),
    ),
    Case(
        "an inverted time range",
        INVALID,
        "range",
        lambda w: w.stub.ReadLog(pb.ReadLogRequest(filter=pb.LogFilter(namespace=NS, since_micros=10, until_micros=5))),
    ),
    Case(
        "an inverted verify range",
        INVALID,
        "range",
        lambda w: w.stub.Verify(pb.VerifyRequest(namespace=NS, from_commit_ts=3, to_commit_ts=1)),
    ),
    Case(
        "a namespace that is not valid, for a read",
        INVALID,
        "namespace",
        lambda w: w.stub.GetState(pb.GetStateRequest(namespace="bad ns", agent_id="a", key="k")),
    ),
    # ---- transport ----
    # The transport refuses it with RESOURCE_EXHAUSTED while the client is still sending; grpc-core then often
    # reports the reset stream (CANCELLED) before it reads that status. Either way nothing reaches the service.
    Case(
        "a message over the daemon's 32 MiB limit",
        (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED),
        "",
        lambda w: w.stub.Apply(apply(put("a", "k", b'"' + b"x" * (33 * MIB) + b'"'))),
    ),
]


def test_the_catalogue_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_and_changes_nothing(world: World, case: Case) -> None:
    before = snapshot(world.stub)
    with pytest.raises(grpc.RpcError) as raised:
        case.send(world)
    expected = case.code if isinstance(case.code, tuple) else (case.code,)
    assert raised.value.code() in expected, raised.value.details()
    details = raised.value.details() or ""
    assert case.message.lower() in details.lower(), details
    assert "internal" not in details.lower()
    assert snapshot(world.stub) == before
    assert world.stub.Health(pb.HealthRequest()).status == "ok"


def test_the_state_is_what_the_setup_wrote(world: World) -> None:
    record = world.stub.GetState(pb.GetStateRequest(namespace=NS, agent_id="a", key="k")).record
    assert (json.loads(record.value), record.version) == ({"v": 2}, 2)
    staged = world.stub.TransactionGet(pb.TransactionGetRequest(txn_id=world.open_txn, agent_id="a", key="staged"))
    assert staged.record.value == b"1"  # the refused writes and commit left the open transaction as it was
    assert world.stub.ListNamespaces(pb.ListNamespacesRequest()).namespaces[0].commit_ts == 3


def test_a_value_of_exactly_1_mib_is_accepted(world: World) -> None:
    value = b'"' + b"x" * (MIB - 2) + b'"'
    assert len(value) == MIB
    world.stub.Apply(apply(put("limits", "mib", value)))
    assert world.stub.GetState(pb.GetStateRequest(namespace=NS, agent_id="limits", key="mib")).record.value == value
