"""The exceptions the Statehouse SDK raises.

Every error is a :class:`StatehouseError`. The classes follow the daemon's gRPC status codes, so that callers can
react precisely (retry a :class:`ConflictError`, fix the request on :class:`InvalidArgumentError`, wait on
:class:`UnavailableError`) without seeing gRPC itself.

Each error also carries the daemon's ``reason`` for it (``"conflict"``, ``"unavailable"``, ...) when the daemon named
one; see :class:`StatehouseError`.

Hierarchy::

    StatehouseError
    ├── TransactionError                 a transaction cannot be used or committed
    │   ├── ConflictError                a key it read or expected changed (ABORTED): re-read and retry
    │   ├── TransactionExpiredError      it outlived its timeout and was rolled back (FAILED_PRECONDITION)
    │   └── TransactionNotFoundError     unknown, aborted or already finished id (also a NotFoundError)
    ├── NotFoundError                    NOT_FOUND
    ├── FailedPreconditionError          FAILED_PRECONDITION: a version the retention policy removed
    ├── InvalidArgumentError             bad input or over a limit (INVALID_ARGUMENT); nothing was changed
    ├── PermissionDeniedError            PERMISSION_DENIED: the caller's token has no grant for this
    │   └── UnauthenticatedError         UNAUTHENTICATED: no token, or an unknown, expired or revoked one
    ├── ResourceExhaustedError           too many open transactions or watchers, a slow watcher, a full disk, or
    │                                    a quota (``retry_after`` says when to try again)
    ├── DataLossError                    the store found corrupted data (DATA_LOSS)
    └── ConnectionError                  the daemon cannot be reached; the message names its address
        └── UnavailableError             UNAVAILABLE: unreachable, restarting or shutting down
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "StatehouseError",
    "TransactionError",
    "ConflictError",
    "TransactionExpiredError",
    "TransactionNotFoundError",
    "NotFoundError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "PermissionDeniedError",
    "UnauthenticatedError",
    "ResourceExhaustedError",
    "DataLossError",
    "ConnectionError",
    "UnavailableError",
]


class StatehouseError(Exception):
    """Base class of every error the SDK raises.

    Attributes:
        code: the gRPC status code name the daemon answered with (``"ABORTED"``, ``"NOT_FOUND"``, ...), or None
            for an error found by the SDK itself.
        reason: the Statehouse error the daemon named for it (its ``statehouse-error`` trailing metadata, or the
            reason of a session error): ``"invalid_argument"``, ``"transaction_not_found"``, ``"not_found"``,
            ``"transaction_expired"``, ``"failed_precondition"``, ``"conflict"``, ``"resource_exhausted"``,
            ``"subscriber_too_slow"``, ``"quota_exceeded"``, ``"unauthenticated"``, ``"permission_denied"``,
            ``"unavailable"``, ``"data_corruption"`` or ``"internal"``. None when the
            daemon named none: an error found by the SDK itself, one of the transport (the daemon could not be
            reached, the connection was lost, a deadline passed), or an answer of a daemon older than reasons. So an
            :class:`UnavailableError` with reason ``"unavailable"`` is the daemon saying it cannot serve now
            (shutting down, its storage failing), while one without a reason means it could not be reached.
    """

    def __init__(self, message: str, *, code: Optional[str] = None, reason: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class TransactionError(StatehouseError):
    """A transaction could not be used or committed: finished already, aborted, expired, unknown or in conflict."""


class ConflictError(TransactionError):
    """A key the transaction read (or named in a condition) changed before the commit; nothing was applied.

    Re-read and retry. ``agent_id``, ``key``, ``expected_version`` and ``actual_version`` name the key when the
    daemon reported it.
    """

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = "ABORTED",
        reason: Optional[str] = None,
        agent_id: Optional[str] = None,
        key: Optional[str] = None,
        expected_version: Optional[int] = None,
        actual_version: Optional[int] = None,
    ) -> None:
        super().__init__(message, code=code, reason=reason)
        self.agent_id = agent_id
        self.key = key
        self.expected_version = expected_version
        self.actual_version = actual_version


class TransactionExpiredError(TransactionError):
    """The transaction outlived its timeout and was rolled back; begin a new one."""


class NotFoundError(StatehouseError):
    """The daemon has no such thing (for example, an unknown transaction id)."""


class FailedPreconditionError(StatehouseError):
    """What the request needs is no longer there: a version whose value the retention policy removed (the message
    names the version and the policy)."""


class TransactionNotFoundError(TransactionError, NotFoundError):
    """The transaction id is unknown, was aborted, or already finished."""


class InvalidArgumentError(StatehouseError):
    """The request was malformed or over a limit (names, value size, operations per transaction); nothing changed."""


class PermissionDeniedError(StatehouseError):
    """The daemon refused the request for this caller: its token has no grant of the role the request needs on the
    namespace (the message names the token, the role and the namespace), or the request writes the system
    namespace ``_statehouse``. Nothing was changed."""


class UnauthenticatedError(PermissionDeniedError):
    """The daemon requires a token (``--auth required``) and the request had none, or one it does not take: a
    malformed, unknown, expired or revoked token, or a wrong secret. Nothing was changed.

    Pass the token with ``Statehouse(token=...)`` (or $STATEHOUSE_TOKEN). A subclass of
    :class:`PermissionDeniedError`, which the SDK raised for UNAUTHENTICATED before this class existed.
    """


class ResourceExhaustedError(StatehouseError):
    """A capacity limit was hit: too many open transactions or watchers, a watcher that fell behind, a full disk, or
    one of the daemon's quotas (commits or bytes per second, stored bytes, open transactions or watches).

    ``reason`` is ``"subscriber_too_slow"`` for a watcher that fell behind and ``"quota_exceeded"`` for a quota
    (when the daemon names reasons). ``retry_after`` is the number of seconds the daemon said to wait before trying
    again (a rate quota), else None. Nothing was changed.
    """

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        reason: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message, code=code, reason=reason)
        self.retry_after = retry_after


class DataLossError(StatehouseError):
    """The daemon found corrupted or missing data; see ``statehousectl verify``."""


class VerificationError(DataLossError):
    """A verified read or a proof did not check: a bad signature, a proof that does not lead to the signed root, or
    a history that does not extend a head this client verified before. Nothing is returned."""


class ConnectionError(StatehouseError):  # noqa: A001 - the original SDK's name, kept for compatibility
    """The daemon could not be reached, or the connection to it was lost. The message names its address."""


class UnavailableError(ConnectionError):
    """The daemon answered UNAVAILABLE: unreachable, restarting, or shutting down. Safe to retry later.

    ``reason`` is ``"unavailable"`` when the daemon itself said so (shutting down, its storage failing), None when
    it could not be reached or the connection was lost.
    """
