"""Unary calls answered straight from their HTTP/2 frames (the default, `grpc-direct-unary`) and through grpc-swift
(`--grpc-direct-unary false`) must look the same to a client: two daemons, the same calls in the same order, and
every answer compared: status code, message, trailing metadata and the response, volatile fields (transaction ids,
times, hashes) aside. The calls cover successes, engine errors with their facts, requests grpc-swift must still
answer (compression, an unknown method, bytes that do not decode), deadlines, tokens, and the per-method metrics."""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import grpc
from google.protobuf.json_format import MessageToDict

from daemon import Daemon
from http_client import HTTP
from statehouse._proto import statehouse_pb2 as pb
from test_metrics import scrape

V2 = "/statehouse.v2.StatehouseService/"
V1 = "/statehouse.v1.StatehouseService/"
# Fields that differ between two daemons doing the same thing: ids, clocks, what hashes them and each daemon's key.
VOLATILE_FIELDS = {"txn_id", "git_sha", "signature", "key_id", "public_key", "proof", "audit_path"}
VOLATILE_SUFFIXES = ("hash", "hashes", "_micros")
TXN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TXN_ID_BYTES = re.compile(TXN_ID.pattern.encode())
# Each daemon makes its own admin token: its id shows in WhoAmI and in the principal tag of commit metadata.
TOKEN_ID = re.compile(r"tok_[0-9a-f]+")

Outcome = Tuple[str, str, Tuple[Tuple[str, Any], ...], Any]


def normalized(message: Any) -> Any:
    """The message as nested dicts of its set fields, volatile ones dropped."""

    def without_volatile(item: Any) -> Any:
        if isinstance(item, dict):
            return {
                key: without_volatile(value)
                for key, value in item.items()
                if key not in VOLATILE_FIELDS and not key.endswith(VOLATILE_SUFFIXES)
            }
        if isinstance(item, list):
            return [without_volatile(value) for value in item]
        if isinstance(item, str):
            return TOKEN_ID.sub("<token>", item)
        return item

    return without_volatile(MessageToDict(message, preserving_proto_field_name=True))


class Caller:
    """Raw unary calls to one daemon, each answer reduced to an Outcome."""

    def __init__(self, daemon: Daemon) -> None:
        self.channel = grpc.insecure_channel(daemon.url)

    def close(self) -> None:
        self.channel.close()

    def call(
        self,
        path: str,
        request: bytes,
        response_type: Any = None,
        metadata: Sequence[Tuple[str, str]] = (),
        timeout: Optional[float] = 30,
        compression: Optional[grpc.Compression] = None,
    ) -> Tuple[Outcome, Any]:
        method = self.channel.unary_unary(path, request_serializer=None, response_deserializer=None)
        try:
            reply, call = method.with_call(request, metadata=metadata, timeout=timeout, compression=compression)
        except grpc.RpcError as error:
            trailers = tuple(
                sorted((key, item) for key, item in (error.trailing_metadata() or ()) if key.startswith("statehouse-"))
            )
            details = TXN_ID.sub("<txn>", error.details() or "")
            return (error.code().name, details, trailers, None), None
        message = response_type.FromString(reply) if response_type is not None else reply
        shown = normalized(message) if response_type is not None else TXN_ID_BYTES.sub(b"<txn>", reply)
        return ("OK", "", (), shown), message


