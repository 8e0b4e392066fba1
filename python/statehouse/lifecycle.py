"""The agent lifecycle: agent records with a status, snapshots, restore, fork and diff; retention and compaction.

The types the clients return, and the plans both clients run (see ``_operations``). Every change is a commit to the
namespace's log: agent records and snapshots are JSON values under the reserved agents ``@agents`` and
``@snapshots`` (docs/architecture.md, "Agents and snapshots"), so they are versioned, replayable and provable.

A *point* in an agent's history, where these calls take one, is ``None`` (the latest state), an ``int`` (a
commit_ts), a ``datetime`` (the state as of that time; naive means UTC) or a ``str`` (a snapshot's name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Union

from . import _wire as wire
from . import exceptions as errors
from ._operations import Call, Plan
from ._proto import statehouse_pb2 as pb
from ._time import datetime_from_micros, micros_from_datetime
from .types import CommitResult, MetadataLike, StateResult

__all__ = [
    "AgentInfo",
    "Snapshot",
    "StateCopy",
    "KeyChange",
    "StateDiff",
    "Point",
    "AgentEvent",
    "EventDraft",
    "Session",
    "Task",
    "SearchHit",
    "Transition",
    "BackupReport",
    "RetentionPolicy",
    "CompactionReport",
]

# None (latest), a commit_ts, a time, or a snapshot's name.
Point = Union[None, int, datetime, str]


@dataclass(frozen=True)
class AgentInfo:
    """An agent: what its record says and what its keys say.

    Attributes:
        agent_id: the agent.
        display_name: a display name, or None.
        status: free text such as ``active``, ``paused`` or ``done``; ``active`` for an agent that never had a record.
        metadata: the JSON value set with ``update_agent`` (decoded), or None.
        created_at, updated_at: its first and last write (key or record), UTC.
        key_count: keys that exist now; version_count: versions of all its keys, tombstones included.
        deleted: deleted with ``delete_agent`` (and not written since).
    """

    agent_id: str
    status: str
    display_name: Optional[str] = None
    metadata: Any = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    key_count: int = 0
    version_count: int = 0
    deleted: bool = False


@dataclass(frozen=True)
class Snapshot:
    """A named point of an agent's (or, with ``agent_id`` None, the namespace's) state; it copies nothing.

    Attributes:
        name: unique in the namespace until it is deleted or expires.
        commit_ts: the state it names is the state as of this commit_ts.
        expires_at: when it stops being listed and is swept (UTC), or None for never.
    """

    namespace: str
    name: str
    agent_id: Optional[str]
    commit_ts: int
    description: str = ""
    metadata: Any = None
    created_at: Optional[datetime] = None
    expires_at: Optional[datetime] = None


@dataclass(frozen=True)
class StateCopy:
    """What a restore or a fork wrote: one commit (or, when nothing differed, no event and the head it was checked
    against), how many keys it put and deleted, and the commit_ts the copied state was read at."""

    commit: CommitResult
    puts: int
    deletes: int
    source_commit_ts: int


@dataclass(frozen=True)
class KeyChange:
    """One key that differs between two points: ``added``, ``removed`` or ``changed``; for a changed key, ``patch``
    is the RFC 6902 JSON Patch (a list of operations) from the old value to the new one."""

    key: str
    change: str
    before: Optional[StateResult] = None
    after: Optional[StateResult] = None
    patch: Optional[List[Any]] = None


@dataclass(frozen=True)
class StateDiff:
    """The keys of an agent that differ between two points, in key order, and the commit_ts each point resolved to."""

    namespace: str
    agent_id: str
    from_commit_ts: int
    to_commit_ts: int
    changes: List[KeyChange] = field(default_factory=list)


@dataclass(frozen=True)
class EventDraft:
    """An event to record (with :meth:`Statehouse.record_events`, or in :meth:`Statehouse.apply` with state writes).

    Attributes:
        agent_id: the agent it happened to.
        type: free text such as ``message``, ``tool_call``, ``error``.
        content: any JSON value.
        session_id, actor: optional labels to find it by.
        metadata: any JSON value, or None.
        occurred_at: when it happened (naive: UTC); None for the time the daemon receives it.
        id: a lowercase version 7 UUID you choose (a retry then cannot record it twice), or None for one the daemon
            makes.
    """

    agent_id: str
    type: str
    content: Any
    session_id: Optional[str] = None
    actor: Optional[str] = None
    metadata: Any = None
    occurred_at: Optional[datetime] = None
    id: Optional[str] = None


@dataclass(frozen=True)
class AgentEvent:
    """A recorded event, with the commit that recorded it (``commit_ts``)."""

    id: str
    agent_id: str
    type: str
    content: Any
    session_id: Optional[str] = None
    actor: Optional[str] = None
    metadata: Any = None
    occurred_at: Optional[datetime] = None
    commit_ts: int = 0
    committed_at: Optional[datetime] = None


@dataclass(frozen=True)
class Session:
    """A session of an agent: ``active`` until ended with a status (``ended`` by default)."""

    id: str
    agent_id: str
    status: str
    metadata: Any = None
    started_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None


@dataclass(frozen=True)
class Task:
    """A task: title, description, status (``pending`` when created without one) and assignee."""

    id: str
    title: str
    description: str = ""
    status: str = "pending"
    assigned_to: Optional[str] = None
    metadata: Any = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None


@dataclass(frozen=True)
class SearchHit:
    """One search result, best first.

    Attributes:
        kind: ``state`` (a version of a key), ``event`` (an agent event) or ``commit`` (a commit's metadata).
        score: BM25 relevance; higher is better.
        snippet: the matching text around the match, matched words between « and ».
        agent_id, key, version: a state hit's key (agent_id is also an event's agent).
        event_id, type, session_id, actor: an event hit's fields (actor is also a commit's).
    """

    kind: str
    score: float
    snippet: str
    commit_ts: int
    committed_at: Optional[datetime] = None
    agent_id: Optional[str] = None
    key: Optional[str] = None
    version: Optional[int] = None
    event_id: Optional[str] = None
    type: Optional[str] = None
    session_id: Optional[str] = None
    actor: Optional[str] = None


@dataclass(frozen=True)
class Transition:
    """One change of a key (StateStore's transitions view): the value before and after, and who made it and why.

    Attributes:
        version: the version the change wrote; ``deleted`` when it was a delete (``after`` is then None).
        before: the value of the previous version (None for the first version, or after a delete, or when the
            retention policy removed that value).
        after: the value written (None when the retention policy removed it: ``value_removed``).
        actor, reason, tags: the commit's metadata (an expired key's delete has a reason starting ``expired:``).
        expires_at: when the value written expires (UTC); None: never.
        value_removed: the retention policy removed the value this version wrote.
    """

    version: int
    commit_ts: int
    committed_at: Optional[datetime]
    before: Any
    after: Any
    deleted: bool = False
    actor: Optional[str] = None
    reason: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)
    expires_at: Optional[datetime] = None
    value_removed: bool = False


@dataclass(frozen=True)
class BackupReport:
    """An online backup: the database file written on the daemon's machine, its size, and every namespace's head in
    it (a daemon started on the backup directory serves exactly these)."""

    path: str
    bytes: int
    heads: List[Any] = field(default_factory=list)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long a namespace's old versions keep their values (docs/architecture.md, "Retention and expiry").

    A version keeps its value while it is its key's latest, or one of its newest ``keep_versions``, or was current
    within the last ``keep_for_seconds``, or a live snapshot needs it; compaction removes the others' values, keeping
    their events, digests and proofs (a read of such a version raises
    :class:`~statehouse.exceptions.FailedPreconditionError`). With both rules 0 every version is kept.

    Attributes:
        namespace: the namespace.
        keep_versions: keep the newest N versions of each key; 0: no count rule.
        keep_for_seconds: keep every version that was current within this many seconds; 0: no age rule.
        source: where the policy in force comes from: ``"namespace"`` (set with ``set_retention``), ``"default"``
            (the daemon's configuration) or ``"none"`` (keep everything).
        commit_ts: the commit that set the namespace's policy; 0 for a policy it did not set.
    """

    namespace: str
    keep_versions: int
    keep_for_seconds: int
    source: str
    commit_ts: int = 0

    @property
    def keep_for(self) -> timedelta:
        """``keep_for_seconds`` as a timedelta."""
        return timedelta(seconds=self.keep_for_seconds)

    @property
    def keeps_everything(self) -> bool:
        """True when neither rule removes anything (both 0)."""
        return self.keep_versions == 0 and self.keep_for_seconds == 0


