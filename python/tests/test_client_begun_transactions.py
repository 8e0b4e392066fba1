"""Transactions begun by the client (what ``begin_transaction`` makes): no round trip to begin, reads turned into
conditions of the commit, and the whole transaction in one Commit (begun_by_client), exactly once by its id.

Against the real daemon, the RPCs are counted on the wire: a gRPC client interceptor for the sync client, and for
the async one every unary call and every request sent on its session stream. Without a daemon: the fallback for a
daemon older than the feature (a stand-in server and the plan itself)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from typing import Any, Awaitable, Callable, List, Optional, Tuple

import grpc
import pytest

from stand_ins import LostFirstReply
from statehouse import (
    AsyncStatehouse,
    AsyncTransaction,
    Condition,
    ConflictError,
    Put,
    Statehouse,
    Transaction,
    TransactionError,
    TransactionExpiredError,
    exceptions,
)
from statehouse import _operations as ops
from statehouse import _wire as wire
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc

# ---- counting what is sent -------------------------------------------------------------------------------------------


class _CountingInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Records the method of every unary call the sync client makes, on the wire."""

    def __init__(self) -> None:
        self.methods: List[str] = []

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self.methods.append(client_call_details.method.rsplit("/", 1)[-1])
        return continuation(client_call_details, request)


def counted(client: Statehouse) -> List[str]:
    """Makes the client send its calls through a counting interceptor; returns the list of methods called."""
    interceptor = _CountingInterceptor()
    client._stub = statehouse_pb2_grpc.StatehouseServiceStub(grpc.intercept_channel(client._channel, interceptor))
    return interceptor.methods


class _CountingStub:
    """Wraps the async client's stub: records each unary call's method and each request sent on a session stream
    (by its SessionRequest field, batched ones included)."""

    def __init__(self, stub: Any, sent: List[str]) -> None:
        self._stub = stub
        self._sent = sent

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)
        sent = self._sent
        if name == "Session":

            def session(requests: Any, **kwargs: Any) -> Any:
                async def counting() -> Any:
                    async for message in requests:
                        for request in [message, *message.batch]:
                            kind = request.WhichOneof("request")
                            if kind is not None:
                                sent.append(f"session:{kind}")
                        yield message

                return method(counting(), **kwargs)

            return session

        def unary(request: Any, **kwargs: Any) -> Any:
            sent.append(name)
            return method(request, **kwargs)

        return unary


async def counted_async(client: AsyncStatehouse) -> List[str]:
    sent: List[str] = []
    stub = await client._ensure_stub()
    client._stub = _CountingStub(stub, sent)
    return sent


def run(daemon, namespace: str, body: Callable[[AsyncStatehouse], Awaitable[Any]], **options: Any) -> Any:
    async def main() -> Any:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace, **options) as client:
            return await body(client)

    return asyncio.run(main())


# ---- the id ----------------------------------------------------------------------------------------------------------

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_the_client_makes_version_7_uuids() -> None:
    before = time.time_ns() // 1_000_000
    ids = [ops.new_transaction_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    for text in ids:
        assert UUID7.match(text), text
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122) and str(parsed) == text
        assert before <= parsed.int >> 80 <= after  # 48 bits of Unix milliseconds
    # The random bits vary (12 after the version, 62 after the variant).
    assert len({uuid.UUID(text).int >> 64 & 0xFFF for text in ids}) > 1000
    assert len({uuid.UUID(text).int & (1 << 62) - 1 for text in ids}) == len(ids)


# ---- round trips (sync) ----------------------------------------------------------------------------------------------


def test_a_transaction_with_a_read_and_a_write_is_one_rpc_besides_the_read(client: Statehouse) -> None:
    client.apply([Put("a", "seen", 1)])
    sent = counted(client)
    tx = client.begin_transaction()
    assert UUID7.match(tx.txn_id) and tx.namespace == client.namespace
    assert sent == []  # begun without a round trip
    assert tx.get("a", "seen").value == 1
    tx.write("a", "written", 2)
    assert tx.get("a", "written").value == 2  # read-your-writes, from the buffer
    commit_ts = tx.commit()
    assert sent == ["GetState", "Commit"]
    assert client.get_state("a", "written").value == 2
    (event,) = client.replay(start_ts=commit_ts)
    assert event.txn_id == tx.txn_id == tx.result.txn_id  # the client's id is the one in the log

    sent.clear()
    with client.begin_transaction() as blind:
        blind.write("a", "written", 3)
        blind.delete("a", "seen")
    assert sent == ["Commit"]