def run_calls(caller: Caller, token: Optional[str] = None) -> List[Outcome]:
    """The same sequence against one daemon: writes, reads, transactions of both APIs, errors."""
    auth = [("authorization", f"Bearer {token}")] if token else []
    outcomes: List[Outcome] = []

    def call(path: str, request: Any, response_type: Any = None, **options: Any) -> Any:
        options.setdefault("metadata", auth)
        raw = request if isinstance(request, bytes) else request.SerializeToString()
        outcome, message = caller.call(path, raw, response_type, **options)
        outcomes.append(outcome)
        return message

    def put(key: str, value: bytes) -> pb.Operation:
        return pb.Operation(agent_id="a", key=key, kind=pb.OPERATION_KIND_PUT, value=value)

    call(V2 + "Health", pb.HealthRequest(), pb.HealthResponse)
    call(V2 + "Version", pb.VersionRequest(), pb.VersionResponse)
    call(V2 + "Apply", pb.ApplyRequest(namespace="d", operations=[put("k", b'{"n":1}')]), pb.CommitResponse)
    call(
        V2 + "Apply",
        pb.ApplyRequest(namespace="d", operations=[put("k", b'{"n":2}'), put("j", b"[1,2]")]),
        pb.CommitResponse,
    )
    call(V2 + "GetState", pb.GetStateRequest(namespace="d", agent_id="a", key="k"), pb.GetStateResponse)
    call(V2 + "GetState", pb.GetStateRequest(namespace="d", agent_id="a", key="missing"), pb.GetStateResponse)
    call(
        V2 + "GetStateAtVersion",
        pb.GetStateAtVersionRequest(namespace="d", agent_id="a", key="k", version=9),
        pb.GetStateResponse,
    )
    call(
        V2 + "GetMany",
        pb.GetManyRequest(namespace="d", keys=[pb.KeyAddress(agent_id="a", key="j")]),
        pb.GetManyResponse,
    )
    call(V2 + "ListKeys", pb.ListKeysRequest(namespace="d", agent_id="a"), pb.ListKeysResponse)
    # A conflict: its facts travel in the trailers.
    stale = pb.Condition(agent_id="a", key="k", version=1)
    call(
        V2 + "Apply", pb.ApplyRequest(namespace="d", operations=[put("k", b"3")], conditions=[stale]), pb.CommitResponse
    )
    # Invalid arguments: a value that is not JSON, a namespace that is not a name.
    call(V2 + "Apply", pb.ApplyRequest(namespace="d", operations=[put("k", b"{not json")]), pb.CommitResponse)
    call(V2 + "GetState", pb.GetStateRequest(namespace="bad name!", agent_id="a", key="k"), pb.GetStateResponse)
    # History, the log and its proofs, agent records, events, sessions, tasks, search and the caller.
    call(
        V2 + "History", pb.HistoryRequest(namespace="d", agent_id="a", key="k", with_metadata=True), pb.HistoryResponse
    )
    call(V2 + "ListAgents", pb.ListAgentsRequest(namespace="d"), pb.ListAgentsResponse)
    call(V2 + "ListNamespaces", pb.ListNamespacesRequest(), pb.ListNamespacesResponse)
    call(V2 + "GetHead", pb.GetHeadRequest(namespace="d"), pb.LogHead)
    call(V2 + "ReadLog", pb.ReadLogRequest(filter=pb.LogFilter(namespace="d"), limit=10), pb.ReadLogResponse)
    call(V2 + "GetTreeHead", pb.GetTreeHeadRequest(namespace="d"), pb.SignedTreeHead)
    proof = pb.GetInclusionProofRequest(namespace="d", commit_ts=1, tree_size=2)
    call(V2 + "GetInclusionProof", proof, pb.InclusionProof)
    call(V2 + "GetInclusionProof", pb.GetInclusionProofRequest(namespace="d", commit_ts=99), pb.InclusionProof)
    consistency = pb.GetConsistencyProofRequest(namespace="d", old_size=1, new_size=2)
    call(V2 + "GetConsistencyProof", consistency, pb.ConsistencyProof)
    call(V2 + "GetVerifiedState", pb.GetVerifiedStateRequest(namespace="d", agent_id="a", key="k"), pb.VerifiedState)
    call(V2 + "GetAgent", pb.GetAgentRequest(namespace="d", agent_id="a"), pb.AgentRecord)
    call(V2 + "ListAgentRecords", pb.ListAgentRecordsRequest(namespace="d"), pb.ListAgentRecordsResponse)
    event_id = "01890a5d-ac96-774b-bcce-b302099a8057"  # chosen by the recorder, so the same on both daemons
    note = pb.AgentEventDraft(
        id=event_id, agent_id="a", type="note", session_id="s1", content=b'{"text":"hello world"}'
    )
    call(V2 + "RecordEvents", pb.RecordEventsRequest(namespace="d", events=[note]), pb.RecordEventsResponse)
    untyped = pb.AgentEventDraft(agent_id="a", content=b"{}")
    call(V2 + "RecordEvents", pb.RecordEventsRequest(namespace="d", events=[untyped]), pb.RecordEventsResponse)
    by_session = pb.GetEventsRequest(namespace="d", filter=pb.AgentEventFilter(session_id="s1"))
    call(V2 + "GetEvents", by_session, pb.GetEventsResponse)
    call(V2 + "GetEvent", pb.GetEventRequest(namespace="d", id=event_id), pb.AgentEvent)
    call(V2 + "Search", pb.SearchRequest(namespace="d", query="hello"), pb.SearchResponse)
    call(V2 + "Search", pb.SearchRequest(namespace="d", query='"unterminated'), pb.SearchResponse)
    call(V2 + "GetSession", pb.GetSessionRequest(namespace="d", id="none"), pb.AgentSession)
    call(V2 + "ListSessions", pb.ListSessionsRequest(namespace="d"), pb.ListSessionsResponse)
    call(V2 + "GetTask", pb.GetTaskRequest(namespace="d", id="none"), pb.AgentTask)
    call(V2 + "ListTasks", pb.ListTasksRequest(namespace="d"), pb.ListTasksResponse)
    call(V2 + "WhoAmI", pb.WhoAmIRequest(), pb.WhoAmIResponse)
    # The interactive transaction of the v2 API.
    begun = call(V2 + "BeginTransaction", pb.BeginTransactionRequest(namespace="d"), pb.BeginTransactionResponse)
    txn = begun.txn_id if begun is not None else ""
    call(V2 + "Write", pb.WriteRequest(txn_id=txn, agent_id="a", key="t", value=b'"x"'), pb.WriteResponse)
    call(V2 + "TransactionGet", pb.TransactionGetRequest(txn_id=txn, agent_id="a", key="t"), pb.GetStateResponse)
    call(V2 + "Commit", pb.CommitRequest(txn_id=txn), pb.CommitResponse)
    call(V2 + "Commit", pb.CommitRequest(txn_id="no-such-transaction"), pb.CommitResponse)
    call(V2 + "Abort", pb.AbortRequest(txn_id="no-such-transaction"), pb.AbortResponse)
    # The original API, by its wire bytes: BeginTransaction{}, Write{txn, ns, agent, key, Struct{}}, Commit{txn}.
    v1_begun = call(V1 + "BeginTransaction", b"")
    v1_txn = v1_begun[2:] if v1_begun else b""
    field = lambda number, data: bytes([number << 3 | 2, len(data)]) + data  # noqa: E731
    call(V1 + "Write", field(1, v1_txn) + field(2, b"d") + field(3, b"a") + field(4, b"v1") + field(5, b""))
    call(V1 + "Commit", field(1, v1_txn))
    call(V1 + "GetState", field(1, b"d") + field(2, b"a") + field(3, b"v1"))
    call(V1 + "Commit", field(1, v1_txn))  # already committed: FAILED_PRECONDITION
    # What grpc-swift answers on either daemon: bytes that do not decode, an unknown method, compression.
    call(V2 + "GetState", b"\xff\xff\xff", pb.GetStateResponse)
    call(V2 + "NoSuchMethod", b"")
    call(
        V2 + "GetState",
        pb.GetStateRequest(namespace="d", agent_id="a", key="k"),
        pb.GetStateResponse,
        compression=grpc.Compression.Gzip,
    )
    # Deadlines, short and long, on a read that finishes in time.
    call(V2 + "GetState", pb.GetStateRequest(namespace="d", agent_id="a", key="j"), pb.GetStateResponse, timeout=5)
    call(V2 + "GetState", pb.GetStateRequest(namespace="d", agent_id="a", key="j"), pb.GetStateResponse, timeout=None)
    return outcomes