@dataclass(frozen=True)
class CompactionReport:
    """What a compaction removed: values the policy no longer keeps (and those of expired keys), with their bytes, of
    the versions it looked at; the database file's size before and after (after VACUUM when asked for); the policy it
    applied."""

    namespace: str
    versions_examined: int
    values_removed: int
    value_bytes_removed: int
    file_bytes_before: int
    file_bytes_after: int
    policy: RetentionPolicy


# ---- conversions -------------------------------------------------------------------------------------------------


def state_point(point: Point, *, name: str = "at") -> Optional[pb.StatePoint]:
    """The protobuf point for None / commit_ts / datetime / snapshot name (None: the latest state)."""
    if point is None:
        return None
    if isinstance(point, bool):
        raise errors.InvalidArgumentError(f"{name} must be a commit_ts, a datetime or a snapshot name, not a bool")
    if isinstance(point, int):
        return pb.StatePoint(commit_ts=wire.require_int(name, point))
    if isinstance(point, datetime):
        return pb.StatePoint(as_of_micros=micros_from_datetime(point))
    if isinstance(point, str):
        if not point:
            raise errors.InvalidArgumentError(f"{name}: a snapshot name must not be empty")
        return pb.StatePoint(snapshot=point)
    raise errors.InvalidArgumentError(
        f"{name} must be None, a commit_ts (int), a datetime or a snapshot name (str); got {type(point).__name__}"
    )


