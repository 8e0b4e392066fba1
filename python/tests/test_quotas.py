"""The daemon's quotas against a real daemon with ``--auth required``: commits and bytes per second (a token bucket per
token), stored bytes per namespace, open transactions and open watches per token. A refusal is RESOURCE_EXHAUSTED with
``statehouse-error: quota_exceeded`` and ``retry-after`` / ``statehouse-retry-after-ms`` over gRPC, 429 with
``Retry-After`` and ``retry_after_ms`` over HTTP, and applies nothing; other tokens go on."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import grpc
import pytest

from daemon import Daemon
from http_client import HTTP, Reply, key_path
from statehouse import AsyncStatehouse, Delete, Put, ResourceExhaustedError, Statehouse
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc


def bearer(token: str) -> List[Tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def put(agent: str, key: str, value: bytes = b"1") -> pb.Operation:
    return pb.Operation(agent_id=agent, key=key, kind=pb.OPERATION_KIND_PUT, value=value)


def trailers(failure: grpc.RpcError) -> Dict[str, str]:
    return dict(failure.trailing_metadata() or ())


def assert_quota_refusal(failure: grpc.RpcError) -> None:
    assert failure.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, failure.details()
    facts = trailers(failure)
    assert facts["statehouse-error"] == "quota_exceeded"
    assert facts["retry-after"].isdigit() and int(facts["retry-after"]) >= 1  # whole seconds, rounded up
    assert facts["statehouse-retry-after-ms"].isdigit() and int(facts["statehouse-retry-after-ms"]) >= 1
    assert int(facts["retry-after"]) * 1000 >= int(facts["statehouse-retry-after-ms"])


class Quotas:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.admin_token = (daemon.data_dir / "admin.token").read_text().strip()
        self.admin = Statehouse(url=daemon.url, token=self.admin_token)
        self.channel = grpc.insecure_channel(daemon.url)
        self.stub = statehouse_pb2_grpc.StatehouseServiceStub(self.channel)
        self.http = HTTP(daemon.http_url)

    def token(self, name: str, *grants: str) -> str:
        return self.admin.create_token(name, list(grants))[1]

    def close(self) -> None:
        self.admin.close()
        self.channel.close()


def start(tmp_path: Path, *args: str) -> Iterator[Quotas]:
    daemon = Daemon(tmp_path / "data", ["--auth", "required", "--durability", "relaxed", *args]).start()
    quotas = Quotas(daemon)
    try:
        yield quotas
    finally:
        quotas.close()
        daemon.stop()


@pytest.fixture(scope="module")
def rate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quotas]:
    yield from start(
        tmp_path_factory.mktemp("rate"), "--quota-commits-per-second", "5", "--quota-bytes-per-second", "4000"
    )


@pytest.fixture(scope="module")
def limits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quotas]:
    yield from start(
        tmp_path_factory.mktemp("limits"),
        *("--quota-stored-bytes", "5000", "--quota-open-watches", "1", "--quota-open-transactions", "1"),
    )


# ---- commits and bytes per second ------------------------------------------------------------------------------------


def hammer(quotas: Quotas, token: str, namespace: str, attempts: int) -> Tuple[List[int], List[grpc.RpcError]]:
    """Sends `attempts` commits of two keys each, ten at a time; returns the attempts applied and the failures."""

    def attempt(index: int) -> Optional[grpc.RpcError]:
        request = pb.ApplyRequest(namespace=namespace, operations=[put("h", f"{index}-a"), put("h", f"{index}-b")])
        try:
            quotas.stub.Apply(request, metadata=bearer(token), timeout=30)
        except grpc.RpcError as failure:
            return failure
        return None

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(attempts)))
    applied = [index for index, failure in enumerate(results) if failure is None]
    return applied, [failure for failure in results if failure is not None]


def test_a_token_over_its_commit_rate_is_refused_and_nothing_partial_is_applied(rate: Quotas) -> None:
    hasty = rate.token("hasty", "rate:write")
    applied, failures = hammer(rate, hasty, "rate", 50)
    assert applied and failures, (len(applied), len(failures))
    for failure in failures:
        assert_quota_refusal(failure)
        assert hasty.split(".")[0] in failure.details()
    # Every commit is whole or absent: the head counts the applied ones, and each has both of its keys.
    assert rate.admin.head("rate").commit_ts == len(applied)
    keys = set(rate.admin.list_keys("h", namespace="rate"))
    assert keys == {f"{index}-{part}" for index in applied for part in "ab"}

    # Another token, right after, is not slowed: its own bucket is full.
    with Statehouse(url=rate.daemon.url, namespace="rate", token=rate.token("patient", "rate:write")) as other:
        for index in range(3):
            other.apply([Put("other", str(index), index)])
    assert rate.admin.head("rate").commit_ts == len(applied) + 3

    # The hasty token may commit again once it waited what it was told (bounded: a few tries).
    wait = max(int(trailers(failure)["statehouse-retry-after-ms"]) for failure in failures) / 1000
    with Statehouse(url=rate.daemon.url, namespace="rate", token=hasty) as client:
        for _ in range(5):
            try:
                client.apply([Put("h", "after-the-wait", True)])
                break
            except ResourceExhaustedError as refused:
                assert refused.retry_after is not None and refused.retry_after > 0
                wait = refused.retry_after
            time.sleep(wait)
        assert client.get_state("h", "after-the-wait").value is True


def burst(attempt: Callable[[int], object], count: int = 30) -> Tuple[int, List[BaseException]]:
    """Makes `count` attempts ten at a time (so that a slow machine still outruns a rate of a few per second);
    returns how many succeeded and the exceptions of the others."""

    def one(index: int) -> Optional[BaseException]:
        try:
            attempt(index)
        except Exception as error:  # noqa: BLE001 - returned to the test, which checks its type
            return error
        return None

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(one, range(count)))
    failures = [outcome for outcome in outcomes if outcome is not None]
    return count - len(failures), failures


def test_the_sdk_reports_when_to_retry(rate: Quotas) -> None:
    token = rate.token("sdk", "rate-sdk:write", "rate-async:write")
    with Statehouse(url=rate.daemon.url, namespace="rate-sdk", token=token) as client:
        applied, failures = burst(lambda index: client.apply([Put("a", str(index), index)]))
        assert failures, "30 commits at once were never refused at 5 per second"
        for refused in failures:
            assert isinstance(refused, ResourceExhaustedError), refused
            assert (refused.code, refused.reason) == ("RESOURCE_EXHAUSTED", "quota_exceeded")
            assert refused.retry_after is not None and 0 < refused.retry_after <= 1.0
        assert client.head().commit_ts == applied

    async def pipelined() -> None:
        async with AsyncStatehouse(url=rate.daemon.url, namespace="rate-async", token=token) as client:
            results = await asyncio.gather(
                *(client.apply([Put("a", str(i), i)]) for i in range(20)), return_exceptions=True
            )
            errors = [result for result in results if isinstance(result, Exception)]
            assert errors and all(isinstance(error, ResourceExhaustedError) for error in errors), errors
            assert all(error.reason == "quota_exceeded" and error.retry_after for error in errors)
            assert (await client.head()).commit_ts == len(results) - len(errors)

    asyncio.run(pipelined())


def test_http_over_the_rate_gets_429_with_retry_after(rate: Quotas) -> None:
    token = rate.token("http", "rate-http:write")
    replies: Dict[int, Reply] = {}

    def attempt(index: int) -> None:
        replies[index] = rate.http.request(
            "PUT", key_path("rate-http", "a", str(index)), b"1", headers={"authorization": f"Bearer {token}"}
        )

    burst(attempt)
    statuses = [reply.status for reply in replies.values()]
    assert set(statuses) == {201, 429}, statuses
    refused = next(reply for reply in replies.values() if reply.status == 429)
    assert refused.problem_code == "quota_exceeded"
    assert refused.headers["retry-after"].isdigit() and int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert isinstance(body["retry_after_ms"], int) and 0 < body["retry_after_ms"] <= 1000 * int(
        refused.headers["retry-after"]
    )
    assert rate.admin.head("rate-http").commit_ts == statuses.count(201)


def test_a_token_over_its_byte_rate_is_refused(rate: Quotas) -> None:
    token = rate.token("bytes", "rate-bytes:write")
    value = json.dumps("x" * 3900).encode()  # 3904 bytes with the agent and key: one fits a second's 4000
    stub = rate.stub
    stub.Apply(pb.ApplyRequest(namespace="rate-bytes", operations=[put("a", "1", value)]), metadata=bearer(token))
    with pytest.raises(grpc.RpcError) as refused:
        stub.Apply(pb.ApplyRequest(namespace="rate-bytes", operations=[put("a", "2", value)]), metadata=bearer(token))
    assert_quota_refusal(refused.value)
    assert rate.admin.head("rate-bytes").commit_ts == 1
    assert not rate.admin.get_state("a", "2", namespace="rate-bytes")


# ---- stored bytes ----------------------------------------------------------------------------------------------------


def test_writes_beyond_the_stored_bytes_quota_are_refused_and_reads_go_on(limits: Quotas) -> None:
    token = limits.token("filler", "full:write", "roomy:write")
    value = "x" * 1000
    with Statehouse(url=limits.daemon.url, namespace="full", token=token) as client:
        refused = None
        for index in range(10):
            try:
                client.apply([Put("a", str(index), value)])
            except ResourceExhaustedError as error:
                refused = error
                break
        assert refused is not None and refused.reason == "quota_exceeded", "5000 bytes held 10 values of 1000"
        head = client.head()
        assert head.commit_ts == index  # the refused write applied nothing
        assert client.get_state("a", "0").value == value  # reads are served
        assert len(client.history("a", "0")) == 1
        with pytest.raises(ResourceExhaustedError):
            with client.begin_transaction() as tx:
                tx.write("a", "more", value)
        reply = limits.http.request(
            "PUT", key_path("full", "a", "over-http"), json.dumps(value), headers={"authorization": f"Bearer {token}"}
        )
        assert reply.status == 429 and reply.problem_code == "quota_exceeded" and "retry-after" in reply.headers
        assert client.head().commit_ts == head.commit_ts
        # Another namespace has its own quota.
        assert client.apply([Put("a", "k", value)], namespace="roomy").commit_ts == 1
        # A delete is still taken (it frees nothing of the history, but adds no value bytes).
        client.apply([Delete("a", "0")])


def test_token_administration_is_not_blocked_by_the_stored_bytes_quota(tmp_path: Path) -> None:
    """The system namespace holds the token records: a quota meant for data must not stop an administrator from
    creating or, above all, revoking tokens."""
    for quotas in start(tmp_path, "--quota-stored-bytes", "2000"):
        made = []
        for index in range(20):  # each record is about 300 bytes: far beyond the 2000-byte quota
            created, _ = quotas.admin.create_token(f"many-{index}", ["many:read"])
            made.append(created.id)
        for token_id in made:
            assert quotas.admin.revoke_token(token_id).revoked


def test_a_small_stored_bytes_quota_does_not_stop_the_first_start(tmp_path: Path) -> None:
    """The bootstrap admin token is written to the system namespace on the first start with auth required."""
    daemon = Daemon(tmp_path / "data", ["--auth", "required", "--quota-stored-bytes", "100"])
    try:
        daemon.start(timeout=15)
        token = (daemon.data_dir / "admin.token").read_text().strip()
        with Statehouse(url=daemon.url, token=token) as admin:
            assert admin.whoami().auth_required
    finally:
        daemon.stop()


# ---- open transactions and watches -----------------------------------------------------------------------------------


def test_a_token_holds_at_most_its_quota_of_open_transactions(limits: Quotas) -> None:
    token = limits.token("txn", "txns:write")
    other = limits.token("txn-other", "txns:write")
    first = limits.stub.BeginTransaction(pb.BeginTransactionRequest(namespace="txns"), metadata=bearer(token)).txn_id
    with pytest.raises(grpc.RpcError) as refused:
        limits.stub.BeginTransaction(pb.BeginTransactionRequest(namespace="txns"), metadata=bearer(token))
    assert_quota_refusal(refused.value)
    # Another token is not held up; a transaction begun by the client holds nothing open on the daemon.
    second = limits.stub.BeginTransaction(pb.BeginTransactionRequest(namespace="txns"), metadata=bearer(other)).txn_id
    limits.stub.Abort(pb.AbortRequest(txn_id=second), metadata=bearer(other))
    with Statehouse(url=limits.daemon.url, namespace="txns", token=token) as client:
        with client.begin_transaction() as tx:
            tx.write("a", "client-begun", 1)
    # Finishing the open one makes room.
    limits.stub.Write(pb.WriteRequest(txn_id=first, agent_id="a", key="k", value=b"1"), metadata=bearer(token))
    limits.stub.Commit(pb.CommitRequest(txn_id=first), metadata=bearer(token))
    again = limits.stub.BeginTransaction(pb.BeginTransactionRequest(namespace="txns"), metadata=bearer(token)).txn_id
    limits.stub.Abort(pb.AbortRequest(txn_id=again), metadata=bearer(token))
    assert limits.admin.head("txns").commit_ts == 2


def test_a_token_holds_at_most_its_quota_of_open_watches(limits: Quotas) -> None:
    token = limits.token("watcher", "watched:read", "watched:write")
    other = limits.token("watcher-other", "watched:read")
    Statehouse(url=limits.daemon.url, namespace="watched", token=token).apply([Put("a", "k", 1)])
    first = limits.stub.Watch(pb.WatchRequest(namespace="watched", from_commit_ts=1), metadata=bearer(token))
    assert len(next(first).events) == 1  # open
    try:
        second = limits.stub.Watch(pb.WatchRequest(namespace="watched", from_commit_ts=1), metadata=bearer(token))
        with pytest.raises(grpc.RpcError) as refused:
            next(second)
        assert_quota_refusal(refused.value)
        reply = limits.http.get(
            "/v1/namespaces/watched/watch?from=1",
            headers={"authorization": f"Bearer {token}", "accept": "text/event-stream"},
        )
        assert reply.status == 429 and reply.problem_code == "quota_exceeded"
        assert reply.headers["retry-after"].isdigit() and reply.json()["retry_after_ms"] > 0
        # Another token watches freely.
        third = limits.stub.Watch(pb.WatchRequest(namespace="watched", from_commit_ts=1), metadata=bearer(other))
        assert len(next(third).events) == 1
        third.cancel()
    finally:
        first.cancel()
    # Once the first watch ends, the token may open another (the daemon learns of the cancel asynchronously:
    # bounded retries).
    for _ in range(50):
        again = limits.stub.Watch(pb.WatchRequest(namespace="watched", from_commit_ts=1), metadata=bearer(token))
        try:
            assert len(next(again).events) == 1
            again.cancel()
            break
        except grpc.RpcError as failure:
            assert_quota_refusal(failure)
            time.sleep(0.1)
    else:
        pytest.fail("the watch quota was not freed after the watch ended")


def test_without_auth_the_rate_is_per_namespace(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path / "data", ["--durability", "relaxed", "--quota-commits-per-second", "3"]).start()
    try:
        with Statehouse(url=daemon.url, namespace="busy") as client:
            applied, failures = burst(lambda index: client.apply([Put("a", str(index), index)]))
            assert failures and all(isinstance(error, ResourceExhaustedError) for error in failures), failures
            refused = failures[0]
            assert refused.reason == "quota_exceeded" and refused.retry_after and "busy" in str(refused)
            assert client.head().commit_ts == applied
            # Another namespace has its own bucket, right after.
            for index in range(3):
                client.apply([Put("a", str(index), index)], namespace="quiet")
    finally:
        daemon.stop()
