"""Errors map on the reason the daemon names (trailing metadata `statehouse-error`, SessionError.reason), falling
back to the gRPC status code when there is none (an older daemon, or the transport itself).

No daemon needed: the trailers and session errors are made here, and stand-in servers answer the calls."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Tuple

import grpc
import pytest

from statehouse import AsyncStatehouse, AsyncTransaction, Statehouse, Transaction, exceptions
from statehouse import _wire as wire
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc

CONFLICT_FACTS = {
    "statehouse-conflict-agent-id": "agent-7",
    "statehouse-conflict-key": "plan",
    "statehouse-conflict-expected": "3",
    "statehouse-conflict-actual": "4",
}


def trailers(reason: Optional[str], **facts: str) -> List[Tuple[str, str]]:
    pairs = [("content-type", "application/grpc")]  # other metadata is ignored
    if reason is not None:
        pairs.append((wire.ERROR_REASON_KEY, reason))
    return pairs + list(facts.items())


@pytest.mark.parametrize(
    ("reason", "code", "expected"),
    [
        ("invalid_argument", grpc.StatusCode.INVALID_ARGUMENT, exceptions.InvalidArgumentError),
        ("transaction_not_found", grpc.StatusCode.NOT_FOUND, exceptions.TransactionNotFoundError),
        ("not_found", grpc.StatusCode.NOT_FOUND, exceptions.NotFoundError),
        ("transaction_expired", grpc.StatusCode.FAILED_PRECONDITION, exceptions.TransactionExpiredError),
        ("conflict", grpc.StatusCode.ABORTED, exceptions.ConflictError),
        ("resource_exhausted", grpc.StatusCode.RESOURCE_EXHAUSTED, exceptions.ResourceExhaustedError),
        ("subscriber_too_slow", grpc.StatusCode.RESOURCE_EXHAUSTED, exceptions.ResourceExhaustedError),
        ("quota_exceeded", grpc.StatusCode.RESOURCE_EXHAUSTED, exceptions.ResourceExhaustedError),
        ("unauthenticated", grpc.StatusCode.UNAUTHENTICATED, exceptions.UnauthenticatedError),
        ("permission_denied", grpc.StatusCode.PERMISSION_DENIED, exceptions.PermissionDeniedError),
        ("unavailable", grpc.StatusCode.UNAVAILABLE, exceptions.UnavailableError),
        ("data_corruption", grpc.StatusCode.DATA_LOSS, exceptions.DataLossError),
        ("internal", grpc.StatusCode.INTERNAL, exceptions.StatehouseError),
    ],
)
def test_every_reason_has_its_exception(reason: str, code: grpc.StatusCode, expected: type) -> None:
    error = wire.error(code, "details", address="127.0.0.1:1", trailers=trailers(reason))
    assert type(error) is expected
    assert (error.code, error.reason) == (code.name, reason)
    assert "details" in str(error)
    # The same error in a session.
    message = pb.SessionError(code=code.value[0], message="details", reason=reason)
    from_session = wire.session_error(message, address="127.0.0.1:1")
    assert type(from_session) is expected
    assert (from_session.code, from_session.reason, str(from_session)) == (code.name, reason, str(error))


def test_the_reason_decides_not_the_call_kind() -> None:
    # NOT_FOUND of a call about a transaction that names something else (verify of an empty namespace, say).
    error = wire.error(
        grpc.StatusCode.NOT_FOUND,
        "namespace 'n' has no commits",
        address="a",
        trailers=trailers("not_found"),
        transactional=True,
    )
    assert type(error) is exceptions.NotFoundError
    assert not isinstance(error, exceptions.TransactionError)
    # And an unknown transaction is one whatever the call was.
    error = wire.error(
        grpc.StatusCode.NOT_FOUND,
        "transaction t not found",
        address="a",
        trailers=trailers("transaction_not_found"),
        transactional=False,
    )
    assert type(error) is exceptions.TransactionNotFoundError


def test_without_a_reason_the_status_code_decides_as_before() -> None:
    error = wire.error(
        grpc.StatusCode.NOT_FOUND, "transaction t not found", address="a", trailers=trailers(None), transactional=True
    )
    assert type(error) is exceptions.TransactionNotFoundError and error.reason is None
    error = wire.error(grpc.StatusCode.NOT_FOUND, "nothing", address="a", trailers=None)
    assert type(error) is exceptions.NotFoundError and error.reason is None
    older = wire.session_error(
        pb.SessionError(code=grpc.StatusCode.FAILED_PRECONDITION.value[0], message="expired"),
        address="a",
        transactional=True,
    )
    assert type(older) is exceptions.TransactionExpiredError and older.reason is None


def test_an_unknown_reason_falls_back_to_the_code_and_is_kept() -> None:
    error = wire.error(grpc.StatusCode.RESOURCE_EXHAUSTED, "quota", address="a", trailers=trailers("a_newer_reason"))
    assert type(error) is exceptions.ResourceExhaustedError
    assert error.reason == "a_newer_reason"
    error = wire.error(grpc.StatusCode.UNAUTHENTICATED, "who?", address="a", trailers=trailers("a_newer_reason"))
    assert type(error) is exceptions.UnauthenticatedError and error.reason == "a_newer_reason"


def test_unauthenticated_is_a_permission_error_and_permission_denied_is_not_unauthenticated() -> None:
    unauthenticated = wire.error(grpc.StatusCode.UNAUTHENTICATED, "no token", address="a")
    denied = wire.error(grpc.StatusCode.PERMISSION_DENIED, "no grant", address="a")
    assert isinstance(unauthenticated, exceptions.PermissionDeniedError)
    assert type(denied) is exceptions.PermissionDeniedError
    assert not isinstance(denied, exceptions.UnauthenticatedError)
    assert (unauthenticated.reason, denied.reason) == (None, None)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"retry-after": "1", "statehouse-retry-after-ms": "250"}, 0.25),  # the exact one wins
        ({"statehouse-retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "2"}, 2.0),  # whole seconds, from generic tooling
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_a_quota_refusal_says_when_to_retry(facts: Dict[str, str], expected: Optional[float]) -> None:
    error = wire.error(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "over quota", address="a", trailers=trailers("quota_exceeded", **facts)
    )
    assert type(error) is exceptions.ResourceExhaustedError
    assert (error.reason, error.retry_after) == ("quota_exceeded", expected)
    # A session error carries the exact delay in its details.
    exact = {key: value for key, value in facts.items() if key.startswith("statehouse-")}
    message = pb.SessionError(
        code=grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], message="over quota", reason="quota_exceeded", details=exact
    )
    from_session = wire.session_error(message, address="a")
    assert from_session.retry_after == (expected if exact else None)


def test_other_errors_have_no_retry_after() -> None:
    assert exceptions.ResourceExhaustedError("m").retry_after is None
    slow = wire.error(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow", address="a", trailers=trailers("subscriber_too_slow"))
    assert slow.retry_after is None


def test_unavailable_said_by_the_daemon_is_told_apart_from_an_unreachable_daemon() -> None:
    said = wire.error(
        grpc.StatusCode.UNAVAILABLE,
        "the engine is shutting down",
        address="10.0.0.1:50051",
        trailers=trailers("unavailable"),
    )
    unreachable = wire.error(
        grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", address="10.0.0.1:50051"
    )
    for error in (said, unreachable):
        assert type(error) is exceptions.UnavailableError and isinstance(error, exceptions.ConnectionError)
        assert str(error).startswith("Statehouse daemon at 10.0.0.1:50051: ")
    assert said.reason == "unavailable"
    assert unreachable.reason is None


def test_a_conflict_keeps_its_facts_from_the_trailers_and_from_a_session_error() -> None:
    from_trailers = wire.error(
        grpc.StatusCode.ABORTED,
        "conflict on agent 'agent-7' key 'plan'",
        address="a",
        trailers=trailers("conflict", **CONFLICT_FACTS),
    )
    message = pb.SessionError(
        code=grpc.StatusCode.ABORTED.value[0],
        message="conflict on agent 'agent-7' key 'plan'",
        reason="conflict",
        details=CONFLICT_FACTS,
    )
    from_session = wire.session_error(message, address="a", transactional=True)
    for error in (from_trailers, from_session):
        assert type(error) is exceptions.ConflictError
        assert (error.agent_id, error.key, error.expected_version, error.actual_version) == ("agent-7", "plan", 3, 4)
        assert (error.code, error.reason) == ("ABORTED", "conflict")
        assert str(error) == "conflict on agent 'agent-7' key 'plan'"


def test_a_conflict_on_a_key_that_did_not_exist_has_no_versions() -> None:
    facts = {"statehouse-conflict-agent-id": "a", "statehouse-conflict-key": "k"}
    error = wire.session_error(
        pb.SessionError(code=grpc.StatusCode.ABORTED.value[0], message="m", reason="conflict", details=facts),
        address="a",
    )
    assert isinstance(error, exceptions.ConflictError)
    assert (error.agent_id, error.key, error.expected_version, error.actual_version) == ("a", "k", None, None)


def test_the_reason_field_of_a_session_error_wins_over_its_details() -> None:
    message = pb.SessionError(
        code=grpc.StatusCode.NOT_FOUND.value[0],
        message="m",
        reason="not_found",
        details={wire.ERROR_REASON_KEY: "transaction_not_found"},
    )
    assert type(wire.session_error(message, address="a")) is exceptions.NotFoundError


def test_sdk_errors_have_no_reason() -> None:
    assert exceptions.StatehouseError("m").reason is None
    assert exceptions.ConflictError("m").reason is None
    assert exceptions.UnavailableError("m", code="UNAVAILABLE").reason is None


class FakeFailure(grpc.RpcError):
    """A failed call as grpc raises it: a code, details and trailing metadata."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: Any) -> None:
        self._code, self._details, self._trailing = code, details, trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Any:
        return self._trailing