def rpc_counts(daemon: Daemon) -> Dict[Any, float]:
    """The daemon's per-method call and error counters."""
    http = HTTP(daemon.http_url)
    http.wait_ready()
    return {
        sample: count
        for sample, count in scrape(http).items()
        if sample[0] in ("statehouse_rpc_duration_seconds_count", "statehouse_rpc_errors_total")
    }


def compare(make_daemon: Callable[..., Daemon], *args: str, token_of: Callable[[Daemon], Optional[str]]) -> None:
    direct = make_daemon(*args)
    through_grpc_swift = make_daemon(*args, "--grpc-direct-unary", "false")
    answers = []
    for daemon in (direct, through_grpc_swift):
        caller = Caller(daemon)
        try:
            answers.append(run_calls(caller, token_of(daemon)))
        finally:
            caller.close()
    direct_answers, grpc_swift_answers = answers
    assert len(direct_answers) == len(grpc_swift_answers)
    for index, (ours, theirs) in enumerate(zip(direct_answers, grpc_swift_answers)):
        assert ours == theirs, f"call {index}"
    # The sequence met every kind of answer it means to compare.
    codes = {outcome[0] for outcome in direct_answers}
    assert {"OK", "NOT_FOUND", "ABORTED", "INVALID_ARGUMENT", "FAILED_PRECONDITION", "UNIMPLEMENTED"} <= codes
    # The same calls and errors by method in /metrics.
    direct_counts = rpc_counts(direct)
    assert direct_counts == rpc_counts(through_grpc_swift)
    assert direct_counts[("statehouse_rpc_errors_total", (("code", "ABORTED"), ("method", "Apply")))] == 1


