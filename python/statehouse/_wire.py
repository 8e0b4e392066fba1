"""Conversions between the SDK's plain types and the generated protobuf messages, and gRPC errors to exceptions.

Everything gRPC- or protobuf-shaped stays in this module and the two clients; users only see ``statehouse.types``
and ``statehouse.exceptions``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

import grpc

from . import exceptions as errors
from . import ledger, merkle
from ._proto import statehouse_pb2 as pb
from ._time import datetime_from_micros, expiry_micros, micros_from_datetime
from .types import (
    CommitResult,
    Condition,
    Delete,
    KeyEntry,
    LogHead,
    Metadata,
    MetadataLike,
    Operation,
    Put,
    ReplayEvent,
    StateResult,
    VerifyResult,
    _datetime_from_micros,
)

CHANNEL_OPTIONS = [
    # Values may be 1 MiB and transactions 16 MiB by default; leave room for the daemon's configured limits.
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    # Reconnect quickly after a daemon restart instead of grpc's default backoff of up to 2 minutes.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


# ---- JSON values -------------------------------------------------------------------------------------------------


def encode_value(value: Any, *, key: str) -> bytes:
    """The JSON text of a value: compact, UTF-8, integers of any size exact. NaN and infinities are refused."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise errors.InvalidArgumentError(f"value of key {key!r} is not a JSON value: {error}") from None


_JSON_DECODER = json.JSONDecoder()


def decode_value(data: bytes) -> Any:
    """The Python value of stored JSON text (empty for no value).

    The daemon only stores valid UTF-8 JSON, so the text is decoded as UTF-8 and parsed by one shared decoder:
    ``json.loads(bytes)`` would first guess the encoding of every value (UTF-16 and UTF-32 included), which was a
    third of the parse's cost on the LangGraph saver's reads.
    """
    if not data:
        return None
    return _JSON_DECODER.decode(data.decode("utf-8"))


# ---- small conversions -------------------------------------------------------------------------------------------


def read_point(at: Optional[int], as_of: Optional[datetime]) -> Optional[pb.ReadPoint]:
    """The protobuf read point for ``at=commit_ts`` or ``as_of=datetime``; None for the latest state."""
    if at is not None and as_of is not None:
        raise errors.InvalidArgumentError("give at most one of at= (a commit_ts) and as_of= (a datetime)")
    if at is not None:
        if isinstance(at, bool) or not isinstance(at, int) or at < 0:
            raise errors.InvalidArgumentError(f"at= must be a commit_ts (an int >= 0), not {at!r}")
        return pb.ReadPoint(commit_ts=at)
    if as_of is not None:
        if not isinstance(as_of, datetime):
            raise errors.InvalidArgumentError(f"as_of= must be a datetime, not {as_of!r}")
        return pb.ReadPoint(as_of_micros=micros_from_datetime(as_of))
    return None


def metadata(value: MetadataLike) -> Optional[pb.Metadata]:
    """The protobuf metadata of a Metadata or a dict with actor / reason / tags."""
    if value is None:
        return None
    if isinstance(value, Metadata):
        actor, reason, tags = value.actor, value.reason, value.tags
    elif isinstance(value, Mapping):
        unknown = set(value) - {"actor", "reason", "tags"}
        if unknown:
            raise errors.InvalidArgumentError(f"metadata takes actor, reason and tags; unknown: {sorted(unknown)}")
        actor, reason, tags = value.get("actor"), value.get("reason"), value.get("tags") or {}
    else:
        raise errors.InvalidArgumentError(f"metadata must be a Metadata or a dict, not {type(value).__name__}")
    message = pb.Metadata(tags={str(k): str(v) for k, v in dict(tags).items()})
    if actor is not None:
        message.actor = str(actor)
    if reason is not None:
        message.reason = str(reason)
    return message


def metadata_from_proto(message: pb.Metadata) -> Metadata:
    return Metadata(
        actor=message.actor if message.HasField("actor") else None,
        reason=message.reason if message.HasField("reason") else None,
        tags=dict(message.tags),
    )


