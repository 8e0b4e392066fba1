"""The SDK's own logic without a daemon: every status code maps to its exception, and values encode exactly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest

from statehouse import _wire as wire
from statehouse import exceptions


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, exceptions.InvalidArgumentError),
        (grpc.StatusCode.NOT_FOUND, exceptions.NotFoundError),
        (grpc.StatusCode.FAILED_PRECONDITION, exceptions.TransactionExpiredError),
        (grpc.StatusCode.ABORTED, exceptions.ConflictError),
        (grpc.StatusCode.PERMISSION_DENIED, exceptions.PermissionDeniedError),
        (grpc.StatusCode.UNAUTHENTICATED, exceptions.UnauthenticatedError),  # a PermissionDeniedError too
        (grpc.StatusCode.RESOURCE_EXHAUSTED, exceptions.ResourceExhaustedError),
        (grpc.StatusCode.DATA_LOSS, exceptions.DataLossError),
        (grpc.StatusCode.UNAVAILABLE, exceptions.UnavailableError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, exceptions.UnavailableError),
        (grpc.StatusCode.INTERNAL, exceptions.StatehouseError),
    ],
)
def test_every_status_code_has_its_exception(code: grpc.StatusCode, expected: type) -> None:
    error = wire.error(code, "details", address="127.0.0.1:1")
    assert type(error) is expected
    assert error.code == code.name
    assert "details" in str(error)


def test_not_found_of_a_transaction_is_a_transaction_error() -> None:
    error = wire.error(grpc.StatusCode.NOT_FOUND, "transaction x not found", address="a", transactional=True)
    assert isinstance(error, exceptions.TransactionNotFoundError)
    assert isinstance(error, exceptions.TransactionError) and isinstance(error, exceptions.NotFoundError)


def test_conflict_details_come_from_the_trailers() -> None:
    trailers = [
        ("statehouse-conflict-agent-id", "agent"),
        ("statehouse-conflict-key", "k"),
        ("statehouse-conflict-expected", "3"),
        ("statehouse-conflict-actual", "4"),
    ]
    error = wire.error(grpc.StatusCode.ABORTED, "conflict", address="a", trailers=trailers)
    assert isinstance(error, exceptions.ConflictError)
    assert (error.agent_id, error.key, error.expected_version, error.actual_version) == ("agent", "k", 3, 4)


def test_unavailable_names_the_address() -> None:
    assert "10.0.0.1:50051" in str(wire.error(grpc.StatusCode.UNAVAILABLE, "refused", address="10.0.0.1:50051"))


def test_values_encode_compactly_and_exactly() -> None:
    assert wire.encode_value({"a": [1, 2**70, "ü"]}, key="k") == '{"a":[1,1180591620717411303424,"ü"]}'.encode()
    assert wire.decode_value(b"123456789012345678901234567890") == 123456789012345678901234567890
    assert wire.decode_value(b"") is None
    for bad in (float("nan"), float("inf"), {1j: 1}, object(), b"bytes"):
        with pytest.raises(exceptions.InvalidArgumentError, match="not a JSON value"):
            wire.encode_value(bad, key="k")


def test_times_convert_to_microseconds() -> None:
    moment = datetime(2026, 11, 22, 3, 4, 5, 123456, tzinfo=timezone.utc)
    micros = wire.micros_from_datetime(moment)
    assert micros == 1795316645123456
    assert wire.micros_from_datetime(moment.replace(tzinfo=None)) == micros  # naive means UTC
    assert wire.micros_from_datetime(moment.astimezone(timezone(timedelta(hours=2)))) == micros
    from statehouse.types import _datetime_from_micros

    assert _datetime_from_micros(micros) == moment
    assert _datetime_from_micros(0) is None


def test_read_points_are_checked_locally() -> None:
    with pytest.raises(exceptions.InvalidArgumentError):
        wire.read_point(1, datetime.now(timezone.utc))
    with pytest.raises(exceptions.InvalidArgumentError):
        wire.read_point(-1, None)
    with pytest.raises(exceptions.InvalidArgumentError):
        wire.read_point(True, None)
    assert wire.read_point(None, None) is None