def _optional_json(value: Any, what: str) -> bytes:
    return b"" if value is None else wire.encode_value(value, key=what)


def _time(micros: int) -> Optional[datetime]:
    return datetime_from_micros(micros) if micros else None


def agent_info(message: pb.AgentRecord) -> AgentInfo:
    return AgentInfo(
        agent_id=message.agent_id,
        status=message.status,
        display_name=message.display_name if message.HasField("display_name") else None,
        metadata=wire.decode_value(message.metadata),
        created_at=_time(message.created_at_micros),
        updated_at=_time(message.updated_at_micros),
        key_count=message.key_count,
        version_count=message.version_count,
        deleted=message.deleted,
    )


def snapshot(message: pb.Snapshot) -> Snapshot:
    return Snapshot(
        namespace=message.namespace,
        name=message.name,
        agent_id=message.agent_id or None,
        commit_ts=message.commit_ts,
        description=message.description,
        metadata=wire.decode_value(message.metadata),
        created_at=_time(message.created_at_micros),
        expires_at=_time(message.expires_at_micros),
    )


def state_copy(message: pb.StateCopyResponse) -> StateCopy:
    return StateCopy(
        commit=wire.commit_result(pb.CommitResponse(result=message.result)),
        puts=message.puts,
        deletes=message.deletes,
        source_commit_ts=message.source_commit_ts,
    )


def state_diff(message: pb.DiffResponse) -> StateDiff:
    return StateDiff(
        namespace=message.namespace,
        agent_id=message.agent_id,
        from_commit_ts=message.from_commit_ts,
        to_commit_ts=message.to_commit_ts,
        changes=[
            KeyChange(
                key=entry.key,
                change=entry.change,
                before=wire.state_result(entry.before) if entry.HasField("before") else None,
                after=wire.state_result(entry.after) if entry.HasField("after") else None,
                patch=wire.decode_value(entry.patch) if entry.patch else None,
            )
            for entry in message.differences
        ],
    )


def event_draft(draft: EventDraft) -> pb.AgentEventDraft:
    if not isinstance(draft, EventDraft):
        raise errors.InvalidArgumentError(f"events must be EventDraft values, not {type(draft).__name__}")
    message = pb.AgentEventDraft(
        id=draft.id or "",
        agent_id=draft.agent_id,
        type=draft.type,
        content=wire.encode_value(draft.content, key="content"),
        metadata=_optional_json(draft.metadata, "metadata"),
    )
    if draft.session_id is not None:
        message.session_id = draft.session_id
    if draft.actor is not None:
        message.actor = draft.actor
    if draft.occurred_at is not None:
        message.occurred_at_micros = micros_from_datetime(draft.occurred_at)
    return message


def agent_event(message: pb.AgentEvent) -> AgentEvent:
    return AgentEvent(
        id=message.id,
        agent_id=message.agent_id,
        type=message.type,
        content=wire.decode_value(message.content),
        session_id=message.session_id if message.HasField("session_id") else None,
        actor=message.actor if message.HasField("actor") else None,
        metadata=wire.decode_value(message.metadata),
        occurred_at=_time(message.occurred_at_micros),
        commit_ts=message.commit_ts,
        committed_at=_time(message.committed_at_micros),
    )