def test_abort_sends_nothing_and_a_commit_after_it_raises(client: Statehouse) -> None:
    sent = counted(client)
    tx = client.begin_transaction()
    tx.write("a", "k", 1)
    tx.abort()
    tx.abort()
    with pytest.raises(TransactionError, match="aborted"):
        tx.commit()
    with pytest.raises(RuntimeError):
        with client.begin_transaction() as failing:
            failing.write("a", "k", 2)
            raise RuntimeError("the agent crashed")
    assert sent == []
    assert client.get_state("a", "k").exists is False


def test_expiry_is_kept_by_the_client_and_sends_nothing(client: Statehouse) -> None:
    sent = counted(client)
    tx = client.begin_transaction(timeout_ms=100)
    tx.write("a", "k", 1)
    time.sleep(0.3)
    with pytest.raises(TransactionExpiredError, match="expired") as raised:
        tx.commit()
    assert raised.value.code is None and raised.value.reason is None  # found by the SDK, not said by the daemon
    with pytest.raises(TransactionError, match="already failed"):
        tx.commit()
    reader = client.begin_transaction(timeout_ms=100)
    time.sleep(0.3)
    with pytest.raises(TransactionExpiredError):
        reader.get("a", "k")
    assert sent == []
    assert client.get_state("a", "k").exists is False

    # Within its timeout it commits (the default timeout is the daemon's, 30 s).
    lasting = client.begin_transaction(timeout_ms=60_000)
    lasting.write("a", "k", 2)
    assert lasting.commit() > 0
    with pytest.raises(exceptions.InvalidArgumentError):
        client.begin_transaction(timeout_ms=0)


# ---- reads become conditions (sync) ----------------------------------------------------------------------------------


def test_a_read_key_written_by_another_client_before_the_commit_conflicts(client: Statehouse, daemon) -> None:
    client.apply([Put("a", "balance", 100)])
    tx = client.begin_transaction()
    balance = tx.get("a", "balance").value
    tx.write("a", "balance", balance - 30)
    tx.write("a", "audit", "withdrew 30")
    with Statehouse(url=daemon.url, namespace=client.namespace) as other:
        other.apply([Put("a", "balance", 50)])
    head = client.head().commit_ts
    with pytest.raises(ConflictError) as raised:
        tx.commit()
    assert (raised.value.agent_id, raised.value.key) == ("a", "balance")
    assert (raised.value.expected_version, raised.value.actual_version) == (1, 2)
    assert client.head().commit_ts == head  # nothing applied
    assert client.get_state("a", "balance").value == 50
    assert client.get_state("a", "audit").exists is False
    with pytest.raises(TransactionError, match="already failed"):
        tx.commit()


def test_a_key_read_as_absent_and_created_meanwhile_conflicts(client: Statehouse) -> None:
    tx = client.begin_transaction()
    assert tx.get("a", "lock").exists is False
    tx.write("a", "lock", "mine")
    client.apply([Put("a", "lock", "theirs")])
    with pytest.raises(ConflictError) as raised:
        tx.commit()
    assert raised.value.key == "lock"
    assert client.get_state("a", "lock").value == "theirs"


def test_a_deleted_key_is_read_at_its_tombstone_version(client: Statehouse) -> None:
    client.apply([Put("a", "k", 1)])
    with client.begin_transaction() as tx:
        tx.delete("a", "k")
    tx = client.begin_transaction()
    read = tx.get("a", "k")
    assert (read.exists, read.deleted, read.version) == (False, True, 2)
    tx.write("a", "k", "revived")
    client.apply([Put("a", "k", "by another")])  # version 3
    with pytest.raises(ConflictError) as raised:
        tx.commit()
    assert (raised.value.expected_version, raised.value.actual_version) == (2, 3)

    unchanged = client.begin_transaction()
    unchanged.get("a", "k")
    unchanged.write("a", "k", "mine")
    assert unchanged.commit() > 0
    assert client.get_state("a", "k").value == "mine"


def test_reads_that_still_hold_commit_and_the_first_read_of_a_key_counts(client: Statehouse) -> None:
    client.apply([Put("a", "x", 1), Put("a", "y", 1)])
    tx = client.begin_transaction()
    tx.get("a", "x")
    tx.get("a", "y")
    tx.write("a", "z", 1)
    assert tx.commit() > 0

    twice = client.begin_transaction()
    twice.get("a", "x")
    client.apply([Put("a", "x", 2)])
    assert twice.get("a", "x").value == 2  # reads the latest state, but the first read is the condition
    twice.write("a", "z", 2)
    with pytest.raises(ConflictError):
        twice.commit()


