"""The plain data types the SDK returns and takes. None of them is a gRPC or protobuf type."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Union

from ._time import datetime_from_micros, expiry_micros, rfc3339

__all__ = [
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
]


def _datetime_from_micros(micros: int) -> Optional[datetime]:
    """A UTC datetime for microseconds since the epoch, None for 0 (not committed)."""
    if micros == 0:
        return None
    return datetime_from_micros(micros)


@dataclass(frozen=True)
class StateResult:
    """The state of one key at one point in history.

    A key that does not exist (never written, deleted, or not yet written at that point) is a normal result with
    ``exists=False`` and ``value=None``, never an exception and never None: a deleted key still has a version and
    a commit_ts worth seeing (the tombstone's), and ``result.value`` can be read without a None check (it never
    raises AttributeError). ``result is None`` is therefore never true; test the result itself instead: it is
    falsy when the key does not exist, so ``if result:`` and ``if not result:`` read as they look::

        result = client.get_state(agent_id="agent-1", key="memory")
        if not result:
            print("no memory yet; last version", result.version)

    Attributes:
        value: the JSON value, decoded (dict, list, str, int, float, bool or None); None when the key does not exist.
        version: the key's version (1 on the first write, +1 per write or delete); 0 when it was never written.
        commit_ts: the commit that wrote this version; 0 when never written.
        exists: whether the key holds a value (False for a never-written or deleted key).
        key: the key, filled by listings and reads that name it.
        agent_id: the agent owning the key.
        deleted: True when this version is a delete (a tombstone). A put whose expiry has passed reads as deleted
            too (``exists=False``, ``deleted=True``, at the put's version) until the daemon commits its delete.
        committed_at: when that commit happened (UTC), or None.
        expires_at: when this version's value expires (UTC), for a put written with ``ttl=`` or ``expires_at=``;
            None: never.
        value_removed: only in :meth:`~statehouse.Statehouse.history`: the retention policy removed this put's value
            (``value`` is None; the event and the value's digest are kept).
    """

    value: Any
    version: int
    commit_ts: int
    exists: bool
    key: Optional[str] = None
    agent_id: Optional[str] = None
    deleted: bool = False
    committed_at: Optional[datetime] = None
    expires_at: Optional[datetime] = None
    value_removed: bool = False

    def __bool__(self) -> bool:
        """True when the key exists (holds a value) at that point, False for a never-written or deleted key."""
        return self.exists


class OperationType(enum.Enum):
    """What an :class:`Operation` did: ``WRITE`` a value or ``DELETE`` the key (a tombstone version)."""

    WRITE = "write"
    DELETE = "delete"


@dataclass(frozen=True)
class Operation:
    """One write or delete of a committed event.

    Attributes:
        key: the key written.
        value: the JSON value written; None for a delete, and for a put whose value the retention policy removed.
        version: the key's new version.
        agent_id: the agent owning the key.
        deleted: True for a delete.
        namespace: the namespace of the event.
        expires_at: when a put's value expires (UTC); None: never.
        value_removed: the retention policy removed this put's value; ``removed_value_digest`` is then its SHA-256
            (32 bytes), which the event's Merkle leaf holds.
    """

    key: str
    value: Any
    version: int
    agent_id: str = ""
    deleted: bool = False
    namespace: str = "default"
    expires_at: Optional[datetime] = None
    removed_value_digest: Optional[bytes] = None

    @property
    def value_removed(self) -> bool:
        """Whether the retention policy removed this put's value (see ``removed_value_digest``)."""
        return self.removed_value_digest is not None

    @property
    def type(self) -> OperationType:
        """``OperationType.WRITE`` or ``OperationType.DELETE``."""
        return OperationType.DELETE if self.deleted else OperationType.WRITE

    def to_dict(self) -> Dict[str, Any]:
        """A plain, JSON-serialisable dict: key, value, version, agent_id and operation ("write" or "delete"); also
        ``expires_at`` (RFC 3339 UTC) for a put with an expiry, and ``removed_value_digest`` (hex) for a put whose
        value the retention policy removed."""
        result: Dict[str, Any] = {
            "key": self.key,
            "value": self.value,
            "version": self.version,
            "agent_id": self.agent_id,
            "operation": self.type.value,
        }
        if self.expires_at is not None:
            result["expires_at"] = rfc3339(self.expires_at)
        if self.removed_value_digest is not None:
            result["removed_value_digest"] = self.removed_value_digest.hex()
        return result


@dataclass(frozen=True)
class ReplayEvent:
    """One committed transaction of a namespace's log, as replay and watch deliver it.

    Attributes:
        txn_id: the transaction's id.
        commit_ts: its position in the namespace's log (1, 2, 3, ... without gaps).
        operations: what it changed, in order (only the filtered agent's operations when replay or watch was given
            an agent_id).
        namespace: the namespace of the log.
        agent_id: the agent the replay or watch was filtered to, if any.
        committed_at: when it was committed (UTC); also :attr:`timestamp`.
        metadata: the actor, reason and tags attached to the commit.
        hash: the event's SHA-256 link in the namespace's hash chain.
        prev_hash: the previous event's hash.
    """

    txn_id: str
    commit_ts: int
    operations: List[Operation]
    namespace: str = "default"
    agent_id: Optional[str] = None
    committed_at: Optional[datetime] = None
    metadata: Optional[Metadata] = None
    hash: bytes = b""
    prev_hash: bytes = b""

    @property
    def timestamp(self) -> Optional[datetime]:
        """When the event was committed: a timezone-aware UTC datetime (the same as :attr:`committed_at`)."""
        return self.committed_at

    def to_dict(self) -> Dict[str, Any]:
        """A plain dict that ``json.dumps`` takes as it is.

        Keys: ``txn_id``, ``commit_ts``, ``namespace``, ``agent_id`` (the agent the replay was filtered to, or
        None), ``timestamp`` (RFC 3339 UTC with microseconds, the exact commit time, so it can bound another replay),
        ``operations`` (each with ``key``, ``value``, ``version``, ``agent_id`` and ``operation``: "write" or
        "delete"; and ``expires_at`` or ``removed_value_digest`` when set, see :meth:`Operation.to_dict`),
        ``metadata`` (``actor``, ``reason``, ``tags``) and ``hash`` / ``prev_hash`` (hex).
        """
        metadata = self.metadata or Metadata()
        return {
            "txn_id": self.txn_id,
            "commit_ts": self.commit_ts,
            "namespace": self.namespace,
            "agent_id": self.agent_id,
            "timestamp": rfc3339(self.committed_at),
            "operations": [operation.to_dict() for operation in self.operations],
            "metadata": {"actor": metadata.actor, "reason": metadata.reason, "tags": dict(metadata.tags)},
            "hash": self.hash.hex(),
            "prev_hash": self.prev_hash.hex(),
        }


@dataclass(frozen=True)
class CommitResult:
    """The outcome of a commit.

    Attributes:
        commit_ts: the commit's position in the namespace's log; always > 0.
        txn_id: the transaction's id.
        versions: the new version of each operation's key, in operation order.
        namespace: the namespace committed to.
        committed_at: when it was committed (UTC).
        hash: the event's link in the namespace's hash chain (empty for a transaction that wrote nothing).
    """

    commit_ts: int
    txn_id: str
    versions: List[int]
    namespace: str
    committed_at: Optional[datetime] = None
    hash: bytes = b""


@dataclass(frozen=True)
class Metadata:
    """Who made a commit and why; stored with its event and returned by replay and watch.

    Attributes:
        actor: who made the change (an agent, a user, a job).
        reason: why, in a few words.
        tags: free-form string labels.
    """

    actor: Optional[str] = None
    reason: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)


MetadataLike = Union[Metadata, Mapping[str, Any], None]


@dataclass(frozen=True)
class Put:
    """A write of ``value`` to ``key`` in a one-shot :meth:`Statehouse.apply`.

    Give at most one of ``ttl`` (seconds from when the operation is sent, as an int, a float or a timedelta) and
    ``expires_at`` (a datetime, naive meaning UTC; RFC 3339 text; or microseconds since the epoch as an int) to make
    the value expire: from then on reads find the key deleted and the daemon commits its delete. The expiry must be
    in the future when the commit happens.
    """

    agent_id: str
    key: str
    value: Any
    ttl: Union[None, int, float, timedelta] = None
    expires_at: Union[None, datetime, str, int] = None

    def __post_init__(self) -> None:
        expiry_micros(self.ttl, self.expires_at)  # checks the arguments now; the expiry itself is made when sent


@dataclass(frozen=True)
class Delete:
    """A delete of ``key`` (a tombstone version) in a one-shot :meth:`Statehouse.apply`."""

    agent_id: str
    key: str


@dataclass(frozen=True)
class Condition:
    """A condition a commit makes on a key's current version; on a mismatch nothing is applied (ConflictError).

    Give exactly one of ``version`` (the key must be at exactly this version; a delete's tombstone counts) or
    ``must_not_exist=True`` (never written, or deleted). ``version=0`` means the same as ``must_not_exist``
    for a key that was never written.
    """

    agent_id: str
    key: str
    version: Optional[int] = None
    must_not_exist: bool = False

    def __post_init__(self) -> None:
        from .exceptions import InvalidArgumentError

        if (self.version is None) == (not self.must_not_exist):
            raise InvalidArgumentError("a Condition needs exactly one of version=N or must_not_exist=True")
        if self.version is not None and self.version < 0:
            raise InvalidArgumentError(f"a Condition's version must be >= 0, not {self.version}")


@dataclass(frozen=True)
class LogHead:
    """The end of a namespace's log: its last commit_ts (0 when empty) and hash."""

    namespace: str
    commit_ts: int
    hash: bytes
    committed_at: Optional[datetime] = None


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of recomputing a namespace's hash chain.

    Attributes:
        ok: True when every event's hash matched.
        events_checked: how many events were recomputed.
        first_bad_commit_ts: the first commit_ts that does not match, or None.
        reason: what did not match, or "".
        head: the log's head when the check ran.
        from_commit_ts: first commit_ts checked.
        to_commit_ts: last commit_ts checked.
        events_with_removed_values: of events_checked, those holding a value the retention policy removed: checked
            by their Merkle leaf (the kept digest) and their link, since their hash covers the removed bytes.
    """

    ok: bool
    events_checked: int
    first_bad_commit_ts: Optional[int]
    reason: str
    head: LogHead
    from_commit_ts: int
    to_commit_ts: int
    events_with_removed_values: int = 0


@dataclass(frozen=True)
class KeyEntry:
    """A key in a listing, with its latest version and whether that version is a delete."""

    key: str
    version: int
    deleted: bool