def put_operation(agent_id: str, key: str, value: Any, expires_at_micros: Optional[int] = None) -> pb.Operation:
    operation = pb.Operation(agent_id=agent_id, key=key, kind=pb.OPERATION_KIND_PUT, value=encode_value(value, key=key))
    if expires_at_micros is not None:
        operation.expires_at_micros = expires_at_micros
    return operation


def delete_operation(agent_id: str, key: str) -> pb.Operation:
    return pb.Operation(agent_id=agent_id, key=key, kind=pb.OPERATION_KIND_DELETE)


def operations(items: Iterable[Union[Put, Delete]]) -> List[pb.Operation]:
    result = []
    for item in items:
        if isinstance(item, Put):
            result.append(put_operation(item.agent_id, item.key, item.value, expiry_micros(item.ttl, item.expires_at)))
        elif isinstance(item, Delete):
            result.append(delete_operation(item.agent_id, item.key))
        else:
            raise errors.InvalidArgumentError(f"apply takes Put and Delete operations, not {type(item).__name__}")
    return result


def conditions(items: Iterable[Condition]) -> List[pb.Condition]:
    result = []
    for item in items:
        if not isinstance(item, Condition):
            raise errors.InvalidArgumentError(f"conditions must be Condition objects, not {type(item).__name__}")
        # Version 0 is what a never-written key reports; the daemon expresses that as "must not exist".
        if item.must_not_exist or item.version == 0:
            result.append(pb.Condition(agent_id=item.agent_id, key=item.key, must_not_exist=True))
        else:
            result.append(pb.Condition(agent_id=item.agent_id, key=item.key, version=item.version))
    return result