def _with_metadata(request: Any, field_name: str, metadata: MetadataLike) -> Any:
    message = wire.metadata(metadata)
    if message is not None:
        getattr(request, field_name).CopyFrom(message)
    return request


def _every_page(method: str, request_for: Callable[[str], Any], items: str, convert: Callable[[Any], Any]) -> Plan:
    """Follows a listing's cursors to the end: `request_for(cursor)` makes each page's request, `items` names the
    response's repeated field and `convert` turns each message into the SDK's type."""
    found: List[Any] = []
    cursor = ""
    while True:
        response = yield Call(method, request_for(cursor), read_only=True)
        found.extend(convert(item) for item in getattr(response, items))
        if not response.next_cursor:
            return found
        cursor = response.next_cursor


# ---- plans -------------------------------------------------------------------------------------------------------


def get_agent(namespace: str, agent_id: str) -> Plan:
    response = yield Call("GetAgent", pb.GetAgentRequest(namespace=namespace, agent_id=agent_id), read_only=True)
    return agent_info(response)


def list_agent_records(namespace: str, status: Optional[str], include_deleted: bool) -> Plan:
    return (
        yield from _every_page(
            "ListAgentRecords",
            lambda cursor: pb.ListAgentRecordsRequest(
                namespace=namespace, status=status or "", include_deleted=include_deleted, cursor=cursor
            ),
            "agents",
            agent_info,
        )
    )


def update_agent(
    namespace: str,
    agent_id: str,
    display_name: Optional[str],
    status: Optional[str],
    metadata: Any,
    commit_metadata: MetadataLike,
) -> Plan:
    if display_name is None and status is None and metadata is None:
        raise errors.InvalidArgumentError("update_agent needs display_name, status or metadata")
    request = pb.UpdateAgentRequest(
        namespace=namespace, agent_id=agent_id, metadata=_optional_json(metadata, "metadata")
    )
    if display_name is not None:
        request.display_name = display_name
    if status is not None:
        request.status = status
    response = yield Call("UpdateAgent", _with_metadata(request, "commit_metadata", commit_metadata))
    return agent_info(response)


def delete_agent(namespace: str, agent_id: str, metadata: MetadataLike) -> Plan:
    request = _with_metadata(pb.DeleteAgentRequest(namespace=namespace, agent_id=agent_id), "metadata", metadata)
    response = yield Call("DeleteAgent", request)
    return wire.commit_result(response)


def create_snapshot(
    namespace: str,
    name: str,
    agent_id: Optional[str],
    description: str,
    metadata: Any,
    expires: Union[None, datetime, timedelta],
    at: Point,
) -> Plan:
    request = pb.CreateSnapshotRequest(
        namespace=namespace,
        name=name,
        agent_id=agent_id or "",
        description=description,
        metadata=_optional_json(metadata, "metadata"),
    )
    if isinstance(expires, timedelta):
        expires = datetime.now(timezone.utc) + expires
    if expires is not None:
        if not isinstance(expires, datetime):
            raise errors.InvalidArgumentError("expires must be a datetime or a timedelta")
        request.expires_at_micros = micros_from_datetime(expires)
    point = state_point(at)
    if point is not None:
        request.at.CopyFrom(point)
    response = yield Call("CreateSnapshot", request)
    return snapshot(response)


def get_snapshot(namespace: str, name: str) -> Plan:
    response = yield Call("GetSnapshot", pb.GetSnapshotRequest(namespace=namespace, name=name), read_only=True)
    return snapshot(response)


def list_snapshots(namespace: str, agent_id: Optional[str]) -> Plan:
    return (
        yield from _every_page(
            "ListSnapshots",
            lambda cursor: pb.ListSnapshotsRequest(namespace=namespace, agent_id=agent_id or "", cursor=cursor),
            "snapshots",
            snapshot,
        )
    )


def delete_snapshot(namespace: str, name: str) -> Plan:
    response = yield Call("DeleteSnapshot", pb.DeleteSnapshotRequest(namespace=namespace, name=name))
    return wire.commit_result(response)


def restore_snapshot(namespace: str, name: str, force: bool, metadata: MetadataLike) -> Plan:
    request = pb.RestoreSnapshotRequest(namespace=namespace, name=name, force=force)
    response = yield Call("RestoreSnapshot", _with_metadata(request, "metadata", metadata))
    return state_copy(response)


