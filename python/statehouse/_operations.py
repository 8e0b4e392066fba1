"""Every SDK operation as a plan: a generator that yields the RPCs it needs and returns the result.

The sync and the async clients run the same plans (``Statehouse._run`` and ``AsyncStatehouse._run``), so argument
checking, request building, pagination and result conversion exist once. A plan yields :class:`Call` objects and
receives each call's response message; a call that fails is thrown into the plan as the SDK's exception, so that a
plan can react to it (a transaction that failed to commit is marked so). How calls are retried and watches
reconnected is decided in ``_policy``; the clients only move messages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Generator, Iterable, List, Optional, Sequence, Tuple, Union

from . import _wire as wire
from . import exceptions as errors
from . import formatting
from ._proto import statehouse_pb2 as pb
from ._time import time_bound
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


# ---- transactions --------------------------------------------------------------------------------------------------


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
) -> Plan:
    request = pb.CommitRequest(txn_id=txn_id, operations=operations, conditions=conditions)
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


def abort(txn_id: str) -> Plan:
    yield Call("Abort", pb.AbortRequest(txn_id=txn_id), "abort", transactional=True)


def apply(
    namespace: str,
    operations: Iterable[Union[Put, Delete]],
    conditions: Iterable[Condition],
    idempotency_key: Optional[str],
    metadata: MetadataLike,
) -> Plan:
    """Without an idempotency key one is made, so that a retry after a lost reply is safe ("" sends none)."""
    request = pb.ApplyRequest(
        namespace=namespace,
        operations=wire.operations(operations),
        conditions=wire.conditions(conditions),
        idempotency_key=idempotency_key if idempotency_key is not None else f"sdk-{uuid.uuid4().hex}",
    )
    if not request.operations:
        raise errors.InvalidArgumentError("apply needs at least one Put or Delete")
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


def scan_prefix(namespace: str, agent_id: str, prefix: str, at: Optional[int], as_of: Optional[datetime]) -> Plan:
    point = wire.read_point(at, as_of)
    results: List[StateResult] = []
    cursor = ""
    while True:
        request = pb.ScanPrefixRequest(namespace=namespace, agent_id=agent_id, prefix=prefix, cursor=cursor)
        if point is not None:
            request.at.CopyFrom(point)
        response = yield Call("ScanPrefix", request, "scan_prefix", read_only=True)
        results.extend(wire.state_result(record) for record in response.records)
        if not response.next_cursor:
            return results
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
            )
        lines.append(line)
    return lines


# ---- the transaction's client-side buffer ----------------------------------------------------------------------------


class TransactionBuffer:
    """The state of one interactive transaction kept by the client: its buffered writes and conditions.

    Writes and deletes are buffered and sent with the commit (one round trip for the whole transaction); a later
    write of the same key replaces the earlier one in place, exactly as the daemon stages them. Reads of a buffered
    key are answered from the buffer (read-your-writes) and are not recorded for conflict detection, as on the
    daemon.
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

    def require_open(self, action: str) -> None:
        if self.state == "committed":
            raise errors.TransactionError(f"cannot {action}: transaction {self.txn_id} is already committed")
        if self.state == "aborted":
            raise errors.TransactionError(f"cannot {action}: transaction {self.txn_id} was aborted")
        if self.state == "failed":
            raise errors.TransactionError(f"cannot {action}: transaction {self.txn_id} already failed")

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

    def write(self, agent_id: str, key: str, value: Any, expected_version: Optional[int]) -> None:
        self.require_open("write")
        self._check_name("agent_id", agent_id)
        self._check_name("key", key)
        operation = wire.put_operation(agent_id, key, value)
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
        )

    def get(self, agent_id: str, key: str) -> Plan:
        self.require_open("read")
        buffered = self.buffered(agent_id, key)
        if buffered is not None:
            return buffered
        result = yield from transaction_get(self.txn_id, agent_id, key)
        return result

    def commit(self, metadata: MetadataLike) -> Plan:
        self.require_open("commit")
        try:
            result = yield from commit(
                self.txn_id, list(self.operations.values()), list(self.conditions.values()), metadata
            )
        except (errors.ConflictError, errors.TransactionExpiredError, errors.TransactionNotFoundError):
            self.state = "failed"
            raise
        self.state = "committed"
        self.result = result
        return result

    def abort(self) -> Plan:
        if self.state == "committed":
            raise errors.TransactionError(f"cannot abort: transaction {self.txn_id} is already committed")
        if self.state in ("aborted", "failed"):
            return
        yield from abort(self.txn_id)
        self.state = "aborted"
        self.operations.clear()

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


class TransactionBase:
    """What the transactions of both clients share: the client that runs them and their buffer."""

    def __init__(self, client: Any, txn_id: str, namespace: str) -> None:
        self._client = client
        self._buffer = TransactionBuffer(txn_id, namespace)

    @property
    def txn_id(self) -> str:
        """The daemon's id of this transaction."""
        return self._buffer.txn_id

    @property
    def namespace(self) -> str:
        """The namespace every operation of this transaction goes to."""
        return self._buffer.namespace
