"""The synchronous Statehouse client: :class:`Statehouse` and :class:`Transaction`."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any, Dict, Generator, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from . import _config as config
from . import _operations as ops
from . import _policy as policy
from . import _wire as wire
from . import access
from . import artifacts as art
from . import exceptions as errors
from . import lifecycle as lc
from . import provenance as prov
from ._proto import statehouse_pb2_grpc
from .ledger import ConsistencyProof, InclusionProof, LedgerPublicKey, SignedTreeHead
from .lifecycle import AgentInfo, Snapshot, StateCopy, StateDiff
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

__all__ = ["Statehouse", "Transaction", "WatchStream"]


class Transaction(ops.TransactionBase):
    """An interactive transaction: buffered writes and deletes, reads, then an atomic commit or an abort.

    A transaction made by :meth:`Statehouse.begin_transaction` is begun by the client: it costs no round trip to
    begin, its writes and deletes are kept by the client and sent with the commit, so a transaction of any size costs
    one round trip (the commit) plus one per read of a key it has not written. Reads inside the transaction
    (:meth:`get`) are checked at the commit: if a key read here changes before the commit, the commit raises
    :class:`~statehouse.exceptions.ConflictError` and applies nothing. Its timeout is kept by the client: a commit
    after it raises :class:`~statehouse.exceptions.TransactionExpiredError`.

    As a context manager it commits when the block ends normally and aborts when it raises::

        with client.begin_transaction() as tx:
            plan = tx.get("agent-1", "plan").value or []
            tx.write("agent-1", "plan", plan + ["search"])

    ``Transaction(client, txn_id, namespace)`` attaches to a transaction begun on the daemon (BeginTransaction):
    its reads, commit and abort go to the daemon's transaction; committing an id the daemon does not know raises
    :class:`~statehouse.exceptions.TransactionError`.
    """

    _client: Statehouse

    def __init__(self, client: Statehouse, txn_id: str, namespace: str = "default") -> None:
        super().__init__(client, txn_id, namespace)

    @property
    def result(self) -> Optional[CommitResult]:
        """The full commit result (commit_ts, versions, hash) once committed, else None."""
        return self._buffer.result

    def write(
        self,
        agent_id: str,
        key: str,
        value: Any,
        *,
        expected_version: Optional[int] = None,
        ttl: Union[None, int, float, timedelta] = None,
        expires_at: Union[None, datetime, str, int] = None,
    ) -> None:
        """Stages a write of any JSON value; a later write of the same key in this transaction replaces it.

        Args:
            agent_id: the agent owning the key.
            key: the key.
            value: any JSON value (dict, list, str, int of any size, float, bool, None).
            expected_version: commit only if the key is at exactly this version when the transaction commits
                (0: only if it does not exist); otherwise the commit raises ConflictError.
            ttl: the value expires this long after this call (seconds as an int or a float, or a timedelta): from
                then on reads find the key deleted, and the daemon commits its delete (reason ``expired: ...``).
            expires_at: the value expires at this time instead (a datetime, naive meaning UTC; RFC 3339 text; or
                microseconds since the epoch). It must still be in the future at the commit.

        Raises:
            InvalidArgumentError: the value is not JSON, both ttl and expires_at, or a bad one (the daemon checks
                names, sizes and that the expiry is in the future at commit).
            TransactionError: the transaction is already committed or aborted.
        """
        self._buffer.write(agent_id, key, value, expected_version, ttl, expires_at)

    def delete(self, agent_id: str, key: str, *, expected_version: Optional[int] = None) -> None:
        """Stages a delete of a key (a new tombstone version); ``expected_version`` as in :meth:`write`."""
        self._buffer.delete(agent_id, key, expected_version)

    def get(self, agent_id: str, key: str) -> StateResult:
        """Reads a key inside the transaction: its own write if it made one, else the latest committed version.

        The version a committed read saw is checked at the commit: if the key changes before the commit (it is
        written, deleted, or created when it did not exist), the commit fails with ConflictError.
        """
        return self._client._run(self._buffer.get(agent_id, key))

    def commit(self, metadata: MetadataLike = None) -> int:
        """Commits every staged write atomically and returns the commit_ts once it is durable.

        The whole transaction is this one call when it was begun by :meth:`Statehouse.begin_transaction`. A commit
        whose reply is lost (connection reset, daemon restart) is retried; the daemon applies a transaction once (by
        its id) and answers a retry with the original result.

        Args:
            metadata: who made the change and why (a Metadata, or a dict with actor, reason, tags); stored with
                the event.

        Raises:
            ConflictError: a key read in the transaction, or named by expected_version, changed.
            TransactionExpiredError: the transaction outlived its timeout (nothing is sent then).
            TransactionError: it is already committed, aborted, or unknown to the daemon.
        """
        return self._client._run(self._buffer.commit(metadata)).commit_ts

    def abort(self) -> None:
        """Discards the transaction (nothing is sent for one begun by the client); aborting twice is a no-op,
        aborting after a commit raises TransactionError."""
        self._client._run(self._buffer.abort())

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        self._client._run(self._buffer.finish(failed=exc_type is not None))

    def __repr__(self) -> str:
        return f"Transaction(txn_id={self.txn_id!r}, namespace={self.namespace!r}, state={self._buffer.state!r})"


class WatchStream(policy.WatchState, Iterator[ReplayEvent]):
    """The events of a watch as they commit; iterate it, and :meth:`close` it (or use ``with``) when done.

    After a lost connection (a daemon restart, for example) it reconnects and resumes right after the last event
    it delivered, so no commit is missed or repeated; it gives up with UnavailableError once the daemon has been
    unreachable for ``reconnect_timeout`` seconds.
    """

    def __init__(
        self,
        client: Statehouse,
        namespace: str,
        agent_id: Optional[str],
        from_ts: Optional[int],
        reconnect_timeout: float,
    ) -> None:
        super().__init__(namespace, agent_id, from_ts, reconnect_timeout, client.url)
        self._client = client
        if self.next_ts is None:
            self._pin(client.head(namespace).commit_ts)

    def __iter__(self) -> WatchStream:
        return self

    def __next__(self) -> ReplayEvent:
        self._start_waiting()
        while not self._pending:
            if self._closed:
                raise StopIteration
            try:
                if self._call is None:
                    self._call = self._client._stub.Watch(self._request(), metadata=self._client._metadata)
                batch = next(self._call)
            except StopIteration:
                time.sleep(self._lost(None))  # the daemon ended the stream (shutting down): reconnect
            except grpc.RpcError as failure:
                time.sleep(self._lost(failure))  # reconnect, or raise the SDK error when the failure is final
            else:
                self._received(batch)
        return self._deliver()

    def close(self) -> None:
        """Stops watching."""
        self._stop()

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class Statehouse(config.ClientBase):
    """A synchronous client of a Statehouse daemon.

    Thread-safe: one client can serve many threads (gRPC multiplexes their calls on one connection).

    Example::

        from statehouse import Statehouse

        with Statehouse(url="localhost:50051") as client:
            with client.begin_transaction() as tx:
                tx.write(agent_id="agent-1", key="memory", value={"fact": "..."})
            print(client.get_state(agent_id="agent-1", key="memory").value)

    Args:
        url: the daemon's address, ``host:port``; default: $STATEHOUSE_URL, else ``localhost:50051``.
        namespace: the namespace used when a call does not name one; default: $STATEHOUSE_NAMESPACE, else
            ``"default"``.
        timeout: seconds each call may take (streams excepted); None waits forever; default:
            $STATEHOUSE_TIMEOUT, else 60.
        commit_retry_timeout: how long a commit whose reply was lost is retried (it is applied once).
        metadata: ``(name, value)`` string pairs sent with every call and stream, such as
            ``[("authorization", "Bearer ...")]``; names are lowercase.
        tls: connect over TLS (:class:`~statehouse.TLS`: the CA file, and a client certificate for mutual TLS);
            default: plaintext.
        token: the access token (``tok_….secret``) of a daemon started with ``--auth required``, sent as
            ``authorization: Bearer TOKEN`` with every call and stream; default: $STATEHOUSE_TOKEN, else none
            (an ``authorization`` entry of ``metadata`` then wins over the variable).

    Raises:
        InvalidArgumentError: a bad argument or environment variable (named in the message).
    """

    def __init__(
        self,
        url: Optional[str] = None,
        namespace: Optional[str] = None,
        *,
        timeout: config.TimeoutArgument = config.UNSET,
        commit_retry_timeout: float = 30.0,
        metadata: Optional[Sequence[Tuple[str, str]]] = None,
        tls: Optional[config.TLS] = None,
        token: Optional[str] = None,
    ) -> None:
        self._configure(url, namespace, timeout, metadata, commit_retry_timeout, token)
        if tls is None:
            self._channel = grpc.insecure_channel(self._url, options=wire.CHANNEL_OPTIONS)
        else:
            self._channel = grpc.secure_channel(self._url, tls.credentials(), options=wire.CHANNEL_OPTIONS)
        self._stub = statehouse_pb2_grpc.StatehouseServiceStub(self._channel)

    def close(self) -> None:
        """Closes the connection; the client cannot be used afterwards."""
        self._channel.close()

    def __enter__(self) -> Statehouse:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Statehouse(url={self._url!r}, namespace={self._namespace!r})"

    # ---- running plans ----

    def _invoke(self, call: ops.Call) -> Any:
        """Makes a call as a unary RPC, retried as ``policy.Attempts`` decides."""
        method = getattr(self._stub, call.method)
        attempts = policy.Attempts(call, self._timeout, self._commit_retry_timeout)
        while True:
            try:
                return method(
                    call.request,
                    timeout=attempts.timeout(),
                    wait_for_ready=attempts.wait_for_ready,
                    metadata=self._metadata,
                )
            except grpc.RpcError as failure:
                error = wire.rpc_error(failure, address=self._url, transactional=call.transactional)
            pause = attempts.pause_after(error)
            if pause is None:
                raise error
            time.sleep(pause)

    def _run(self, plan: ops.Plan) -> Any:
        """Runs a plan: makes each call it yields and sends it the reply, or throws the call's error into it."""
        try:
            call = next(plan)
            while True:
                try:
                    response = self._invoke(call)
                except errors.StatehouseError as error:
                    call = plan.throw(error)
                else:
                    call = plan.send(response)
        except StopIteration as done:
            return done.value

    # ---- health ----

    def health(self) -> str:
        """Returns ``"ok"`` while the daemon serves; raises ConnectionError (naming the address) when unreachable."""
        return self._run(ops.health())

    def version(self) -> Tuple[str, str]:
        """The daemon's ``(version, git_sha)``."""
        return self._run(ops.version())

    # ---- writes ----

    def begin_transaction(self, timeout_ms: Optional[int] = None, namespace: Optional[str] = None) -> Transaction:
        """Begins an interactive transaction, on the client: nothing is sent until it commits or reads.

        Args:
            timeout_ms: how long it may stay open: a commit after it raises TransactionExpiredError (default 30 s,
                the daemon's default).
            namespace: the namespace it writes to (default: the client's).
        """
        return Transaction._begun_by_client(self, self._ns(namespace), timeout_ms)

    def apply(
        self,
        operations: Iterable[Union[Put, Delete]],
        *,
        conditions: Iterable[Condition] = (),
        idempotency_key: Optional[str] = None,
        metadata: MetadataLike = None,
        namespace: Optional[str] = None,
        events: Sequence[lc.EventDraft] = (),
    ) -> CommitResult:
        """Commits writes and deletes atomically in one round trip, subject to conditions.

        Args:
            operations: :class:`~statehouse.Put` and :class:`~statehouse.Delete` items, applied in order; a Put may
                expire (``Put(agent, key, value, ttl=60)``, or ``expires_at=``).
            conditions: :class:`~statehouse.Condition` items; if one does not hold, nothing is applied and
                ConflictError is raised.
            idempotency_key: a retry with the same key and content returns the first result instead of applying
                again. One is generated when not given, so that a retry after a lost reply is safe; pass ""
                to send none.
            metadata: actor, reason and tags stored with the event.
            namespace: default: the client's.
            events: :class:`~statehouse.EventDraft` items recorded in the same commit.
        """
        drafts = [lc.event_draft(event) for event in events]
        return self._run(ops.apply(self._ns(namespace), operations, conditions, idempotency_key, metadata, drafts))

    # ---- reads ----

    def get_state(
        self,
        agent_id: str,
        key: str,
        namespace: Optional[str] = None,
        *,
        at: Optional[int] = None,
        as_of: Optional[datetime] = None,
        verify: bool = False,
    ) -> StateResult:
        """Reads a key: the latest state, or the state as of commit_ts ``at`` or of the time ``as_of``.

        A key that does not exist gives ``exists=False`` and ``value=None``, never an exception.

        With ``verify=True`` the read is checked before it is returned: the version read must be an event of the
        daemon's signed Merkle tree (its inclusion proof leads to the root the trusted key signed, see
        :meth:`trust_ledger_key`), and that tree must extend every head this client verified before. A failed check
        raises :class:`~statehouse.exceptions.VerificationError`. It proves the version was committed with this
        value; it does not prove that no later version exists.
        """
        if verify:
            return self._run(ops.get_verified_state(self._ns(namespace), agent_id, key, at, as_of, self._ledger))
        return self._run(ops.get_state(self._ns(namespace), agent_id, key, at, as_of))

    # ---- ledger ----

    def ledger_key(self) -> LedgerPublicKey:
        """The public key that signs the daemon's tree heads, as the daemon reports it."""
        return self._run(ops.ledger_key())

    def tree_head(self, namespace: Optional[str] = None, *, size: Optional[int] = None) -> SignedTreeHead:
        """The namespace's signed Merkle tree head (of its first ``size`` events; the whole log by default)."""
        return self._run(ops.tree_head(self._ns(namespace), size))

    def inclusion_proof(
        self, commit_ts: int, namespace: Optional[str] = None, *, tree_size: Optional[int] = None
    ) -> InclusionProof:
        """The proof that the event with ``commit_ts`` is in the tree of ``tree_size`` events (default: the log)."""
        return self._run(ops.inclusion_proof(self._ns(namespace), commit_ts, tree_size))

    def consistency_proof(
        self, old_size: int, namespace: Optional[str] = None, *, new_size: Optional[int] = None
    ) -> ConsistencyProof:
        """The proof that the tree of ``new_size`` events (default: the log) extends the tree of ``old_size``."""
        return self._run(ops.consistency_proof(self._ns(namespace), old_size, new_size))

    def get_state_at_version(
        self, agent_id: str, key: str, version: int, namespace: Optional[str] = None
    ) -> StateResult:
        """Reads version ``version`` (>= 1) of a key.

        A delete's tombstone version and a key that was never written give ``exists=False``; a version beyond
        the key's latest raises InvalidArgumentError (it does not exist yet).
        """
        return self._run(ops.get_state_at_version(self._ns(namespace), agent_id, key, version))

    def get_many(
        self,
        keys: Iterable[Tuple[str, str]],
        namespace: Optional[str] = None,
        *,
        at: Optional[int] = None,
        as_of: Optional[datetime] = None,
    ) -> List[StateResult]:
        """Reads many ``(agent_id, key)`` pairs at one consistent point, in one round trip, in the given order."""
        return self._run(ops.get_many(self._ns(namespace), keys, at, as_of))

    def list_keys(
        self, agent_id: str, namespace: Optional[str] = None, *, prefix: str = "", include_deleted: bool = False
    ) -> List[str]:
        """The agent's keys in order (deleted keys left out unless ``include_deleted``), all pages followed."""
        return self._run(ops.list_keys(self._ns(namespace), agent_id, prefix, include_deleted))

    def scan_prefix(
        self,
        agent_id: str,
        prefix: str,
        namespace: Optional[str] = None,
        *,
        at: Optional[int] = None,
        as_of: Optional[datetime] = None,
        start_after: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[StateResult]:
        """The live keys of an agent starting with ``prefix``, with their values (each result has ``.key``), in byte
        order: those after the key ``start_after`` when given, at most ``limit`` of them."""
        return self._run(ops.scan_prefix(self._ns(namespace), agent_id, prefix, at, as_of, start_after, limit))

    def history(
        self, agent_id: str, key: str, namespace: Optional[str] = None, *, limit: Optional[int] = None
    ) -> List[StateResult]:
        """Every version of a key, newest first, deletes included (``deleted=True``); at most ``limit``."""
        return self._run(ops.history(self._ns(namespace), agent_id, key, limit))

    def list_agents(
        self, namespace: Optional[str] = None, *, status: Optional[str] = None, include_deleted: bool = False
    ) -> List[str]:
        """The agents of the namespace (those that wrote a key or have a record), in order; deleted agents only
        with ``include_deleted``, and only those with ``status`` when given."""
        if status is not None or include_deleted:
            agents = self._run(lc.list_agent_records(self._ns(namespace), status, include_deleted))
            return [agent.agent_id for agent in agents]
        return self._run(ops.list_agents(self._ns(namespace)))

    def list_namespaces(self) -> List[LogHead]:
        """Every namespace with at least one commit, with its log head."""
        return self._run(ops.list_namespaces())

    def head(self, namespace: Optional[str] = None) -> LogHead:
        """The namespace's last commit_ts (0 when empty) and hash."""
        return self._run(ops.head(self._ns(namespace)))

    # ---- the agent lifecycle (statehouse.lifecycle) ----

    def get_agent(self, agent_id: str, namespace: Optional[str] = None) -> AgentInfo:
        """An agent's record: display name, status, metadata, key and version counts, first and last write."""
        return self._run(lc.get_agent(self._ns(namespace), agent_id))

    def list_agent_records(
        self, namespace: Optional[str] = None, *, status: Optional[str] = None, include_deleted: bool = False
    ) -> List[AgentInfo]:
        """The agents with their records, sorted by id; only those with ``status`` when given."""
        return self._run(lc.list_agent_records(self._ns(namespace), status, include_deleted))

    def update_agent(
        self,
        agent_id: str,
        *,
        display_name: Optional[str] = None,
        status: Optional[str] = None,
        metadata: Any = None,
        namespace: Optional[str] = None,
        commit_metadata: MetadataLike = None,
    ) -> AgentInfo:
        """Sets an agent's display name, status or metadata (others unchanged) in one commit; returns the record."""
        return self._run(
            lc.update_agent(self._ns(namespace), agent_id, display_name, status, metadata, commit_metadata)
        )

    def update_agent_status(self, agent_id: str, status: str, namespace: Optional[str] = None) -> AgentInfo:
        """Sets an agent's status (free text such as active, paused, done)."""
        return self.update_agent(agent_id, status=status, namespace=namespace)

    def delete_agent(
        self, agent_id: str, namespace: Optional[str] = None, *, metadata: MetadataLike = None
    ) -> CommitResult:
        """Tombstones every key of the agent in one commit (history kept); it is no longer listed.

        Raises ConflictError (nothing deleted) when the agent is written while the delete reads it."""
        return self._run(lc.delete_agent(self._ns(namespace), agent_id, metadata))

    def create_snapshot(
        self,
        name: str,
        agent_id: Optional[str] = None,
        *,
        description: str = "",
        metadata: Any = None,
        expires: Union[None, datetime, timedelta] = None,
        at: lc.Point = None,
        namespace: Optional[str] = None,
    ) -> Snapshot:
        """Names the state of ``agent_id`` (the whole namespace when None) now, or at ``at``; copies nothing.

        ``expires`` (a datetime, or a timedelta from now) makes it disappear from listings and be swept then."""
        return self._run(lc.create_snapshot(self._ns(namespace), name, agent_id, description, metadata, expires, at))

    def get_snapshot(self, name: str, namespace: Optional[str] = None) -> Snapshot:
        """A snapshot by name (NotFoundError when there is none or it expired)."""
        return self._run(lc.get_snapshot(self._ns(namespace), name))

    def list_snapshots(self, namespace: Optional[str] = None, *, agent_id: Optional[str] = None) -> List[Snapshot]:
        """Snapshots sorted by name, expired ones left out; only one agent's when ``agent_id`` is given."""
        return self._run(lc.list_snapshots(self._ns(namespace), agent_id))

    def delete_snapshot(self, name: str, namespace: Optional[str] = None) -> CommitResult:
        """Deletes a snapshot (the log keeps that it existed)."""
        return self._run(lc.delete_snapshot(self._ns(namespace), name))

    def restore_snapshot(
        self, name: str, namespace: Optional[str] = None, *, force: bool = False, metadata: MetadataLike = None
    ) -> StateCopy:
        """Makes the current state equal to the snapshot's in one new commit (history kept).

        Raises ConflictError (nothing written) when the agent changes while the restore runs, unless ``force``."""
        return self._run(lc.restore_snapshot(self._ns(namespace), name, force, metadata))

    def fork(
        self,
        agent_id: str,
        target_agent_id: str,
        *,
        at: lc.Point = None,
        target_namespace: Optional[str] = None,
        overwrite: bool = False,
        metadata: MetadataLike = None,
        namespace: Optional[str] = None,
    ) -> StateCopy:
        """Copies an agent's state (now, or at ``at``) into another agent, possibly in another namespace, in one
        commit whose metadata names the source. The target must have no key unless ``overwrite``."""
        return self._run(
            lc.fork(self._ns(namespace), agent_id, target_agent_id, at, target_namespace, overwrite, metadata)
        )

    def diff(
        self, agent_id: str, from_point: lc.Point, to_point: lc.Point = None, namespace: Optional[str] = None
    ) -> StateDiff:
        """The keys added, removed and changed (with a JSON Patch) between two points of an agent's state."""
        return self._run(lc.diff(self._ns(namespace), agent_id, from_point, to_point))

    def record_event(
        self,
        agent_id: str,
        type: str,
        content: Any,
        *,
        session_id: Optional[str] = None,
        actor: Optional[str] = None,
        metadata: Any = None,
        occurred_at: Optional[datetime] = None,
        event_id: Optional[str] = None,
        namespace: Optional[str] = None,
    ) -> lc.AgentEvent:
        """Records one event (a message, a tool call, an error) in one commit; returns it with its id."""
        draft = lc.EventDraft(agent_id, type, content, session_id, actor, metadata, occurred_at, event_id)
        return self._run(lc.record_events(self._ns(namespace), [draft], None))[0]

    def record_events(
        self, events: Sequence[lc.EventDraft], namespace: Optional[str] = None, *, metadata: MetadataLike = None
    ) -> List[lc.AgentEvent]:
        """Records events in one commit; returns them with their ids."""
        return self._run(lc.record_events(self._ns(namespace), list(events), metadata))

    def get_events(
        self,
        session_id: Optional[str] = None,
        *,
        agent_id: Optional[str] = None,
        type: Optional[str] = None,
        actor: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        limit: Optional[int] = None,
        namespace: Optional[str] = None,
    ) -> List[lc.AgentEvent]:
        """Recorded events in the order they were recorded; every filter given narrows them (``since``/``until``
        bound when they occurred)."""
        return self._run(lc.get_events(self._ns(namespace), agent_id, session_id, type, actor, since, until, limit))

    def get_events_by_type(
        self, type: str, *, limit: Optional[int] = None, namespace: Optional[str] = None
    ) -> List[lc.AgentEvent]:
        """Recorded events of one type (StateStore's ``get_events_by_type``)."""
        return self.get_events(type=type, limit=limit, namespace=namespace)

    def get_event(self, event_id: str, namespace: Optional[str] = None) -> lc.AgentEvent:
        """One recorded event by id (NotFoundError when there is none)."""
        return self._run(lc.get_event(self._ns(namespace), event_id))

    def start_session(
        self,
        agent_id: str,
        *,
        session_id: Optional[str] = None,
        metadata: Any = None,
        namespace: Optional[str] = None,
    ) -> lc.Session:
        """Starts a session of an agent (status ``active``); the daemon makes the id unless you give one."""
        return self._run(lc.start_session(self._ns(namespace), agent_id, session_id, metadata))

    def end_session(self, session_id: str, status: str = "ended", namespace: Optional[str] = None) -> lc.Session:
        """Ends a session with a status (InvalidArgumentError if it already ended)."""
        return self._run(lc.end_session(self._ns(namespace), session_id, status))

    def get_session(self, session_id: str, namespace: Optional[str] = None) -> lc.Session:
        return self._run(lc.get_session(self._ns(namespace), session_id))

    def list_sessions(
        self, namespace: Optional[str] = None, *, agent_id: Optional[str] = None, status: Optional[str] = None
    ) -> List[lc.Session]:
        """Sessions in id order (time order for ids the daemon made), narrowed to an agent or a status."""
        return self._run(lc.list_sessions(self._ns(namespace), agent_id, status))

    def create_task(
        self,
        title: str,
        *,
        description: str = "",
        status: Optional[str] = None,
        assigned_to: Optional[str] = None,
        metadata: Any = None,
        task_id: Optional[str] = None,
        namespace: Optional[str] = None,
    ) -> lc.Task:
        """Creates a task (status ``pending`` unless given); the daemon makes the id unless you give one."""
        return self._run(
            lc.create_task(self._ns(namespace), title, description, status, assigned_to, metadata, task_id)
        )

    def update_task(
        self,
        task_id: str,
        *,
        title: Optional[str] = None,
        description: Optional[str] = None,
        status: Optional[str] = None,
        assigned_to: Optional[str] = None,
        metadata: Any = None,
        namespace: Optional[str] = None,
    ) -> lc.Task:
        """Changes a task's fields (the others keep their value) in one commit."""
        return self._run(
            lc.update_task(self._ns(namespace), task_id, title, description, status, assigned_to, metadata)
        )

    def get_task(self, task_id: str, namespace: Optional[str] = None) -> lc.Task:
        return self._run(lc.get_task(self._ns(namespace), task_id))

    def list_tasks(
        self, namespace: Optional[str] = None, *, status: Optional[str] = None, assigned_to: Optional[str] = None
    ) -> List[lc.Task]:
        """Tasks in id order, narrowed to a status or an assignee."""
        return self._run(lc.list_tasks(self._ns(namespace), status, assigned_to))

    def search(
        self,
        query: str,
        *,
        kinds: Optional[List[str]] = None,
        agent_id: Optional[str] = None,
        key_prefix: Optional[str] = None,
        type: Optional[str] = None,
        session_id: Optional[str] = None,
        actor: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        history: bool = False,
        limit: int = 20,
        namespace: Optional[str] = None,
    ) -> List[lc.SearchHit]:
        """Full-text search (SQLite FTS5 syntax) over agent events, commit metadata and, when the daemon indexes them
        (setting search-state), state values; best first. A malformed query raises InvalidArgumentError with the
        parser's reason."""
        return self._run(
            lc.search(
                self._ns(namespace),
                query,
                kinds,
                agent_id,
                key_prefix,
                type,
                session_id,
                actor,
                since,
                until,
                history,
                limit,
            )
        )

    def search_events(
        self, query: str, *, limit: int = 20, namespace: Optional[str] = None, **filters: Any
    ) -> List[lc.SearchHit]:
        """Full-text search over agent events only (StateStore's ``search_events``)."""
        return self.search(query, kinds=["event"], limit=limit, namespace=namespace, **filters)

    def transitions(
        self, agent_id: str, key: str, namespace: Optional[str] = None, *, limit: Optional[int] = None
    ) -> List[lc.Transition]:
        """Every change of a key, newest first, with the value before and after and the commit's actor and reason
        (StateStore's transitions view)."""
        return self._run(lc.transitions(self._ns(namespace), agent_id, key, limit))

    def backup(self, destination: str) -> lc.BackupReport:
        """Copies the daemon's store, consistently and while it serves, into ``destination``: a new or empty directory
        on the daemon's machine (absolute path). Start a daemon with ``--data-dir destination`` to serve the copy."""
        return self._run(lc.backup(destination))

    # ---- access control (statehouse.access) ----

    def whoami(self) -> access.Principal:
        """Who the daemon takes this client for: its token's id, name and grants, and whether the daemon requires a
        token at all (``auth_required``)."""
        return self._run(access.whoami())

    def create_token(
        self,
        name: str,
        grants: Sequence[access.GrantLike],
        *,
        expires_at: Union[None, datetime, timedelta] = None,
        certificate_subject: Optional[str] = None,
    ) -> Tuple[access.AccessToken, str]:
        """Creates a token; returns it and its secret, the whole token (``tok_….secret``) to give its user. The
        daemon keeps only a hash of it: this is the one time it is seen.

        Args:
            name: a label for people: what or who the token is for.
            grants: ``"PATTERN:ROLE"`` text (``"prod:read"``, ``"prod-*:write"``, ``"*:admin"``), AccessGrant items or
                ``(pattern, role)`` pairs. Only within what this client's token administers.
            expires_at: when it stops authenticating (a datetime, naive meaning UTC, or a timedelta from now);
                default: never.
            certificate_subject: map a client-certificate subject (RFC 4514, such as ``"CN=agent-1"``) to the grants
                instead, for mutual TLS; such a principal authenticates by its certificate and has no secret.

        Raises:
            PermissionDeniedError: this client's token does not administer every grant asked for.
        """
        return self._run(access.create_token(name, grants, expires_at, certificate_subject))

    def list_tokens(self, *, include_revoked: bool = False) -> List[access.AccessToken]:
        """The tokens this client's token administers (never their secrets); revoked ones with ``include_revoked``."""
        return self._run(access.list_tokens(include_revoked))

    def revoke_token(self, token_id: str) -> access.AccessToken:
        """Revokes a token by its id (``tok_…``): from now on it authenticates nothing, and its open watches end.
        Returns it as revoked."""
        return self._run(access.revoke_token(token_id))

    # ---- provenance (statehouse.provenance) ----

    def record_provenance(
        self,
        agent_id: str,
        records: Union[prov.ProvenanceDraft, Iterable[prov.ProvenanceDraft]],
        run_id: Optional[str] = None,
        namespace: Optional[str] = None,
    ) -> List[prov.ProvenanceRecord]:
        """Records provenance of an agent in one commit and returns the records with their ids and commit_ts.

        Args:
            agent_id: the agent whose state the records explain.
            records: :class:`~statehouse.ProvenanceDraft` items (``ProvenanceDraft("code", capture_git())``); each
                payload is checked against its kind's schema (docs/api.md, "Provenance").
            run_id: the run they belong to (:meth:`start_run`), if any.

        Raises:
            InvalidArgumentError: a payload that does not fit its kind's schema (the message names the member), an
                unknown kind, or no record.
            ConflictError: an id already used for the kind (records are immutable).
        """
        return self._run(prov.record_provenance(self._ns(namespace), agent_id, records, run_id))

    def get_provenance(self, kind: str, id: str, namespace: Optional[str] = None) -> prov.ProvenanceRecord:
        """One provenance record by kind and id (NotFoundError when there is none)."""
        return self._run(prov.get_provenance(self._ns(namespace), kind, id))

    def list_provenance(
        self,
        agent_id: Optional[str] = None,
        kind: Optional[str] = None,
        run_id: Optional[str] = None,
        limit: int = 1000,
        cursor: Optional[str] = None,
        namespace: Optional[str] = None,
    ) -> prov.ProvenancePage:
        """One page of provenance records in kind and id order, narrowed to an agent, a kind or a run: at most
        ``limit``, after ``cursor`` (the ``next_cursor`` of the page before; None for the first page)."""
        return self._run(prov.list_provenance(self._ns(namespace), agent_id, kind, run_id, limit, cursor))

    def provenance_at(
        self, agent_id: str, at: lc.Point = None, namespace: Optional[str] = None, *, verify: bool = False
    ) -> prov.ProvenanceInEffect:
        """The provenance in effect for an agent at a point (None: the head; a commit_ts, a datetime or a snapshot's
        name): the records of the run in effect then, else the newest record of each kind recorded by then.

        With ``verify=True`` each record and the run are also read at that point as verified reads (their inclusion
        in the signed tree head, checked as ``get_state(verify=True)`` does) and must be what the daemon answered;
        otherwise :class:`~statehouse.exceptions.VerificationError`.
        """
        if verify:
            return self._run(prov.verified_provenance_at(self._ns(namespace), agent_id, at, self._ledger))
        return self._run(prov.provenance_at(self._ns(namespace), agent_id, at))

    def start_run(
        self,
        agent_id: str,
        provenance: Union[prov.ProvenanceDraft, Iterable[prov.ProvenanceDraft]] = (),
        id: Optional[str] = None,
        metadata: Any = None,
        namespace: Optional[str] = None,
    ) -> prov.AgentRun:
        """Starts a run of an agent (status ``running``), recording its provenance in the same commit. The agent's
        commits of the run must carry the metadata tag ``run_id`` (:meth:`run` does that for you).

        Args:
            provenance: :class:`~statehouse.ProvenanceDraft` items in effect for the run.
            id: the run's id; default: a version 7 UUID the daemon makes.
            metadata: any JSON value kept with the run.
        """
        return self._run(prov.start_run(self._ns(namespace), agent_id, provenance, id, metadata))

    def end_run(self, run_id: str, status: str = "succeeded", namespace: Optional[str] = None) -> prov.AgentRun:
        """Ends a run with a status (InvalidArgumentError if it already ended)."""
        return self._run(prov.end_run(self._ns(namespace), run_id, status))

    def get_run(self, run_id: str, commit_limit: int = 1000, namespace: Optional[str] = None) -> prov.RunDetails:
        """A run with its provenance records and the commits it made (at most ``commit_limit``, oldest first)."""
        return self._run(prov.get_run(self._ns(namespace), run_id, commit_limit))

    def advise(
        self,
        agent_id: Optional[str] = None,
        from_: lc.Point = None,
        to: lc.Point = None,
        from_run: Optional[str] = None,
        to_run: Optional[str] = None,
        namespace: Optional[str] = None,
    ) -> prov.Advisory:
        """Compares a baseline's provenance with a candidate's: two points of an agent (``from_`` and ``to``; None is
        the head) or two runs (``from_run`` and ``to_run``), scored 0-100 by the rules of docs/api.md, "Advisory",
        with a recommendation per finding."""
        return self._run(prov.advise(self._ns(namespace), agent_id, from_, to, from_run, to_run))

    def replay_plan(self, run_id: str, namespace: Optional[str] = None) -> prov.ReplayPlan:
        """The ordered, per-source plan to replay the mutations recorded with a run, with what would make a replay
        wrong (duplicates, gaps, mixed namespaces, config mismatches) as findings."""
        return self._run(prov.replay_plan(self._ns(namespace), run_id))

    def run(
        self,
        agent_id: str,
        provenance: Union[prov.ProvenanceDraft, Iterable[prov.ProvenanceDraft]] = (),
        id: Optional[str] = None,
        metadata: Any = None,
        namespace: Optional[str] = None,
    ) -> prov.RunContext:
        """A run as a context manager: starts it (as :meth:`start_run`), gives a :class:`~statehouse.RunHandle`
        whose ``apply`` (and ``metadata``, for other commits) tags commits with its ``run_id``, and ends it
        ``succeeded`` when the block ends, or ``failed`` when the block raises (the exception propagates)::

            with client.run("planner", provenance=[ProvenanceDraft("environment", capture_env())]) as run:
                run.apply([Put("planner", "plan", {"step": 1})])
        """
        return prov.RunContext(self, self._ns(namespace), agent_id, provenance, id, metadata)

    def capture_config(
        self, *files: Union[str, os.PathLike[str]], store: bool = True, namespace: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """:func:`statehouse.provenance.capture_config` (one ``config`` payload per file), with each file's content
        also stored as an artifact of the namespace: each payload then names it (``artifact``, the same digest), so
        the exact configuration can be fetched back later (``get_artifact``). ``store=False`` only captures.

        Raises:
            InvalidArgumentError: a file cannot be read, or it changed between its digest and its upload (nothing
                other than the captured content is ever stored under the digest).
        """
        payloads = prov.capture_config(*files)
        if store:
            for file, payload in zip(files, payloads):
                self.put_artifact(file, expected_sha256=payload["sha256"], namespace=namespace)
                payload["artifact"] = payload["sha256"]
        return payloads

    # ---- artifacts (statehouse.artifacts) ----

    def put_artifact(
        self, source: art.ArtifactSource, *, expected_sha256: Optional[str] = None, namespace: Optional[str] = None
    ) -> art.ArtifactInfo:
        """Stores a blob under the SHA-256 of its content and returns its :class:`~statehouse.ArtifactInfo`
        (``deduplicated`` when the namespace held it already: nothing is written).

        Args:
            source: the bytes, a file's path, or a binary file object (read from where it is to its end); streamed in
                chunks of ``statehouse.artifacts.CHUNK_SIZE`` (1 MiB), never read whole into memory.
            expected_sha256: the digest the content must have; a mismatch stores nothing.

        Raises:
            InvalidArgumentError: the content does not hash to ``expected_sha256``, or a malformed digest.
            OSError: the source could not be read (the upload is abandoned; nothing is stored).
        """
        upload = art.Upload(self._ns(namespace), source, expected_sha256)
        try:
            message = self._stub.PutArtifact(upload.chunks(), metadata=self._metadata)
        except grpc.RpcError as failure:
            if upload.error is not None:
                raise upload.error from None
            raise wire.rpc_error(failure, address=self._url) from None
        finally:
            upload.close()
        return upload.checked(message)

    def iter_artifact(self, sha256: str, *, namespace: Optional[str] = None) -> Iterator[bytes]:
        """Yields a blob's content in chunks as they arrive.

        A blob that no longer matches its digest raises :class:`~statehouse.exceptions.DataLossError` (reason
        ``data_corruption``) *after* the last chunk: a caller that keeps chunks must discard them on that error (as
        :meth:`get_artifact` and :meth:`download_artifact` do).

        Raises:
            NotFoundError: the namespace holds no such blob. InvalidArgumentError: a malformed digest.
        """
        return self._iter_artifact(art.get_request(self._ns(namespace), sha256))

    def _iter_artifact(self, request: Any) -> Iterator[bytes]:
        download = art.Download(request.sha256)
        call = self._stub.GetArtifact(request, metadata=self._metadata)
        try:
            for chunk in call:
                yield download.add(chunk.data)
        except grpc.RpcError as failure:
            raise wire.rpc_error(failure, address=self._url) from None
        finally:
            call.cancel()
        download.finish()

    def get_artifact(self, sha256: str, *, namespace: Optional[str] = None) -> bytes:
        """A blob's whole content (see :meth:`download_artifact` for a large one). Raises as :meth:`iter_artifact`."""
        return b"".join(self.iter_artifact(sha256, namespace=namespace))

    def download_artifact(
        self, sha256: str, path: Union[str, os.PathLike[str]], *, namespace: Optional[str] = None
    ) -> int:
        """Streams a blob into a file (created or replaced) and returns its size. On any error (DataLossError for a
        corrupted blob included) the partial file is removed before the error propagates."""
        chunks = self.iter_artifact(sha256, namespace=namespace)
        size = 0
        try:
            with open(path, "wb") as file:
                try:
                    for chunk in chunks:
                        file.write(chunk)
                        size += len(chunk)
                except BaseException:
                    file.close()
                    art.remove_partial(path)
                    raise
        finally:
            chunks.close()  # type: ignore[attr-defined]
        return size

    def stat_artifact(self, sha256: str, *, namespace: Optional[str] = None) -> art.ArtifactInfo:
        """A blob's :class:`~statehouse.ArtifactInfo` (``exists`` False when the namespace holds no such blob)."""
        return self._run(art.stat_artifact(self._ns(namespace), sha256))

    # ---- retention ----

    def set_retention(
        self,
        namespace: Optional[str] = None,
        *,
        keep_versions: int = 0,
        keep_for: Union[int, float, timedelta] = 0,
        use_default: bool = False,
        metadata: MetadataLike = None,
    ) -> lc.RetentionPolicy:
        """Sets the namespace's retention policy (a commit: versioned and in the hash chain) and returns it.

        A version keeps its value while it is its key's latest, or one of its newest ``keep_versions``, or was current
        within the last ``keep_for`` (whole seconds, or a timedelta), or a live snapshot needs it; both 0 keeps
        everything. Compaction (:meth:`compact`, and the daemon's own every compaction interval) removes the other
        values, keeping their events and digests; reading such a version then raises
        :class:`~statehouse.exceptions.FailedPreconditionError`. ``use_default=True`` (with no rules) removes the
        namespace's own policy, so that the daemon's default applies again.
        """
        return self._run(lc.set_retention(self._ns(namespace), keep_versions, keep_for, use_default, metadata))

    def get_retention(self, namespace: Optional[str] = None) -> lc.RetentionPolicy:
        """The retention policy in force for the namespace, and where it comes from (``source``)."""
        return self._run(lc.get_retention(self._ns(namespace)))

    def compact(self, namespace: Optional[str] = None, *, vacuum: bool = False) -> lc.CompactionReport:
        """Compacts the namespace now: removes the values its retention policy no longer keeps, and those of expired
        keys (events, digests and proofs stay). ``vacuum`` also returns the freed pages to the file system (commits
        wait while it runs)."""
        return self._run(lc.compact(self._ns(namespace), vacuum))

    # ---- the log ----

    def replay(
        self,
        agent_id: Optional[str] = None,
        start_ts: Optional[int] = None,
        end_ts: Optional[int] = None,
        namespace: Optional[str] = None,
        *,
        key_prefix: Optional[str] = None,
        from_timestamp: ops.TimeBound = None,
        to_timestamp: ops.TimeBound = None,
    ) -> Iterator[ReplayEvent]:
        """Yields the committed events in commit order, from ``start_ts`` to ``end_ts`` (both inclusive).

        Args:
            agent_id: only that agent's operations, and only the events that have one.
            start_ts: first commit_ts (inclusive); end_ts: last commit_ts (inclusive).
            namespace: default: the client's.
            key_prefix: only operations on keys starting with it.
            from_timestamp: only events committed at or after this time; to_timestamp: at or before it (both
                inclusive). RFC 3339 text (``"2026-02-07T10:00:00Z"``, ``"2026-02-07T12:00:00.5+02:00"``) or a
                datetime (naive: UTC).

        Raises:
            InvalidArgumentError: a bad bound, or a range that ends before it starts, at once (nothing is sent).
        """
        request = ops.replay_request(
            self._ns(namespace), agent_id, start_ts, end_ts, key_prefix, from_timestamp, to_timestamp
        )
        return self._replay(request, agent_id)

    def _replay(self, request: Any, agent_id: Optional[str]) -> Iterator[ReplayEvent]:
        call = self._stub.Replay(request, metadata=self._metadata)
        try:
            for batch in call:
                for event in batch.events:
                    yield wire.replay_event(event, agent_id)
        except grpc.RpcError as failure:
            raise wire.rpc_error(failure, address=self._url) from None
        finally:
            call.cancel()

    def replay_events(
        self,
        agent_id: Optional[str] = None,
        start_ts: Optional[int] = None,
        end_ts: Optional[int] = None,
        namespace: Optional[str] = None,
        *,
        key_prefix: Optional[str] = None,
        from_timestamp: ops.TimeBound = None,
        to_timestamp: ops.TimeBound = None,
    ) -> Iterator[ReplayEvent]:
        """The same as :meth:`replay`."""
        return self.replay(
            agent_id,
            start_ts,
            end_ts,
            namespace,
            key_prefix=key_prefix,
            from_timestamp=from_timestamp,
            to_timestamp=to_timestamp,
        )

    def replay_pretty(
        self,
        agent_id: Optional[str] = None,
        start_ts: Optional[int] = None,
        end_ts: Optional[int] = None,
        namespace: Optional[str] = None,
        verbose: bool = False,
        *,
        key_prefix: Optional[str] = None,
        from_timestamp: ops.TimeBound = None,
        to_timestamp: ops.TimeBound = None,
    ) -> Iterator[str]:
        """Yields one readable line per replayed operation (arguments as in :meth:`replay`)::

            12:31:04Z  agent=research-1  WRITE  key=context               v=3  {"topic":"databases"}

        The time is the commit's (UTC); see :mod:`statehouse.formatting` for the format. ``verbose`` adds
        ``txn=<txn_id>  event=<commit_ts>`` and a second line ``  payload: <the value as JSON>``.
        """
        events = self.replay(
            agent_id,
            start_ts,
            end_ts,
            namespace,
            key_prefix=key_prefix,
            from_timestamp=from_timestamp,
            to_timestamp=to_timestamp,
        )
        return self._pretty(events, verbose)

    @staticmethod
    def _pretty(events: Iterator[ReplayEvent], verbose: bool) -> Iterator[str]:
        try:
            for event in events:
                yield from ops.pretty_lines(event, verbose)
        finally:
            if isinstance(events, Generator):
                events.close()  # stop the replay stream now when the caller stops early

    def watch(
        self,
        agent_id: Optional[str] = None,
        from_ts: Optional[int] = None,
        namespace: Optional[str] = None,
        *,
        reconnect_timeout: float = 60.0,
    ) -> WatchStream:
        """Follows the namespace's log live: yields each event as it commits, for as long as it is iterated.

        Args:
            agent_id: only this agent's operations (and events that have one).
            from_ts: first commit_ts to deliver (earlier history first, then live); default: only new commits.
            reconnect_timeout: seconds to keep reconnecting after the connection is lost.
        """
        return WatchStream(self, self._ns(namespace), agent_id, from_ts, reconnect_timeout)

    def verify(
        self, namespace: Optional[str] = None, *, from_ts: Optional[int] = None, to_ts: Optional[int] = None
    ) -> VerifyResult:
        """Recomputes the namespace's hash chain (all of it by default) and reports the first mismatch."""
        return self._run(ops.verify(self._ns(namespace), from_ts, to_ts))