def fork(
    namespace: str,
    agent_id: str,
    target_agent_id: str,
    at: Point,
    target_namespace: Optional[str],
    overwrite: bool,
    metadata: MetadataLike,
) -> Plan:
    request = pb.ForkRequest(
        namespace=namespace,
        agent_id=agent_id,
        target_namespace=target_namespace or "",
        target_agent_id=target_agent_id,
        overwrite=overwrite,
    )
    point = state_point(at)
    if point is not None:
        request.at.CopyFrom(point)
    response = yield Call("Fork", _with_metadata(request, "metadata", metadata))
    return state_copy(response)


def diff(namespace: str, agent_id: str, from_point: Point, to_point: Point) -> Plan:
    request = pb.DiffRequest(namespace=namespace, agent_id=agent_id)
    getattr(request, "from").CopyFrom(state_point(from_point, name="from_point") or pb.StatePoint())
    point = state_point(to_point, name="to_point")
    if point is not None:
        request.to.CopyFrom(point)
    response = yield Call("Diff", request, read_only=True)
    return state_diff(response)


def record_events(namespace: str, drafts: List[EventDraft], metadata: MetadataLike) -> Plan:
    if not drafts:
        raise errors.InvalidArgumentError("record at least one event")
    request = pb.RecordEventsRequest(namespace=namespace, events=[event_draft(draft) for draft in drafts])
    response = yield Call("RecordEvents", _with_metadata(request, "metadata", metadata))
    return [agent_event(event) for event in response.events]


def get_events(
    namespace: str,
    agent_id: Optional[str],
    session_id: Optional[str],
    event_type: Optional[str],
    actor: Optional[str],
    since: Optional[datetime],
    until: Optional[datetime],
    limit: Optional[int],
) -> Plan:
    wanted = wire.require_int("limit", limit, minimum=1)
    event_filter = pb.AgentEventFilter(
        agent_id=agent_id or "", session_id=session_id or "", type=event_type or "", actor=actor or ""
    )
    if since is not None:
        event_filter.since_micros = micros_from_datetime(since)
    if until is not None:
        event_filter.until_micros = micros_from_datetime(until)
    events: List[AgentEvent] = []
    cursor = ""
    while True:
        page = 0 if wanted is None else min(wanted - len(events), 10_000)
        request = pb.GetEventsRequest(namespace=namespace, filter=event_filter, limit=page, cursor=cursor)
        response = yield Call("GetEvents", request, read_only=True)
        events.extend(agent_event(event) for event in response.events)
        if not response.next_cursor or (wanted is not None and len(events) >= wanted):
            return events[:wanted] if wanted is not None else events
        cursor = response.next_cursor


def get_event(namespace: str, event_id: str) -> Plan:
    response = yield Call("GetEvent", pb.GetEventRequest(namespace=namespace, id=event_id), read_only=True)
    return agent_event(response)


def session(message: pb.AgentSession) -> Session:
    return Session(
        id=message.id,
        agent_id=message.agent_id,
        status=message.status,
        metadata=wire.decode_value(message.metadata),
        started_at=_time(message.started_at_micros),
        ended_at=_time(message.ended_at_micros),
    )


def task(message: pb.AgentTask) -> Task:
    return Task(
        id=message.id,
        title=message.title,
        description=message.description,
        status=message.status,
        assigned_to=message.assigned_to if message.HasField("assigned_to") else None,
        metadata=wire.decode_value(message.metadata),
        created_at=_time(message.created_at_micros),
        updated_at=_time(message.updated_at_micros),
    )


def start_session(namespace: str, agent_id: str, session_id: Optional[str], metadata: Any) -> Plan:
    request = pb.StartSessionRequest(
        namespace=namespace, agent_id=agent_id, id=session_id or "", metadata=_optional_json(metadata, "metadata")
    )
    return session((yield Call("StartSession", request)))


def end_session(namespace: str, session_id: str, status: str) -> Plan:
    request = pb.EndSessionRequest(namespace=namespace, id=session_id, status=status)
    return session((yield Call("EndSession", request)))


def get_session(namespace: str, session_id: str) -> Plan:
    request = pb.GetSessionRequest(namespace=namespace, id=session_id)
    return session((yield Call("GetSession", request, read_only=True)))