def require_int(name: str, value: Optional[int], *, minimum: int = 0) -> Optional[int]:
    """Checks an optional integer argument locally so that bad input fails before any request."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise errors.InvalidArgumentError(f"{name} must be an int >= {minimum}, not {value!r}")
    return value


def key_address(item: Union[Tuple[str, str], Sequence[str]]) -> pb.KeyAddress:
    agent_id, key = item
    return pb.KeyAddress(agent_id=agent_id, key=key)


# ---- results -----------------------------------------------------------------------------------------------------


def state_result(record: pb.StateRecord) -> StateResult:
    return StateResult(
        value=decode_value(record.value) if record.exists else None,
        version=record.version,
        commit_ts=record.commit_ts,
        exists=record.exists,
        key=record.key or None,
        agent_id=record.agent_id or None,
        deleted=record.deleted,
        committed_at=_datetime_from_micros(record.committed_at_micros),
        expires_at=_datetime_from_micros(record.expires_at_micros) if record.HasField("expires_at_micros") else None,
        value_removed=record.value_removed,
    )


def commit_result(response: pb.CommitResponse) -> CommitResult:
    result = response.result
    return CommitResult(
        commit_ts=result.commit_ts,
        txn_id=result.txn_id,
        versions=list(result.versions),
        namespace=result.namespace,
        committed_at=_datetime_from_micros(result.committed_at_micros),
        hash=bytes(result.hash),
    )


def key_entry(entry: pb.KeyEntry) -> KeyEntry:
    return KeyEntry(key=entry.key, version=entry.version, deleted=entry.deleted)


def log_head(head: pb.LogHead) -> LogHead:
    return LogHead(
        namespace=head.namespace,
        commit_ts=head.commit_ts,
        hash=bytes(head.hash),
        committed_at=_datetime_from_micros(head.committed_at_micros),
    )


def replay_event(event: pb.Event, agent_id: Optional[str] = None) -> ReplayEvent:
    return ReplayEvent(
        txn_id=event.txn_id,
        commit_ts=event.commit_ts,
        operations=[
            Operation(
                key=operation.key,
                value=decode_value(operation.value) if operation.kind == pb.OPERATION_KIND_PUT else None,
                version=operation.version,
                agent_id=operation.agent_id,
                deleted=operation.kind == pb.OPERATION_KIND_DELETE,
                namespace=event.namespace,
                expires_at=datetime_from_micros(operation.expires_at_micros)
                if operation.HasField("expires_at_micros")
                else None,
                removed_value_digest=bytes(operation.removed_value_digest) or None,
            )
            for operation in event.operations
        ],
        namespace=event.namespace,
        agent_id=agent_id,
        committed_at=_datetime_from_micros(event.committed_at_micros),
        metadata=metadata_from_proto(event.metadata),
        hash=bytes(event.hash),
        prev_hash=bytes(event.prev_hash),
    )


def verify_result(response: pb.VerifyResponse) -> VerifyResult:
    return VerifyResult(
        ok=response.ok,
        events_checked=response.events_checked,
        first_bad_commit_ts=response.first_bad_commit_ts or None,
        reason=response.reason,
        head=log_head(response.head),
        from_commit_ts=response.from_commit_ts,
        to_commit_ts=response.to_commit_ts,
        events_with_removed_values=response.events_with_removed_values,
    )


def log_filter(
    namespace: str,
    agent_id: Optional[str],
    start_ts: Optional[int],
    end_ts: Optional[int],
    key_prefix: Optional[str] = None,
    since_micros: Optional[int] = None,
    until_micros: Optional[int] = None,
) -> pb.LogFilter:
    """The log filter of a replay: an inclusive commit_ts range and an inclusive commit time range (micros)."""
    start_ts = require_int("start_ts", start_ts)
    end_ts = require_int("end_ts", end_ts)
    message = pb.LogFilter(namespace=namespace, agent_id=agent_id or "", key_prefix=key_prefix or "")
    if start_ts is not None:
        message.from_commit_ts = start_ts
    if end_ts is not None:
        message.to_commit_ts = end_ts
    if since_micros is not None:
        message.since_micros = since_micros
    if until_micros is not None:
        message.until_micros = until_micros
    return message


# ---- call metadata -------------------------------------------------------------------------------------------------

# What gRPC (HTTP/2) takes as a header name; "-bin" names carry bytes, "grpc-" names are gRPC's own.
_HEADER_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")

CallMetadata = Tuple[Tuple[str, str], ...]


def call_metadata(value: Any) -> Optional[CallMetadata]:
    """Checks the ``metadata=`` of a client: a sequence of ``(name, value)`` string pairs sent with every call
    (for example ``[("authorization", "Bearer ...")]``). Names are lowercase header names; values printable ASCII.

    Raises:
        InvalidArgumentError: anything else, before any call is made.
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        raise errors.InvalidArgumentError(
            "metadata must be a sequence of (name, value) pairs such as [('authorization', 'Bearer ...')], "
            f"not {type(value).__name__}"
        )
    pairs = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise errors.InvalidArgumentError(f"each metadata entry must be a (name, value) pair, not {item!r}")
        name, text = item
        if not isinstance(name, str) or not isinstance(text, str):
            raise errors.InvalidArgumentError(
                f"metadata names and values must be str, not ({type(name).__name__}, {type(text).__name__})"
            )
        if not name or not set(name) <= _HEADER_NAME_CHARS:
            raise errors.InvalidArgumentError(
                f"metadata name {name!r} must be a lowercase header name (letters a-z, digits, '-', '_', '.')"
            )
        if name.startswith("grpc-") or name.endswith("-bin"):
            raise errors.InvalidArgumentError(
                f"metadata name {name!r} is reserved (grpc-*) or binary (*-bin); use a plain text header"
            )
        if any(not " " <= char <= "~" for char in text):
            raise errors.InvalidArgumentError(f"metadata value of {name!r} must be printable ASCII")
        pairs.append((name, text))
    return tuple(pairs)


# ---- errors ------------------------------------------------------------------------------------------------------

_CODE_NAMES = {code.value[0]: code for code in grpc.StatusCode}

# The trailing metadata key that names the reason of every error the daemon raises (SessionError.reason in a
# session); the other "statehouse-*" keys carry its facts (a conflict's key and versions, where a watch resumes).
ERROR_REASON_KEY = "statehouse-error"

