"""Every SDK operation as a plan: a generator that yields the RPCs it needs and returns the result.

The sync and the async clients run the same plans (``Statehouse._run`` and ``AsyncStatehouse._run``), so argument
checking, request building, pagination and result conversion exist once. A plan yields :class:`Call` objects and
receives each call's response message; a call that fails is thrown into the plan as the SDK's exception, so that a
plan can react to it (a transaction that failed to commit is marked so). How calls are retried and watches
reconnected is decided in ``_policy``; the clients only move messages.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, Generator, Iterable, List, Optional, Sequence, Tuple, Type, TypeVar, Union

from . import _wire as wire
from . import exceptions as errors
from . import formatting, ledger
from ._proto import statehouse_pb2 as pb
from ._time import datetime_from_micros, expiry_micros, time_bound
from .types import (
    CommitResult,
    Condition,
    Delete,
    LogHead,
    MetadataLike,
    Put,
    ReplayEvent,
    StateResult,
    VerifyResult,
)


@dataclass(frozen=True)
class Call:
    """One RPC of a plan.

    Attributes:
        method: the unary RPC's name on StatehouseService.
        request: its request message.
        session_field: the SessionRequest field that carries the same request (None: not available on a session).
        transactional: NOT_FOUND means "unknown transaction" (TransactionNotFoundError).
        retry: the call is safe to repeat when its reply may have been lost (commits: the daemon applies them once).
        read_only: the call changes nothing, so an UNAVAILABLE answer (the connection dropped, the store was busy)
            is retried a few times at once (``READ_RETRY_DELAYS``) before it reaches the caller.
    """

    method: str
    request: Any
    session_field: Optional[str] = None
    transactional: bool = False
    retry: bool = False
    read_only: bool = False


# Pauses (seconds) before each retry of a read that failed with UNAVAILABLE: enough to ride out a dropped connection
# (grpc reconnects in ~100 ms), short enough that a daemon that is down is reported within a second.
READ_RETRY_DELAYS = (0.05, 0.2, 0.5)


Plan = Generator[Call, Any, Any]

# A replay's from_timestamp / to_timestamp: RFC 3339 text or a datetime (naive: UTC).
TimeBound = Union[str, datetime, None]

# The SessionResponse field that answers each SessionRequest field.
SESSION_RESPONSE_FIELD = {
    "apply": "commit",
    "get": "get",
    "get_many": "get_many",
    "begin": "begin",
    "write": "write",
    "delete": "delete",
    "transaction_get": "get",
    "commit": "commit",
    "abort": "abort",
    "list_keys": "list_keys",
    "scan_prefix": "scan_prefix",
    "history": "history",
    "read_log": "read_log",
    "get_at_version": "get",
}


def _page_limit(limit: Optional[int]) -> int:
    return wire.require_int("limit", limit, minimum=1) or 0


# ---- health --------------------------------------------------------------------------------------------------------


def health() -> Plan:
    response = yield Call("Health", pb.HealthRequest(), read_only=True)
    return response.status


def version() -> Plan:
    response = yield Call("Version", pb.VersionRequest(), read_only=True)
    return (response.version, response.git_sha)


# ---- transactions ----------------------------------------------------------------------------------------------------

# How long a transaction begun by the client may stay open when begin_transaction names no timeout: the daemon's
# default for the transactions it begins.
DEFAULT_TRANSACTION_TIMEOUT_MS = 30_000


def new_transaction_id() -> str:
    """A version 7 UUID (RFC 9562) for a transaction the client begins itself, in the daemon's text form (lowercase,
    8-4-4-4-12): 48 bits of Unix time in milliseconds, the version nibble 7, 12 random bits, the variant bits 10 and
    62 random bits. Time-ordered, and unique without asking the daemon."""
    millis = time.time_ns() // 1_000_000 & (1 << 48) - 1
    random = int.from_bytes(os.urandom(10), "big")  # 80 random bits: 12 + 62 are used
    rand_a = random >> 62 & 0xFFF
    rand_b = random & (1 << 62) - 1
    return str(uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b))


class DaemonFeatures:
    """What a client learned about its daemon while running plans (one per client, shared by its transactions)."""

    def __init__(self) -> None:
        # False once the daemon answered a commit of a transaction begun by the client as an unknown transaction
        # (it is older than CommitRequest.begun_by_client): later commits then begin on the daemon first.
        self.client_begun_commits = True


def begin(namespace: str, timeout_ms: Optional[int]) -> Plan:
    timeout_ms = wire.require_int("timeout_ms", timeout_ms, minimum=1)
    request = pb.BeginTransactionRequest(namespace=namespace, timeout_ms=timeout_ms or 0)
    response = yield Call("BeginTransaction", request, "begin")
    return response.txn_id, response.namespace


def transaction_get(txn_id: str, agent_id: str, key: str) -> Plan:
    request = pb.TransactionGetRequest(txn_id=txn_id, agent_id=agent_id, key=key)
    response = yield Call("TransactionGet", request, "transaction_get", transactional=True, read_only=True)
    return wire.state_result(response.record)


def commit(
    txn_id: str,
    operations: Sequence[pb.Operation],
    conditions: Sequence[pb.Condition],
    metadata: MetadataLike,
    *,
    begun_by_client_in: Optional[str] = None,
) -> Plan:
    """The commit of a transaction begun on the daemon, or (``begun_by_client_in``: its namespace) of one the client
    began itself: then the daemon has no record of it, and applies the operations under the conditions as one new
    transaction with this id (exactly once by the id)."""
    request = pb.CommitRequest(txn_id=txn_id, operations=operations, conditions=conditions)
    if begun_by_client_in is not None:
        request.begun_by_client = True
        request.namespace = begun_by_client_in
    message = wire.metadata(metadata)
    if message is not None:
        request.metadata.CopyFrom(message)
    response = yield Call("Commit", request, "commit", transactional=True, retry=True)
    result = wire.commit_result(response)
    if operations and len(result.versions) != len(operations):
        # A daemon older than CommitRequest.operations ignores them and commits nothing: say so instead of
        # reporting a commit of writes that were never applied.
        raise errors.StatehouseError(
            f"the daemon applied {len(result.versions)} of the transaction's {len(operations)} writes; it is older "
            "than this SDK (it does not take writes with the commit): upgrade statehoused"
        )
    return result


def _knows_no_client_begun_commits(error: errors.StatehouseError) -> bool:
    """Whether `error`, the answer to a commit of a transaction begun by the client, means that the daemon is older
    than that feature: it took the id for one of its own transactions and does not know it. Such a daemon answers
    NOT_FOUND without a reason, or (one that names reasons) with ``transaction_not_found``; a daemon that takes
    these commits never answers them so."""
    return error.code == "NOT_FOUND" and error.reason in (None, "transaction_not_found")


def commit_begun_by_client(
    txn_id: str,
    namespace: str,
    operations: Sequence[pb.Operation],
    conditions: Sequence[pb.Condition],
    metadata: MetadataLike,
    daemon: DaemonFeatures,
) -> Plan:
    """Commits a transaction the client began: one Commit. A daemon older than that answers that it does not know
    the transaction; then (and for the client's later commits) the transaction is begun on the daemon and committed
    with the same operations and conditions (its reads are conditions already): two round trips, as before."""
    if daemon.client_begun_commits:
        try:
            result = yield from commit(txn_id, operations, conditions, metadata, begun_by_client_in=namespace)
            return result
        except errors.StatehouseError as error:
            if not _knows_no_client_begun_commits(error):
                raise
            daemon.client_begun_commits = False
    daemon_txn_id, _ = yield from begin(namespace, None)
    result = yield from commit(daemon_txn_id, operations, conditions, metadata)
    return result


def abort(txn_id: str) -> Plan:
    yield Call("Abort", pb.AbortRequest(txn_id=txn_id), "abort", transactional=True)


def apply(
    namespace: str,
    operations: Iterable[Union[Put, Delete]],
    conditions: Iterable[Condition],
    idempotency_key: Optional[str],
    metadata: MetadataLike,
    events: Sequence[pb.AgentEventDraft] = (),
) -> Plan:
    """Without an idempotency key one is made, so that a retry after a lost reply is safe ("" sends none)."""
    request = pb.ApplyRequest(
        namespace=namespace,
        operations=wire.operations(operations),
        conditions=wire.conditions(conditions),
        idempotency_key=idempotency_key if idempotency_key is not None else f"sdk-{uuid.uuid4().hex}",
        events=events,
    )
    if not request.operations and not request.events:
        raise errors.InvalidArgumentError("apply needs at least one Put, Delete or event")
    message = wire.metadata(metadata)
    if message is not None:
        request.metadata.CopyFrom(message)
    response = yield Call("Apply", request, "apply", retry=True)
    return wire.commit_result(response)


# ---- reads -------------------------------------------------------------------------------------------------------


def get_state(namespace: str, agent_id: str, key: str, at: Optional[int], as_of: Optional[datetime]) -> Plan:
    request = pb.GetStateRequest(namespace=namespace, agent_id=agent_id, key=key)
    point = wire.read_point(at, as_of)
    if point is not None:
        request.at.CopyFrom(point)
    response = yield Call("GetState", request, "get", read_only=True)
    return wire.state_result(response.record)


def get_verified_state(
    namespace: str,
    agent_id: str,
    key: str,
    at: Optional[int],
    as_of: Optional[datetime],
    memory: ledger.LedgerMemory,
) -> Plan:
    """A read checked against the daemon's signed tree head before it is returned (see ``statehouse.ledger``)."""
    public_key = memory.trusted_key
    if public_key is None:  # trust on first use: the key the daemon reports, kept for the client's lifetime
        public_key = memory.trust((yield from ledger_key()), only_if_none=True)
    previous = memory.head(public_key.key_id, namespace)
    request = pb.GetVerifiedStateRequest(namespace=namespace, agent_id=agent_id, key=key)
    point = wire.read_point(at, as_of)
    if point is not None:
        request.at.CopyFrom(point)
    if previous is not None:
        request.known_tree_size = previous.tree_size
    response = yield Call("GetVerifiedState", request, read_only=True)
    head = wire.check_verified_state(
        response, public_key=public_key, namespace=namespace, agent_id=agent_id, key=key, previous=previous
    )
    memory.remember(public_key.key_id, head)
    return wire.state_result(response.record)


def ledger_key() -> Plan:
    response = yield Call("GetSigningKey", pb.GetSigningKeyRequest(), read_only=True)
    try:
        return ledger.LedgerPublicKey(bytes(response.public_key))
    except ValueError as error:
        raise errors.StatehouseError(f"the daemon sent an unusable signing key: {error}") from None


def tree_head(namespace: str, size: Optional[int]) -> Plan:
    request = pb.GetTreeHeadRequest(namespace=namespace)
    if size is not None:
        request.tree_size = wire.require_int("size", size)
    response = yield Call("GetTreeHead", request, read_only=True)
    return wire.signed_tree_head(response)


def inclusion_proof(namespace: str, commit_ts: int, tree_size: Optional[int]) -> Plan:
    request = pb.GetInclusionProofRequest(namespace=namespace, commit_ts=wire.require_int("commit_ts", commit_ts))
    if tree_size is not None:
        request.tree_size = wire.require_int("tree_size", tree_size)
    response = yield Call("GetInclusionProof", request, read_only=True)
    return wire.inclusion_proof(response)


def consistency_proof(namespace: str, old_size: int, new_size: Optional[int]) -> Plan:
    request = pb.GetConsistencyProofRequest(namespace=namespace, old_size=wire.require_int("old_size", old_size))
    if new_size is not None:
        request.new_size = wire.require_int("new_size", new_size)
    response = yield Call("GetConsistencyProof", request, read_only=True)
    return wire.consistency_proof(response)


def get_state_at_version(namespace: str, agent_id: str, key: str, version: int) -> Plan:
    wire.require_int("version", version, minimum=1)
    request = pb.GetStateAtVersionRequest(namespace=namespace, agent_id=agent_id, key=key, version=version)
    response = yield Call("GetStateAtVersion", request, "get_at_version", read_only=True)
    return wire.state_result(response.record)


def get_many(namespace: str, keys: Iterable[Tuple[str, str]], at: Optional[int], as_of: Optional[datetime]) -> Plan:
    request = pb.GetManyRequest(namespace=namespace, keys=[wire.key_address(item) for item in keys])
    point = wire.read_point(at, as_of)
    if point is not None:
        request.at.CopyFrom(point)
    response = yield Call("GetMany", request, "get_many", read_only=True)
    return [wire.state_result(record) for record in response.records]


def list_keys(namespace: str, agent_id: str, prefix: str, include_deleted: bool) -> Plan:
    keys: List[str] = []
    cursor = ""
    while True:
        request = pb.ListKeysRequest(
            namespace=namespace, agent_id=agent_id, prefix=prefix, include_deleted=include_deleted, cursor=cursor
        )
        response = yield Call("ListKeys", request, "list_keys", read_only=True)
        keys.extend(entry.key for entry in response.keys)
        if not response.next_cursor:
            return keys
        cursor = response.next_cursor


def scan_prefix(
    namespace: str,
    agent_id: str,
    prefix: str,
    at: Optional[int],
    as_of: Optional[datetime],
    start_after: Optional[str] = None,
    limit: Optional[int] = None,
    convert: Callable[[pb.StateRecord], Any] = wire.state_result,
) -> Plan:
    """The keys of ``prefix`` in byte order, each record made a :class:`StateResult` (or what ``convert`` makes of
    it: the LangGraph saver keeps records whose values it may never read undecoded)."""
    point = wire.read_point(at, as_of)
    wanted = wire.require_int("limit", limit, minimum=1)
    if start_after is not None and not isinstance(start_after, str):
        raise errors.InvalidArgumentError(f"start_after must be a str, not {type(start_after).__name__}")
    results: List[Any] = []
    cursor = ""
    while True:
        page = 0 if wanted is None else min(wanted - len(results), 10_000)
        request = pb.ScanPrefixRequest(
            namespace=namespace,
            agent_id=agent_id,
            prefix=prefix,
            cursor=cursor,
            limit=page,
            start_after=start_after or "",
        )
        if point is not None:
            request.at.CopyFrom(point)
        response = yield Call("ScanPrefix", request, "scan_prefix", read_only=True)
        results.extend(convert(record) for record in response.records)
        if not response.next_cursor or (wanted is not None and len(results) >= wanted):
            return results[:wanted] if wanted is not None else results
        cursor = response.next_cursor


def history(namespace: str, agent_id: str, key: str, limit: Optional[int]) -> Plan:
    wanted = wire.require_int("limit", limit, minimum=1)
    versions: List[StateResult] = []
    cursor = ""
    while True:
        page = 0 if wanted is None else min(wanted - len(versions), 10_000)
        request = pb.HistoryRequest(namespace=namespace, agent_id=agent_id, key=key, limit=page, cursor=cursor)
        response = yield Call("History", request, "history", read_only=True)
        versions.extend(wire.state_result(record) for record in response.versions)
        if not response.next_cursor or (wanted is not None and len(versions) >= wanted):
            return versions[:wanted] if wanted is not None else versions
        cursor = response.next_cursor


def list_agents(namespace: str) -> Plan:
    agents: List[str] = []
    cursor = ""
    while True:
        response = yield Call("ListAgents", pb.ListAgentsRequest(namespace=namespace, cursor=cursor), read_only=True)
        agents.extend(response.agent_ids)
        if not response.next_cursor:
            return agents
        cursor = response.next_cursor


def list_namespaces() -> Plan:
    heads: List[LogHead] = []
    cursor = ""
    while True:
        response = yield Call("ListNamespaces", pb.ListNamespacesRequest(cursor=cursor), read_only=True)
        heads.extend(wire.log_head(head) for head in response.namespaces)
        if not response.next_cursor:
            return heads
        cursor = response.next_cursor


def head(namespace: str) -> Plan:
    response = yield Call("GetHead", pb.GetHeadRequest(namespace=namespace), read_only=True)
    return wire.log_head(response)


def verify(namespace: str, from_ts: Optional[int], to_ts: Optional[int]) -> Plan:
    request = pb.VerifyRequest(
        namespace=namespace,
        from_commit_ts=wire.require_int("from_ts", from_ts) or 0,
        to_commit_ts=wire.require_int("to_ts", to_ts) or 0,
    )
    response = yield Call("Verify", request, read_only=True)
    result: VerifyResult = wire.verify_result(response)
    return result


# ---- streams -------------------------------------------------------------------------------------------------------


def replay_request(
    namespace: str,
    agent_id: Optional[str],
    start_ts: Optional[int],
    end_ts: Optional[int],
    key_prefix: Optional[str],
    from_timestamp: Any = None,
    to_timestamp: Any = None,
) -> pb.ReplayRequest:
    """The request of a replay, checked before anything is sent: an inclusive commit_ts range and an inclusive
    commit time range (RFC 3339 text or datetimes, naive ones UTC)."""
    start = wire.require_int("start_ts", start_ts)
    end = wire.require_int("end_ts", end_ts)
    if start is not None and end is not None and end < start:
        raise errors.InvalidArgumentError(f"end_ts ({end}) is before start_ts ({start})")
    since = time_bound("from_timestamp", from_timestamp)
    until = time_bound("to_timestamp", to_timestamp)
    if since is not None and until is not None and until < since:
        raise errors.InvalidArgumentError(
            f"to_timestamp ({to_timestamp!s}) is before from_timestamp ({from_timestamp!s})"
        )
    return pb.ReplayRequest(filter=wire.log_filter(namespace, agent_id, start, end, key_prefix, since, until))


def watch_request(namespace: str, agent_id: Optional[str], from_ts: int) -> pb.WatchRequest:
    return pb.WatchRequest(namespace=namespace, agent_id=agent_id or "", from_commit_ts=from_ts)


def pretty_lines(event: ReplayEvent, verbose: bool) -> List[str]:
    """The lines of :meth:`Statehouse.replay_pretty` for one event: one per operation, in the documented format
    (:mod:`statehouse.formatting`) with the event's real commit time; verbose ones name the transaction and
    ``event=<commit_ts>`` and carry the whole value. A delete shows the commit's reason when it has one."""
    reason = event.metadata.reason if event.metadata is not None else None
    lines = []
    for operation in event.operations:
        if verbose:
            line = formatting.format_event_verbose(
                event.committed_at,
                operation.agent_id,
                operation.type,
                operation.key,
                operation.version,
                event.txn_id,
                event.commit_ts,
                operation.value,
                event.namespace,
                reason=reason,
                value_removed=operation.value_removed,
            )
        else:
            line = formatting.format_event_pretty(
                event.committed_at,
                operation.agent_id,
                operation.type,
                operation.key,
                operation.version,
                operation.value,
                event.namespace,
                reason=reason,
                value_removed=operation.value_removed,
            )
        lines.append(line)
    return lines


# ---- the transaction's client-side buffer ----------------------------------------------------------------------------


class TransactionBuffer:
    """The state of one interactive transaction kept by the client: its buffered writes and conditions.

    Writes and deletes are buffered and sent with the commit; a later write of the same key replaces the earlier one
    in place, exactly as the daemon stages them. Reads of a buffered key are answered from the buffer
    (read-your-writes) and are not recorded for conflict detection, as on the daemon.

    A transaction begun by the client (:meth:`begin`, what ``begin_transaction`` makes) costs no round trip to
    begin: the client makes its id and keeps its timeout. A read of a key it has not written is a plain read of the
    latest state, and the version it saw becomes a condition of the commit (the first read of a key counts; an
    explicit ``expected_version`` of the key wins), which is what the daemon records for a read in its own
    transactions; the commit is then the whole transaction in one call. A transaction attached to an id begun on the
    daemon (``Transaction(client, txn_id)``) reads through the daemon's transaction and commits and aborts it there.
    """

    def __init__(self, txn_id: str, namespace: str) -> None:
        if not isinstance(txn_id, str) or not txn_id:
            raise errors.InvalidArgumentError("a transaction id must be a non-empty string")
        self.txn_id = txn_id
        self.namespace = namespace
        self.operations: Dict[Tuple[str, str], pb.Operation] = {}
        self.conditions: Dict[Tuple[str, str], pb.Condition] = {}
        self.state = "open"
        self.result: Optional[CommitResult] = None
        # Set for a transaction begun by the client: the daemon to commit it to, and when it expires.
        self.daemon: Optional[DaemonFeatures] = None
        self.timeout_ms = 0
        self.deadline = 0.0

    @classmethod
    def begin(cls, namespace: str, timeout_ms: Optional[int], daemon: DaemonFeatures) -> TransactionBuffer:
        """A transaction begun by the client itself: nothing is sent until the commit."""
        cls._check_name("namespace", namespace)
        timeout_ms = wire.require_int("timeout_ms", timeout_ms, minimum=1) or DEFAULT_TRANSACTION_TIMEOUT_MS
        buffer = cls(new_transaction_id(), namespace or "default")
        buffer.daemon = daemon
        buffer.timeout_ms = timeout_ms
        buffer.deadline = time.monotonic() + timeout_ms / 1000
        return buffer

    @property
    def begun_by_client(self) -> bool:
        return self.daemon is not None

    def require_open(self, action: str) -> None:
        if self.state == "committed":
            raise errors.TransactionError(f"cannot {action}: transaction {self.txn_id} is already committed")
        if self.state == "aborted":
            raise errors.TransactionError(f"cannot {action}: transaction {self.txn_id} was aborted")
        if self.state == "failed":
            raise errors.TransactionError(f"cannot {action}: transaction {self.txn_id} already failed")

    def _require_unexpired(self, action: str) -> None:
        """A transaction begun by the client expires on the client, as the daemon's own do on the daemon: once its
        timeout has passed it is finished, and a read or a commit raises TransactionExpiredError (nothing sent)."""
        if self.begun_by_client and time.monotonic() >= self.deadline:
            self.state = "failed"
            self.operations.clear()
            raise errors.TransactionExpiredError(
                f"cannot {action}: transaction {self.txn_id} expired (it was open longer than its timeout of "
                f"{self.timeout_ms} ms)"
            )

    @staticmethod
    def _check_name(what: str, value: Any) -> None:
        if not isinstance(value, str):
            raise errors.InvalidArgumentError(f"{what} must be a str, not {type(value).__name__}")

    def _expect(self, agent_id: str, key: str, expected_version: Optional[int]) -> None:
        if expected_version is None:
            return
        condition = (
            Condition(agent_id, key, must_not_exist=True)
            if expected_version == 0
            else Condition(agent_id, key, version=wire.require_int("expected_version", expected_version))
        )
        self.conditions[(agent_id, key)] = wire.conditions([condition])[0]

    def _record_read(self, agent_id: str, key: str, version: int) -> None:
        """Makes the version a read saw a condition of the commit: the key must still be at that version (a
        tombstone's version included), or still not exist when it was never written (version 0). The first read of a
        key counts, and a condition already set for it (an explicit expected_version) stays."""
        if (agent_id, key) in self.conditions:
            return
        condition = (
            Condition(agent_id, key, must_not_exist=True) if version == 0 else Condition(agent_id, key, version=version)
        )
        self.conditions[(agent_id, key)] = wire.conditions([condition])[0]

    def write(
        self,
        agent_id: str,
        key: str,
        value: Any,
        expected_version: Optional[int],
        ttl: Any = None,
        expires_at: Any = None,
    ) -> None:
        """Buffers a write; its expiry (``ttl`` counts from now, the write) is fixed here and sent with the commit."""
        self.require_open("write")
        self._check_name("agent_id", agent_id)
        self._check_name("key", key)
        operation = wire.put_operation(agent_id, key, value, expiry_micros(ttl, expires_at))
        self._expect(agent_id, key, expected_version)
        self.operations[(agent_id, key)] = operation

    def delete(self, agent_id: str, key: str, expected_version: Optional[int]) -> None:
        self.require_open("delete")
        self._check_name("agent_id", agent_id)
        self._check_name("key", key)
        self._expect(agent_id, key, expected_version)
        self.operations[(agent_id, key)] = wire.delete_operation(agent_id, key)

    def buffered(self, agent_id: str, key: str) -> Optional[StateResult]:
        """The transaction's own write of a key, as a read inside it returns it; None when not written."""
        operation = self.operations.get((agent_id, key))
        if operation is None:
            return None
        deleted = operation.kind == pb.OPERATION_KIND_DELETE
        return StateResult(
            value=None if deleted else wire.decode_value(operation.value),
            version=0,
            commit_ts=0,
            exists=not deleted,
            key=key,
            agent_id=agent_id,
            deleted=deleted,
            expires_at=datetime_from_micros(operation.expires_at_micros)
            if operation.HasField("expires_at_micros")
            else None,
        )

    def get(self, agent_id: str, key: str) -> Plan:
        self.require_open("read")
        buffered = self.buffered(agent_id, key)
        if buffered is not None:
            return buffered
        if not self.begun_by_client:
            result = yield from transaction_get(self.txn_id, agent_id, key)
            return result
        self._require_unexpired("read")
        result = yield from get_state(self.namespace, agent_id, key, None, None)
        if self.state == "open" and self.buffered(agent_id, key) is None:
            self._record_read(agent_id, key, result.version)
        return result

    def commit(self, metadata: MetadataLike) -> Plan:
        self.require_open("commit")
        self._require_unexpired("commit")
        operations = list(self.operations.values())
        conditions = list(self.conditions.values())
        try:
            if self.daemon is not None:
                result = yield from commit_begun_by_client(
                    self.txn_id, self.namespace, operations, conditions, metadata, self.daemon
                )
            else:
                result = yield from commit(self.txn_id, operations, conditions, metadata)
        except (errors.ConflictError, errors.TransactionExpiredError, errors.TransactionNotFoundError):
            self.state = "failed"
            raise
        self.state = "committed"
        self.result = result
        # A daemon older than transactions begun by the client committed it under an id of its own (the fallback):
        # the transaction's id is the one its event has in the log.
        self.txn_id = result.txn_id or self.txn_id
        return result

    def abort(self) -> Plan:
        if self.state == "committed":
            raise errors.TransactionError(f"cannot abort: transaction {self.txn_id} is already committed")
        if self.state in ("aborted", "failed"):
            return
        if not self.begun_by_client:  # a transaction begun by the client exists on the client only
            yield from abort(self.txn_id)
        self.state = "aborted"
        self.operations.clear()
        self.conditions.clear()

    def finish(self, failed: bool) -> Plan:
        """The end of a ``with`` block: commits when the block ended normally, aborts when it raised; nothing when
        the transaction is no longer open. A failed abort is ignored: the block's own exception matters more, and
        the daemon rolls the transaction back on timeout."""
        if self.state != "open":
            return
        if not failed:
            yield from self.commit(None)
            return
        try:
            yield from self.abort()
        except errors.StatehouseError:
            pass


_T = TypeVar("_T", bound="TransactionBase")


class TransactionBase:
    """What the transactions of both clients share: the client that runs them and their buffer.

    ``Transaction(client, txn_id, namespace)`` attaches to a transaction begun on the daemon; ``begin_transaction``
    makes one begun by the client (:meth:`_begun_by_client`).
    """

    _client: Any
    _buffer: TransactionBuffer

    def __init__(self, client: Any, txn_id: str, namespace: str) -> None:
        self._client = client
        self._buffer = TransactionBuffer(txn_id, namespace)

    @classmethod
    def _begun_by_client(cls: Type[_T], client: Any, namespace: str, timeout_ms: Optional[int]) -> _T:
        """A transaction begun by the client itself: no round trip; its id is made here."""
        transaction = cls.__new__(cls)
        transaction._client = client
        transaction._buffer = TransactionBuffer.begin(namespace, timeout_ms, client._daemon)
        return transaction

    @property
    def txn_id(self) -> str:
        """The id of this transaction: made by the client for ``begin_transaction`` (a version 7 UUID), and the
        ``txn_id`` of its event in the log once committed."""
        return self._buffer.txn_id

    @property
    def namespace(self) -> str:
        """The namespace every operation of this transaction goes to."""
        return self._buffer.namespace