def list_sessions(namespace: str, agent_id: Optional[str], status: Optional[str]) -> Plan:
    return (
        yield from _every_page(
            "ListSessions",
            lambda cursor: pb.ListSessionsRequest(
                namespace=namespace, agent_id=agent_id or "", status=status or "", cursor=cursor
            ),
            "sessions",
            session,
        )
    )


def create_task(
    namespace: str,
    title: str,
    description: str,
    status: Optional[str],
    assigned_to: Optional[str],
    metadata: Any,
    task_id: Optional[str],
) -> Plan:
    request = pb.CreateTaskRequest(
        namespace=namespace,
        title=title,
        description=description,
        status=status or "",
        metadata=_optional_json(metadata, "metadata"),
        id=task_id or "",
    )
    if assigned_to is not None:
        request.assigned_to = assigned_to
    return task((yield Call("CreateTask", request)))


def update_task(
    namespace: str,
    task_id: str,
    title: Optional[str],
    description: Optional[str],
    status: Optional[str],
    assigned_to: Optional[str],
    metadata: Any,
) -> Plan:
    if all(value is None for value in (title, description, status, assigned_to, metadata)):
        raise errors.InvalidArgumentError("update_task needs title, description, status, assigned_to or metadata")
    request = pb.UpdateTaskRequest(namespace=namespace, id=task_id, metadata=_optional_json(metadata, "metadata"))
    for name, value in (
        ("title", title),
        ("description", description),
        ("status", status),
        ("assigned_to", assigned_to),
    ):
        if value is not None:
            setattr(request, name, value)
    return task((yield Call("UpdateTask", request)))


def get_task(namespace: str, task_id: str) -> Plan:
    return task((yield Call("GetTask", pb.GetTaskRequest(namespace=namespace, id=task_id), read_only=True)))


def list_tasks(namespace: str, status: Optional[str], assigned_to: Optional[str]) -> Plan:
    return (
        yield from _every_page(
            "ListTasks",
            lambda cursor: pb.ListTasksRequest(
                namespace=namespace, status=status or "", assigned_to=assigned_to or "", cursor=cursor
            ),
            "tasks",
            task,
        )
    )


SEARCH_KINDS = ("state", "event", "commit")


def search(
    namespace: str,
    query: str,
    kinds: Optional[List[str]],
    agent_id: Optional[str],
    key_prefix: Optional[str],
    event_type: Optional[str],
    session_id: Optional[str],
    actor: Optional[str],
    since: Optional[datetime],
    until: Optional[datetime],
    history: bool,
    limit: int,
) -> Plan:
    if not isinstance(query, str) or not query.strip():
        raise errors.InvalidArgumentError("the search query must be non-empty text")
    for kind in kinds or ():
        if kind not in SEARCH_KINDS:
            raise errors.InvalidArgumentError(f"search kinds are state, event and commit; got {kind!r}")
    request = pb.SearchRequest(
        namespace=namespace,
        query=query,
        kinds=list(kinds or ()),
        agent_id=agent_id or "",
        key_prefix=key_prefix or "",
        type=event_type or "",
        session_id=session_id or "",
        actor=actor or "",
        history=history,
        limit=wire.require_int("limit", limit, minimum=1) or 20,
    )
    if since is not None:
        request.since_micros = micros_from_datetime(since)
    if until is not None:
        request.until_micros = micros_from_datetime(until)
    response = yield Call("Search", request, read_only=True)
    return [
        SearchHit(
            kind=hit.kind,
            score=hit.score,
            snippet=hit.snippet,
            commit_ts=hit.commit_ts,
            committed_at=_time(hit.committed_at_micros),
            agent_id=hit.agent_id or None,
            key=hit.key or None,
            version=hit.version or None,
            event_id=hit.event_id or None,
            type=hit.type or None,
            session_id=hit.session_id or None,
            actor=hit.actor or None,
        )
        for hit in response.hits
    ]