def test_a_failed_call_maps_on_its_trailers() -> None:
    failure = FakeFailure(grpc.StatusCode.ABORTED, "conflict", tuple(trailers("conflict", **CONFLICT_FACTS)))
    error = wire.rpc_error(failure, address="a", transactional=True)
    assert isinstance(error, exceptions.ConflictError) and (error.key, error.reason) == ("plan", "conflict")
    # grpc.aio hands trailers over as grpc.aio.Metadata.
    aio_trailers = grpc.aio.Metadata(*trailers("data_corruption"))
    error = wire.rpc_error(FakeFailure(grpc.StatusCode.DATA_LOSS, "bad page", aio_trailers), address="a")
    assert type(error) is exceptions.DataLossError and error.reason == "data_corruption"


def test_a_slow_watcher_is_known_by_its_reason_or_by_where_to_resume() -> None:
    def failure(reason: Optional[str], **facts: str) -> FakeFailure:
        return FakeFailure(grpc.StatusCode.RESOURCE_EXHAUSTED, "m", tuple(trailers(reason, **facts)))

    resume = {"statehouse-resume-from": "12"}
    assert wire.is_slow_watcher(failure("subscriber_too_slow", **resume))
    assert wire.is_slow_watcher(failure(None, **resume))  # an older daemon
    assert not wire.is_slow_watcher(failure("resource_exhausted"))  # too many watchers: resuming does not help
    assert not wire.is_slow_watcher(failure(None))


