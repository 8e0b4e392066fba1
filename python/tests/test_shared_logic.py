"""The decisions both clients share (statehouse._policy, statehouse._operations), without a daemon: which failed
calls are tried again and when, what a watch does when its stream ends or fails, and what a transaction whose commit
failed still does."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from concurrent import futures
from typing import Iterator, Optional

import grpc
import pytest

from statehouse import AsyncStatehouse, AsyncTransaction, Statehouse, Transaction, exceptions
from statehouse import _operations as ops
from statehouse import _policy as policy
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc


def failure(code: Optional[str]) -> exceptions.StatehouseError:
    return exceptions.StatehouseError("m", code=code)


READ = ops.Call("GetState", pb.GetStateRequest(), "get", read_only=True)
COMMIT = ops.Call("Commit", pb.CommitRequest(), "commit", transactional=True, retry=True)
BEGIN = ops.Call("BeginTransaction", pb.BeginTransactionRequest(), "begin")


def test_a_read_is_tried_again_after_unavailable_three_times() -> None:
    attempts = policy.Attempts(READ, 7.0, 30.0)
    pauses = []
    while True:
        assert (attempts.timeout(), attempts.wait_for_ready) == (7.0, False)
        pause = attempts.pause_after(failure("UNAVAILABLE"))
        if pause is None:
            break
        pauses.append(pause)
    assert pauses == list(ops.READ_RETRY_DELAYS) == [0.05, 0.2, 0.5]


@pytest.mark.parametrize("code", ["DEADLINE_EXCEEDED", "CANCELLED", "INVALID_ARGUMENT", "ABORTED", None])
def test_a_read_is_not_tried_again_after_other_errors(code: Optional[str]) -> None:
    assert policy.Attempts(READ, 7.0, 30.0).pause_after(failure(code)) is None


def test_a_commit_is_tried_again_with_doubling_pauses_waiting_for_the_connection() -> None:
    attempts = policy.Attempts(COMMIT, None, 60.0)
    assert not attempts.wait_for_ready
    timeout = attempts.timeout()
    assert timeout is not None and 59.0 < timeout <= 60.0  # no attempt runs past commit_retry_timeout
    pauses = [attempts.pause_after(failure(code)) for code in ["UNAVAILABLE", "DEADLINE_EXCEEDED"] * 4]
    assert pauses == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    assert attempts.wait_for_ready
    assert attempts.pause_after(failure("ABORTED")) is None
    assert attempts.pause_after(failure("CANCELLED")) is None
    assert policy.Attempts(COMMIT, 5.0, 60.0).timeout() == 5.0  # the client's timeout when it is shorter


def test_a_commit_gives_up_when_the_next_pause_would_pass_its_retry_timeout() -> None:
    attempts = policy.Attempts(COMMIT, 10.0, 0.3)
    assert attempts.pause_after(failure("UNAVAILABLE")) == 0.05
    assert attempts.pause_after(failure("UNAVAILABLE")) == 0.1
    time.sleep(0.2)
    assert attempts.pause_after(failure("UNAVAILABLE")) is None
    timeout = attempts.timeout()
    assert timeout is not None and 0 < timeout < 0.2


def test_other_calls_are_tried_once() -> None:
    attempts = policy.Attempts(BEGIN, 7.0, 30.0)
    assert attempts.timeout() == 7.0
    assert attempts.pause_after(failure("UNAVAILABLE")) is None


# ---- watches -------------------------------------------------------------------------------------------------------


class FakeFailure(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "gone"

    def trailing_metadata(self) -> tuple:
        return ()


class FakeCall:
    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def test_a_watch_reconnects_after_growing_pauses_and_resumes_after_the_last_event() -> None:
    state = policy.WatchState("ns", "agent", 5, reconnect_timeout=60.0, address="host:1")
    assert state._request() == pb.WatchRequest(namespace="ns", agent_id="agent", from_commit_ts=5)
    state._start_waiting()
    pauses = [state._lost(None), state._lost(FakeFailure(grpc.StatusCode.UNAVAILABLE))] + [
        state._lost(FakeFailure(grpc.StatusCode.DEADLINE_EXCEEDED)) for _ in range(5)
    ]
    assert pauses == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    state._received(pb.EventBatch(events=[pb.Event(commit_ts=5), pb.Event(commit_ts=6)]))
    assert [state._deliver().commit_ts, state.next_ts] == [5, 6]
    assert state._request().from_commit_ts == 6
    state._start_waiting()
    assert state._lost(None) == 0.05  # each wait starts with a short pause again


def test_a_watch_gives_up_on_a_final_error_or_after_its_reconnect_timeout() -> None:
    state = policy.WatchState("ns", None, 1, reconnect_timeout=60.0, address="host:1")
    with pytest.raises(exceptions.InvalidArgumentError):
        state._lost(FakeFailure(grpc.StatusCode.INVALID_ARGUMENT))
    hasty = policy.WatchState("ns", None, 1, reconnect_timeout=0.1, address="host:1")
    hasty._lost(FakeFailure(grpc.StatusCode.UNAVAILABLE))
    time.sleep(0.2)
    with pytest.raises(exceptions.UnavailableError, match="host:1"):
        hasty._lost(FakeFailure(grpc.StatusCode.UNAVAILABLE))


def test_a_closed_watch_stops_at_once() -> None:
    state = policy.WatchState("ns", None, None, reconnect_timeout=60.0, address="host:1")
    call = FakeCall()
    state._call = call
    state._stop()
    assert call.cancelled and state._call is None
    assert state._lost(FakeFailure(grpc.StatusCode.INVALID_ARGUMENT)) == 0.0  # no error once closed


def test_where_a_watch_starts() -> None:
    assert policy.WatchState("ns", None, 0, 60.0, "a").next_ts == 1
    unpinned = policy.WatchState("ns", None, None, 60.0, "a")
    assert unpinned.next_ts is None and unpinned._request().from_commit_ts == 1
    unpinned._pin(41)
    assert unpinned.next_ts == 42
    unpinned._pin(99)  # pinned once
    assert unpinned.next_ts == 42
    with pytest.raises(exceptions.InvalidArgumentError):
        policy.WatchState("ns", None, -1, 60.0, "a")


# ---- a transaction whose commit failed -------------------------------------------------------------------------------


class Conflicting(statehouse_pb2_grpc.StatehouseServiceServicer):
    """Answers every commit with a conflict and every abort with an unknown transaction; counts the requests."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()

    def BeginTransaction(self, request, context):  # noqa: N802 - the RPC's name
        self.calls["begin"] += 1
        return pb.BeginTransactionResponse(txn_id="t-1", namespace="default")

    def Commit(self, request, context):  # noqa: N802
        self.calls["commit"] += 1
        context.abort(grpc.StatusCode.ABORTED, "conflict")

    def Abort(self, request, context):  # noqa: N802
        self.calls["abort"] += 1
        context.abort(grpc.StatusCode.NOT_FOUND, "transaction t-1 already failed")

    def Session(self, request_iterator, context):  # noqa: N802
        for message in request_iterator:
            for request in [message, *message.batch]:
                kind = request.WhichOneof("request")
                if kind is None:
                    continue
                self.calls[kind] += 1
                if kind == "begin":
                    answer = pb.SessionResponse(begin=pb.BeginTransactionResponse(txn_id="t-1", namespace="default"))
                else:
                    code = grpc.StatusCode.ABORTED if kind == "commit" else grpc.StatusCode.NOT_FOUND
                    answer = pb.SessionResponse(error=pb.SessionError(code=code.value[0], message="conflict"))
                answer.request_id = request.request_id
                yield answer