def test_an_explicit_expected_version_wins_over_a_read(client: Statehouse) -> None:
    client.apply([Put("a", "counter", 1)])
    tx = client.begin_transaction()
    assert tx.get("a", "counter").version == 1
    client.apply([Put("a", "counter", 10)])  # version 2
    tx.write("a", "counter", 11, expected_version=2)  # replaces the read's condition (version 1)
    assert tx.commit() > 0
    assert client.get_state("a", "counter").value == 11


def test_a_key_written_before_it_is_read_is_not_a_condition(client: Statehouse) -> None:
    client.apply([Put("a", "k", 1)])
    tx = client.begin_transaction()
    tx.write("a", "k", "mine")
    assert tx.get("a", "k").value == "mine"  # from the buffer: not recorded
    client.apply([Put("a", "k", "theirs")])
    assert tx.commit() > 0  # a blind write: nothing read to check
    assert client.get_state("a", "k").value == "mine"


# ---- exactly once ----------------------------------------------------------------------------------------------------


def test_the_same_client_begun_commit_sent_twice_applies_once(client: Statehouse) -> None:
    txn_id = ops.new_transaction_id()
    writes = [wire.put_operation("a", "once", 1)]
    first = client._run(ops.commit(txn_id, writes, [], None, begun_by_client_in=client.namespace))
    again = client._run(ops.commit(txn_id, writes, [], None, begun_by_client_in=client.namespace))
    assert (again.commit_ts, again.txn_id, again.versions) == (first.commit_ts, txn_id, [1])
    assert client.head().commit_ts == first.commit_ts
    assert client.get_state("a", "once").version == 1
    # The id belongs to that namespace now.
    with pytest.raises(exceptions.InvalidArgumentError):
        client._run(ops.commit(txn_id, writes, [], None, begun_by_client_in=client.namespace + "-other"))


def test_a_client_begun_commit_whose_reply_was_lost_is_sent_again_with_the_same_id(client: Statehouse) -> None:
    lost = LostFirstReply(client._stub.Commit)
    client._stub.Commit = lost
    requests = lost.requests
    tx = client.begin_transaction()
    tx.write("a", "once", "value")
    commit_ts = tx.commit()
    assert len(requests) == 2 and requests[0] == requests[1]
    assert requests[0].begun_by_client and requests[0].txn_id == tx.txn_id
    assert requests[0].namespace == client.namespace
    assert client.head().commit_ts == commit_ts and client.get_state("a", "once").version == 1


def test_an_attached_transaction_still_uses_the_daemons_transaction(client: Statehouse) -> None:
    txn_id, namespace = client._run(ops.begin(client.namespace, None))
    sent = counted(client)
    attached = Transaction(client, txn_id, namespace)
    attached.get("a", "k")
    attached.write("a", "k", 1)
    attached.commit()
    assert sent == ["TransactionGet", "Commit"]


# ---- the async client ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipelined", [True, False])
def test_async_a_transaction_with_a_read_and_a_write_is_one_rpc_besides_the_read(
    daemon, namespace: str, pipelined: bool
) -> None:
    async def body(client: AsyncStatehouse) -> None:
        sent = await counted_async(client)  # before the session stream is opened
        await client.apply([Put("a", "seen", 1)])
        sent.clear()
        get, commit = ("session:get", "session:commit") if pipelined else ("GetState", "Commit")

        tx = await client.begin_transaction()
        assert isinstance(tx, AsyncTransaction) and UUID7.match(tx.txn_id)
        assert sent == []
        assert (await tx.get("a", "seen")).value == 1
        tx.write("a", "written", 2)
        assert (await tx.get("a", "written")).value == 2
        await tx.commit()
        assert sent == [get, commit]

        sent.clear()
        async with client.begin_transaction() as blind:
            blind.write("a", "written", 3)
        assert sent == [commit]

        sent.clear()
        aborted = await client.begin_transaction()
        aborted.write("a", "written", 4)
        await aborted.abort()
        with pytest.raises(TransactionError, match="aborted"):
            await aborted.commit()
        expiring = await client.begin_transaction(timeout_ms=100)
        expiring.write("a", "written", 5)
        await asyncio.sleep(0.3)
        with pytest.raises(TransactionExpiredError):
            await expiring.commit()
        assert sent == []
        assert (await client.get_state("a", "written")).value == 3

    run(daemon, namespace, body, pipelined=pipelined)