# ---- through the clients, against stand-in servers ----------------------------------------------------------------


def session_error(code: grpc.StatusCode, message: str, reason: str, details: Dict[str, str]) -> pb.SessionError:
    return pb.SessionError(code=code.value[0], message=message, reason=reason, details=details)


class StandIn(statehouse_pb2_grpc.StatehouseServiceServicer):
    """Answers commits with a conflict (session and unary, reasons and facts as the daemon sends them), aborts
    with a NOT_FOUND whose reason is not a transaction's, and gets with a session-wide error when told to."""

    def __init__(self, session_wide: Optional[pb.SessionError] = None) -> None:
        self.session_wide = session_wide

    def Commit(self, request, context):  # noqa: N802 - the RPC's name
        context.set_trailing_metadata(trailers("conflict", **CONFLICT_FACTS)[1:])
        context.abort(grpc.StatusCode.ABORTED, "conflict on agent 'agent-7' key 'plan'")

    def Abort(self, request, context):  # noqa: N802
        context.set_trailing_metadata(((wire.ERROR_REASON_KEY, "not_found"),))
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    def Session(self, request_iterator, context):  # noqa: N802
        for message in request_iterator:
            for request in [message, *message.batch]:
                kind = request.WhichOneof("request")
                if kind == "commit":
                    error = session_error(
                        grpc.StatusCode.ABORTED, "conflict on agent 'agent-7' key 'plan'", "conflict", CONFLICT_FACTS
                    )
                elif kind == "abort":
                    error = session_error(grpc.StatusCode.NOT_FOUND, "no such thing", "not_found", {})
                elif kind == "get" and self.session_wide is not None:
                    yield pb.SessionResponse(request_id=0, error=self.session_wide)
                    continue
                else:
                    continue
                yield pb.SessionResponse(request_id=request.request_id, error=error)


