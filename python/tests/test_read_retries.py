"""Reads ride out a dropped connection: an UNAVAILABLE answer to a read is retried a few times at once, while a
failed write is left to the commit retry rules and other errors reach the caller unchanged.

A stand-in server answers the first calls UNAVAILABLE (as a client sees a connection the daemon closed, or a busy
store), so the tests do not depend on catching a real connection drop in the act."""

from __future__ import annotations

import asyncio
import threading

import grpc
import pytest

from statehouse import AsyncStatehouse, InvalidArgumentError, Statehouse, UnavailableError
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc


class FlakyReads(statehouse_pb2_grpc.StatehouseServiceServicer):
    """GetState fails `failures` times with UNAVAILABLE (or `code`), then answers; counts every call."""

    def __init__(self, failures: int, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
        self.failures = failures
        self.code = code
        self.calls = 0
        self.lock = threading.Lock()

    def GetState(self, request, context):  # noqa: N802 - the RPC's name
        with self.lock:
            self.calls += 1
            failing = self.calls <= self.failures
        if failing:
            context.abort(self.code, "Stream removed (Socket closed)")
        return pb.GetStateResponse(
            record=pb.StateRecord(
                agent_id=request.agent_id,
                key=request.key,
                value=b'"kept"',
                exists=True,
                version=1,
                commit_ts=7,
            )
        )


@pytest.mark.parametrize("failures", [1, 3])
def test_a_read_is_retried_through_unavailable_answers(serve, failures: int) -> None:
    servicer = FlakyReads(failures)
    with Statehouse(url=serve(servicer)) as client:
        state = client.get_state("agent", "k")
    assert (state.value, state.commit_ts) == ("kept", 7)
    assert servicer.calls == failures + 1


def test_a_read_that_stays_unavailable_is_reported_after_three_retries(serve) -> None:
    servicer = FlakyReads(failures=100)
    with Statehouse(url=serve(servicer)) as client:
        with pytest.raises(UnavailableError, match="Stream removed"):
            client.get_state("agent", "k")
    assert servicer.calls == 4


def test_other_errors_are_not_retried(serve) -> None:
    servicer = FlakyReads(failures=100, code=grpc.StatusCode.INVALID_ARGUMENT)
    with Statehouse(url=serve(servicer)) as client:
        with pytest.raises(InvalidArgumentError):
            client.get_state("agent", "k")
    assert servicer.calls == 1


def test_the_async_client_retries_reads_too(serve) -> None:
    servicer = FlakyReads(failures=2)
    url = serve(servicer)

    async def main() -> None:
        async with AsyncStatehouse(url=url, pipelined=False) as client:
            state = await client.get_state("agent", "k")
            assert state.value == "kept"

    asyncio.run(main())
    assert servicer.calls == 3