@pytest.fixture
def conflicting() -> Iterator:
    servicer = Conflicting()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    statehouse_pb2_grpc.add_StatehouseServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(None)


def test_a_transaction_whose_commit_failed_is_finished_for_the_sync_client(conflicting) -> None:
    url, servicer = conflicting
    with Statehouse(url=url) as client:
        tx = Transaction(client, "t-1")
        tx.write("a", "k", 1)
        with pytest.raises(exceptions.ConflictError):
            tx.commit()
        with pytest.raises(exceptions.TransactionError, match="already failed"):
            tx.commit()
        tx.abort()  # nothing to abort
        with pytest.raises(exceptions.ConflictError):
            with client.begin_transaction() as block:
                block.write("a", "k", 2)
        with pytest.raises(ValueError):
            with client.begin_transaction() as block:
                block.write("a", "k", 2)
                raise ValueError("the block's own error")  # begun on the client, aborted there: nothing sent
        with pytest.raises(ValueError):
            with Transaction(client, "t-2") as attached:
                attached.write("a", "k", 2)
                raise ValueError("the block's own error")  # the failed Abort is ignored
    # Transactions of begin_transaction are begun on the client (no BeginTransaction) and aborted there (no Abort).
    assert servicer.calls == {"commit": 2, "abort": 1}


@pytest.mark.parametrize("pipelined", [True, False])
def test_a_transaction_whose_commit_failed_is_finished_for_the_async_client(conflicting, pipelined: bool) -> None:
    url, servicer = conflicting

    async def main() -> None:
        async with AsyncStatehouse(url=url, pipelined=pipelined) as client:
            tx = AsyncTransaction(client, "t-1")
            tx.write("a", "k", 1)
            with pytest.raises(exceptions.ConflictError):
                await tx.commit()
            with pytest.raises(exceptions.TransactionError, match="already failed"):
                await tx.commit()
            await tx.abort()
            with pytest.raises(exceptions.ConflictError):
                async with client.begin_transaction() as block:
                    block.write("a", "k", 2)
            with pytest.raises(ValueError):
                async with client.begin_transaction() as block:
                    block.write("a", "k", 2)
                    raise ValueError("the block's own error")
            with pytest.raises(ValueError):
                async with AsyncTransaction(client, "t-2") as attached:
                    attached.write("a", "k", 2)
                    raise ValueError("the block's own error")

    asyncio.run(main())
    assert servicer.calls == {"commit": 2, "abort": 1}