def check_conflict(error: exceptions.ConflictError) -> None:
    assert (error.agent_id, error.key, error.expected_version, error.actual_version) == ("agent-7", "plan", 3, 4)
    assert (error.code, error.reason) == ("ABORTED", "conflict")


def test_the_sync_client_maps_on_the_reason(serve) -> None:
    with Statehouse(url=serve(StandIn())) as client:
        tx = Transaction(client, "t-1")
        tx.write("agent-7", "plan", 1)
        with pytest.raises(exceptions.ConflictError) as raised:
            tx.commit()
        check_conflict(raised.value)
        with pytest.raises(exceptions.NotFoundError) as not_found:
            Transaction(client, "t-2").abort()
        assert not isinstance(not_found.value, exceptions.TransactionNotFoundError)
        assert not_found.value.reason == "not_found"


@pytest.mark.parametrize("pipelined", [True, False])
def test_the_async_client_maps_on_the_reason_over_the_session_and_unary_calls(serve, pipelined: bool) -> None:
    url = serve(StandIn())

    async def main() -> None:
        async with AsyncStatehouse(url=url, pipelined=pipelined) as client:
            tx = AsyncTransaction(client, "t-1")
            tx.write("agent-7", "plan", 1)
            with pytest.raises(exceptions.ConflictError) as raised:
                await tx.commit()
            check_conflict(raised.value)
            with pytest.raises(exceptions.NotFoundError) as not_found:
                await AsyncTransaction(client, "t-2").abort()
            assert not isinstance(not_found.value, exceptions.TransactionNotFoundError)
            assert not_found.value.reason == "not_found"

    asyncio.run(main())


def test_a_session_wide_error_with_a_reason_fails_the_waiting_requests_with_it(serve) -> None:
    shutting_down = session_error(grpc.StatusCode.UNAVAILABLE, "the engine is shutting down", "unavailable", {})
    url = serve(StandIn(session_wide=shutting_down))

    async def main() -> None:
        async with AsyncStatehouse(url=url, timeout=5) as client:
            with pytest.raises(exceptions.UnavailableError) as raised:
                await client.get_state("a", "k")
            # Not mistaken for a daemon too old for batches; reads retry, then the daemon's error is reported.
            assert raised.value.reason == "unavailable"
            assert "shutting down" in str(raised.value) and "older" not in str(raised.value)

    asyncio.run(main())