@pytest.mark.parametrize("pipelined", [True, False])
def test_async_reads_become_conditions(daemon, namespace: str, pipelined: bool) -> None:
    async def body(client: AsyncStatehouse) -> None:
        await client.apply([Put("a", "balance", 100)])
        tx = await client.begin_transaction()
        tx.write("a", "balance", (await tx.get("a", "balance")).value - 30)
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as other:
            await other.apply([Put("a", "balance", 50)])
        with pytest.raises(ConflictError) as raised:
            await tx.commit()
        assert (raised.value.key, raised.value.expected_version, raised.value.actual_version) == ("balance", 1, 2)
        assert (await client.get_state("a", "balance")).value == 50

        absent = await client.begin_transaction()
        assert (await absent.get("a", "lock")).exists is False
        absent.write("a", "lock", "mine")
        await client.apply([Put("a", "lock", "theirs")])
        with pytest.raises(ConflictError):
            await absent.commit()
        assert (await client.get_state("a", "lock")).value == "theirs"

    run(daemon, namespace, body, pipelined=pipelined)


# ---- a daemon older than transactions begun by the client ------------------------------------------------------------


class OldDaemon(statehouse_pb2_grpc.StatehouseServiceServicer):
    """A daemon before CommitRequest.begun_by_client: it ignores the field (and namespace), so a commit of an id it did
    not begin is of an unknown transaction: NOT_FOUND, with the reason `reason` (None: a daemon before reasons)."""

    def __init__(self, reason: Optional[str] = None) -> None:
        self.reason = reason
        self.calls: List[Tuple[str, Any]] = []
        self.begun: Counter = Counter()
        self.commit_ts = 0

    def _begin(self, request: pb.BeginTransactionRequest) -> pb.BeginTransactionResponse:
        self.calls.append(("begin", request))
        txn_id = f"daemon-{len(self.begun) + 1}"
        self.begun[txn_id] = 1
        return pb.BeginTransactionResponse(txn_id=txn_id, namespace=request.namespace or "default")

    def _commit(self, request: pb.CommitRequest) -> Any:
        """The response, or the error (code, message, reason) of an unknown transaction."""
        self.calls.append(("commit", request))
        if request.txn_id not in self.begun:
            return (grpc.StatusCode.NOT_FOUND, f"transaction {request.txn_id} not found", self.reason)
        self.commit_ts += 1
        result = pb.CommitResult(
            namespace="ns",
            txn_id=request.txn_id,
            commit_ts=self.commit_ts,
            versions=[1] * len(request.operations),
        )
        return pb.CommitResponse(result=result)

    def BeginTransaction(self, request, context):  # noqa: N802 - the RPC's name
        return self._begin(request)

    def Commit(self, request, context):  # noqa: N802
        answer = self._commit(request)
        if isinstance(answer, tuple):
            code, message, reason = answer
            if reason is not None:
                context.set_trailing_metadata(((wire.ERROR_REASON_KEY, reason),))
            context.abort(code, message)
        return answer

    def Session(self, request_iterator, context):  # noqa: N802
        for message in request_iterator:
            for request in [message, *message.batch]:
                kind = request.WhichOneof("request")
                if kind == "begin":
                    answer = pb.SessionResponse(begin=self._begin(request.begin))
                elif kind == "commit":
                    result = self._commit(request.commit)
                    if isinstance(result, tuple):
                        code, text, reason = result
                        error = pb.SessionError(code=code.value[0], message=text, reason=reason or "")
                        answer = pb.SessionResponse(error=error)
                    else:
                        answer = pb.SessionResponse(commit=result)
                else:
                    continue
                answer.request_id = request.request_id
                yield answer


@pytest.fixture
def old_daemon(serve) -> Callable[[Optional[str]], Tuple[str, OldDaemon]]:
    def start(reason: Optional[str] = None) -> Tuple[str, OldDaemon]:
        servicer = OldDaemon(reason)
        return serve(servicer), servicer

    return start