# The exception of each reason the daemon names. The reason decides, not the status code: NOT_FOUND is a
# transaction or something else by the reason, whatever the call was.
_REASON_CLASSES = {
    "invalid_argument": errors.InvalidArgumentError,
    "transaction_not_found": errors.TransactionNotFoundError,
    "not_found": errors.NotFoundError,
    "transaction_expired": errors.TransactionExpiredError,
    "failed_precondition": errors.FailedPreconditionError,
    "conflict": errors.ConflictError,
    "resource_exhausted": errors.ResourceExhaustedError,
    "subscriber_too_slow": errors.ResourceExhaustedError,
    "quota_exceeded": errors.ResourceExhaustedError,
    "unauthenticated": errors.UnauthenticatedError,
    "permission_denied": errors.PermissionDeniedError,
    "unavailable": errors.UnavailableError,
    "data_corruption": errors.DataLossError,
    "internal": errors.StatehouseError,
}


def status_code(number: int) -> grpc.StatusCode:
    """The grpc.StatusCode of a numeric code (as a session error carries it)."""
    return _CODE_NAMES.get(number, grpc.StatusCode.UNKNOWN)


def error_facts(trailers: Optional[Iterable[Tuple[str, Any]]]) -> Dict[str, str]:
    """The ``statehouse-*`` entries of an error's trailing metadata (or of a session error's details), by key."""
    return {
        key: value
        for key, value in (trailers or ())
        if isinstance(key, str) and key.startswith("statehouse-") and isinstance(value, str)
    }


# The trailing metadata of a quota's refusal: how long to wait before trying again, in milliseconds (the daemon's
# own key, exact) and in whole seconds rounded up (the HTTP header's name, for generic gRPC tooling).
RETRY_AFTER_MS_KEY = "statehouse-retry-after-ms"
RETRY_AFTER_KEY = "retry-after"


def retry_after_seconds(trailers: Iterable[Tuple[str, Any]]) -> Optional[float]:
    """The seconds a refusal says to wait before trying again (``statehouse-retry-after-ms``, else
    ``retry-after``), or None when it says nothing usable."""
    found: Dict[str, str] = {}
    for key, value in trailers:
        if key in (RETRY_AFTER_MS_KEY, RETRY_AFTER_KEY) and isinstance(value, str):
            found.setdefault(key, value.strip())
    for key, scale in ((RETRY_AFTER_MS_KEY, 1000.0), (RETRY_AFTER_KEY, 1.0)):
        text = found.get(key, "")
        if text.isdigit():
            return int(text) / scale
    return None


def _class_of_code(code: grpc.StatusCode, transactional: bool) -> Type[errors.StatehouseError]:
    """The exception of a status code without a reason (an older daemon, or the transport itself)."""
    if code == grpc.StatusCode.ABORTED:
        return errors.ConflictError
    if code == grpc.StatusCode.NOT_FOUND:
        return errors.TransactionNotFoundError if transactional else errors.NotFoundError
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return errors.TransactionExpiredError
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
        return errors.InvalidArgumentError
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return errors.UnauthenticatedError
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return errors.PermissionDeniedError
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return errors.ResourceExhaustedError
    if code == grpc.StatusCode.DATA_LOSS:
        return errors.DataLossError
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return errors.UnavailableError
    return errors.StatehouseError


def error(
    code: grpc.StatusCode,
    details: str,
    *,
    address: str,
    trailers: Optional[Iterable[Tuple[str, Any]]] = None,
    transactional: bool = False,
) -> errors.StatehouseError:
    """The SDK exception for a gRPC status and its trailing metadata.

    The reason the daemon names (``statehouse-error``) picks the exception; without one (an older daemon, or an
    error of the transport such as a refused connection) the status code does, and `transactional` makes
    NOT_FOUND a TransactionNotFoundError. An unknown reason (a newer daemon) also falls back to the code. A
    ResourceExhaustedError gets the ``retry_after`` the trailers name (a quota's refusal).
    """
    name = code.name
    details = details or name
    trailers = list(trailers or ())
    facts = error_facts(trailers)
    reason = facts.get(ERROR_REASON_KEY) or None
    cls = _REASON_CLASSES.get(reason or "") or _class_of_code(code, transactional)
    if cls is errors.ConflictError:

        def number(field: str) -> Optional[int]:
            text = facts.get(f"statehouse-conflict-{field}")
            return int(text) if text is not None and text.isdigit() else None

        return errors.ConflictError(
            details,
            code=name,
            reason=reason,
            agent_id=facts.get("statehouse-conflict-agent-id"),
            key=facts.get("statehouse-conflict-key"),
            expected_version=number("expected"),
            actual_version=number("actual"),
        )
    if cls is errors.ResourceExhaustedError:
        return errors.ResourceExhaustedError(
            details, code=name, reason=reason, retry_after=retry_after_seconds(trailers)
        )
    if cls is errors.UnavailableError:
        return errors.UnavailableError(f"Statehouse daemon at {address}: {details}", code=name, reason=reason)
    if cls is errors.StatehouseError:
        return errors.StatehouseError(f"{name}: {details}", code=name, reason=reason)
    return cls(details, code=name, reason=reason)


