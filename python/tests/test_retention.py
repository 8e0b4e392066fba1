"""Retention and expiry against a real daemon, through the sync and async clients: puts with a ttl or an expiry (in
one-shot commits and in transactions), the namespace's retention policy, compaction, and what reads, history,
transitions, replay, watch and verify show of expired keys and removed values."""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, List

import pytest

from daemon_transactions import begin_on_daemon
from statehouse import (
    AsyncStatehouse,
    CompactionReport,
    FailedPreconditionError,
    InvalidArgumentError,
    Metadata,
    Put,
    RetentionPolicy,
    Statehouse,
    Transaction,
)

# How long a test waits for the daemon's expiry sweep (it runs about every second) before it fails.
SWEEP_WAIT = 10.0


def wait_for(what: str, condition: Callable[[], Any], timeout: float = SWEEP_WAIT) -> Any:
    """Polls `condition` until it returns something true; fails after `timeout` seconds (never a timing assertion:
    only a bound on how long to wait)."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen within {timeout} s")
        time.sleep(0.1)


def now() -> datetime:
    return datetime.now(timezone.utc)


# ---- expiry ----------------------------------------------------------------------------------------------------------


def test_a_put_with_a_ttl_is_read_until_it_expires_then_its_delete_is_committed(client: Statehouse) -> None:
    before = now()
    written = client.apply([Put("a", "k", {"v": 1}, ttl=1.5), Put("a", "forever", 1)])
    after = now()
    record = client.get_state("a", "k")
    assert (record.value, record.version, record.exists) == ({"v": 1}, 1, True)
    assert record.expires_at is not None
    assert before + timedelta(seconds=1.5) <= record.expires_at <= after + timedelta(seconds=1.5)
    assert client.get_state("a", "forever").expires_at is None
    assert [entry.key for entry in client.scan_prefix("a", "")] == ["forever", "k"]

    history = wait_for("the expiry's delete", lambda: len(h := client.history("a", "k")) == 2 and h)
    assert history[0].deleted and history[0].version == 2 and history[0].expires_at is None
    assert history[1].value == {"v": 1} and history[1].expires_at == record.expires_at
    gone = client.get_state("a", "k")
    assert (gone.exists, gone.deleted, gone.value, gone.version) == (False, True, None, 2)
    assert client.list_keys("a") == ["forever"]
    assert [entry.key for entry in client.scan_prefix("a", "")] == ["forever"]
    # As of the put's commit, the value was there and not expired yet.
    assert client.get_state("a", "k", at=written.commit_ts).value == {"v": 1}

    transitions = client.transitions("a", "k")
    assert transitions[0].deleted and transitions[0].reason.startswith("expired:")
    assert transitions[1].expires_at == record.expires_at and transitions[1].after == {"v": 1}
    events = list(client.replay(agent_id="a"))
    assert events[0].operations[0].expires_at == record.expires_at
    assert events[0].operations[1].expires_at is None
    assert events[0].operations[0].to_dict()["expires_at"] == record.expires_at.isoformat().replace("+00:00", "Z")
    assert "expires_at" not in events[0].operations[1].to_dict()
    assert events[-1].metadata.reason.startswith("expired:") and events[-1].operations[0].deleted
    assert client.verify().ok


def test_an_expiry_given_as_a_time_is_kept_exactly_and_one_in_the_past_is_refused(client: Statehouse) -> None:
    at = (now() + timedelta(hours=1)).replace(microsecond=123456)
    micros = int(at.timestamp()) * 1_000_000 + 123456 + 1
    client.apply(
        [
            Put("a", "datetime", 1, expires_at=at),
            Put("a", "micros", 2, expires_at=micros),
            Put("a", "text", 3, expires_at=at.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")),
            Put("a", "naive", 4, expires_at=at.replace(tzinfo=None)),
            Put("a", "timedelta", 5, ttl=timedelta(days=2)),
        ]
    )
    got = {result.key: result.expires_at for result in client.scan_prefix("a", "")}
    assert got["datetime"] == got["text"] == got["naive"] == at
    assert got["micros"] == at + timedelta(microseconds=1)
    assert now() + timedelta(days=1) < got["timedelta"] < now() + timedelta(days=3)

    head = client.head().commit_ts
    with pytest.raises(InvalidArgumentError, match="not in the future") as refused:
        client.apply([Put("a", "past", 1, expires_at=now() - timedelta(seconds=1))])
    assert refused.value.reason == "invalid_argument"
    with pytest.raises(InvalidArgumentError, match="not in the future"):
        with client.begin_transaction() as tx:
            tx.write("a", "past", 1, expires_at=now() - timedelta(minutes=5))
    assert client.head().commit_ts == head and not client.get_state("a", "past")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"ttl": 5, "expires_at": now()}, "at most one of ttl"),
        ({"ttl": 0}, "ttl must be positive"),
        ({"ttl": -1.5}, "ttl must be positive"),
        ({"ttl": timedelta(seconds=-1)}, "ttl must be positive"),
        ({"ttl": "60"}, "ttl must be a number of seconds"),
        ({"ttl": True}, "ttl must be a number of seconds"),
        ({"ttl": float("nan")}, "ttl must be a number of seconds"),
        ({"expires_at": 1.5}, "expires_at must be a datetime"),
        ({"expires_at": "tomorrow"}, "RFC 3339"),
        ({"expires_at": 1 << 63}, "out of range"),
    ],
)
def test_a_bad_ttl_or_expiry_is_refused_before_any_request(client: Statehouse, arguments, message) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Put("a", "k", 1, **arguments)
    with client.begin_transaction() as tx:
        with pytest.raises(InvalidArgumentError, match=message):
            tx.write("a", "k", 1, **arguments)
    assert client.head().commit_ts == 0


def test_transaction_writes_take_a_ttl_or_an_expiry(client: Statehouse) -> None:
    at = (now() + timedelta(hours=2)).replace(microsecond=0)
    with client.begin_transaction() as tx:
        tx.write("a", "ttl", 1, ttl=3600)
        tx.write("a", "at", 2, expires_at=at)
        tx.write("a", "plain", 3)
        assert tx.get("a", "at").expires_at == at  # a read of the transaction's own write
        assert tx.get("a", "plain").expires_at is None
    assert client.get_state("a", "at").expires_at == at
    assert now() < client.get_state("a", "ttl").expires_at <= now() + timedelta(hours=1)
    assert client.get_state("a", "plain").expires_at is None
    # A later write of the key in the same transaction replaces the earlier one, expiry and all.
    with client.begin_transaction() as tx:
        tx.write("a", "at", 20, expires_at=at)
        tx.write("a", "at", 21)
    assert client.get_state("a", "at").expires_at is None
    # A transaction begun on the daemon sends its writes with the commit as well.
    attached = begin_on_daemon(client)
    assert isinstance(attached, Transaction)
    attached.write("a", "daemon", {"x": 1}, expires_at=at)
    attached.commit()
    assert client.get_state("a", "daemon").expires_at == at


def test_a_watch_delivers_the_expiry_and_the_expirys_delete(client: Statehouse) -> None:
    written = client.apply([Put("w", "k", "soon", ttl=1.0)])
    with client.watch(from_ts=1) as stream:
        first = next(stream)
        assert first.commit_ts == written.commit_ts
        assert first.operations[0].expires_at is not None and not first.operations[0].value_removed
        deleted = next(stream)  # the sweep's delete: a watch waits for it (the sweep runs about every second)
    assert deleted.operations[0].deleted and deleted.metadata.reason.startswith("expired:")


def test_a_verified_read_of_an_expiring_key_checks_out_before_and_after_it_expires(client: Statehouse) -> None:
    """Between the expiry and the sweep's delete the daemon reads the key as deleted at the put's version and proves
    it with the put's event; after the sweep, with the delete's. Both must check out, whichever this run sees."""
    client.apply([Put("v", "k", [1, 2], ttl=0.4)])
    live = client.get_state("v", "k", verify=True)
    assert live.value == [1, 2] and live.expires_at is not None
    seen: List[int] = []

    def expired() -> bool:
        verified = client.get_state("v", "k", verify=True)
        plain = client.get_state("v", "k")
        assert not verified.exists and verified.deleted
        seen.append(verified.version)
        return plain.version == 2 and verified.version == 2

    wait_for("the expired key read as deleted", lambda: not client.get_state("v", "k").exists)
    wait_for("the expiry's delete", expired)
    assert set(seen) <= {1, 2}


# ---- retention and compaction ----------------------------------------------------------------------------------------


def test_a_policy_keeping_one_version_removes_older_values_and_their_reads_fail(
    client: Statehouse, namespace: str
) -> None:
    assert client.get_retention() == RetentionPolicy(namespace, 0, 0, "none", 0)
    assert client.get_retention().keeps_everything
    policy = client.set_retention(keep_versions=1, metadata=Metadata(actor="tester", reason="save space"))
    assert policy == RetentionPolicy(namespace, 1, 0, "namespace", 1)
    assert client.get_retention() == policy and not policy.keeps_everything
    commits = [client.apply([Put("a", "k", {"i": index})]).commit_ts for index in (1, 2, 3)]
    assert commits == [2, 3, 4]

    report = client.compact()
    assert isinstance(report, CompactionReport) and report.namespace == namespace
    assert (report.values_removed, report.value_bytes_removed) == (2, 2 * len(b'{"i":1}'))
    assert report.versions_examined >= 3 and report.policy == policy
    assert report.file_bytes_before > 0 and report.file_bytes_after > 0
    assert client.compact().values_removed == 0  # nothing more to remove

    assert client.get_state("a", "k").value == {"i": 3}
    with pytest.raises(FailedPreconditionError, match="retention") as removed:
        client.get_state_at_version("a", "k", 1)
    assert "version 1 of agent 'a' key 'k'" in str(removed.value)
    assert (removed.value.code, removed.value.reason) == ("FAILED_PRECONDITION", "failed_precondition")
    with pytest.raises(FailedPreconditionError, match="retention"):
        client.get_state("a", "k", at=commits[1])
    with pytest.raises(FailedPreconditionError, match="retention"):
        client.scan_prefix("a", "", at=commits[0])
    with pytest.raises(FailedPreconditionError, match="retention"):
        client.get_state("a", "k", at=commits[0], verify=True)
    assert client.get_state("a", "k", verify=True).value == {"i": 3}

    history = client.history("a", "k")
    assert [(entry.version, entry.value_removed, entry.value) for entry in history] == [
        (3, False, {"i": 3}),
        (2, True, None),
        (1, True, None),
    ]
    transitions = client.transitions("a", "k")
    assert [(entry.version, entry.value_removed, entry.after) for entry in transitions] == [
        (3, False, {"i": 3}),
        (2, True, None),
        (1, True, None),
    ]
    operations = [event.operations[0] for event in client.replay(agent_id="a")]
    assert [operation.value_removed for operation in operations] == [True, True, False]
    assert [operation.value for operation in operations] == [None, None, {"i": 3}]
    assert operations[0].removed_value_digest == hashlib.sha256(b'{"i":1}').digest()
    assert operations[1].removed_value_digest == hashlib.sha256(b'{"i":2}').digest()
    assert operations[0].to_dict()["removed_value_digest"] == hashlib.sha256(b'{"i":1}').hexdigest()
    assert "removed_value_digest" not in operations[2].to_dict()

    setting = next(iter(client.replay(start_ts=1, end_ts=1)))
    assert setting.metadata.actor == "tester" and setting.metadata.reason == "save space"
    verified = client.verify()
    assert verified.ok and verified.events_checked == 4 and verified.events_with_removed_values == 2

    restored = client.set_retention(use_default=True)
    assert (restored.source, restored.keep_versions, restored.keep_for_seconds) == ("none", 0, 0)
    assert client.get_retention().source == "none"
    assert client.compact(vacuum=True).values_removed == 0


def test_a_policy_by_age_keeps_recent_versions_and_a_snapshot_keeps_what_it_names(client: Statehouse) -> None:
    policy = client.set_retention(keep_for=timedelta(hours=1))
    assert (policy.keep_versions, policy.keep_for_seconds, policy.keep_for) == (0, 3600, timedelta(hours=1))
    for index in range(3):
        client.apply([Put("a", "k", index)])
    assert client.compact().values_removed == 0
    assert client.get_state_at_version("a", "k", 1).value == 0

    client.set_retention(keep_versions=1, keep_for=0)
    client.create_snapshot("keep-two", "a", at=3)  # version 2 of a/k, written at commit_ts 3
    assert client.compact().values_removed == 1
    assert client.get_state_at_version("a", "k", 2).value == 1
    with pytest.raises(FailedPreconditionError):
        client.get_state_at_version("a", "k", 1)


def test_a_verified_read_proves_a_value_whose_event_lost_another_keys_value(client: Statehouse) -> None:
    """The event's leaf is then computed from the kept digest of the removed value (and the other's expiry)."""
    client.set_retention(keep_versions=1)
    client.apply([Put("a", "k1", 1), Put("a", "k2", "kept", ttl=3600)])
    client.apply([Put("a", "k1", 2)])
    assert client.compact().values_removed == 1
    assert [operation.value_removed for operation in next(iter(client.replay(start_ts=2))).operations] == [True, False]
    kept = client.get_state("a", "k2", verify=True)
    assert kept.value == "kept" and kept.expires_at is not None
    with pytest.raises(FailedPreconditionError):
        client.get_state("a", "k1", at=2, verify=True)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"keep_versions": -1}, "keep_versions must be an int >= 0"),
        ({"keep_versions": 1.5}, "keep_versions must be an int"),
        ({"keep_versions": True}, "keep_versions must be an int"),
        ({"keep_versions": 1 << 32}, "keep_versions must be an int from 0 to 4294967295"),
        ({"keep_for": -1}, "keep_for must be whole seconds >= 0"),
        ({"keep_for": 1.5}, "keep_for must be whole seconds"),
        ({"keep_for": timedelta(milliseconds=1500)}, "keep_for must be whole seconds"),
        ({"keep_for": "60"}, "keep_for must be seconds"),
        ({"keep_for": float("inf")}, "keep_for must be whole seconds"),
        ({"use_default": True, "keep_versions": 1}, "takes no keep_versions or keep_for"),
        ({"use_default": True, "keep_for": timedelta(days=1)}, "takes no keep_versions or keep_for"),
    ],
)
def test_a_bad_policy_is_refused_before_any_request(client: Statehouse, arguments, message) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        client.set_retention(**arguments)
    assert client.head().commit_ts == 0 and client.get_retention().source == "none"


def test_the_daemons_default_policy_applies_until_a_namespace_sets_its_own(make_daemon) -> None:
    process = make_daemon("--retention-keep-versions", "2", "--compaction-interval", "0")
    with Statehouse(url=process.url, namespace="defaults") as client:
        assert client.get_retention() == RetentionPolicy("defaults", 2, 0, "default", 0)
        for index in range(4):
            client.apply([Put("a", "k", index)])
        report = client.compact()
        assert report.values_removed == 2 and report.policy.source == "default"
        everything = client.set_retention(keep_versions=0)
        assert everything.source == "namespace" and everything.keeps_everything
        client.apply([Put("a", "k", 4)])
        assert client.compact().values_removed == 0
        assert client.set_retention(use_default=True).source == "default"
        assert client.compact().values_removed == 1  # version 3 of the five: the default keeps the newest two


# ---- async -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipelined", [True, False])
def test_async_ttl_retention_and_compaction(daemon, namespace: str, pipelined: bool) -> None:
    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace, pipelined=pipelined) as client:
            assert (await client.get_retention()).source == "none"
            policy = await client.set_retention(keep_versions=1, metadata={"actor": "async"})
            assert policy == RetentionPolicy(namespace, 1, 0, "namespace", 1)
            for index in range(3):
                await client.apply([Put("a", "k", {"i": index})])
            async with client.begin_transaction() as tx:
                tx.write("a", "soon", "x", ttl=timedelta(seconds=1))
                assert (await tx.get("a", "soon")).expires_at is not None
            soon = await client.get_state("a", "soon")
            assert soon.value == "x" and soon.expires_at is not None
            at = (now() + timedelta(hours=1)).replace(microsecond=5)
            await client.apply([Put("b", "later", 1, expires_at=at)])
            assert (await client.get_state("b", "later")).expires_at == at
            with pytest.raises(InvalidArgumentError, match="at most one"):
                await client.apply([Put("a", "k", 1, ttl=1, expires_at=now())])
            with pytest.raises(InvalidArgumentError, match="keep_versions"):
                await client.set_retention(keep_versions=-1)

            report = await client.compact()
            assert (report.values_removed, report.policy) == (2, policy)
            with pytest.raises(FailedPreconditionError, match="retention") as removed:
                await client.get_state_at_version("a", "k", 1)
            assert removed.value.reason == "failed_precondition"
            with pytest.raises(FailedPreconditionError, match="retention"):
                await client.get_many([("a", "k")], at=3)
            history = await client.history("a", "k")
            assert [entry.value_removed for entry in history] == [False, True, True]
            operations = [event.operations[0] async for event in client.replay(agent_id="a", end_ts=4)]
            assert [operation.value_removed for operation in operations] == [True, True, False]
            verified = await client.verify()
            assert verified.ok and verified.events_with_removed_values == 2

            deadline = time.monotonic() + SWEEP_WAIT
            while len(await client.history("a", "soon")) < 2:
                assert time.monotonic() < deadline, "the expiry's delete was not committed"
                await asyncio.sleep(0.1)
            assert not await client.get_state("a", "soon")
            transitions = await client.transitions("a", "soon")
            assert transitions[0].reason.startswith("expired:")
            assert (await client.set_retention(use_default=True)).source == "none"

    asyncio.run(main())
