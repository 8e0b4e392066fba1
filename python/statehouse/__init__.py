"""Statehouse: the versioned, replayable, verifiable state engine for AI agents. Python SDK (sync and async).

Quick start::

    from statehouse import Statehouse

    with Statehouse(url="localhost:50051") as client:
        with client.begin_transaction() as tx:
            tx.write(agent_id="agent-1", key="memory", value={"fact": "the sky is blue"})
        print(client.get_state(agent_id="agent-1", key="memory").value)

See python/README.md for the whole API.
"""

from . import access, artifacts, exceptions, formatting, ledger, lifecycle, merkle, provenance
from ._config import TLS
from .access import AccessGrant, AccessToken, Principal
from .aio import AsyncStatehouse, AsyncTransaction, AsyncTransactionBegin, AsyncWatchStream
from .artifacts import ArtifactInfo
from .client import Statehouse, Transaction, WatchStream
from .exceptions import (
    ConflictError,
    ConnectionError,
    DataLossError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    StatehouseError,
    TransactionError,
    TransactionExpiredError,
    TransactionNotFoundError,
    UnauthenticatedError,
    UnavailableError,
    VerificationError,
)
from .lifecycle import (
    AgentEvent,
    AgentInfo,
    CompactionReport,
    EventDraft,
    KeyChange,
    RetentionPolicy,
    SearchHit,
    Session,
    Snapshot,
    StateCopy,
    StateDiff,
    Task,
    Transition,
)
from .provenance import (
    Advisory,
    AdvisoryFinding,
    AgentRun,
    AsyncRunHandle,
    ProvenanceDraft,
    ProvenanceInEffect,
    ProvenancePage,
    ProvenanceRecord,
    ReplayFinding,
    ReplayPlan,
    ReplaySource,
    ReplayStep,
    RunDetails,
    RunHandle,
)
from .types import (
    CommitResult,
    Condition,
    Delete,
    KeyEntry,
    LogHead,
    Metadata,
    Operation,
    OperationType,
    Put,
    ReplayEvent,
    StateResult,
    VerifyResult,
)

__version__ = "0.1.0"

__all__ = [
    "Statehouse",
    "TLS",
    "Transaction",
    "WatchStream",
    "AsyncStatehouse",
    "AsyncTransaction",
    "AsyncTransactionBegin",
    "AsyncWatchStream",
    "StateResult",
    "Operation",
    "OperationType",
    "ReplayEvent",
    "CommitResult",
    "Metadata",
    "Put",
    "Delete",
    "Condition",
    "LogHead",
    "VerifyResult",
    "KeyEntry",
    "AgentInfo",
    "Snapshot",
    "StateCopy",
    "StateDiff",
    "KeyChange",
    "AgentEvent",
    "EventDraft",
    "Session",
    "Task",
    "SearchHit",
    "Transition",
    "RetentionPolicy",
    "CompactionReport",
    "AccessGrant",
    "AccessToken",
    "Principal",
    "ProvenanceDraft",
    "ProvenanceRecord",
    "ProvenancePage",
    "ProvenanceInEffect",
    "AgentRun",
    "RunDetails",
    "RunHandle",
    "AsyncRunHandle",
    "Advisory",
    "AdvisoryFinding",
    "ReplayPlan",
    "ReplaySource",
    "ReplayStep",
    "ReplayFinding",
    "ArtifactInfo",
    "access",
    "artifacts",
    "exceptions",
    "formatting",
    "ledger",
    "lifecycle",
    "merkle",
    "provenance",
    "StatehouseError",
    "TransactionError",
    "ConflictError",
    "TransactionExpiredError",
    "FailedPreconditionError",
    "TransactionNotFoundError",
    "NotFoundError",
    "InvalidArgumentError",
    "PermissionDeniedError",
    "UnauthenticatedError",
    "ResourceExhaustedError",
    "DataLossError",
    "ConnectionError",
    "UnavailableError",
    "VerificationError",
]
