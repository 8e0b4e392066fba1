"""Provenance: what produced an agent's state (docs/api.md, "Provenance").

Typed records of the code, configuration, environment, model, tools and consumed mutations behind an agent's state,
stored by the daemon as commits under the reserved agent ``@provenance`` (key ``KIND/ID``), so they are versioned,
chained and provable like the state they explain. Each kind's payload is a JSON object with a strict schema that the
daemon checks: an unknown member, a missing required one or one of the wrong type raises
:class:`~statehouse.exceptions.InvalidArgumentError` naming it. Records are immutable: an id used twice for a kind
raises :class:`~statehouse.exceptions.ConflictError`.

A *run* records the provenance in effect when an agent starts a stretch of work; the agent's commits of the run carry
the metadata tag ``run_id``. :meth:`Statehouse.run <statehouse.Statehouse.run>` does both::

    from statehouse import ProvenanceDraft, Put, Statehouse
    from statehouse.provenance import capture_env, capture_git

    with Statehouse() as client:
        drafts = [ProvenanceDraft("code", capture_git()), ProvenanceDraft("environment", capture_env())]
        with client.run("planner", provenance=drafts) as run:
            run.apply([Put("planner", "plan", {"step": 1})])  # tagged run_id=<the run's id>

The collectors (:func:`capture_git`, :func:`capture_env`, :func:`capture_config`, :func:`capture_model`,
:func:`capture_tool`) look at the real thing and return payloads of exactly the shape ``statehousectl capture``
prints (the two implementations are tested to agree); they only read, nothing is sent.

The types the clients return, and the plans both clients run (see ``_operations``).
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import subprocess
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Union,
)

from . import _wire as wire
from . import exceptions as errors
from . import ledger
from ._operations import Call, Plan, get_verified_state
from ._proto import statehouse_pb2 as pb
from ._time import datetime_from_micros, micros_from_datetime
from .lifecycle import Point, state_point
from .types import CommitResult, Delete, Metadata, MetadataLike, Put, ReplayEvent

if TYPE_CHECKING:
    from .aio import AsyncStatehouse
    from .client import Statehouse

__all__ = [
    "KINDS",
    "LOCKFILE_NAMES",
    "ProvenanceDraft",
    "ProvenanceRecord",
    "ProvenancePage",
    "ProvenanceInEffect",
    "AgentRun",
    "RunDetails",
    "AdvisoryFinding",
    "Advisory",
    "ReplayStep",
    "ReplaySource",
    "ReplayFinding",
    "ReplayPlan",
    "RunHandle",
    "AsyncRunHandle",
    "capture_git",
    "capture_env",
    "capture_config",
    "capture_model",
    "capture_tool",
]

# The kinds of provenance record (ProvenanceKind in Sources/StatehouseModel/Provenance.swift).
KINDS = ("code", "config", "environment", "mutation", "model", "tool")

# The commit metadata tag that ties a commit to its run.
RUN_TAG = "run_id"

# Lock files looked for at the top of a repository, in this order (Collectors.lockFileNames of statehousectl).
LOCKFILE_NAMES = (
    "Package.resolved",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "requirements.txt",
    "Cargo.lock",
    "go.sum",
    "Gemfile.lock",
    "composer.lock",
)


# ---- types -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvenanceDraft:
    """A provenance record to record (:meth:`Statehouse.record_provenance`, :meth:`Statehouse.start_run`).

    Attributes:
        kind: ``code``, ``config``, ``environment``, ``mutation``, ``model`` or ``tool``.
        payload: a dict fitting the kind's schema (docs/api.md, "Provenance"), such as a collector returns.
        id: unique within the namespace and kind (at most 256 bytes); None for a version 7 UUID the daemon makes.
        captured_at: when it was captured (naive: UTC); None for the time the daemon receives it.
    """

    kind: str
    payload: Mapping[str, Any]
    id: Optional[str] = None
    captured_at: Optional[datetime] = None


@dataclass(frozen=True)
class ProvenanceRecord:
    """A provenance record as the daemon keeps it.

    Attributes:
        kind, id: the record's kind and id (``key`` is ``KIND/ID``, its key under ``@provenance``).
        agent_id: the agent it belongs to.
        captured_at: when it was captured (UTC).
        payload: the payload (a dict).
        run_id: the run it was recorded with, or None.
        commit_ts: the commit that recorded it.
    """

    kind: str
    id: str
    agent_id: str
    payload: Dict[str, Any]
    captured_at: Optional[datetime] = None
    run_id: Optional[str] = None
    commit_ts: int = 0

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.id}"


@dataclass(frozen=True)
class ProvenancePage:
    """One page of :meth:`Statehouse.list_provenance`: records in kind and id order, and the cursor of the next page
    (None after the last). Iterating it, or ``len``, goes over ``records``."""

    records: List[ProvenanceRecord] = field(default_factory=list)
    next_cursor: Optional[str] = None

    def __iter__(self) -> Iterator[ProvenanceRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class AgentRun:
    """A run: an agent's stretch of work under the provenance recorded when it started.

    Attributes:
        id: the run's id; the agent's commits of the run carry it as the metadata tag ``run_id``.
        status: ``running`` until it ends, then the status it ended with (``succeeded``, ``failed``, or the caller's).
        started_at, ended_at: when it started and ended (UTC); ended_at None while it runs.
        start_commit_ts, end_commit_ts: the commits that started and ended it; end_commit_ts None while it runs.
        provenance: the keys (``KIND/ID``) of its provenance records.
        metadata: the JSON value it was started with, or None.
    """

    id: str
    agent_id: str
    status: str
    started_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None
    start_commit_ts: int = 0
    end_commit_ts: Optional[int] = None
    provenance: List[str] = field(default_factory=list)
    metadata: Any = None

    @property
    def running(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class ProvenanceInEffect:
    """The provenance in effect for an agent at a point (:meth:`Statehouse.provenance_at`): the records of the run in
    effect then (``run``), or without one the newest record of each kind recorded by then; ``commit_ts`` is the commit
    the point resolved to."""

    commit_ts: int
    run: Optional[AgentRun] = None
    records: List[ProvenanceRecord] = field(default_factory=list)


@dataclass(frozen=True)
class RunDetails:
    """A run (:meth:`Statehouse.get_run`) with its provenance records and the commits it made (oldest first: the
    agent's commits from its start to its end carrying its ``run_id`` tag)."""

    run: AgentRun
    provenance: List[ProvenanceRecord] = field(default_factory=list)
    commits: List[ReplayEvent] = field(default_factory=list)


@dataclass(frozen=True)
class AdvisoryFinding:
    """One thing that differs between a baseline's provenance and a candidate's, with its documented points (rules in
    docs/api.md, "Advisory") and what to do about it."""

    rule: str
    points: int
    message: str
    recommendation: str


@dataclass(frozen=True)
class Advisory:
    """What :meth:`Statehouse.advise` found: a reproducibility risk ``score`` from 0 to 100 (the sum of the findings'
    points, at most 100) and the findings; the commit_ts each point resolved to (0 when two runs were compared)."""

    from_commit_ts: int
    to_commit_ts: int
    score: int
    findings: List[AdvisoryFinding] = field(default_factory=list)

    @property
    def rules(self) -> List[str]:
        """The findings' rules, in order."""
        return [finding.rule for finding in self.findings]


@dataclass(frozen=True)
class ReplayStep:
    """One mutation to replay: its ``sequence`` within its source, ``type`` and ``id`` (from its payload), its record
    key (``mutation/ID``) and ``hash`` (None when it recorded none)."""

    sequence: int
    type: str
    id: str
    record: str
    hash: Optional[str] = None


@dataclass(frozen=True)
class ReplaySource:
    """The steps of one source, in sequence order."""

    source: str
    steps: List[ReplayStep] = field(default_factory=list)


@dataclass(frozen=True)
class ReplayFinding:
    """What would make a replay wrong: rule ``duplicate``, ``gap``, ``mixed_namespaces`` or ``config_mismatch``."""

    rule: str
    source: str
    message: str


@dataclass(frozen=True)
class ReplayPlan:
    """The ordered, per-source plan to replay the mutations a run recorded (:meth:`Statehouse.replay_plan`), and its
    findings. It says what to replay and in which order; executing it is the caller's."""

    run_id: str
    sources: List[ReplaySource] = field(default_factory=list)
    findings: List[ReplayFinding] = field(default_factory=list)


# ---- conversions -------------------------------------------------------------------------------------------------


def _time(micros: int) -> Optional[datetime]:
    return datetime_from_micros(micros) if micros else None


def _draft(draft: ProvenanceDraft) -> pb.ProvenanceDraft:
    if not isinstance(draft, ProvenanceDraft):
        raise errors.InvalidArgumentError(
            f"provenance records must be ProvenanceDraft values, not {type(draft).__name__}"
        )
    if not isinstance(draft.kind, str) or not draft.kind:
        raise errors.InvalidArgumentError(f"a provenance kind is one of {', '.join(KINDS)}; got {draft.kind!r}")
    if not isinstance(draft.payload, Mapping):
        raise errors.InvalidArgumentError(
            f"a {draft.kind} provenance payload must be a dict (a JSON object), not {type(draft.payload).__name__}"
        )
    if draft.id is not None and not isinstance(draft.id, str):
        raise errors.InvalidArgumentError(f"a provenance record's id must be a str, not {draft.id!r}")
    message = pb.ProvenanceDraft(
        kind=draft.kind,
        id=draft.id or "",
        payload=wire.encode_value(dict(draft.payload), key=f"{draft.kind} provenance payload"),
    )
    if draft.captured_at is not None:
        if not isinstance(draft.captured_at, datetime):
            raise errors.InvalidArgumentError(f"captured_at must be a datetime, not {draft.captured_at!r}")
        message.captured_at_micros = micros_from_datetime(draft.captured_at)
    return message


def _drafts(records: Union[ProvenanceDraft, Iterable[ProvenanceDraft]]) -> List[pb.ProvenanceDraft]:
    if isinstance(records, ProvenanceDraft):
        records = [records]
    if isinstance(records, (str, bytes, Mapping)):
        raise errors.InvalidArgumentError("provenance records are a list of ProvenanceDraft values")
    return [_draft(record) for record in records]


def provenance_record(message: pb.ProvenanceRecord) -> ProvenanceRecord:
    return ProvenanceRecord(
        kind=message.kind,
        id=message.id,
        agent_id=message.agent_id,
        payload=wire.decode_value(message.payload),
        captured_at=_time(message.captured_at_micros),
        run_id=message.run_id or None,
        commit_ts=message.commit_ts,
    )


def agent_run(message: pb.AgentRun) -> AgentRun:
    return AgentRun(
        id=message.id,
        agent_id=message.agent_id,
        status=message.status,
        started_at=_time(message.started_at_micros),
        ended_at=_time(message.ended_at_micros) if message.HasField("ended_at_micros") else None,
        start_commit_ts=message.start_commit_ts,
        end_commit_ts=message.end_commit_ts if message.HasField("end_commit_ts") else None,
        provenance=list(message.provenance),
        metadata=wire.decode_value(message.metadata),
    )


def _require_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise errors.InvalidArgumentError(f"{name} must be a non-empty str, not {value!r}")
    return value


# ---- plans -------------------------------------------------------------------------------------------------------


def record_provenance(
    namespace: str, agent_id: str, records: Union[ProvenanceDraft, Iterable[ProvenanceDraft]], run_id: Optional[str]
) -> Plan:
    drafts = _drafts(records)
    if not drafts:
        raise errors.InvalidArgumentError("record at least one provenance record")
    request = pb.RecordProvenanceRequest(namespace=namespace, agent_id=agent_id, records=drafts, run_id=run_id or "")
    response = yield Call("RecordProvenance", request)
    return [provenance_record(record) for record in response.records]


def get_provenance(namespace: str, kind: str, record_id: str) -> Plan:
    request = pb.GetProvenanceRequest(namespace=namespace, kind=kind, id=_require_text("id", record_id))
    return provenance_record((yield Call("GetProvenance", request, read_only=True)))


def list_provenance(
    namespace: str,
    agent_id: Optional[str],
    kind: Optional[str],
    run_id: Optional[str],
    limit: Optional[int],
    cursor: Optional[str],
) -> Plan:
    page = wire.require_int("limit", limit, minimum=1) or 0
    if page >= 1 << 32:
        raise errors.InvalidArgumentError(f"limit must be below 2**32, not {limit!r}")
    request = pb.ListProvenanceRequest(
        namespace=namespace,
        agent_id=agent_id or "",
        kind=kind or "",
        run_id=run_id or "",
        limit=page,
        cursor=cursor or "",
    )
    response = yield Call("ListProvenance", request, read_only=True)
    return ProvenancePage(
        records=[provenance_record(record) for record in response.records], next_cursor=response.next_cursor or None
    )


def provenance_at(namespace: str, agent_id: str, at: Point) -> Plan:
    request = pb.ProvenanceAtRequest(namespace=namespace, agent_id=agent_id)
    point = state_point(at)
    if point is not None:
        request.at.CopyFrom(point)
    response = yield Call("ProvenanceAt", request, read_only=True)
    return ProvenanceInEffect(
        commit_ts=response.commit_ts,
        run=agent_run(response.run) if response.HasField("run") else None,
        records=[provenance_record(record) for record in response.records],
    )


def verified_provenance_at(namespace: str, agent_id: str, at: Point, memory: ledger.LedgerMemory) -> Plan:
    """:func:`provenance_at`, then each record and the run read again at that point as verified reads (inclusion in
    the signed tree head, as ``get_state(verify=True)``) and compared with what the daemon answered."""
    found = yield from provenance_at(namespace, agent_id, at)
    for record in found.records:
        stored = yield from get_verified_state(namespace, "@provenance", record.key, found.commit_ts, None, memory)
        value = stored.value if stored.exists and isinstance(stored.value, dict) else {}
        if (
            stored.commit_ts != record.commit_ts
            or value.get("agent_id") != record.agent_id
            or value.get("payload") != record.payload
            or value.get("run_id") != record.run_id
            or value.get("captured_at") != (micros_from_datetime(record.captured_at) if record.captured_at else 0)
        ):
            raise errors.VerificationError(
                f"provenance record {record.key!r}: the daemon answered one record and its proof holds another"
            )
    if found.run is not None:
        run = found.run
        stored = yield from get_verified_state(namespace, "@runs", run.id, found.commit_ts, None, memory)
        value = stored.value if stored.exists and isinstance(stored.value, dict) else {}
        if (
            value.get("agent_id") != run.agent_id
            or value.get("status") != run.status
            or value.get("provenance") != run.provenance
            or value.get("metadata") != run.metadata
        ):
            raise errors.VerificationError(f"run {run.id!r}: the daemon answered one run and its proof holds another")
    return found


def start_run(
    namespace: str,
    agent_id: str,
    provenance: Union[ProvenanceDraft, Iterable[ProvenanceDraft]],
    run_id: Optional[str],
    metadata: Any,
) -> Plan:
    if run_id is not None:
        _require_text("a run's id", run_id)
    request = pb.StartRunRequest(
        namespace=namespace,
        agent_id=agent_id,
        id=run_id or "",
        provenance=_drafts(provenance),
        metadata=b"" if metadata is None else wire.encode_value(metadata, key="metadata"),
    )
    return agent_run((yield Call("StartRun", request)))


def end_run(namespace: str, run_id: str, status: str) -> Plan:
    request = pb.EndRunRequest(
        namespace=namespace, id=_require_text("run_id", run_id), status=_require_text("status", status)
    )
    return agent_run((yield Call("EndRun", request)))


def get_run(namespace: str, run_id: str, commit_limit: int) -> Plan:
    limit = wire.require_int("commit_limit", commit_limit, minimum=1)
    if limit is None or limit >= 1 << 32:
        raise errors.InvalidArgumentError(f"commit_limit must be an int from 1 to 2**32 - 1, not {commit_limit!r}")
    request = pb.GetRunRequest(namespace=namespace, id=_require_text("run_id", run_id), commit_limit=limit)
    response = yield Call("GetRun", request, read_only=True)
    return RunDetails(
        run=agent_run(response.run),
        provenance=[provenance_record(record) for record in response.provenance],
        commits=[wire.replay_event(event) for event in response.commits],
    )


def advise(
    namespace: str,
    agent_id: Optional[str],
    from_point: Point,
    to_point: Point,
    from_run: Optional[str],
    to_run: Optional[str],
) -> Plan:
    request = pb.AdviseRequest(namespace=namespace)
    if from_run is not None or to_run is not None:
        if not from_run or not to_run:
            raise errors.InvalidArgumentError("to compare two runs, give both from_run and to_run")
        if from_point is not None or to_point is not None:
            raise errors.InvalidArgumentError("compare two runs (from_run, to_run) or two points (from_, to), not both")
        request.from_run, request.to_run = from_run, to_run
        request.agent_id = agent_id or ""
    else:
        request.agent_id = _require_text("agent_id (advise compares two points of an agent, or two runs)", agent_id)
        for name, value in (("from", from_point), ("to", to_point)):
            point = state_point(value, name="from_" if name == "from" else name)
            if point is not None:
                getattr(request, name).CopyFrom(point)
    response = yield Call("Advise", request, read_only=True)
    return Advisory(
        from_commit_ts=response.from_commit_ts,
        to_commit_ts=response.to_commit_ts,
        score=response.score,
        findings=[
            AdvisoryFinding(
                rule=finding.rule,
                points=finding.points,
                message=finding.message,
                recommendation=finding.recommendation,
            )
            for finding in response.findings
        ],
    )


def replay_plan(namespace: str, run_id: str) -> Plan:
    request = pb.GetReplayPlanRequest(namespace=namespace, run_id=_require_text("run_id", run_id))
    response = yield Call("GetReplayPlan", request, read_only=True)
    return ReplayPlan(
        run_id=response.run_id,
        sources=[
            ReplaySource(
                source=source.source,
                steps=[
                    ReplayStep(
                        sequence=step.sequence, type=step.type, id=step.id, record=step.record, hash=step.hash or None
                    )
                    for step in source.steps
                ],
            )
            for source in response.sources
        ],
        findings=[
            ReplayFinding(rule=finding.rule, source=finding.source, message=finding.message)
            for finding in response.findings
        ],
    )


# ---- runs as context managers ------------------------------------------------------------------------------------


def tagged(metadata: MetadataLike, run_id: str) -> Metadata:
    """``metadata`` (a Metadata, a dict with actor / reason / tags, or None) with the tag ``run_id``; a ``run_id``
    tag naming another run is an error."""
    message = wire.metadata(metadata)
    base = wire.metadata_from_proto(message) if message is not None else Metadata()
    other = base.tags.get(RUN_TAG)
    if other is not None and other != run_id:
        raise errors.InvalidArgumentError(f"the metadata's run_id tag names run {other!r}, not this run {run_id!r}")
    return replace(base, tags={**base.tags, RUN_TAG: run_id})


class _RunHandleBase:
    def __init__(self, run: AgentRun, namespace: str) -> None:
        self.run = run
        self.namespace = namespace
        self.ended: Optional[AgentRun] = None

    @property
    def id(self) -> str:
        """The run's id."""
        return self.run.id

    @property
    def agent_id(self) -> str:
        return self.run.agent_id

    @property
    def metadata(self) -> Metadata:
        """Commit metadata with the tag ``run_id``: pass it to ``apply``, ``commit`` or ``record_events`` so that a
        commit counts as one of the run's (``tx.commit(metadata=run.metadata)``)."""
        return tagged(None, self.run.id)

    def tag(self, metadata: MetadataLike) -> Metadata:
        """``metadata`` with the run's ``run_id`` tag added."""
        return tagged(metadata, self.run.id)

    def __repr__(self) -> str:
        status = self.ended.status if self.ended is not None else self.run.status
        return f"{type(self).__name__}(id={self.id!r}, agent_id={self.agent_id!r}, status={status!r})"


def _note(error: BaseException, end_error: BaseException, run_id: str) -> None:
    """Keeps the block's own exception the one raised, noting that ending the run failed too."""
    if hasattr(error, "add_note"):  # Python 3.11 and later
        error.add_note(f"statehouse: ending run {run_id!r} as failed also failed: {end_error}")


class RunHandle(_RunHandleBase):
    """The run of a ``with client.run(...) as run:`` block: ``run.apply(...)`` commits tagged with its ``run_id``;
    ``run.metadata`` tags other commits; ``run.record(...)`` records more provenance with it; ``run.end(status)``
    ends it early with a status of your choice. At the end of the block the run ends ``succeeded``, or ``failed``
    when the block raises (the exception propagates); ``run.ended`` is then the ended :class:`AgentRun`."""

    def __init__(self, client: Statehouse, run: AgentRun, namespace: str) -> None:
        super().__init__(run, namespace)
        self._client = client

    def apply(
        self, operations: Iterable[Union[Put, Delete]], *, metadata: MetadataLike = None, **options: Any
    ) -> CommitResult:
        """:meth:`Statehouse.apply` in the run's namespace, with the ``run_id`` tag added to ``metadata``."""
        options.setdefault("namespace", self.namespace)
        return self._client.apply(operations, metadata=self.tag(metadata), **options)

    def record(self, records: Union[ProvenanceDraft, Iterable[ProvenanceDraft]]) -> List[ProvenanceRecord]:
        """Records more provenance of the run's agent, with the run."""
        return self._client.record_provenance(self.agent_id, records, run_id=self.id, namespace=self.namespace)

    def end(self, status: str = "succeeded") -> AgentRun:
        """Ends the run now with ``status``; the end of the block then ends nothing."""
        self.ended = self._client.end_run(self.id, status, namespace=self.namespace)
        return self.ended


class AsyncRunHandle(_RunHandleBase):
    """The run of an ``async with client.run(...) as run:`` block; as :class:`RunHandle`, with coroutines."""

    def __init__(self, client: AsyncStatehouse, run: AgentRun, namespace: str) -> None:
        super().__init__(run, namespace)
        self._client = client

    async def apply(
        self, operations: Iterable[Union[Put, Delete]], *, metadata: MetadataLike = None, **options: Any
    ) -> CommitResult:
        """:meth:`AsyncStatehouse.apply` in the run's namespace, with the ``run_id`` tag added to ``metadata``."""
        options.setdefault("namespace", self.namespace)
        return await self._client.apply(operations, metadata=self.tag(metadata), **options)

    async def record(self, records: Union[ProvenanceDraft, Iterable[ProvenanceDraft]]) -> List[ProvenanceRecord]:
        """Records more provenance of the run's agent, with the run."""
        return await self._client.record_provenance(self.agent_id, records, run_id=self.id, namespace=self.namespace)

    async def end(self, status: str = "succeeded") -> AgentRun:
        """Ends the run now with ``status``; the end of the block then ends nothing."""
        self.ended = await self._client.end_run(self.id, status, namespace=self.namespace)
        return self.ended


class RunContext:
    """What :meth:`Statehouse.run` returns: ``with`` starts the run and gives its :class:`RunHandle`."""

    def __init__(
        self,
        client: Statehouse,
        namespace: str,
        agent_id: str,
        provenance: Union[ProvenanceDraft, Iterable[ProvenanceDraft]],
        run_id: Optional[str],
        metadata: Any,
    ) -> None:
        self._client = client
        self._start = (namespace, agent_id, provenance, run_id, metadata)
        self._handle: Optional[RunHandle] = None

    def __enter__(self) -> RunHandle:
        namespace, agent_id, provenance, run_id, metadata = self._start
        run = self._client.start_run(agent_id, provenance, run_id, metadata, namespace=namespace)
        self._handle = RunHandle(self._client, run, namespace)
        return self._handle

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        handle = self._handle
        if handle is None or handle.ended is not None:
            return
        if exc_type is None:
            handle.end("succeeded")
            return
        try:
            handle.end("failed")
        except errors.StatehouseError as end_error:
            _note(exc, end_error, handle.id)


class AsyncRunContext:
    """What :meth:`AsyncStatehouse.run` returns: ``async with`` starts the run and gives its :class:`AsyncRunHandle`."""

    def __init__(
        self,
        client: AsyncStatehouse,
        namespace: str,
        agent_id: str,
        provenance: Union[ProvenanceDraft, Iterable[ProvenanceDraft]],
        run_id: Optional[str],
        metadata: Any,
    ) -> None:
        self._client = client
        self._start = (namespace, agent_id, provenance, run_id, metadata)
        self._handle: Optional[AsyncRunHandle] = None

    async def __aenter__(self) -> AsyncRunHandle:
        namespace, agent_id, provenance, run_id, metadata = self._start
        run = await self._client.start_run(agent_id, provenance, run_id, metadata, namespace=namespace)
        self._handle = AsyncRunHandle(self._client, run, namespace)
        return self._handle

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        handle = self._handle
        if handle is None or handle.ended is not None:
            return
        if exc_type is None:
            await handle.end("succeeded")
            return
        try:
            await handle.end("failed")
        except errors.StatehouseError as end_error:
            _note(exc, end_error, handle.id)


# ---- collectors --------------------------------------------------------------------------------------------------
#
# Each mirrors its counterpart in Sources/statehousectl/Collectors.swift member for member and rule for rule, so that
# `statehousectl capture` and the SDK record the same payload for the same thing (tests/test_provenance_sdk.py checks
# that they agree).


def _digest(path: Union[str, os.PathLike[str]]) -> Dict[str, Any]:
    """The SHA-256 (lowercase hex) and size of a file's bytes."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise errors.InvalidArgumentError(f"cannot read {os.fspath(path)}: {error.strerror or error}") from None
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _git(arguments: Sequence[str], path: str) -> Optional[str]:
    """Runs git in ``path``: its output, trimmed, or None when it fails (not a repository, no remote, no git)."""
    try:
        done = subprocess.run(
            ["git", "-C", path, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace").strip()


def capture_git(path: Union[str, os.PathLike[str]] = ".") -> Dict[str, Any]:
    """A ``code`` payload of the git work tree that holds ``path``, as ``statehousectl capture git PATH`` prints it.

    ``repository`` is the ``origin`` remote's URL, else the work tree's top directory; ``commit`` is HEAD; ``dirty``
    is whether ``git status --porcelain`` lists anything (a change or an untracked file); ``branch`` is the current
    branch (left out on a detached HEAD); ``lockfiles`` lists the lock files of :data:`LOCKFILE_NAMES` found at the top,
    in that order, with their SHA-256 (left out when there is none).

    Raises:
        InvalidArgumentError: ``path`` is not in a git repository with a commit (or git is not installed), or a lock
            file cannot be read.
    """
    where = os.fspath(path)
    top = _git(["rev-parse", "--show-toplevel"], where)
    commit = _git(["rev-parse", "HEAD"], where)
    if top is None or commit is None:
        raise errors.InvalidArgumentError(f"{where} is not in a git repository with a commit")
    repository = _git(["remote", "get-url", "origin"], where)
    payload: Dict[str, Any] = {
        "repository": repository if repository is not None else top,
        "commit": commit,
        "dirty": bool(_git(["status", "--porcelain"], where)),
    }
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], where)
    if branch is not None and branch != "HEAD":
        payload["branch"] = branch
    lockfiles = []
    for name in LOCKFILE_NAMES:
        file = top + "/" + name
        if os.path.exists(file):
            lockfiles.append({"path": name, "sha256": _digest(file)["sha256"]})
    if lockfiles:
        payload["lockfiles"] = lockfiles
    return payload


# The time zone abbreviations Foundation resolves $TZ through first (TimeZoneCache.defaultAbbreviations in
# swift-foundation), so that TZ=EST names the same zone as statehousectl does.
_TIME_ZONE_ABBREVIATIONS = {
    "ADT": "America/Halifax",
    "AKDT": "America/Juneau",
    "AKST": "America/Juneau",
    "ART": "America/Argentina/Buenos_Aires",
    "AST": "America/Halifax",
    "BDT": "Asia/Dhaka",
    "BRST": "America/Sao_Paulo",
    "BRT": "America/Sao_Paulo",
    "BST": "Europe/London",
    "CAT": "Africa/Harare",
    "CDT": "America/Chicago",
    "CEST": "Europe/Paris",
    "CET": "Europe/Paris",
    "CLST": "America/Santiago",
    "CLT": "America/Santiago",
    "COT": "America/Bogota",
    "CST": "America/Chicago",
    "EAT": "Africa/Addis_Ababa",
    "EDT": "America/New_York",
    "EEST": "Europe/Athens",
    "EET": "Europe/Athens",
    "EST": "America/New_York",
    "GMT": "GMT",
    "GST": "Asia/Dubai",
    "HKT": "Asia/Hong_Kong",
    "HST": "Pacific/Honolulu",
    "ICT": "Asia/Bangkok",
    "IRST": "Asia/Tehran",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "MDT": "America/Denver",
    "MSD": "Europe/Moscow",
    "MSK": "Europe/Moscow",
    "MST": "America/Phoenix",
    "NDT": "America/St_Johns",
    "NST": "America/St_Johns",
    "NZDT": "Pacific/Auckland",
    "NZST": "Pacific/Auckland",
    "PDT": "America/Los_Angeles",
    "PET": "America/Lima",
    "PHT": "Asia/Manila",
    "PKT": "Asia/Karachi",
    "PST": "America/Los_Angeles",
    "SGT": "Asia/Singapore",
    "TRT": "Europe/Istanbul",
    "UTC": "UTC",
    "WAT": "Africa/Lagos",
    "WEST": "Europe/Lisbon",
    "WET": "Europe/Lisbon",
    "WIT": "Asia/Jakarta",
}

_ZONEINFO_DIRECTORY = "/usr/share/zoneinfo/"


def _gmt_offset(name: str) -> Optional[int]:
    """The offset in seconds a ``GMT``/``UTC`` name spells (``GMT``, ``UTC+1``, ``GMT-0530``, ``UTC+5:30``), or None
    (Foundation's ``TimeZone.tryParseGMTName``, rule for rule)."""
    if not 3 <= len(name) <= 9 or not name.startswith(("GMT", "UTC")):
        return None
    if len(name) == 3:
        return 0
    if len(name) < 5 or name[3] not in "+-":
        return None
    sign = -1 if name[3] == "-" else 1
    if not "0" <= name[4] <= "9":
        return None
    hours = int(name[4])
    if len(name) == 5:
        return sign * hours * 3600
    two_digits = "0" <= name[5] <= "9"
    if not two_digits and name[5] not in ":.":
        return None
    if two_digits:
        hours = 10 * hours + int(name[5])
    if hours > 18:
        return None
    if two_digits and len(name) == 6:
        return sign * hours * 3600
    if len(name) < 8:
        return None
    at = 6
    punctuation = name[at] in ":."
    if not (("0" <= name[at] <= "5" and len(name) == 8) or (punctuation and len(name) == 9)):
        return None
    if punctuation:
        at += 1
    if not ("0" <= name[at] <= "9" and "0" <= name[at + 1] <= "9"):
        return None
    minutes = int(name[at : at + 2])
    if hours == 18 and minutes != 0:
        return None
    return sign * (hours * 3600 + minutes * 60)


def _gmt_name(offset: int) -> str:
    """Foundation's name of a fixed offset: ``GMT``, ``GMT+0500``, ``GMT-0330``."""
    at = abs(offset) + 30
    hours, minutes = at // 3600, at % 3600 // 60
    if hours == 0 and minutes == 0:
        return "GMT"
    return f"GMT{'-' if offset < 0 else '+'}{hours:02d}{minutes:02d}"


def _zone(identifier: str) -> Optional[str]:
    """The identifier of the time zone a name names, or None when it names none, as Foundation's ``fixed`` finds it:
    a GMT or UTC offset (``UTC`` is ``GMT``, ``UTC+1`` is ``GMT+0100``), else a zone of the time zone database."""
    offset = _gmt_offset(identifier)
    if offset is not None:
        return _gmt_name(offset)
    if not identifier or identifier in ("posixrules", "localtime") or identifier.split("/")[0] in ("posix", "right"):
        return None  # files of the database that name no zone
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(identifier)
    except Exception:  # not a zone (ZoneInfoNotFoundError; ValueError for a path or a file that is not one)
        return None
    return identifier


def _time_zone() -> str:
    """The identifier of this process's time zone, found as Foundation's ``TimeZone.current`` finds it on Linux:
    $TZFILE, then $TZ (an abbreviation first), then the zone /etc/localtime links to, then the C library's zone
    abbreviation, else GMT."""
    environment = os.environ
    if "TZFILE" in environment:
        zone = _zone(environment["TZFILE"])
        if zone is not None:
            return zone
    if "TZ" in environment:
        name = environment["TZ"]
        abbreviation = _TIME_ZONE_ABBREVIATIONS.get(name)
        zone = _zone(abbreviation) if abbreviation is not None else None
        if zone is None:
            zone = _zone(name)
        if zone is not None:
            return zone
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        link = ""
    at = link.find(_ZONEINFO_DIRECTORY)
    if at >= 0:
        zone = _zone(link[at + len(_ZONEINFO_DIRECTORY) :])
        if zone is not None:
            return zone
    if hasattr(time, "tzset"):
        time.tzset()
    zone = _zone(time.localtime().tm_zone or "")
    return zone if zone is not None else "GMT"


def capture_env() -> Dict[str, Any]:
    """An ``environment`` payload of this machine and process, as ``statehousectl capture env`` prints it.

    ``os``, ``arch`` and ``kernel`` come from uname; ``locale`` is $LC_ALL, else $LANG (left out when empty);
    ``time_zone`` is found as Foundation's ``TimeZone.current`` finds it on Linux ($TZFILE, then $TZ with
    Foundation's abbreviations such as ``EST``, then the zone /etc/localtime links to; ``UTC`` and ``UTC+1`` are
    ``GMT`` and ``GMT+0100``), names checked against the system's time zone database where Foundation uses ICU's (so
    ICU-only legacy names such as ``SystemV/EST5`` differ); ``clock_source`` is Linux's current clocksource (left
    out elsewhere); ``hostname`` is gethostname(2).

    ``runtime`` differs from the CLI's: it holds ``python`` (this interpreter's ``platform.python_version()``) and
    ``statehouse-sdk`` (this SDK's version), where ``statehousectl capture env`` holds ``statehousectl`` (its own
    version) and ``python`` (that of ``python3`` on its PATH, when there is one).
    """
    from . import __version__

    system = os.uname() if hasattr(os, "uname") else None
    payload: Dict[str, Any] = {
        "os": system.sysname if system else platform.system(),
        "arch": system.machine if system else platform.machine(),
        "kernel": system.release if system else platform.release(),
        "runtime": {"python": platform.python_version(), "statehouse-sdk": __version__},
    }
    locale = os.environ.get("LC_ALL", os.environ.get("LANG"))
    if locale:
        payload["locale"] = locale
    payload["time_zone"] = _time_zone()
    try:
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource", encoding="utf-8") as file:
            payload["clock_source"] = file.read().strip()
    except (OSError, UnicodeDecodeError):
        pass
    payload["hostname"] = socket.gethostname()
    return payload


def capture_config(*files: Union[str, os.PathLike[str]]) -> List[Dict[str, Any]]:
    """One ``config`` payload per file, as ``statehousectl capture config FILE...`` prints them: its path as given
    (``source``), its SHA-256 and its size in bytes.

    Raises:
        InvalidArgumentError: no file, or one that cannot be read.
    """
    if not files:
        raise errors.InvalidArgumentError("capture_config needs at least one file")
    payloads = []
    for file in files:
        digest = _digest(file)
        payloads.append({"source": os.fspath(file), "sha256": digest["sha256"], "size": digest["size"]})
    return payloads


def capture_model(
    provider: str,
    name: str,
    version: Optional[str] = None,
    parameters: Optional[Mapping[str, Any]] = None,
    prompt_template: Union[None, str, os.PathLike[str]] = None,
) -> Dict[str, Any]:
    """A ``model`` payload, as ``statehousectl capture model`` prints it: provider, name, version (when given),
    parameters (when given and not empty; any JSON values, where the CLI's ``--param KEY=VALUE`` parses each value as
    JSON when it can, else keeps it as a string) and the SHA-256 of a prompt template file
    (``prompt_template_sha256``).

    Raises:
        InvalidArgumentError: parameters that are not a dict, or a prompt template that cannot be read.
    """
    payload: Dict[str, Any] = {"provider": provider, "name": name}
    if version is not None:
        payload["version"] = version
    if parameters is not None and not isinstance(parameters, Mapping):
        raise errors.InvalidArgumentError(f"parameters must be a dict, not {type(parameters).__name__}")
    if parameters:
        payload["parameters"] = dict(parameters)
    if prompt_template is not None:
        payload["prompt_template_sha256"] = _digest(prompt_template)["sha256"]
    return payload


def capture_tool(
    name: str, version: Optional[str] = None, file: Union[None, str, os.PathLike[str]] = None
) -> Dict[str, Any]:
    """A ``tool`` payload, as ``statehousectl capture tool`` prints it: its name, version (when given) and the SHA-256
    of its file (a script, a binary; when given).

    Raises:
        InvalidArgumentError: a file that cannot be read.
    """
    payload: Dict[str, Any] = {"name": name}
    if version is not None:
        payload["version"] = version
    if file is not None:
        payload["sha256"] = _digest(file)["sha256"]
    return payload
