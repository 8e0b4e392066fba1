"""Usages the original Statehouse SDK documents, against a real daemon (and a stand-in server where the daemon cannot
show what it received): replay by commit time, ReplayEvent.timestamp / to_dict, Operation.type, call metadata,
falsy missing keys, `async with client.begin_transaction()`, and the STATEHOUSE_* environment defaults."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent import futures
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Tuple

import grpc
import pytest

from daemon import free_port
from statehouse import (
    AsyncStatehouse,
    AsyncTransaction,
    InvalidArgumentError,
    Metadata,
    Operation,
    OperationType,
    ReplayEvent,
    StateResult,
    Statehouse,
    UnavailableError,
)
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc
from statehouse._time import parse_rfc3339, rfc3339

UTC = timezone.utc


def collect(iterator: Any) -> List[Any]:
    """The items of a sync iterator, or of an async one (run to the end on a fresh loop)."""
    if hasattr(iterator, "__aiter__"):

        async def drain() -> List[Any]:
            return [item async for item in iterator]

        return asyncio.run(drain())
    return list(iterator)


def commit_three(client: Statehouse) -> List[ReplayEvent]:
    """Three commits for agent "timed" (plus a bystander's), returned as replayed."""
    for index in range(3):
        with client.begin_transaction() as tx:
            tx.write("timed", "step", index)
            tx.write("bystander", "noise", index)
    events = list(client.replay("timed"))
    assert [event.commit_ts for event in events] == [1, 2, 3]
    return events


def in_range(events: List[ReplayEvent], low: datetime, high: datetime) -> List[int]:
    return [event.commit_ts for event in events if low <= event.committed_at <= high]


# ---- 1. replay(from_timestamp=, to_timestamp=) -----------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_replay_by_commit_time_is_inclusive_at_both_ends(daemon, client: Statehouse, flavour: str) -> None:
    events = commit_three(client)
    second = events[1].committed_at
    assert second.tzinfo is not None

    def replay(method: str = "replay", **bounds: Any) -> List[Any]:
        if flavour == "sync":
            return list(getattr(client, method)("timed", **bounds))

        async def main() -> List[Any]:
            async with AsyncStatehouse(url=daemon.url, namespace=client.namespace) as aclient:
                return [item async for item in getattr(aclient, method)("timed", **bounds)]

        return asyncio.run(main())

    def commit_ts(**bounds: Any) -> List[int]:
        return [event.commit_ts for event in replay(**bounds)]

    exact = rfc3339(second)
    # Both bounds on one commit's own time: that commit (and any other committed in the same microsecond).
    assert 2 in commit_ts(from_timestamp=exact, to_timestamp=exact)
    assert commit_ts(from_timestamp=exact, to_timestamp=exact) == in_range(events, second, second)
    # Inclusive lower bound, open upper end; open lower end, inclusive upper bound.
    assert commit_ts(from_timestamp=exact) == in_range(events, second, datetime.max.replace(tzinfo=UTC))
    assert commit_ts(to_timestamp=exact) == in_range(events, datetime.min.replace(tzinfo=UTC), second)
    # One microsecond past a commit leaves it out.
    after = second + timedelta(microseconds=1)
    assert 2 not in commit_ts(from_timestamp=after)
    assert commit_ts(from_timestamp=after) == in_range(events, after, datetime.max.replace(tzinfo=UTC))
    # The same instant written with an offset, as an aware datetime in another zone, and as a naive UTC datetime.
    plus_two = second.astimezone(timezone(timedelta(hours=2)))
    offset_text = plus_two.strftime("%Y-%m-%dT%H:%M:%S") + f".{second.microsecond:06d}+02:00"
    expected = in_range(events, second, second)
    assert commit_ts(from_timestamp=offset_text, to_timestamp=offset_text) == expected
    assert commit_ts(from_timestamp=plus_two, to_timestamp=plus_two) == expected
    naive = second.replace(tzinfo=None)
    assert commit_ts(from_timestamp=naive, to_timestamp=naive) == expected
    # Nanoseconds are cut to the microsecond.
    nanos = exact[:-1] + "999Z" if "." in exact else exact[:-1] + ".000000999Z"
    assert commit_ts(from_timestamp=nanos, to_timestamp=nanos) == expected
    # Together with a commit_ts range: both apply.
    wide = rfc3339(events[0].committed_at - timedelta(seconds=1))
    assert commit_ts(start_ts=2, from_timestamp=wide) == [2, 3]
    assert commit_ts(end_ts=1, from_timestamp=exact) == [
        ts for ts in in_range(events, second, datetime.max.replace(tzinfo=UTC)) if ts <= 1
    ]
    # replay_events and replay_pretty take the same bounds.
    assert [event.commit_ts for event in replay("replay_events", from_timestamp=exact, to_timestamp=exact)] == expected
    assert len(replay("replay_pretty", from_timestamp=exact, to_timestamp=exact)) == len(expected)


@pytest.mark.parametrize(
    "bounds, message",
    [
        ({"from_timestamp": "yesterday"}, "from_timestamp must be an RFC 3339 time"),
        ({"to_timestamp": "2026-02-30T00:00:00Z"}, "to_timestamp is not a valid time"),
        ({"from_timestamp": "2026-02-07T24:00:00Z"}, "from_timestamp is not a valid time"),
        ({"from_timestamp": "2026-02-07T10:00:00+25:00"}, "from_timestamp is not a valid time"),
        ({"from_timestamp": "2026-02-07"}, "from_timestamp must be an RFC 3339 time"),
        ({"from_timestamp": ""}, "from_timestamp must be an RFC 3339 time"),
        ({"from_timestamp": 1770458400}, "from_timestamp must be an RFC 3339 string or a datetime, not int"),
        ({"to_timestamp": b"2026-02-07T10:00:00Z"}, "to_timestamp must be an RFC 3339 string or a datetime, not bytes"),
        (
            {"from_timestamp": "2026-02-07T11:00:00Z", "to_timestamp": "2026-02-07T10:59:59.999999Z"},
            "to_timestamp .* is before from_timestamp",
        ),
        (
            {"from_timestamp": datetime(2026, 2, 7, 12, 0), "to_timestamp": "2026-02-07T13:59:59+02:00"},
            "to_timestamp .* is before from_timestamp",
        ),
    ],
)
@pytest.mark.parametrize("method", ["replay", "replay_events", "replay_pretty"])
def test_bad_time_bounds_fail_at_the_call_before_any_rpc(bounds: Dict[str, Any], message: str, method: str) -> None:
    # Nothing listens on this port: any RPC would fail with UnavailableError, not InvalidArgumentError.
    url = f"127.0.0.1:{free_port()}"
    with Statehouse(url=url) as client:
        with pytest.raises(InvalidArgumentError, match=message):
            getattr(client, method)("agent", **bounds)  # raised by the call itself, not on iteration

    async def main() -> None:
        async with AsyncStatehouse(url=url) as aclient:
            with pytest.raises(InvalidArgumentError, match=message):
                getattr(aclient, method)("agent", **bounds)

    asyncio.run(main())


def test_rfc3339_text_forms() -> None:
    base = parse_rfc3339("t", "2026-02-07T10:00:00Z")
    assert base == int(datetime(2026, 2, 7, 10, tzinfo=UTC).timestamp()) * 1_000_000
    assert parse_rfc3339("t", "2026-02-07t10:00:00z") == base
    assert parse_rfc3339("t", "2026-02-07 10:00:00Z") == base
    assert parse_rfc3339("t", "2026-02-07T10:00:00") == base  # no offset: UTC, like a naive datetime
    assert parse_rfc3339("t", "2026-02-07T12:00:00+02:00") == base
    assert parse_rfc3339("t", "2026-02-07T04:30:00-05:30") == base
    assert parse_rfc3339("t", "2026-02-07T10:00:00.5Z") == base + 500_000
    assert parse_rfc3339("t", "2026-02-07T10:00:00.123456789Z") == base + 123_456
    assert parse_rfc3339("t", "2016-12-31T23:59:60Z") == parse_rfc3339("t", "2017-01-01T00:00:00Z")
    assert rfc3339(datetime(2026, 2, 7, 10, tzinfo=UTC)) == "2026-02-07T10:00:00Z"
    assert rfc3339(datetime(2026, 2, 7, 12, 0, 0, 250, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-02-07T10:00:00.000250Z"
    )
    for bad in (
        "2026-2-7T10:00:00Z",
        "2026-02-07T10:00Z",
        "2026-02-07T10:00:00.Z",
        "٢٠٢٦-02-07T10:00:00Z",
        "2026-02-07T10:00:00+0200",
        "2026-02-07T10:00:61Z",
    ):
        with pytest.raises(InvalidArgumentError):
            parse_rfc3339("t", bad)


# ---- 2-4. ReplayEvent.timestamp, to_dict, Operation.type / namespace -------------------------------------------------


def test_event_timestamp_to_dict_and_operation_type(client: Statehouse) -> None:
    with client.begin_transaction() as tx:
        tx.write("agent-1", "memory", {"fact": "the sky is blue", "n": 2**70})
        tx.write("agent-2", "other", [1, 2])
    written = tx.result
    tx = client.begin_transaction()
    tx.delete("agent-1", "memory")
    tx.commit(metadata=Metadata(actor="cleaner", reason="superseded", tags={"run": "7"}))
    deleted = tx.result

    first, second = list(client.replay("agent-1"))
    assert isinstance(first.timestamp, datetime)
    assert first.timestamp == first.committed_at == written.committed_at
    assert first.timestamp.utcoffset() == timedelta(0)
    assert second.timestamp == deleted.committed_at

    (write,) = first.operations
    assert write.type is OperationType.WRITE and write.type == OperationType.WRITE
    assert write.type.name == "WRITE" and write.type.value == "write"
    assert write.namespace == client.namespace
    (delete,) = second.operations
    assert delete.type is OperationType.DELETE and delete.type.name == "DELETE"
    assert (delete.value, delete.version, delete.deleted) == (None, 2, True)
    assert Operation("k", 1, 1).type is OperationType.WRITE  # built by hand: still has a type

    assert first.to_dict() == {
        "txn_id": written.txn_id,
        "commit_ts": written.commit_ts,
        "namespace": client.namespace,
        "agent_id": "agent-1",
        "timestamp": rfc3339(written.committed_at),
        "operations": [
            {
                "key": "memory",
                "value": {"fact": "the sky is blue", "n": 2**70},
                "version": 1,
                "agent_id": "agent-1",
                "operation": "write",
            },
        ],
        "metadata": {"actor": None, "reason": None, "tags": {}},
        "hash": written.hash.hex(),
        "prev_hash": first.prev_hash.hex(),
    }
    as_dict = second.to_dict()
    assert as_dict["operations"] == [
        {"key": "memory", "value": None, "version": 2, "agent_id": "agent-1", "operation": "delete"}
    ]
    assert as_dict["metadata"] == {"actor": "cleaner", "reason": "superseded", "tags": {"run": "7"}}
    assert as_dict["prev_hash"] == written.hash.hex()
    assert json.loads(json.dumps(as_dict)) == as_dict
    # The timestamp is the exact commit time: it bounds a replay to that very event.
    again = list(client.replay("agent-1", from_timestamp=as_dict["timestamp"], to_timestamp=as_dict["timestamp"]))
    assert [event.commit_ts for event in again] == [deleted.commit_ts]

    # Without an agent filter the event keeps every operation, each with its agent; agent_id is None.
    unfiltered = list(client.replay(start_ts=written.commit_ts, end_ts=written.commit_ts))[0].to_dict()
    assert unfiltered["agent_id"] is None
    assert [(op["agent_id"], op["key"]) for op in unfiltered["operations"]] == [
        ("agent-1", "memory"),
        ("agent-2", "other"),
    ]


def test_the_async_client_gives_the_same_events(daemon, client: Statehouse) -> None:
    with client.begin_transaction() as tx:
        tx.write("a", "k", "v")
    expected = list(client.replay("a"))

    async def main() -> List[ReplayEvent]:
        async with AsyncStatehouse(url=daemon.url, namespace=client.namespace) as aclient:
            return [event async for event in aclient.replay_events("a")]

    got = asyncio.run(main())
    assert [event.to_dict() for event in got] == [event.to_dict() for event in expected]
    assert got[0].operations[0].type is OperationType.WRITE and got[0].timestamp == expected[0].timestamp


# ---- 6. a missing key's result is falsy ------------------------------------------------------------------------------


def test_a_result_is_falsy_exactly_when_the_key_does_not_exist(client: Statehouse) -> None:
    with client.begin_transaction() as tx:
        tx.write("a", "kept", {"x": 1})
        tx.write("a", "null", None)
        tx.write("a", "gone", 1)
    with client.begin_transaction() as tx:
        tx.delete("a", "gone")

    kept = client.get_state("a", "kept")
    assert kept and bool(kept) is True
    null = client.get_state("a", "null")
    assert null and null.value is None  # a stored null exists
    missing = client.get_state("a", "never")
    assert not missing and missing is not None and missing.value is None
    gone = client.get_state("a", "gone")
    assert not gone and (gone.version, gone.deleted, gone.commit_ts) == (2, True, tx.result.commit_ts)
    assert client.get_state_at_version("a", "gone", 1)
    assert not client.get_state_at_version("a", "gone", 2)
    assert [bool(item) for item in client.get_many([("a", "kept"), ("a", "never"), ("a", "gone")])] == [
        True,
        False,
        False,
    ]
    assert not StateResult(value=None, version=0, commit_ts=0, exists=False)

    result = client.get_state(agent_id="a", key="kept")
    shown = []
    if result:
        shown.append(result.value)
    if not client.get_state(agent_id="a", key="never"):
        shown.append("default")
    assert shown == [{"x": 1}, "default"]


# ---- 7. async with client.begin_transaction() ------------------------------------------------------------------------


@pytest.mark.parametrize("pipelined", [True, False])
def test_async_begin_transaction_is_awaitable_and_a_context_manager(daemon, namespace: str, pipelined: bool) -> None:
    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace, pipelined=pipelined) as client:
            async with client.begin_transaction() as tx:
                assert isinstance(tx, AsyncTransaction) and tx.txn_id
                tx.write("a", "direct", 1)
            assert tx.result is not None and tx.result.commit_ts == 1
            assert (await client.get_state("a", "direct")).value == 1

            with pytest.raises(RuntimeError, match="boom"):
                async with client.begin_transaction() as failing:
                    failing.write("a", "direct", 2)
                    raise RuntimeError("boom")
            assert failing.result is None
            assert (await client.get_state("a", "direct")).value == 1

            async with await client.begin_transaction(timeout_ms=5_000) as tx:
                tx.write("a", "awaited", 3)
            assert tx.result.commit_ts == 2

            pending = client.begin_transaction()
            tx = await pending
            assert await pending is tx  # begun once, however often awaited
            tx.write("a", "manual", 4)
            assert await tx.commit() == 3
            assert [event.commit_ts async for event in client.replay()] == [1, 2, 3]

            # The namespace argument and bad arguments behave as before.
            async with client.begin_transaction(namespace=namespace + "-other") as tx:
                tx.write("a", "elsewhere", 5)
            assert tx.namespace == namespace + "-other"
            with pytest.raises(InvalidArgumentError):
                await client.begin_transaction(timeout_ms=0)
            with pytest.raises(InvalidArgumentError):
                async with client.begin_transaction(timeout_ms=-1):
                    pass

    asyncio.run(main())


# ---- 5. call metadata on every RPC and stream ------------------------------------------------------------------------


class Recorder(grpc.ServerInterceptor):
    """Records the invocation metadata of every call the server receives, by method name."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, str]]] = []
        self.lock = threading.Lock()

    def intercept_service(self, continuation, handler_call_details):  # noqa: ANN001 - grpc's interface
        with self.lock:
            self.calls.append(
                (
                    handler_call_details.method.rsplit("/", 1)[-1],
                    {key: value for key, value in handler_call_details.invocation_metadata},
                )
            )
        return continuation(handler_call_details)

    def methods_with(self, key: str, value: str) -> List[str]:
        with self.lock:
            return [method for method, metadata in self.calls if metadata.get(key) == value]

    def methods(self) -> List[str]:
        with self.lock:
            return [method for method, _ in self.calls]


class StandIn(statehouse_pb2_grpc.StatehouseServiceServicer):
    """Answers a read, a replay, a watch and the session's reads, and notes each call's deadline."""

    def __init__(self) -> None:
        self.deadlines: List[float] = []

    @staticmethod
    def _record(request: Any) -> pb.StateRecord:
        return pb.StateRecord(
            agent_id=request.agent_id, key=request.key, value=b'"v"', exists=True, version=1, commit_ts=1
        )

    @staticmethod
    def _batch() -> pb.EventBatch:
        return pb.EventBatch(events=[pb.Event(namespace="default", commit_ts=1, txn_id="t", committed_at_micros=1)])

    def GetState(self, request, context):  # noqa: N802 - the RPC's name
        self.deadlines.append(context.time_remaining())
        return pb.GetStateResponse(record=self._record(request))

    def GetHead(self, request, context):  # noqa: N802
        return pb.LogHead(namespace=request.namespace, commit_ts=0)

    def Replay(self, request, context):  # noqa: N802
        yield self._batch()

    def Watch(self, request, context):  # noqa: N802
        yield self._batch()

    def Session(self, request_iterator, context):  # noqa: N802
        for message in request_iterator:
            for request in [message, *message.batch]:
                if request.WhichOneof("request") == "get":
                    yield pb.SessionResponse(
                        request_id=request.request_id, get=pb.GetStateResponse(record=self._record(request.get))
                    )


@pytest.fixture
def stand_in() -> Iterator[Tuple[str, Recorder, StandIn]]:
    recorder, servicer = Recorder(), StandIn()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), interceptors=[recorder])
    statehouse_pb2_grpc.add_StatehouseServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", recorder, servicer
    server.stop(None)


TOKEN = [("authorization", "Bearer s3cret"), ("x-tenant", "acme")]


def test_the_sync_client_sends_its_metadata_on_unary_calls_and_streams(stand_in) -> None:
    url, recorder, _ = stand_in
    with Statehouse(url=url, metadata=TOKEN) as client:
        assert client.get_state("a", "k").value == "v"
        assert [event.commit_ts for event in client.replay("a")] == [1]
        with client.watch(from_ts=1) as stream:
            assert next(stream).commit_ts == 1
        with client.watch() as stream:  # asks the head first, then watches
            assert next(stream).commit_ts == 1
    assert recorder.methods() == ["GetState", "Replay", "Watch", "GetHead", "Watch"]
    assert recorder.methods_with("authorization", "Bearer s3cret") == recorder.methods()
    assert recorder.methods_with("x-tenant", "acme") == recorder.methods()


@pytest.mark.parametrize("pipelined", [True, False])
def test_the_async_client_sends_its_metadata_on_the_session_unary_calls_and_streams(stand_in, pipelined: bool) -> None:
    url, recorder, _ = stand_in

    async def main() -> None:
        async with AsyncStatehouse(url=url, metadata=TOKEN, pipelined=pipelined) as client:
            values = await asyncio.gather(*(client.get_state("a", f"k{i}") for i in range(3)))
            assert [state.value for state in values] == ["v", "v", "v"]
            assert [event.commit_ts async for event in client.replay("a")] == [1]
            async with client.watch(from_ts=1) as stream:
                assert (await stream.__anext__()).commit_ts == 1
            async with client.watch() as stream:
                assert (await stream.__anext__()).commit_ts == 1

    asyncio.run(main())
    reads = ["Session"] if pipelined else ["GetState"] * 3
    # Without pipelining GetHead is a unary call; pipelined it is too (the session does not carry it).
    assert recorder.methods() == [*reads, "Replay", "Watch", "GetHead", "Watch"]
    assert recorder.methods_with("authorization", "Bearer s3cret") == recorder.methods()
    assert recorder.methods_with("x-tenant", "acme") == recorder.methods()


def test_without_metadata_nothing_extra_is_sent(stand_in) -> None:
    url, recorder, _ = stand_in
    with Statehouse(url=url) as client:
        client.get_state("a", "k")
    assert recorder.methods() == ["GetState"] and recorder.methods_with("authorization", "Bearer s3cret") == []


def test_the_daemon_serves_clients_that_send_metadata(daemon, namespace: str) -> None:
    with Statehouse(url=daemon.url, namespace=namespace, metadata=TOKEN) as client:
        with client.begin_transaction() as tx:
            tx.write("a", "k", 1)
        assert client.get_state("a", "k").value == 1
        assert len(list(client.replay("a"))) == 1

    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace, metadata=tuple(TOKEN)) as client:
            async with client.begin_transaction() as tx:
                tx.write("a", "k", 2)
            assert (await client.get_state("a", "k")).value == 2

    asyncio.run(main())


@pytest.mark.parametrize(
    "metadata, message",
    [
        ("authorization: Bearer x", "sequence of \\(name, value\\) pairs"),
        ({"authorization": "Bearer x"}, "sequence of \\(name, value\\) pairs"),
        (("authorization", "Bearer x"), "must be a \\(name, value\\) pair"),
        ([("authorization", "Bearer x", "extra")], "must be a \\(name, value\\) pair"),
        ([("Authorization", "Bearer x")], "lowercase header name"),
        ([("", "x")], "lowercase header name"),
        ([("x tenant", "x")], "lowercase header name"),
        ([("x-tenant", 7)], "must be str"),
        ([(b"x-tenant", "x")], "must be str"),
        ([("x-token-bin", "x")], "reserved .* or binary"),
        ([("grpc-timeout", "1S")], "reserved"),
        ([("x-tenant", "line\nbreak")], "printable ASCII"),
        ([("x-tenant", "caf\u00e9")], "printable ASCII"),
    ],
)
def test_bad_metadata_is_refused_by_both_clients(metadata: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Statehouse(url="127.0.0.1:1", metadata=metadata)
    with pytest.raises(InvalidArgumentError, match=message):
        AsyncStatehouse(url="127.0.0.1:1", metadata=metadata)


# ---- 8. STATEHOUSE_URL, STATEHOUSE_NAMESPACE, STATEHOUSE_TIMEOUT -----------------------------------------------------


def test_environment_defaults_are_used_when_arguments_are_not_given(daemon, namespace: str, monkeypatch) -> None:
    monkeypatch.setenv("STATEHOUSE_URL", daemon.url)
    monkeypatch.setenv("STATEHOUSE_NAMESPACE", namespace)
    with Statehouse() as client:
        assert (client.url, client.namespace) == (daemon.url, namespace)
        with client.begin_transaction() as tx:
            tx.write("a", "k", "from env")
    with Statehouse(url=daemon.url, namespace=namespace) as explicit:
        assert explicit.get_state("a", "k").value == "from env"
    with Statehouse(namespace=namespace + "-x") as client:  # an explicit argument wins
        assert client.namespace == namespace + "-x" and not client.get_state("a", "k")

    async def main() -> None:
        async with AsyncStatehouse() as aclient:
            assert (aclient.url, aclient.namespace) == (daemon.url, namespace)
            assert (await aclient.get_state("a", "k")).value == "from env"

    asyncio.run(main())

    monkeypatch.setenv("STATEHOUSE_URL", f"127.0.0.1:{free_port()}")  # nobody there
    with Statehouse(url=daemon.url, namespace=namespace) as client:  # explicit arguments win
        assert client.get_state("a", "k").value == "from env"
    with Statehouse() as client:
        with pytest.raises(UnavailableError):
            client.health()


def test_blank_variables_count_as_unset(monkeypatch) -> None:
    for name in ("STATEHOUSE_URL", "STATEHOUSE_NAMESPACE", "STATEHOUSE_TIMEOUT"):
        monkeypatch.setenv(name, "  ")
    client = Statehouse()
    assert (client.url, client.namespace) == ("localhost:50051", "default")
    client.close()
    for name in ("STATEHOUSE_URL", "STATEHOUSE_NAMESPACE", "STATEHOUSE_TIMEOUT"):
        monkeypatch.delenv(name)
    client = Statehouse()
    assert (client.url, client.namespace) == ("localhost:50051", "default")
    client.close()


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_statehouse_timeout_sets_the_call_deadline(stand_in, monkeypatch, flavour: str) -> None:
    url, _, servicer = stand_in
    monkeypatch.setenv("STATEHOUSE_URL", url)
    monkeypatch.setenv("STATEHOUSE_TIMEOUT", "7.5")
    if flavour == "sync":
        with Statehouse() as client:
            client.get_state("a", "k")
        with Statehouse(timeout=300) as client:  # the argument wins
            client.get_state("a", "k")
    else:

        async def main() -> None:
            async with AsyncStatehouse(pipelined=False) as client:
                await client.get_state("a", "k")
            async with AsyncStatehouse(pipelined=False, timeout=300) as client:
                await client.get_state("a", "k")

        asyncio.run(main())
    from_env, explicit = servicer.deadlines
    # gRPC sends a deadline rounded up a little; 60 s (the default) and 300 s are far on either side.
    assert 0 < from_env <= 8
    assert 60 < explicit <= 301


@pytest.mark.parametrize(
    "name, value",
    [
        ("STATEHOUSE_TIMEOUT", "soon"),
        ("STATEHOUSE_TIMEOUT", "0"),
        ("STATEHOUSE_TIMEOUT", "-5"),
        ("STATEHOUSE_TIMEOUT", "inf"),
        ("STATEHOUSE_TIMEOUT", "nan"),
        ("STATEHOUSE_NAMESPACE", "two words"),
        ("STATEHOUSE_NAMESPACE", "a/b"),
        ("STATEHOUSE_URL", "local host:50051"),
    ],
)
def test_bad_environment_values_name_the_variable(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidArgumentError, match=name):
        Statehouse()
    with pytest.raises(InvalidArgumentError, match=name):
        AsyncStatehouse()
    # An explicit argument replaces the variable, so the bad value is never read.
    explicit = {
        "STATEHOUSE_TIMEOUT": {"timeout": 5},
        "STATEHOUSE_NAMESPACE": {"namespace": "ok"},
        "STATEHOUSE_URL": {"url": "localhost:1"},
    }[name]
    Statehouse(**explicit).close()


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), "5", True])
def test_bad_timeout_arguments_are_refused(timeout: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="timeout"):
        Statehouse(url="localhost:1", timeout=timeout)
    with pytest.raises(InvalidArgumentError, match="timeout"):
        AsyncStatehouse(url="localhost:1", timeout=timeout)