def check_fallback(servicer: OldDaemon, client_txn_id: str) -> None:
    """The first commit: tried as begun by the client, then begun on the daemon and committed with the same
    operations and conditions; the second transaction of the same client goes to the daemon's way at once."""
    kinds = [(kind, getattr(request, "txn_id", None)) for kind, request in servicer.calls]
    assert kinds == [
        ("commit", client_txn_id),
        ("begin", None),
        ("commit", "daemon-1"),
        ("begin", None),
        ("commit", "daemon-2"),
    ]
    tried, begin, fallback = (request for _, request in servicer.calls[:3])
    assert tried.begun_by_client and tried.namespace == "ns"
    assert begin.namespace == "ns"
    assert not fallback.begun_by_client
    assert list(fallback.operations) == list(tried.operations) and len(fallback.operations) == 1
    # The read became a condition before the commit; the explicit expected version is there too.
    assert list(fallback.conditions) == list(tried.conditions)
    assert [(c.key, c.WhichOneof("expectation")) for c in fallback.conditions] == [
        ("read", "must_not_exist"),
        ("k", "version"),
    ]


@pytest.mark.parametrize("reason", [None, "transaction_not_found"])
def test_the_sync_client_falls_back_once_on_a_daemon_older_than_client_begun_transactions(old_daemon, reason) -> None:
    url, servicer = old_daemon(reason)
    with Statehouse(url=url, namespace="ns") as client:
        tx = client.begin_transaction()
        client_txn_id = tx.txn_id
        tx._buffer._record_read("a", "read", 0)  # what a read of a never-written key records (no GetState here)
        tx.write("a", "k", 1, expected_version=4)
        assert tx.commit() == 1
        assert tx.txn_id == tx.result.txn_id == "daemon-1"  # the id of its event in the log
        with client.begin_transaction() as second:
            second.write("a", "k", 2)
        assert second.result.commit_ts == 2
    check_fallback(servicer, client_txn_id)


@pytest.mark.parametrize("pipelined", [True, False])
def test_the_async_client_falls_back_once_on_a_daemon_older_than_client_begun_transactions(
    old_daemon, pipelined: bool
) -> None:
    url, servicer = old_daemon(None)

    async def main() -> str:
        async with AsyncStatehouse(url=url, namespace="ns", pipelined=pipelined) as client:
            tx = await client.begin_transaction()
            client_txn_id = tx.txn_id
            tx._buffer._record_read("a", "read", 0)
            tx.write("a", "k", 1, expected_version=4)
            assert await tx.commit() == 1 and tx.txn_id == "daemon-1"
            async with client.begin_transaction() as second:
                second.write("a", "k", 2)
            assert second.result.commit_ts == 2
            return client_txn_id

    check_fallback(servicer, asyncio.run(main()))


def test_a_not_found_that_names_another_reason_is_no_fallback(old_daemon) -> None:
    url, servicer = old_daemon("not_found")
    with Statehouse(url=url, namespace="ns") as client:
        tx = client.begin_transaction()
        tx.write("a", "k", 1)
        with pytest.raises(exceptions.NotFoundError) as raised:
            tx.commit()
        assert raised.value.reason == "not_found"
    assert [kind for kind, _ in servicer.calls] == ["commit"]


def test_the_fallback_plan_step_by_step() -> None:
    """The plan itself, run by hand: what it sends after each answer."""
    daemon = ops.DaemonFeatures()
    writes = [wire.put_operation("a", "k", 1)]
    conditions = wire.conditions([Condition("a", "r", version=3)])
    plan = ops.commit_begun_by_client("0190c1a2-0000-7000-8000-000000000000", "ns", writes, conditions, None, daemon)
    first = next(plan)
    assert (first.method, first.request.begun_by_client, first.request.namespace) == ("Commit", True, "ns")
    assert first.retry and first.transactional
    unknown = exceptions.TransactionNotFoundError("transaction not found", code="NOT_FOUND")
    begin = plan.throw(unknown)
    assert (begin.method, begin.request.namespace, begin.retry) == ("BeginTransaction", "ns", False)
    commit = plan.send(pb.BeginTransactionResponse(txn_id="daemon-7", namespace="ns"))
    assert (commit.method, commit.request.txn_id, commit.request.begun_by_client) == ("Commit", "daemon-7", False)
    assert list(commit.request.operations) == writes and list(commit.request.conditions) == list(conditions)
    with pytest.raises(StopIteration) as done:
        plan.send(pb.CommitResponse(result=pb.CommitResult(txn_id="daemon-7", commit_ts=9, versions=[1])))
    assert done.value.value.commit_ts == 9
    assert daemon.client_begun_commits is False

    # A conflict (or any other answer) is the commit's answer: no fallback.
    plan = ops.commit_begun_by_client("id", "ns", writes, [], None, ops.DaemonFeatures())
    next(plan)
    with pytest.raises(ConflictError):
        plan.throw(ConflictError("conflict", reason="conflict"))