def transitions(namespace: str, agent_id: str, key: str, limit: Optional[int]) -> Plan:
    """Newest first; one version more than asked is read so that the oldest returned has its ``before``."""
    wanted = wire.require_int("limit", limit, minimum=1)
    versions: List[Any] = []
    metadata: List[Any] = []
    cursor = ""
    while True:
        page = 0 if wanted is None else min(wanted + 1 - len(versions), 10_000)
        request = pb.HistoryRequest(
            namespace=namespace, agent_id=agent_id, key=key, limit=page, cursor=cursor, with_metadata=True
        )
        response = yield Call("History", request, "history", read_only=True)
        versions.extend(response.versions)
        metadata.extend(response.metadata)
        if not response.next_cursor or (wanted is not None and len(versions) > wanted):
            break
        cursor = response.next_cursor
    result: List[Transition] = []
    for index, record in enumerate(versions[: wanted if wanted is not None else len(versions)]):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        meta = wire.metadata_from_proto(metadata[index]) if index < len(metadata) else None
        result.append(
            Transition(
                version=record.version,
                commit_ts=record.commit_ts,
                committed_at=_time(record.committed_at_micros),
                before=wire.decode_value(previous.value) if previous is not None and previous.exists else None,
                after=wire.decode_value(record.value) if record.exists else None,
                deleted=record.deleted,
                actor=meta.actor if meta else None,
                reason=meta.reason if meta else None,
                tags=dict(meta.tags) if meta else {},
                expires_at=_time(record.expires_at_micros) if record.HasField("expires_at_micros") else None,
                value_removed=record.value_removed,
            )
        )
    return result


def backup(destination: str) -> Plan:
    if not isinstance(destination, str) or not destination:
        raise errors.InvalidArgumentError(
            "backup needs a destination directory (an absolute path on the daemon's machine)"
        )
    response = yield Call("Backup", pb.BackupRequest(destination=destination))
    return BackupReport(
        path=response.path, bytes=response.bytes, heads=[wire.log_head(head) for head in response.heads]
    )


# ---- retention -------------------------------------------------------------------------------------------------------

_UINT32_MAX = (1 << 32) - 1
_INT64_MAX = (1 << 63) - 1


def retention_policy(message: pb.RetentionPolicy) -> RetentionPolicy:
    return RetentionPolicy(
        namespace=message.namespace,
        keep_versions=message.keep_versions,
        keep_for_seconds=message.keep_for_seconds,
        source=message.source,
        commit_ts=message.commit_ts,
    )


def _keep_for_seconds(keep_for: Any) -> int:
    """Whole seconds >= 0 from an int, a whole float or a timedelta."""
    if isinstance(keep_for, timedelta):
        seconds: Any = keep_for.total_seconds()
        whole = keep_for.microseconds == 0
    elif isinstance(keep_for, bool) or not isinstance(keep_for, (int, float)):
        raise errors.InvalidArgumentError(f"keep_for must be seconds (an int) or a timedelta, not {keep_for!r}")
    else:
        seconds, whole = keep_for, float(keep_for).is_integer()
    if not whole or seconds < 0 or seconds > _INT64_MAX:
        raise errors.InvalidArgumentError(f"keep_for must be whole seconds >= 0, not {keep_for!r}")
    return int(seconds)


def set_retention(namespace: str, keep_versions: int, keep_for: Any, use_default: bool, metadata: MetadataLike) -> Plan:
    versions = wire.require_int("keep_versions", keep_versions)
    if versions is None or versions > _UINT32_MAX:
        raise errors.InvalidArgumentError(
            f"keep_versions must be an int from 0 to {_UINT32_MAX}, not {keep_versions!r}"
        )
    seconds = _keep_for_seconds(keep_for)
    if use_default and (versions or seconds):
        raise errors.InvalidArgumentError(
            "use_default=True removes the namespace's own policy; it takes no keep_versions or keep_for"
        )
    request = pb.SetRetentionRequest(
        namespace=namespace, keep_versions=versions, keep_for_seconds=seconds, use_default=bool(use_default)
    )
    response = yield Call("SetRetention", _with_metadata(request, "metadata", metadata))
    return retention_policy(response)


def get_retention(namespace: str) -> Plan:
    response = yield Call("GetRetention", pb.GetRetentionRequest(namespace=namespace), read_only=True)
    return retention_policy(response)


def compact(namespace: str, vacuum: bool) -> Plan:
    response = yield Call("Compact", pb.CompactRequest(namespace=namespace, vacuum=bool(vacuum)))
    return CompactionReport(
        namespace=response.namespace,
        versions_examined=response.versions_examined,
        values_removed=response.values_removed,
        value_bytes_removed=response.value_bytes_removed,
        file_bytes_before=response.file_bytes_before,
        file_bytes_after=response.file_bytes_after,
        policy=retention_policy(response.policy),
    )