def session_error(failure: pb.SessionError, *, address: str, transactional: bool = False) -> errors.StatehouseError:
    """The SDK exception for the error of a session request: the same as the unary call's would be, its reason
    and details standing for that call's trailing metadata."""
    trailers = list(failure.details.items())
    if failure.reason:
        trailers.append((ERROR_REASON_KEY, failure.reason))
    return error(
        status_code(failure.code), failure.message, address=address, trailers=trailers, transactional=transactional
    )


def _trailers(failure: grpc.RpcError) -> Optional[Iterable[Tuple[str, Any]]]:
    try:
        return failure.trailing_metadata() if hasattr(failure, "trailing_metadata") else None
    except Exception:  # pragma: no cover - a call without trailers
        return None


def is_slow_watcher(failure: grpc.RpcError) -> bool:
    """Whether a watch ended because it fell behind (the daemon names where to resume): worth resuming, unlike
    RESOURCE_EXHAUSTED for too many watchers."""
    if not hasattr(failure, "code") or failure.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
        return False
    facts = error_facts(_trailers(failure))
    reason = facts.get(ERROR_REASON_KEY)
    if reason:
        return reason == "subscriber_too_slow"
    return "statehouse-resume-from" in facts


def rpc_error(failure: grpc.RpcError, *, address: str, transactional: bool = False) -> errors.StatehouseError:
    """The SDK exception for a failed gRPC call (sync or asyncio)."""
    code = failure.code() if hasattr(failure, "code") else grpc.StatusCode.UNKNOWN
    details = failure.details() if hasattr(failure, "details") else str(failure)
    return error(code, details or "", address=address, trailers=_trailers(failure), transactional=transactional)


# ---- ledger --------------------------------------------------------------------------------------------------------


def tree_head(message: pb.TreeHead) -> ledger.TreeHead:
    return ledger.TreeHead(namespace=message.namespace, tree_size=message.tree_size, root_hash=bytes(message.root_hash))


def signed_tree_head(message: pb.SignedTreeHead) -> ledger.SignedTreeHead:
    return ledger.SignedTreeHead(
        head=tree_head(message.head),
        timestamp_micros=message.timestamp_micros,
        key_id=message.key_id,
        signature=bytes(message.signature),
    )


def inclusion_proof(message: pb.InclusionProof) -> ledger.InclusionProof:
    return ledger.InclusionProof(
        namespace=message.namespace,
        commit_ts=message.commit_ts,
        tree_size=message.tree_size,
        hashes=[bytes(h) for h in message.hashes],
    )


def consistency_proof(message: pb.ConsistencyProof) -> ledger.ConsistencyProof:
    return ledger.ConsistencyProof(
        namespace=message.namespace,
        old_size=message.old_size,
        new_size=message.new_size,
        hashes=[bytes(h) for h in message.hashes],
    )


def _leaf_operation(operation: pb.AppliedOperation) -> ledger.LeafOperation:
    """An event's operation as its leaf holds it: a put by its value, or by the digest kept for a value the retention
    policy removed, with its expiry; a delete by its version."""
    expires = operation.expires_at_micros if operation.HasField("expires_at_micros") else None
    if operation.kind == pb.OPERATION_KIND_DELETE:
        return ledger.LeafOperation(operation.agent_id, operation.key, operation.version, None, expires)
    if operation.removed_value_digest:
        digest = bytes(operation.removed_value_digest)
        return ledger.LeafOperation(operation.agent_id, operation.key, operation.version, None, expires, digest)
    return ledger.LeafOperation(operation.agent_id, operation.key, operation.version, bytes(operation.value), expires)