def test_direct_and_grpc_swift_answers_agree(make_daemon: Callable[..., Daemon]) -> None:
    compare(make_daemon, token_of=lambda daemon: None)


def test_agree_with_auth_on(make_daemon: Callable[..., Daemon]) -> None:
    compare(
        make_daemon,
        "--auth",
        "required",
        token_of=lambda daemon: (daemon.data_dir / "admin.token").read_text().strip(),
    )


def refusals(daemon: Daemon) -> List[Outcome]:
    """Calls without a valid token on a daemon with auth on, and Health, which needs none."""
    caller = Caller(daemon)
    outcomes: List[Outcome] = []
    try:
        request = pb.GetStateRequest(namespace="d", agent_id="a", key="k").SerializeToString()
        for metadata in ((), (("authorization", "Bearer not-a-token"),), (("authorization", "Basic eDp5"),)):
            outcome, _ = caller.call(V2 + "GetState", request, pb.GetStateResponse, metadata=metadata)
            assert outcome[0] == "UNAUTHENTICATED", metadata
            assert ("statehouse-error", "unauthenticated") in outcome[2]
            outcomes.append(outcome)
        outcome, _ = caller.call(V1 + "BeginTransaction", b"")
        assert outcome[0] == "UNAUTHENTICATED"
        outcomes.append(outcome)
        for path, message in ((V2 + "WhoAmI", pb.WhoAmIRequest()), (V2 + "Search", pb.SearchRequest(query="x"))):
            outcome, _ = caller.call(path, message.SerializeToString())
            assert outcome[0] == "UNAUTHENTICATED", path
            outcomes.append(outcome)
        outcome, _ = caller.call(V2 + "Health", pb.HealthRequest().SerializeToString(), pb.HealthResponse)
        assert outcome[0] == "OK"
        outcomes.append(outcome)
    finally:
        caller.close()
    return outcomes


def test_refusals_without_a_valid_token_agree(make_daemon: Callable[..., Daemon]) -> None:
    direct = make_daemon("--auth", "required")
    through_grpc_swift = make_daemon("--auth", "required", "--grpc-direct-unary", "false")
    assert refusals(direct) == refusals(through_grpc_swift)
    # A call refused before its handler is not timed (the access interceptor runs before the metrics one).
    assert rpc_counts(direct) == rpc_counts(through_grpc_swift)
