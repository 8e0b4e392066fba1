"""The synchronous client against a real daemon: every public method, the original API, and each error."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from daemon_transactions import begin_on_daemon
from stand_ins import LostFirstReply
from statehouse import (
    CommitResult,
    Condition,
    ConflictError,
    Delete,
    InvalidArgumentError,
    Metadata,
    NotFoundError,
    Put,
    ReplayEvent,
    StateResult,
    Statehouse,
    StatehouseError,
    Transaction,
    TransactionError,
    TransactionExpiredError,
    TransactionNotFoundError,
    exceptions,
)


def test_health_and_version(client: Statehouse) -> None:
    assert client.health() == "ok"
    version, git_sha = client.version()
    assert version and git_sha


def test_original_api_round_trip(client: Statehouse) -> None:
    tx = client.begin_transaction()
    assert isinstance(tx, Transaction) and tx.txn_id
    tx.write(agent_id="agent-1", key="memory", value={"fact": "the sky is blue"})
    tx.write("agent-1", "plan", ["search", "answer"])
    commit_ts = tx.commit()
    assert isinstance(commit_ts, int) and commit_ts > 0

    state = client.get_state(agent_id="agent-1", key="memory")
    assert isinstance(state, StateResult)
    assert (state.value, state.version, state.commit_ts, state.exists) == (
        {"fact": "the sky is blue"},
        1,
        commit_ts,
        True,
    )

    missing = client.get_state("agent-1", "nothing-here")
    assert (missing.exists, missing.value, missing.version) == (False, None, 0)


def test_context_manager_commits_or_aborts(client: Statehouse) -> None:
    with client.begin_transaction() as tx:
        tx.write("a", "k", 1)
    assert tx.result is not None and tx.result.commit_ts > 0
    assert client.get_state("a", "k").value == 1

    with pytest.raises(RuntimeError):
        with client.begin_transaction() as failed:
            failed.write("a", "k", 2)
            raise RuntimeError("the agent crashed")
    assert client.get_state("a", "k").value == 1
    with pytest.raises(TransactionError, match="aborted"):
        failed.commit()


def test_client_context_manager_and_close(daemon, namespace: str) -> None:
    with Statehouse(url=daemon.url, namespace=namespace) as scoped:
        assert scoped.health() == "ok"
    client = Statehouse(url=daemon.url)
    client.close()


def test_commit_twice_after_abort_and_after_timeout(client: Statehouse) -> None:
    tx = client.begin_transaction()
    tx.write("a", "k", 1)
    tx.commit()
    with pytest.raises(TransactionError, match="already committed"):
        tx.commit()
    with pytest.raises(TransactionError):
        tx.write("a", "k", 2)

    aborted = client.begin_transaction()
    aborted.write("a", "k", 3)
    aborted.abort()
    aborted.abort()  # a second abort is a no-op
    with pytest.raises(TransactionError, match="aborted"):
        aborted.commit()
    assert client.get_state("a", "k").value == 1

    short = client.begin_transaction(timeout_ms=200)
    short.write("a", "k", 4)
    time.sleep(0.6)
    with pytest.raises(TransactionExpiredError):
        short.commit()
    assert client.get_state("a", "k").value == 1


def test_transaction_constructed_from_an_unknown_id(client: Statehouse) -> None:
    tx = Transaction(client, "not-a-transaction", client.namespace)
    tx.write("a", "k", 1)
    with pytest.raises(TransactionError) as raised:
        tx.commit()
    assert isinstance(raised.value, TransactionNotFoundError)
    assert isinstance(raised.value, NotFoundError)
    with pytest.raises(TransactionNotFoundError):
        Transaction(client, "also-unknown").abort()


def test_transaction_constructed_from_a_known_id(client: Statehouse) -> None:
    begun = begin_on_daemon(client)  # begun elsewhere (BeginTransaction); begin_transaction begins on the client
    attached = Transaction(client, begun.txn_id, begun.namespace)
    attached.write("a", "attached", True)
    assert attached.commit() > 0
    assert client.get_state("a", "attached").value is True


def test_reads_inside_a_transaction_see_its_writes(client: Statehouse) -> None:
    client.apply([Put("a", "k", "committed")])
    tx = client.begin_transaction()
    assert tx.get("a", "k").value == "committed"
    tx.write("a", "k", "mine")
    assert tx.get("a", "k").value == "mine"
    tx.delete("a", "k")
    assert tx.get("a", "k").exists is False
    assert client.get_state("a", "k").value == "committed"
    tx.abort()


def test_versions_history_and_reads_in_the_past(client: Statehouse) -> None:
    timestamps = []
    moments = []
    for value in ("v1", "v2", "v3"):
        with client.begin_transaction() as tx:
            tx.write("a", "k", value)
        timestamps.append(tx.result.commit_ts)
        moments.append(tx.result.committed_at)
    with client.begin_transaction() as tx:
        tx.delete("a", "k")

    assert client.get_state_at_version("a", "k", 2).value == "v2"
    assert client.get_state_at_version("a", "k", 4).exists is False  # the tombstone
    assert client.get_state_at_version("a", "never-written", 1).exists is False
    with pytest.raises(InvalidArgumentError, match="no version 99"):
        client.get_state_at_version("a", "k", 99)
    with pytest.raises(InvalidArgumentError):
        client.get_state_at_version("a", "k", 0)

    assert client.get_state("a", "k").exists is False
    assert client.get_state("a", "k", at=timestamps[1]).value == "v2"
    assert client.get_state("a", "k", as_of=moments[0]).value == "v1"
    assert client.get_state("a", "k", as_of=moments[0] - timedelta(seconds=60)).exists is False
    with pytest.raises(InvalidArgumentError):
        client.get_state("a", "k", at=1, as_of=moments[0])

    history = client.history("a", "k")
    assert [(item.version, item.value, item.deleted) for item in history] == [
        (4, None, True),
        (3, "v3", False),
        (2, "v2", False),
        (1, "v1", False),
    ]
    assert [item.version for item in client.history("a", "k", limit=2)] == [4, 3]


def test_listings(client: Statehouse) -> None:
    with client.begin_transaction() as tx:
        for index in range(5):
            tx.write("lister", f"memory/{index}", {"n": index})
        tx.write("lister", "plan", "x")
        tx.write("other", "memory/0", 0)
    with client.begin_transaction() as tx:
        tx.delete("lister", "memory/3")

    assert client.list_keys("lister") == ["memory/0", "memory/1", "memory/2", "memory/4", "plan"]
    assert "memory/3" in client.list_keys("lister", include_deleted=True)
    assert client.list_keys("lister", prefix="plan") == ["plan"]
    scanned = client.scan_prefix("lister", "memory/")
    assert [(item.key, item.value) for item in scanned] == [
        ("memory/0", {"n": 0}),
        ("memory/1", {"n": 1}),
        ("memory/2", {"n": 2}),
        ("memory/4", {"n": 4}),
    ]
    assert all(item.exists for item in scanned)
    assert client.list_agents() == ["lister", "other"]
    assert client.namespace in [head.namespace for head in client.list_namespaces()]
    assert client.head().commit_ts == 2
    many = client.get_many([("lister", "plan"), ("other", "memory/0"), ("nobody", "x")])
    assert [item.value for item in many] == ["x", 0, None]


def test_many_pages_are_followed(client: Statehouse) -> None:
    with client.begin_transaction() as tx:
        for index in range(2500):
            tx.write("paged", f"k{index:05d}", index)
    keys = client.list_keys("paged")
    assert len(keys) == 2500 and keys == sorted(keys)
    assert len(client.scan_prefix("paged", "k")) == 2500


def test_scan_from_a_key_and_at_most_a_limit(client: Statehouse) -> None:
    client.apply([Put("ranged", f"k/{index:04}", index) for index in range(2500)])
    assert [item.key for item in client.scan_prefix("ranged", "k/", start_after="k/0007", limit=3)] == [
        "k/0008",
        "k/0009",
        "k/0010",
    ]
    # Past the first page (1,000 keys), and a start between keys.
    after = client.scan_prefix("ranged", "k/", start_after="k/0999z")
    assert [item.value for item in after] == list(range(1000, 2500))
    assert client.scan_prefix("ranged", "k/", start_after="k/2499") == []
    assert len(client.scan_prefix("ranged", "k/", limit=1200)) == 1200
    with pytest.raises(InvalidArgumentError):
        client.scan_prefix("ranged", "k/", limit=0)
    with pytest.raises(InvalidArgumentError, match="start_after"):
        client.scan_prefix("ranged", "k/", start_after="bad\u0001key")


def test_replay_in_order_with_an_inclusive_range(client: Statehouse) -> None:
    for index in range(1, 6):
        with client.begin_transaction() as tx:
            tx.write("replayer", "step", index)
            tx.write("bystander", "noise", index)
    events = list(client.replay("replayer"))
    assert [event.commit_ts for event in events] == [1, 2, 3, 4, 5]
    assert all(isinstance(event, ReplayEvent) for event in events)
    assert [[(op.key, op.value, op.version) for op in event.operations] for event in events][1] == [("step", 2, 2)]
    assert [event.commit_ts for event in client.replay("replayer", start_ts=2, end_ts=4)] == [2, 3, 4]
    assert len(list(client.replay())[0].operations) == 2
    assert list(client.replay_events("replayer", 5, 5))[0].operations[0].value == 5
    lines = list(client.replay_pretty("replayer", 1, 1))
    when = events[0].committed_at.strftime("%H:%M:%SZ")
    assert lines == [f"{when}  ns={client.namespace}  agent=replayer  WRITE  key=step{' ' * 16}  v=1  1"]
    with pytest.raises(InvalidArgumentError):
        list(client.replay("replayer", start_ts=4, end_ts=2))


def test_apply_conditions_idempotency_and_metadata(client: Statehouse) -> None:
    request = dict(
        conditions=[Condition("a", "x", must_not_exist=True)],
        idempotency_key="req-1",
        metadata={"actor": "planner", "reason": "bootstrap", "tags": {"run": "7"}},
    )
    first = client.apply([Put("a", "x", 1), Put("a", "y", 2), Delete("a", "z")], **request)
    assert isinstance(first, CommitResult) and first.versions == [1, 1, 1]
    again = client.apply([Put("a", "x", 1), Put("a", "y", 2), Delete("a", "z")], **request)
    assert again.commit_ts == first.commit_ts
    assert client.head().commit_ts == first.commit_ts
    with pytest.raises(InvalidArgumentError, match="already used"):
        client.apply([Put("a", "x", 2)], idempotency_key="req-1")

    with pytest.raises(ConflictError) as raised:
        client.apply([Put("a", "x", 5)], conditions=[Condition("a", "x", version=7)])
    assert (raised.value.agent_id, raised.value.key, raised.value.actual_version) == ("a", "x", 1)
    assert client.get_state("a", "x").value == 1
    assert client.apply([Put("a", "x", 5)], conditions=[Condition("a", "x", version=1)]).versions == [2]

    event = list(client.replay(start_ts=first.commit_ts, end_ts=first.commit_ts))[0]
    assert event.metadata == Metadata(actor="planner", reason="bootstrap", tags={"run": "7"})
    with client.begin_transaction() as tx:
        tx.write("a", "m", 1)
        tx.commit(metadata=Metadata(actor="tx-actor"))
    assert list(client.replay(start_ts=tx.result.commit_ts))[0].metadata.actor == "tx-actor"

    with pytest.raises(InvalidArgumentError):
        client.apply([])
    with pytest.raises(InvalidArgumentError):
        Condition("a", "x")


def test_expected_version_on_writes(client: Statehouse) -> None:
    client.apply([Put("a", "counter", 1)])
    with pytest.raises(ConflictError):
        with client.begin_transaction() as tx:
            tx.write("a", "counter", 2, expected_version=5)
    with client.begin_transaction() as tx:
        tx.write("a", "counter", 2, expected_version=1)
        tx.write("a", "fresh", 1, expected_version=0)
    assert client.get_state("a", "counter").value == 2
    with pytest.raises(ConflictError):
        with client.begin_transaction() as tx:
            tx.delete("a", "fresh", expected_version=0)


@pytest.mark.parametrize(
    "value",
    [
        12345678901234567890123456789012345678901234567890,
        -(2**200),
        {"nested": {"deeper": [1, [2, [3, {"x": None}]]], "flag": False}, "unicode": "ünïcødé ✓ 🤖"},
        [1.5, -0.25, 1e300, 0, "", [], {}],
        "plain string",
        None,
        True,
    ],
)
def test_json_values_round_trip_exactly(client: Statehouse, value: object) -> None:
    with client.begin_transaction() as tx:
        tx.write("json", "value", value)
    stored = client.get_state("json", "value")
    assert stored.exists is True and stored.value == value and type(stored.value) is type(value)
    assert list(client.replay("json"))[-1].operations[0].value == value


def test_concurrent_read_modify_write_from_two_threads_loses_no_update(client: Statehouse) -> None:
    client.apply([Put("a", "counter", 0)])
    increments_per_thread = 25
    conflicts = []

    def worker() -> None:
        done = 0
        while done < increments_per_thread:
            tx = client.begin_transaction()
            current = tx.get("a", "counter").value
            tx.write("a", "counter", current + 1)
            try:
                tx.commit()
                done += 1
            except ConflictError:
                conflicts.append(1)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert client.get_state("a", "counter").value == 2 * increments_per_thread


def test_an_interleaved_read_modify_write_conflicts(client: Statehouse) -> None:
    client.apply([Put("a", "balance", 100)])
    first, second = client.begin_transaction(), client.begin_transaction()
    first.write("a", "balance", first.get("a", "balance").value - 30)
    second.write("a", "balance", second.get("a", "balance").value - 50)
    first.commit()
    with pytest.raises(ConflictError) as raised:
        second.commit()
    assert raised.value.key == "balance"
    assert isinstance(raised.value, TransactionError)
    assert client.get_state("a", "balance").value == 70
    with pytest.raises(TransactionError):
        second.commit()


def test_a_commit_whose_reply_was_lost_is_retried_and_applied_once(client: Statehouse) -> None:
    lost = LostFirstReply(client._stub.Commit)
    client._stub.Commit = lost
    tx = client.begin_transaction()
    tx.write("a", "once", "value")
    commit_ts = tx.commit()
    assert lost.calls == 2
    assert client.head().commit_ts == commit_ts
    assert [event.commit_ts for event in client.replay("a")] == [commit_ts]
    assert client.get_state("a", "once").version == 1

    lost_apply = LostFirstReply(client._stub.Apply)
    client._stub.Apply = lost_apply
    result = client.apply([Put("a", "applied", 1)])
    assert lost_apply.calls == 2
    assert client.get_state("a", "applied").version == 1
    assert client.head().commit_ts == result.commit_ts == commit_ts + 1


def test_invalid_arguments_change_nothing(client: Statehouse) -> None:
    client.apply([Put("a", "k", 1)])
    with pytest.raises(InvalidArgumentError, match="not a JSON value"):
        client.begin_transaction().write("a", "k", {"bad": object()})
    with pytest.raises(InvalidArgumentError):
        client.begin_transaction().write("a", "k", float("nan"))
    tx = client.begin_transaction()
    tx.write("a", "k", 2)
    tx.write("a", "", 3)  # names are checked by the daemon at commit: nothing is applied
    with pytest.raises(InvalidArgumentError):
        tx.commit()
    tx.abort()
    with pytest.raises(InvalidArgumentError):
        client.apply([Put("a", "big", "x" * (1024 * 1024))])  # 1 MiB + 2 bytes of JSON text
    with pytest.raises(InvalidArgumentError):
        client.get_state("", "k")
    with pytest.raises(InvalidArgumentError):
        client.begin_transaction(timeout_ms=0)
    assert client.get_state("a", "k").value == 1
    assert client.head().commit_ts == 1


def test_unreachable_daemon_raises_connection_error_with_the_address() -> None:
    from daemon import free_port

    address = f"127.0.0.1:{free_port()}"
    with Statehouse(url=address, timeout=5) as unreachable:
        with pytest.raises(exceptions.ConnectionError) as raised:
            unreachable.health()
        assert address in str(raised.value)
        assert isinstance(raised.value, exceptions.UnavailableError)
        with pytest.raises(exceptions.ConnectionError):
            unreachable.get_state("a", "k")


def test_open_transactions_are_bounded(make_daemon) -> None:
    daemon = make_daemon("--max-open-transactions", "2")
    with Statehouse(url=daemon.url) as client:
        first, second = begin_on_daemon(client), begin_on_daemon(client)
        with pytest.raises(exceptions.ResourceExhaustedError):
            begin_on_daemon(client)
        # Transactions begun by the client hold nothing open on the daemon: the limit does not stop them.
        with client.begin_transaction() as mine:
            mine.write("a", "k", 1)
        assert mine.result is not None
        first.abort()
        third = begin_on_daemon(client)
        second.abort()
        third.abort()


def test_verify(client: Statehouse) -> None:
    for index in range(3):
        client.apply([Put("a", "k", index)])
    report = client.verify()
    assert report.ok and report.events_checked == 3 and report.first_bad_commit_ts is None
    assert report.head.commit_ts == 3
    assert client.verify(from_ts=2, to_ts=3).events_checked == 2


def test_errors_carry_the_daemons_reason(client: Statehouse) -> None:
    """The daemon names the reason of each error in the trailing metadata (statehouse-error)."""
    with pytest.raises(NotFoundError) as nothing_to_verify:
        client.verify()  # the namespace has no commits yet
    assert not isinstance(nothing_to_verify.value, TransactionNotFoundError)
    assert nothing_to_verify.value.reason == "not_found"
    with pytest.raises(TransactionNotFoundError) as unknown:
        Transaction(client, "not-a-transaction").abort()
    assert unknown.value.reason == "transaction_not_found"
    client.apply([Put("a", "k", 1)])
    with pytest.raises(ConflictError) as conflict:
        client.apply([Put("a", "k", 2)], conditions=[Condition("a", "k", must_not_exist=True)])
    assert (conflict.value.reason, conflict.value.agent_id, conflict.value.key) == ("conflict", "a", "k")
    with pytest.raises(InvalidArgumentError) as invalid:
        client.apply([Put("", "k", 1)])
    assert invalid.value.reason == "invalid_argument"


def test_watch_hands_over_from_history_to_live_without_a_gap(client: Statehouse) -> None:
    for index in range(40):
        client.apply([Put("w", "k", index)])
    received = []
    stream = client.watch(from_ts=1)

    def follow() -> None:
        for event in stream:
            received.append(event.commit_ts)
            if len(received) == 80:
                return

    follower = threading.Thread(target=follow)
    follower.start()
    for index in range(40):
        client.apply([Put("w", "k", 40 + index)])
    follower.join(timeout=60)
    stream.close()
    assert received == list(range(1, 81))


def test_watch_without_from_ts_delivers_only_new_commits(client: Statehouse) -> None:
    client.apply([Put("w", "old", 1)])
    with client.watch(agent_id="w") as stream:
        client.apply([Put("other", "k", 1)])
        client.apply([Put("w", "new", 2)])
        event = next(stream)
    assert event.commit_ts == 3 and [op.key for op in event.operations] == ["new"]


def test_restart_keeps_data_and_a_watch_resumes_without_a_gap(make_daemon) -> None:
    daemon = make_daemon()
    with Statehouse(url=daemon.url) as client:
        for index in range(5):
            client.apply([Put("a", "k", index)])
        received = []
        stream = client.watch(from_ts=1)

        def follow() -> None:
            for event in stream:
                received.append(event.commit_ts)
                if len(received) == 10:
                    return

        follower = threading.Thread(target=follow)
        follower.start()
        daemon.restart()
        for index in range(5, 10):
            client.apply([Put("a", "k", index)])
        follower.join(timeout=60)
        stream.close()
        assert received == list(range(1, 11))
        assert client.get_state("a", "k").value == 9 and client.get_state("a", "k").version == 10

        daemon.kill()  # SIGKILL: acknowledged commits must survive
        daemon.start()
        assert client.get_state("a", "k").value == 9
        assert client.verify().ok


def test_a_watch_gives_up_once_the_daemon_stays_away_for_its_reconnect_timeout(make_daemon) -> None:
    daemon = make_daemon()
    outcome: list = []
    with Statehouse(url=daemon.url) as client:
        client.apply([Put("a", "k", 0)])
        stream = client.watch(from_ts=1, reconnect_timeout=1)

        def follow() -> None:
            try:
                for _ in stream:
                    pass
            except exceptions.StatehouseError as error:
                outcome.append(error)

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        daemon.stop()
        follower.join(timeout=60)  # bounds the test only; the watch itself gives up after 1 s of failing
        stream.close()
    assert not follower.is_alive(), "the watch kept waiting for a daemon that was gone"
    assert len(outcome) == 1 and isinstance(outcome[0], exceptions.UnavailableError)


def test_a_stopped_daemon_gives_unavailable_and_commits_resume_after_restart(make_daemon) -> None:
    daemon = make_daemon()
    with Statehouse(url=daemon.url, timeout=5, commit_retry_timeout=2) as client:
        tx = client.begin_transaction()
        tx.write("a", "k", 1)
        daemon.stop()
        with pytest.raises(exceptions.UnavailableError):
            client.get_state("a", "k")
        with pytest.raises(exceptions.UnavailableError):
            tx.commit()
        daemon.start()
        # The transaction was begun by the client, which kept it: it commits now, once.
        commit_ts = tx.commit()
        assert client.get_state("a", "k").value == 1 and client.head().commit_ts == commit_ts == 1

        # One begun on the daemon was open in the stopped daemon only: it is gone, and says so.
        on_daemon = begin_on_daemon(client)
        on_daemon.write("a", "k", 2)
        daemon.stop()
        daemon.start()
        with pytest.raises(TransactionError):
            on_daemon.commit()
        assert client.get_state("a", "k").value == 1


def test_every_error_is_a_statehouse_error() -> None:
    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), StatehouseError)
    assert issubclass(exceptions.ConflictError, exceptions.TransactionError)
    assert issubclass(exceptions.TransactionExpiredError, exceptions.TransactionError)
    assert issubclass(exceptions.UnavailableError, exceptions.ConnectionError)


def test_a_daemon_that_ignores_buffered_writes_is_reported(client: Statehouse) -> None:
    real_commit = client._stub.Commit

    def old_daemon_commit(request, **kwargs):
        request = type(request)(txn_id=request.txn_id)  # a daemon before CommitRequest.operations drops them
        return real_commit(request, **kwargs)

    client._stub.Commit = old_daemon_commit
    tx = client.begin_transaction()
    tx.write("a", "k", 1)
    with pytest.raises(StatehouseError, match="upgrade statehoused"):
        tx.commit()
    assert client.get_state("a", "k").exists is False