def event_leaf_hash(event: pb.Event) -> bytes:
    """The Merkle leaf hash of an event as the daemon sent it (its values hashed here).

    Raises:
        VerificationError: an operation no leaf can hold (a delete with an expiry, a digest that is not 32 bytes).
    """
    operations = [_leaf_operation(operation) for operation in event.operations]
    has_metadata = event.HasField("metadata")
    meta = event.metadata
    try:
        leaf = ledger.leaf_bytes(
            namespace=event.namespace,
            commit_ts=event.commit_ts,
            txn_id=event.txn_id,
            committed_at_micros=event.committed_at_micros,
            actor=meta.actor if has_metadata and meta.HasField("actor") else None,
            reason=meta.reason if has_metadata and meta.HasField("reason") else None,
            tags=dict(meta.tags) if has_metadata else {},
            operations=operations,
        )
    except ValueError as problem:
        raise errors.VerificationError(
            f"the event at commit_ts {event.commit_ts} cannot be a leaf: {problem}"
        ) from None
    return merkle.leaf_hash(leaf)


def _expiry_of(message: Any) -> Optional[int]:
    return message.expires_at_micros if message.HasField("expires_at_micros") else None


def _wrote_record(operation: pb.AppliedOperation, record: pb.StateRecord) -> bool:
    """Whether the proven operation wrote the version read: a delete for a tombstone, a put of the same value and
    expiry for a live version, and a put with an expiry for a version that reads as deleted because it expired (the
    daemon reads it so until it commits the delete). The expiry is proven (the leaf holds it); the daemon's clock,
    which says it passed, is not."""
    if operation.version != record.version:
        return False
    if operation.kind == pb.OPERATION_KIND_DELETE:
        return record.deleted
    expiry = _expiry_of(operation)
    if _expiry_of(record) != expiry:
        return False
    if record.deleted:
        return expiry is not None and not record.exists
    return bytes(operation.value) == bytes(record.value) and not operation.removed_value_digest


def check_verified_state(
    response: pb.VerifiedState,
    *,
    public_key: ledger.LedgerPublicKey,
    namespace: str,
    agent_id: str,
    key: str,
    previous: Optional[ledger.TreeHead],
) -> ledger.TreeHead:
    """Checks a verified read before its value is returned; returns the head to remember. Raises VerificationError."""
    signed = signed_tree_head(response.head)
    head = signed.head
    if not public_key.verify_head(signed):
        raise errors.VerificationError(
            f"the tree head's signature does not verify with the trusted key {public_key.key_id} "
            f"(it names key {signed.key_id})"
        )
    if head.namespace != namespace:
        raise errors.VerificationError(f"the tree head is of namespace {head.namespace!r}, not {namespace!r}")
    if previous is not None:
        ledger.check_extends(
            previous, head, consistency_proof(response.consistency) if response.HasField("consistency") else None
        )
    record = response.record
    if record.version == 0:
        return head
    if not response.HasField("event") or not response.HasField("proof"):
        raise errors.VerificationError(f"the answer has no event or no inclusion proof for version {record.version}")
    event = response.event
    if event.namespace != namespace or event.commit_ts != record.commit_ts:
        raise errors.VerificationError(
            f"the event given is commit_ts {event.commit_ts}, but the version read was written at {record.commit_ts}"
        )
    written = [op for op in event.operations if op.agent_id == agent_id and op.key == key]
    if not written or not _wrote_record(written[0], record) or record.agent_id != agent_id or record.key != key:
        raise errors.VerificationError(
            f"the event at commit_ts {event.commit_ts} did not write this value as version {record.version} "
            f"of agent {agent_id!r} key {key!r}"
        )
    proof = inclusion_proof(response.proof)
    if (
        proof.commit_ts != event.commit_ts
        or proof.tree_size != head.tree_size
        or not merkle.verify_inclusion(
            event.commit_ts - 1, head.tree_size, event_leaf_hash(event), proof.hashes, head.root_hash
        )
    ):
        raise errors.VerificationError(
            f"the inclusion proof of commit_ts {event.commit_ts} does not lead to the signed root of tree size "
            f"{head.tree_size}"
        )
    return head
