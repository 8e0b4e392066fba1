"""The asyncio Statehouse client: :class:`AsyncStatehouse` and :class:`AsyncTransaction`.

Concurrent calls are pipelined over one bidirectional session stream to the daemon (many requests in flight,
each answered as it completes), so hundreds of coroutines share one connection without a round trip each.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta
from typing import Any, AsyncGenerator, AsyncIterator, Dict, Generator, Iterable, List, Optional, Sequence, Tuple, Union

import grpc
import grpc.aio

from . import _config as config
from . import _operations as ops
from . import _policy as policy
from . import _wire as wire
from . import access
from . import artifacts as art
from . import exceptions as errors
from . import lifecycle as lc
from . import provenance as prov
from ._proto import statehouse_pb2 as pb
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

__all__ = ["AsyncStatehouse", "AsyncTransaction", "AsyncTransactionBegin", "AsyncWatchStream"]


class _DaemonTooOld(Exception):
    pass


class _SessionFailed(Exception):
    """The daemon reported an error of the session itself (not of one request): every request fails with it."""

    def __init__(self, failure: errors.StatehouseError) -> None:
        super().__init__(str(failure))
        self.failure = failure


class _Session:
    """One Session stream: requests are tagged with ids and their futures resolved as responses arrive.

    When the stream fails, every request still waiting fails with the stream's error; the client then opens a new
    session for later calls.
    """

    def __init__(
        self, stub: statehouse_pb2_grpc.StatehouseServiceStub, address: str, metadata: Optional[wire.CallMetadata]
    ) -> None:
        self._address = address
        self._queue: asyncio.Queue[Optional[pb.SessionRequest]] = asyncio.Queue()
        self._pending: Dict[int, asyncio.Future[pb.SessionResponse]] = {}
        self._next_id = 0
        self.broken = False
        self._call = stub.Session(self._requests(), metadata=metadata)
        self._reader = asyncio.ensure_future(self._read())

    # Most requests sent in one stream message (see SessionRequest.batch).
    MAX_BATCH = 256

    async def _requests(self) -> AsyncIterator[pb.SessionRequest]:
        """Sends what is queued, all of it in one stream message: one gRPC write per batch, not per request. The
        first message also asks for responses in batches (SessionRequest.batch_responses): reading a message costs
        this client more than its bytes do."""
        first = True
        while True:
            request = await self._queue.get()
            if request is None:
                return
            # Let the coroutines that are ready run first: the requests they queue go out in this same message.
            await asyncio.sleep(0)
            if self._queue.empty():
                if first:
                    request.batch_responses, first = True, False
                yield request
                continue
            items = [request]
            ending = False
            while not self._queue.empty() and len(items) < self.MAX_BATCH:
                queued = self._queue.get_nowait()
                if queued is None:
                    ending = True
                    break
                items.append(queued)
            yield pb.SessionRequest(batch=items, batch_responses=first)
            first = False
            if ending:
                return

    async def _read(self) -> None:
        failure: errors.StatehouseError
        try:
            async for message in self._call:
                # A daemon that batches its responses sends the ready ones in one carrier message.
                for response in message.batch if message.batch else (message,):
                    self._deliver(response)
            failure = errors.UnavailableError(
                f"Statehouse daemon at {self._address}: the session ended", code="UNAVAILABLE"
            )
        except grpc.aio.AioRpcError as error:
            failure = wire.rpc_error(error, address=self._address)
        except _SessionFailed as error:
            self._call.cancel()
            failure = error.failure
        except _DaemonTooOld as error:
            self._call.cancel()
            failure = errors.StatehouseError(
                f"the daemon at {self._address} does not take batched session requests ({error}); it is older "
                "than this SDK: upgrade statehoused, or use AsyncStatehouse(..., pipelined=False)"
            )
        except asyncio.CancelledError:
            failure = errors.UnavailableError(
                f"Statehouse daemon at {self._address}: the client was closed", code="CANCELLED"
            )
        self._fail_all(failure)

    def _deliver(self, response: pb.SessionResponse) -> None:
        """Hands one response to the request waiting for it; raises for an error about the session itself."""
        if response.request_id == 0 and response.WhichOneof("response") == "error":
            # Request ids start at 1: an error for id 0 is about the session itself. A daemon that names reasons reads
            # batches, so its error says what went wrong; from an older daemon, it means that it could not read a batch.
            if response.error.reason:
                raise _SessionFailed(wire.session_error(response.error, address=self._address))
            raise _DaemonTooOld(response.error.message)
        future = self._pending.pop(response.request_id, None)
        if future is not None and not future.done():
            future.set_result(response)

    def _fail_all(self, failure: errors.StatehouseError) -> None:
        self.broken = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(failure)
        self._pending.clear()

    async def request(self, field: str, message: Any, timeout: Optional[float]) -> pb.SessionResponse:
        self._next_id += 1
        request_id = self._next_id
        loop = asyncio.get_running_loop()
        future: asyncio.Future[pb.SessionResponse] = loop.create_future()
        self._pending[request_id] = future
        self._queue.put_nowait(pb.SessionRequest(request_id=request_id, **{field: message}))
        # A timer instead of asyncio.wait_for, which costs a task per call.
        timer = loop.call_later(timeout, self._expire, request_id) if timeout is not None else None
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()

    def _expire(self, request_id: int) -> None:
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.set_exception(
                errors.UnavailableError(
                    f"Statehouse daemon at {self._address}: no reply in time", code="DEADLINE_EXCEEDED"
                )
            )

    async def close(self) -> None:
        self._queue.put_nowait(None)
        self._reader.cancel()
        self._call.cancel()
        try:
            await self._reader
        except asyncio.CancelledError:
            pass
        # A reader cancelled before it ever ran has failed nothing yet.
        self._fail_all(
            errors.UnavailableError(f"Statehouse daemon at {self._address}: the client was closed", code="CANCELLED")
        )


class AsyncTransaction(ops.TransactionBase):
    """An interactive transaction of :class:`AsyncStatehouse`; the same model as :class:`statehouse.Transaction`.

    Begun by :meth:`AsyncStatehouse.begin_transaction`, it costs no round trip to begin: writes and deletes are
    buffered and sent with the commit, reads of keys it has not written are checked at the commit, and the commit is
    the whole transaction in one call. ``async with`` commits when the block ends normally and aborts when it
    raises::

        async with client.begin_transaction() as tx:
            tx.write("agent-1", "plan", ["search"])
    """

    _client: AsyncStatehouse

    def __init__(self, client: AsyncStatehouse, txn_id: str, namespace: str = "default") -> None:
        super().__init__(client, txn_id, namespace)

    @property
    def result(self) -> Optional[CommitResult]:
        """The full commit result once committed, else None."""
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
        """Stages a write (buffered; no round trip), possibly expiring (``ttl=`` or ``expires_at=``). See
        :meth:`statehouse.Transaction.write`."""
        self._buffer.write(agent_id, key, value, expected_version, ttl, expires_at)

    def delete(self, agent_id: str, key: str, *, expected_version: Optional[int] = None) -> None:
        """Stages a delete (buffered; no round trip)."""
        self._buffer.delete(agent_id, key, expected_version)

    async def get(self, agent_id: str, key: str) -> StateResult:
        """Reads a key inside the transaction (its own write, else the latest committed version, checked at the
        commit). See :meth:`statehouse.Transaction.get`."""
        return await self._client._run(self._buffer.get(agent_id, key))

    async def commit(self, metadata: MetadataLike = None) -> int:
        """Commits atomically and returns the commit_ts; a lost reply is retried safely (applied once)."""
        result = await self._client._run(self._buffer.commit(metadata))
        return result.commit_ts

    async def abort(self) -> None:
        """Discards the transaction (nothing is sent for one begun by the client); aborting twice is a no-op."""
        await self._client._run(self._buffer.abort())

    async def __aenter__(self) -> AsyncTransaction:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        await self._client._run(self._buffer.finish(failed=exc_type is not None))

    def __repr__(self) -> str:
        return f"AsyncTransaction(txn_id={self.txn_id!r}, namespace={self.namespace!r}, state={self._buffer.state!r})"


class AsyncTransactionBegin:
    """What :meth:`AsyncStatehouse.begin_transaction` returns: await it for the :class:`AsyncTransaction`, or use
    it directly with ``async with`` (begins on entry; commits when the block ends normally, aborts when it raises)::

        tx = await client.begin_transaction()             # or
        async with client.begin_transaction() as tx:      # (``async with await ...`` works as well)
            tx.write("agent-1", "plan", ["search"])

    The transaction is begun once, however often this is awaited or entered; it is begun on the client (no round
    trip), and its timeout counts from then.
    """

    def __init__(self, client: AsyncStatehouse, namespace: str, timeout_ms: Optional[int]) -> None:
        self._client = client
        self._namespace = namespace
        self._timeout_ms = timeout_ms
        self._transaction: Optional[AsyncTransaction] = None

    async def _begin(self) -> AsyncTransaction:
        if self._transaction is None:  # nothing is awaited in between: begun once even when awaited concurrently
            self._transaction = AsyncTransaction._begun_by_client(self._client, self._namespace, self._timeout_ms)
        return self._transaction

    def __await__(self) -> Generator[Any, None, AsyncTransaction]:
        return self._begin().__await__()

    async def __aenter__(self) -> AsyncTransaction:
        return await (await self._begin()).__aenter__()

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if self._transaction is not None:
            await self._transaction.__aexit__(exc_type, exc, traceback)


class AsyncWatchStream(policy.WatchState):
    """The events of a watch as an async iterator; resumes after a lost connection without gaps or repeats.

    Without ``from_ts`` it delivers the commits after "now": the moment of ``async with`` or, without it, of the
    first ``__anext__``.
    """

    def __init__(
        self,
        client: AsyncStatehouse,
        namespace: str,
        agent_id: Optional[str],
        from_ts: Optional[int],
        reconnect_timeout: float,
    ) -> None:
        super().__init__(namespace, agent_id, from_ts, reconnect_timeout, client.url)
        self._client = client

    def __aiter__(self) -> AsyncWatchStream:
        return self

    async def _pin_start(self) -> None:
        if self.next_ts is None:
            self._pin((await self._client.head(self._namespace)).commit_ts)

    async def __anext__(self) -> ReplayEvent:
        await self._pin_start()
        self._start_waiting()
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            try:
                if self._call is None:
                    stub = await self._client._ensure_stub()
                    self._call = stub.Watch(self._request(), metadata=self._client._metadata)
                batch = await self._call.read()
            except grpc.aio.AioRpcError as failure:
                await asyncio.sleep(self._lost(failure))  # reconnect, or raise the SDK error when it is final
            else:
                if batch is grpc.aio.EOF:
                    await asyncio.sleep(self._lost(None))  # the daemon ended the stream (shutting down): reconnect
                else:
                    self._received(batch)
        return self._deliver()

    async def close(self) -> None:
        """Stops watching."""
        self._stop()

    async def __aenter__(self) -> AsyncWatchStream:
        await self._pin_start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


class AsyncStatehouse(config.ClientBase):
    """An asyncio client of a Statehouse daemon, with the same methods as :class:`statehouse.Statehouse`.

    Create and use it inside a running event loop; close it with ``await client.close()`` or ``async with``::

        async with AsyncStatehouse(url="localhost:50051") as client:
            async with client.begin_transaction() as tx:
                tx.write("agent-1", "memory", {"fact": "..."})
            print((await client.get_state("agent-1", "memory")).value)

    Args:
        url: the daemon's address, ``host:port``; default: $STATEHOUSE_URL, else ``localhost:50051``.
        namespace: the namespace used when a call does not name one; default: $STATEHOUSE_NAMESPACE, else
            ``"default"``.
        timeout: seconds each call may take (streams excepted); None waits forever; default:
            $STATEHOUSE_TIMEOUT, else 60.
        commit_retry_timeout: how long a commit whose reply was lost is retried (it is applied once).
        pipelined: send transaction and read calls over one session stream (default); False uses one unary
            RPC per call.
        metadata: ``(name, value)`` string pairs sent with every call and stream (the session stream included),
            such as ``[("authorization", "Bearer ...")]``; names are lowercase.
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
        pipelined: bool = True,
        metadata: Optional[Sequence[Tuple[str, str]]] = None,
        tls: Optional[config.TLS] = None,
        token: Optional[str] = None,
    ) -> None:
        self._configure(url, namespace, timeout, metadata, commit_retry_timeout, token)
        self._credentials = None if tls is None else tls.credentials()
        self._pipelined = pipelined
        self._channel: Optional[grpc.aio.Channel] = None
        self._stub: Optional[statehouse_pb2_grpc.StatehouseServiceStub] = None
        self._session: Optional[_Session] = None
        self._closed = False

    async def _ensure_stub(self) -> statehouse_pb2_grpc.StatehouseServiceStub:
        if self._closed:
            raise errors.StatehouseError(f"the client of {self._url} is closed")
        if self._stub is None:
            if self._credentials is None:
                self._channel = grpc.aio.insecure_channel(self._url, options=wire.CHANNEL_OPTIONS)
            else:
                self._channel = grpc.aio.secure_channel(self._url, self._credentials, options=wire.CHANNEL_OPTIONS)
            self._stub = statehouse_pb2_grpc.StatehouseServiceStub(self._channel)
        return self._stub

    async def close(self) -> None:
        """Closes the session and the connection; calls still waiting fail, later calls raise StatehouseError."""
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
            self._stub = None

    async def __aenter__(self) -> AsyncStatehouse:
        await self._ensure_stub()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncStatehouse(url={self._url!r}, namespace={self._namespace!r})"

    # ---- running plans ----

    async def _once(self, call: ops.Call, wait_for_ready: bool, timeout: Optional[float]) -> Any:
        """One attempt of a call: over the session when it carries the call, else as a unary RPC."""
        stub = await self._ensure_stub()
        if self._pipelined and call.session_field is not None:
            if self._session is None or self._session.broken:
                self._session = _Session(stub, self._url, self._metadata)
            response = await self._session.request(call.session_field, call.request, timeout)
            kind = response.WhichOneof("response")
            if kind == "error":
                raise wire.session_error(response.error, address=self._url, transactional=call.transactional)
            return getattr(response, ops.SESSION_RESPONSE_FIELD[call.session_field])
        method = getattr(stub, call.method)
        try:
            return await method(call.request, timeout=timeout, wait_for_ready=wait_for_ready, metadata=self._metadata)
        except grpc.aio.AioRpcError as failure:
            raise wire.rpc_error(failure, address=self._url, transactional=call.transactional) from None

    async def _invoke(self, call: ops.Call) -> Any:
        """Makes a call, retried as ``policy.Attempts`` decides."""
        attempts = policy.Attempts(call, self._timeout, self._commit_retry_timeout)
        while True:
            try:
                return await self._once(call, attempts.wait_for_ready, attempts.timeout())
            except errors.StatehouseError as error:
                pause = attempts.pause_after(error)
                if pause is None:
                    raise
            await asyncio.sleep(pause)

    async def _run(self, plan: ops.Plan) -> Any:
        """Runs a plan: makes each call it yields and sends it the reply, or throws the call's error into it."""
        try:
            call = next(plan)
            while True:
                try:
                    response = await self._invoke(call)
                except errors.StatehouseError as error:
                    call = plan.throw(error)
                else:
                    call = plan.send(response)
        except StopIteration as done:
            return done.value

    # ---- health ----

    async def health(self) -> str:
        """Returns ``"ok"`` while the daemon serves; raises ConnectionError (naming the address) when unreachable."""
        return await self._run(ops.health())

    async def version(self) -> Tuple[str, str]:
        """The daemon's ``(version, git_sha)``."""
        return await self._run(ops.version())

    # ---- writes ----

    def begin_transaction(
        self, timeout_ms: Optional[int] = None, namespace: Optional[str] = None
    ) -> AsyncTransactionBegin:
        """Begins an interactive transaction. See :meth:`statehouse.Statehouse.begin_transaction`.

        Await it (``tx = await client.begin_transaction()``) or use it directly as ``async with
        client.begin_transaction() as tx:``, which commits at the end of the block and aborts on an exception.
        """
        return AsyncTransactionBegin(self, self._ns(namespace), timeout_ms)

    async def apply(
        self,
        operations: Iterable[Union[Put, Delete]],
        *,
        conditions: Iterable[Condition] = (),
        idempotency_key: Optional[str] = None,
        metadata: MetadataLike = None,
        namespace: Optional[str] = None,
        events: Sequence[lc.EventDraft] = (),
    ) -> CommitResult:
        """Commits writes and deletes (and records events) atomically in one round trip. See
        :meth:`statehouse.Statehouse.apply`."""
        drafts = [lc.event_draft(event) for event in events]
        return await self._run(
            ops.apply(self._ns(namespace), operations, conditions, idempotency_key, metadata, drafts)
        )

    # ---- reads ----

    async def get_state(
        self,
        agent_id: str,
        key: str,
        namespace: Optional[str] = None,
        *,
        at: Optional[int] = None,
        as_of: Optional[datetime] = None,
        verify: bool = False,
    ) -> StateResult:
        """Reads a key (latest, ``at`` a commit_ts, or ``as_of`` a time); a missing key gives ``exists=False``.

        ``verify=True`` checks the read against the daemon's signed tree head first; see
        :meth:`statehouse.Statehouse.get_state`.
        """
        if verify:
            return await self._run(ops.get_verified_state(self._ns(namespace), agent_id, key, at, as_of, self._ledger))
        return await self._run(ops.get_state(self._ns(namespace), agent_id, key, at, as_of))

    # ---- ledger ----

    async def ledger_key(self) -> LedgerPublicKey:
        """The public key that signs the daemon's tree heads, as the daemon reports it."""
        return await self._run(ops.ledger_key())

    async def tree_head(self, namespace: Optional[str] = None, *, size: Optional[int] = None) -> SignedTreeHead:
        """The namespace's signed Merkle tree head (of its first ``size`` events; the whole log by default)."""
        return await self._run(ops.tree_head(self._ns(namespace), size))

    async def inclusion_proof(
        self, commit_ts: int, namespace: Optional[str] = None, *, tree_size: Optional[int] = None
    ) -> InclusionProof:
        """The proof that the event with ``commit_ts`` is in the tree of ``tree_size`` events (default: the log)."""
        return await self._run(ops.inclusion_proof(self._ns(namespace), commit_ts, tree_size))

    async def consistency_proof(
        self, old_size: int, namespace: Optional[str] = None, *, new_size: Optional[int] = None
    ) -> ConsistencyProof:
        """The proof that the tree of ``new_size`` events (default: the log) extends the tree of ``old_size``."""
        return await self._run(ops.consistency_proof(self._ns(namespace), old_size, new_size))

    async def get_state_at_version(
        self, agent_id: str, key: str, version: int, namespace: Optional[str] = None
    ) -> StateResult:
        """Reads version ``version`` of a key."""
        return await self._run(ops.get_state_at_version(self._ns(namespace), agent_id, key, version))

    async def get_many(
        self,
        keys: Iterable[Tuple[str, str]],
        namespace: Optional[str] = None,
        *,
        at: Optional[int] = None,
        as_of: Optional[datetime] = None,
    ) -> List[StateResult]:
        """Reads many ``(agent_id, key)`` pairs at one consistent point, in one round trip."""
        return await self._run(ops.get_many(self._ns(namespace), keys, at, as_of))

    async def list_keys(
        self, agent_id: str, namespace: Optional[str] = None, *, prefix: str = "", include_deleted: bool = False
    ) -> List[str]:
        """The agent's keys in order, deleted keys left out unless ``include_deleted``."""
        return await self._run(ops.list_keys(self._ns(namespace), agent_id, prefix, include_deleted))

    async def scan_prefix(
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
        """The live keys of an agent starting with ``prefix``, with their values, in byte order: those after the key
        ``start_after`` when given, at most ``limit`` of them."""
        return await self._run(ops.scan_prefix(self._ns(namespace), agent_id, prefix, at, as_of, start_after, limit))

    async def history(
        self, agent_id: str, key: str, namespace: Optional[str] = None, *, limit: Optional[int] = None
    ) -> List[StateResult]:
        """Every version of a key, newest first, deletes included."""
        return await self._run(ops.history(self._ns(namespace), agent_id, key, limit))

    async def list_agents(
        self, namespace: Optional[str] = None, *, status: Optional[str] = None, include_deleted: bool = False
    ) -> List[str]:
        """The agents of the namespace (those that wrote a key or have a record), in order; deleted agents only
        with ``include_deleted``, and only those with ``status`` when given."""
        if status is not None or include_deleted:
            agents = await self._run(lc.list_agent_records(self._ns(namespace), status, include_deleted))
            return [agent.agent_id for agent in agents]
        return await self._run(ops.list_agents(self._ns(namespace)))

    async def list_namespaces(self) -> List[LogHead]:
        """Every namespace with at least one commit, with its log head."""
        return await self._run(ops.list_namespaces())

    async def head(self, namespace: Optional[str] = None) -> LogHead:
        """The namespace's last commit_ts (0 when empty) and hash."""
        return await self._run(ops.head(self._ns(namespace)))

    # ---- the agent lifecycle (statehouse.lifecycle) ----

    async def get_agent(self, agent_id: str, namespace: Optional[str] = None) -> AgentInfo:
        """An agent's record: display name, status, metadata, key and version counts, first and last write."""
        return await self._run(lc.get_agent(self._ns(namespace), agent_id))

    async def list_agent_records(
        self, namespace: Optional[str] = None, *, status: Optional[str] = None, include_deleted: bool = False
    ) -> List[AgentInfo]:
        """The agents with their records, sorted by id; only those with ``status`` when given."""
        return await self._run(lc.list_agent_records(self._ns(namespace), status, include_deleted))

    async def update_agent(
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
        return await self._run(
            lc.update_agent(self._ns(namespace), agent_id, display_name, status, metadata, commit_metadata)
        )

    async def update_agent_status(self, agent_id: str, status: str, namespace: Optional[str] = None) -> AgentInfo:
        """Sets an agent's status (free text such as active, paused, done)."""
        return await self.update_agent(agent_id, status=status, namespace=namespace)

    async def delete_agent(
        self, agent_id: str, namespace: Optional[str] = None, *, metadata: MetadataLike = None
    ) -> CommitResult:
        """Tombstones every key of the agent in one commit (history kept); it is no longer listed.

        Raises ConflictError (nothing deleted) when the agent is written while the delete reads it."""
        return await self._run(lc.delete_agent(self._ns(namespace), agent_id, metadata))

    async def create_snapshot(
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
        return await self._run(
            lc.create_snapshot(self._ns(namespace), name, agent_id, description, metadata, expires, at)
        )

    async def get_snapshot(self, name: str, namespace: Optional[str] = None) -> Snapshot:
        """A snapshot by name (NotFoundError when there is none or it expired)."""
        return await self._run(lc.get_snapshot(self._ns(namespace), name))

    async def list_snapshots(
        self, namespace: Optional[str] = None, *, agent_id: Optional[str] = None
    ) -> List[Snapshot]:
        """Snapshots sorted by name, expired ones left out; only one agent's when ``agent_id`` is given."""
        return await self._run(lc.list_snapshots(self._ns(namespace), agent_id))

    async def delete_snapshot(self, name: str, namespace: Optional[str] = None) -> CommitResult:
        """Deletes a snapshot (the log keeps that it existed)."""
        return await self._run(lc.delete_snapshot(self._ns(namespace), name))

    async def restore_snapshot(
        self, name: str, namespace: Optional[str] = None, *, force: bool = False, metadata: MetadataLike = None
    ) -> StateCopy:
        """Makes the current state equal to the snapshot's in one new commit (history kept).

        Raises ConflictError (nothing written) when the agent changes while the restore runs, unless ``force``."""
        return await self._run(lc.restore_snapshot(self._ns(namespace), name, force, metadata))

    async def fork(
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
        return await self._run(
            lc.fork(self._ns(namespace), agent_id, target_agent_id, at, target_namespace, overwrite, metadata)
        )

    async def diff(
        self, agent_id: str, from_point: lc.Point, to_point: lc.Point = None, namespace: Optional[str] = None
    ) -> StateDiff:
        """The keys added, removed and changed (with a JSON Patch) between two points of an agent's state."""
        return await self._run(lc.diff(self._ns(namespace), agent_id, from_point, to_point))

    async def record_event(
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
        return (await self._run(lc.record_events(self._ns(namespace), [draft], None)))[0]

    async def record_events(
        self, events: Sequence[lc.EventDraft], namespace: Optional[str] = None, *, metadata: MetadataLike = None
    ) -> List[lc.AgentEvent]:
        """Records events in one commit; returns them with their ids."""
        return await self._run(lc.record_events(self._ns(namespace), list(events), metadata))

    async def get_events(
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
        return await self._run(
            lc.get_events(self._ns(namespace), agent_id, session_id, type, actor, since, until, limit)
        )

    async def get_events_by_type(
        self, type: str, *, limit: Optional[int] = None, namespace: Optional[str] = None
    ) -> List[lc.AgentEvent]:
        """Recorded events of one type (StateStore's ``get_events_by_type``)."""
        return await self.get_events(type=type, limit=limit, namespace=namespace)

    async def get_event(self, event_id: str, namespace: Optional[str] = None) -> lc.AgentEvent:
        """One recorded event by id (NotFoundError when there is none)."""
        return await self._run(lc.get_event(self._ns(namespace), event_id))

    async def start_session(
        self,
        agent_id: str,
        *,
        session_id: Optional[str] = None,
        metadata: Any = None,
        namespace: Optional[str] = None,
    ) -> lc.Session:
        """Starts a session of an agent (status ``active``); the daemon makes the id unless you give one."""
        return await self._run(lc.start_session(self._ns(namespace), agent_id, session_id, metadata))

    async def end_session(self, session_id: str, status: str = "ended", namespace: Optional[str] = None) -> lc.Session:
        """Ends a session with a status (InvalidArgumentError if it already ended)."""
        return await self._run(lc.end_session(self._ns(namespace), session_id, status))

    async def get_session(self, session_id: str, namespace: Optional[str] = None) -> lc.Session:
        return await self._run(lc.get_session(self._ns(namespace), session_id))

    async def list_sessions(
        self, namespace: Optional[str] = None, *, agent_id: Optional[str] = None, status: Optional[str] = None
    ) -> List[lc.Session]:
        """Sessions in id order (time order for ids the daemon made), narrowed to an agent or a status."""
        return await self._run(lc.list_sessions(self._ns(namespace), agent_id, status))

    async def create_task(
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
        return await self._run(
            lc.create_task(self._ns(namespace), title, description, status, assigned_to, metadata, task_id)
        )

    async def update_task(
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
        return await self._run(
            lc.update_task(self._ns(namespace), task_id, title, description, status, assigned_to, metadata)
        )

    async def get_task(self, task_id: str, namespace: Optional[str] = None) -> lc.Task:
        return await self._run(lc.get_task(self._ns(namespace), task_id))

    async def list_tasks(
        self, namespace: Optional[str] = None, *, status: Optional[str] = None, assigned_to: Optional[str] = None
    ) -> List[lc.Task]:
        """Tasks in id order, narrowed to a status or an assignee."""
        return await self._run(lc.list_tasks(self._ns(namespace), status, assigned_to))

    async def search(
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
        return await self._run(
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

    async def search_events(
        self, query: str, *, limit: int = 20, namespace: Optional[str] = None, **filters: Any
    ) -> List[lc.SearchHit]:
        """Full-text search over agent events only (StateStore's ``search_events``)."""
        return await self.search(query, kinds=["event"], limit=limit, namespace=namespace, **filters)

    async def transitions(
        self, agent_id: str, key: str, namespace: Optional[str] = None, *, limit: Optional[int] = None
    ) -> List[lc.Transition]:
        """Every change of a key, newest first, with the value before and after and the commit's actor and reason
        (StateStore's transitions view)."""
        return await self._run(lc.transitions(self._ns(namespace), agent_id, key, limit))

    async def backup(self, destination: str) -> lc.BackupReport:
        """Copies the daemon's store, consistently and while it serves, into ``destination``: a new or empty directory
        on the daemon's machine (absolute path). Start a daemon with ``--data-dir destination`` to serve the copy."""
        return await self._run(lc.backup(destination))

    # ---- access control (statehouse.access) ----

    async def whoami(self) -> access.Principal:
        """Who the daemon takes this client for: its token's id, name and grants, and whether the daemon requires a
        token at all (``auth_required``)."""
        return await self._run(access.whoami())

    async def create_token(
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
        return await self._run(access.create_token(name, grants, expires_at, certificate_subject))

    async def list_tokens(self, *, include_revoked: bool = False) -> List[access.AccessToken]:
        """The tokens this client's token administers (never their secrets); revoked ones with ``include_revoked``."""
        return await self._run(access.list_tokens(include_revoked))

    async def revoke_token(self, token_id: str) -> access.AccessToken:
        """Revokes a token by its id (``tok_…``): from now on it authenticates nothing, and its open watches end.
        Returns it as revoked."""
        return await self._run(access.revoke_token(token_id))

    # ---- provenance (statehouse.provenance) ----

    async def record_provenance(
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
        return await self._run(prov.record_provenance(self._ns(namespace), agent_id, records, run_id))

    async def get_provenance(self, kind: str, id: str, namespace: Optional[str] = None) -> prov.ProvenanceRecord:
        """One provenance record by kind and id (NotFoundError when there is none)."""
        return await self._run(prov.get_provenance(self._ns(namespace), kind, id))

    async def list_provenance(
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
        return await self._run(prov.list_provenance(self._ns(namespace), agent_id, kind, run_id, limit, cursor))

    async def provenance_at(
        self, agent_id: str, at: lc.Point = None, namespace: Optional[str] = None, *, verify: bool = False
    ) -> prov.ProvenanceInEffect:
        """The provenance in effect for an agent at a point. See :meth:`statehouse.Statehouse.provenance_at`
        (``verify=True`` checks each record and the run against the signed tree head)."""
        if verify:
            return await self._run(prov.verified_provenance_at(self._ns(namespace), agent_id, at, self._ledger))
        return await self._run(prov.provenance_at(self._ns(namespace), agent_id, at))

    async def start_run(
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
        return await self._run(prov.start_run(self._ns(namespace), agent_id, provenance, id, metadata))

    async def end_run(self, run_id: str, status: str = "succeeded", namespace: Optional[str] = None) -> prov.AgentRun:
        """Ends a run with a status (InvalidArgumentError if it already ended)."""
        return await self._run(prov.end_run(self._ns(namespace), run_id, status))

    async def get_run(self, run_id: str, commit_limit: int = 1000, namespace: Optional[str] = None) -> prov.RunDetails:
        """A run with its provenance records and the commits it made (at most ``commit_limit``, oldest first)."""
        return await self._run(prov.get_run(self._ns(namespace), run_id, commit_limit))

    async def advise(
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
        return await self._run(prov.advise(self._ns(namespace), agent_id, from_, to, from_run, to_run))

    async def replay_plan(self, run_id: str, namespace: Optional[str] = None) -> prov.ReplayPlan:
        """The ordered, per-source plan to replay the mutations recorded with a run, with what would make a replay
        wrong (duplicates, gaps, mixed namespaces, config mismatches) as findings."""
        return await self._run(prov.replay_plan(self._ns(namespace), run_id))

    def run(
        self,
        agent_id: str,
        provenance: Union[prov.ProvenanceDraft, Iterable[prov.ProvenanceDraft]] = (),
        id: Optional[str] = None,
        metadata: Any = None,
        namespace: Optional[str] = None,
    ) -> prov.AsyncRunContext:
        """A run as an async context manager (see :meth:`statehouse.Statehouse.run`): ``async with`` starts it and
        gives an :class:`~statehouse.AsyncRunHandle`; it ends ``succeeded``, or ``failed`` when the block raises::

            async with client.run("planner", [ProvenanceDraft("environment", capture_env())]) as run:
                await run.apply([Put("planner", "plan", {"step": 1})])
        """
        return prov.AsyncRunContext(self, self._ns(namespace), agent_id, provenance, id, metadata)

    # ---- artifacts (statehouse.artifacts) ----

    async def capture_config(
        self, *files: Union[str, os.PathLike[str]], store: bool = True, namespace: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Config payloads with each file's content stored as an artifact. See
        :meth:`statehouse.Statehouse.capture_config`."""
        payloads = prov.capture_config(*files)
        if store:
            for file, payload in zip(files, payloads):
                await self.put_artifact(file, expected_sha256=payload["sha256"], namespace=namespace)
                payload["artifact"] = payload["sha256"]
        return payloads

    async def put_artifact(
        self, source: art.ArtifactSource, *, expected_sha256: Optional[str] = None, namespace: Optional[str] = None
    ) -> art.ArtifactInfo:
        """Stores a blob under the SHA-256 of its content. See :meth:`statehouse.Statehouse.put_artifact`; the source
        is read a chunk at a time in a worker thread, so the event loop never waits on the disk."""
        upload = art.Upload(self._ns(namespace), source, expected_sha256)
        try:
            stub = await self._ensure_stub()
            call = stub.PutArtifact(metadata=self._metadata)
            loop = asyncio.get_running_loop()
            try:
                while True:
                    try:
                        message = await loop.run_in_executor(None, upload.read)
                    except BaseException:
                        call.cancel()
                        raise
                    if message is None:
                        break
                    await call.write(message)
                await call.done_writing()
                response = await call
            except grpc.aio.AioRpcError as failure:
                raise wire.rpc_error(failure, address=self._url) from None
        finally:
            upload.close()
        return upload.checked(response)

    def iter_artifact(self, sha256: str, *, namespace: Optional[str] = None) -> AsyncIterator[bytes]:
        """Yields a blob's content in chunks as they arrive (``async for``). A blob that no longer matches its digest
        raises DataLossError *after* the last chunk: discard what was received. See
        :meth:`statehouse.Statehouse.iter_artifact`."""
        return self._iter_artifact(art.get_request(self._ns(namespace), sha256))

    async def _iter_artifact(self, request: Any) -> AsyncGenerator[bytes, None]:
        download = art.Download(request.sha256)
        stub = await self._ensure_stub()
        call = stub.GetArtifact(request, metadata=self._metadata)
        try:
            async for chunk in call:
                yield download.add(chunk.data)
        except grpc.aio.AioRpcError as failure:
            raise wire.rpc_error(failure, address=self._url) from None
        finally:
            call.cancel()
        download.finish()

    async def get_artifact(self, sha256: str, *, namespace: Optional[str] = None) -> bytes:
        """A blob's whole content. See :meth:`statehouse.Statehouse.get_artifact`."""
        return b"".join([chunk async for chunk in self.iter_artifact(sha256, namespace=namespace)])

    async def download_artifact(
        self, sha256: str, path: Union[str, os.PathLike[str]], *, namespace: Optional[str] = None
    ) -> int:
        """Streams a blob into a file and returns its size; on any error the partial file is removed. See
        :meth:`statehouse.Statehouse.download_artifact`."""
        chunks = self._iter_artifact(art.get_request(self._ns(namespace), sha256))
        loop = asyncio.get_running_loop()
        size = 0
        try:
            with open(path, "wb") as file:
                try:
                    async for chunk in chunks:
                        await loop.run_in_executor(None, file.write, chunk)
                        size += len(chunk)
                except BaseException:
                    file.close()
                    art.remove_partial(path)
                    raise
        finally:
            await chunks.aclose()
        return size

    async def stat_artifact(self, sha256: str, *, namespace: Optional[str] = None) -> art.ArtifactInfo:
        """A blob's :class:`~statehouse.ArtifactInfo` (``exists`` False when the namespace holds no such blob)."""
        return await self._run(art.stat_artifact(self._ns(namespace), sha256))

    # ---- retention ----

    async def set_retention(
        self,
        namespace: Optional[str] = None,
        *,
        keep_versions: int = 0,
        keep_for: Union[int, float, timedelta] = 0,
        use_default: bool = False,
        metadata: MetadataLike = None,
    ) -> lc.RetentionPolicy:
        """Sets the namespace's retention policy. See :meth:`statehouse.Statehouse.set_retention`."""
        return await self._run(lc.set_retention(self._ns(namespace), keep_versions, keep_for, use_default, metadata))

    async def get_retention(self, namespace: Optional[str] = None) -> lc.RetentionPolicy:
        """The retention policy in force for the namespace, and where it comes from (``source``)."""
        return await self._run(lc.get_retention(self._ns(namespace)))

    async def compact(self, namespace: Optional[str] = None, *, vacuum: bool = False) -> lc.CompactionReport:
        """Compacts the namespace now. See :meth:`statehouse.Statehouse.compact`."""
        return await self._run(lc.compact(self._ns(namespace), vacuum))

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
    ) -> AsyncIterator[ReplayEvent]:
        """Yields the committed events in commit order (``async for``); the ranges are inclusive. Arguments as in
        :meth:`statehouse.Statehouse.replay`; a bad one raises InvalidArgumentError at once."""
        request = ops.replay_request(
            self._ns(namespace), agent_id, start_ts, end_ts, key_prefix, from_timestamp, to_timestamp
        )
        return self._replay(request, agent_id)

    async def _replay(self, request: Any, agent_id: Optional[str]) -> AsyncGenerator[ReplayEvent, None]:
        stub = await self._ensure_stub()
        call = stub.Replay(request, metadata=self._metadata)
        try:
            async for batch in call:
                for event in batch.events:
                    yield wire.replay_event(event, agent_id)
        except grpc.aio.AioRpcError as failure:
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
    ) -> AsyncIterator[ReplayEvent]:
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
    ) -> AsyncIterator[str]:
        """One readable line per replayed operation (``async for``). See :meth:`statehouse.Statehouse.replay_pretty`."""
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
    async def _pretty(events: AsyncIterator[ReplayEvent], verbose: bool) -> AsyncGenerator[str, None]:
        try:
            async for event in events:
                for line in ops.pretty_lines(event, verbose):
                    yield line
        finally:
            if isinstance(events, AsyncGenerator):
                await events.aclose()  # stop the replay stream now when the caller stops early

    def watch(
        self,
        agent_id: Optional[str] = None,
        from_ts: Optional[int] = None,
        namespace: Optional[str] = None,
        *,
        reconnect_timeout: float = 60.0,
    ) -> AsyncWatchStream:
        """Follows the log live (``async for event in client.watch(...)``). See :meth:`statehouse.Statehouse.watch`."""
        return AsyncWatchStream(self, self._ns(namespace), agent_id, from_ts, reconnect_timeout)

    async def verify(
        self, namespace: Optional[str] = None, *, from_ts: Optional[int] = None, to_ts: Optional[int] = None
    ) -> VerifyResult:
        """Recomputes the namespace's hash chain and reports the first mismatch."""
        return await self._run(ops.verify(self._ns(namespace), from_ts, to_ts))
