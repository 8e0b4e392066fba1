"""The agent lifecycle against a real daemon: agent records, snapshots, restore, fork and diff, through the sync and
async clients and through statehousectl."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from statehouse import (
    AsyncStatehouse,
    ConflictError,
    Delete,
    EventDraft,
    InvalidArgumentError,
    NotFoundError,
    Put,
    Statehouse,
)

CTL = Path(__file__).resolve().parents[2] / ".build" / "debug" / "statehousectl"


def put(client: Statehouse, agent_id: str, key: str, value: object, namespace: str | None = None) -> int:
    return client.apply([Put(agent_id, key, value)], namespace=namespace).commit_ts


def test_agent_records(client: Statehouse) -> None:
    put(client, "a", "k", 1)
    put(client, "a", "k2", {"x": 2})
    put(client, "b", "k", 1)
    info = client.update_agent("a", display_name="Agent A", status="working", metadata={"team": ["x"]})
    assert (info.agent_id, info.display_name, info.status, info.metadata) == (
        "a",
        "Agent A",
        "working",
        {"team": ["x"]},
    )
    assert (info.key_count, info.version_count, info.deleted) == (2, 2, False)
    assert info.created_at is not None and info.updated_at >= info.created_at
    assert client.get_agent("b").status == "active"
    client.update_agent_status("c", "paused")  # a record with no keys yet
    assert client.list_agents() == ["a", "b", "c"]
    assert client.list_agents(status="paused") == ["c"]
    assert [agent.agent_id for agent in client.list_agent_records(status="working")] == ["a"]
    with pytest.raises(NotFoundError):
        client.get_agent("nobody")
    with pytest.raises(InvalidArgumentError):
        client.update_agent("a")
    with pytest.raises(InvalidArgumentError, match="reserved"):
        put(client, "@agents", "a", {})

    deleted = client.delete_agent("a")
    assert len(deleted.versions) == 3
    assert client.list_agents() == ["b", "c"]
    assert client.list_agents(include_deleted=True) == ["a", "b", "c"]
    assert client.get_agent("a").deleted
    assert not client.get_state("a", "k")
    assert client.get_state("a", "k", at=deleted.commit_ts - 1).value == 1  # history is kept


def test_snapshot_restore_diff_fork(client: Statehouse, namespace: str) -> None:
    put(client, "planner", "plan", {"step": 1, "items": ["a", "b"]})
    put(client, "planner", "goal", "ship")
    snapshot = client.create_snapshot("before", "planner", description="good state", metadata={"why": "test"})
    assert (snapshot.name, snapshot.agent_id, snapshot.description, snapshot.metadata) == (
        "before",
        "planner",
        "good state",
        {"why": "test"},
    )
    put(client, "planner", "plan", {"step": 2, "items": ["a", "c"]})
    client.apply([Delete("planner", "goal")])
    put(client, "planner", "extra", True)

    diff = client.diff("planner", "before")
    assert (diff.from_commit_ts, diff.to_commit_ts) == (snapshot.commit_ts, client.head().commit_ts)
    changes = {change.key: change for change in diff.changes}
    assert [change.key for change in diff.changes] == ["extra", "goal", "plan"]
    assert changes["extra"].change == "added" and changes["extra"].after.value is True
    assert changes["goal"].change == "removed" and changes["goal"].before.value == "ship"
    assert changes["plan"].change == "changed"
    assert changes["plan"].patch == [
        {"op": "replace", "path": "/step", "value": 2},
        {"op": "replace", "path": "/items/1", "value": "c"},
    ]
    assert client.diff("planner", snapshot.commit_ts, "before").changes == []

    restored = client.restore_snapshot("before")
    assert (restored.puts, restored.deletes, restored.source_commit_ts) == (2, 1, snapshot.commit_ts)
    assert client.get_state("planner", "plan").value == {"step": 1, "items": ["a", "b"]}
    assert not client.get_state("planner", "extra")
    again = client.restore_snapshot("before")
    assert (again.puts, again.deletes) == (0, 0) and again.commit.commit_ts == restored.commit.commit_ts
    event = next(client.replay("planner", start_ts=restored.commit.commit_ts))
    assert event.metadata.tags["statehouse.restore.snapshot"] == "before"

    other = f"{namespace}-fork"
    fork = client.fork("planner", "copy", target_namespace=other, at="before")
    assert (fork.puts, fork.deletes) == (2, 0)
    assert client.get_state("copy", "goal", namespace=other).value == "ship"
    with pytest.raises(InvalidArgumentError, match="fork into an agent with none"):
        client.fork("planner", "copy", target_namespace=other)
    assert client.fork("planner", "copy", target_namespace=other, overwrite=True).puts == 0

    assert [item.name for item in client.list_snapshots()] == ["before"]
    client.create_snapshot("soon", "planner", expires=timedelta(seconds=1))
    assert [item.name for item in client.list_snapshots(agent_id="planner")] == ["before", "soon"]
    client.delete_snapshot("before")
    with pytest.raises(NotFoundError):
        client.get_snapshot("before")
    with pytest.raises(NotFoundError):
        client.restore_snapshot("before")
    with pytest.raises(InvalidArgumentError):
        client.create_snapshot("past", "planner", expires=datetime(2000, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(InvalidArgumentError):
        client.diff("planner", True)  # type: ignore[arg-type]


def test_the_async_client_has_the_same_calls(daemon, namespace: str) -> None:
    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            await client.apply([Put("a", "k", 1)])
            snapshot = await client.create_snapshot("s", "a")
            await client.apply([Put("a", "k", 2)])
            assert [change.key for change in (await client.diff("a", "s")).changes] == ["k"]
            assert (await client.restore_snapshot("s")).puts == 1
            assert (await client.get_state("a", "k")).value == 1
            assert (await client.fork("a", "b")).puts == 1
            assert (await client.update_agent_status("b", "done")).status == "done"
            assert await client.list_agents(status="done") == ["b"]
            assert [agent.agent_id for agent in await client.list_agent_records()] == ["a", "b"]
            assert (await client.get_agent("a")).key_count == 1
            assert (await client.get_snapshot("s")).commit_ts == snapshot.commit_ts
            assert [item.name for item in await client.list_snapshots()] == ["s"]
            await client.delete_snapshot("s")
            assert len((await client.delete_agent("b")).versions) == 2
            assert await client.list_agents() == ["a"]

    asyncio.run(main())


def ctl(daemon, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CTL), "--addr", daemon.url, "-n", namespace, *args], capture_output=True, text=True, timeout=60
    )


def test_statehousectl_lifecycle_commands(daemon, client: Statehouse, namespace: str) -> None:
    put(client, "a", "plan", {"step": 1})
    created = ctl(daemon, namespace, "snapshot", "create", "s1", "--agent", "a", "--description", "first")
    assert created.returncode == 0, created.stderr
    assert "created snapshot 's1' of agent 'a'" in created.stdout
    put(client, "a", "plan", {"step": 2})
    put(client, "a", "new", "x")

    diff = ctl(daemon, namespace, "diff", "a", "--from", "s1", "-o", "json")
    assert diff.returncode == 0, diff.stderr
    body = json.loads(diff.stdout)
    assert [(item["key"], item["change"]) for item in body["differences"]] == [("new", "added"), ("plan", "changed")]
    assert body["differences"][1]["patch"] == [{"op": "replace", "path": "/step", "value": 2}]
    text = ctl(daemon, namespace, "diff", "a", "--from", "s1", "--color", "never")
    assert '+ new "x"' in text.stdout and "~ plan" in text.stdout

    listed = json.loads(ctl(daemon, namespace, "snapshot", "list", "-o", "json").stdout)
    assert [item["name"] for item in listed] == ["s1"]
    assert json.loads(ctl(daemon, namespace, "snapshot", "show", "s1", "-o", "json").stdout)["agent_id"] == "a"

    restored = ctl(daemon, namespace, "restore", "s1")
    assert restored.returncode == 0 and "1 put(s), 1 delete(s)" in restored.stdout, restored.stderr
    assert "nothing differed" in ctl(daemon, namespace, "restore", "s1").stdout
    assert client.get_state("a", "plan").value == {"step": 1}

    assert ctl(daemon, namespace, "fork", "a", "--to", "b", "--at", "s1").returncode == 0
    assert client.get_state("b", "plan").value == {"step": 1}
    refused = ctl(daemon, namespace, "fork", "a", "--to", "b")
    assert refused.returncode != 0 and "overwrite" in refused.stderr

    updated = ctl(daemon, namespace, "agent", "update", "b", "--status", "paused", "--name", "Bee", "-o", "json")
    assert json.loads(updated.stdout)["status"] == "paused"
    records = json.loads(ctl(daemon, namespace, "agents", "--status", "paused", "-o", "json").stdout)
    assert [record["agent_id"] for record in records] == ["b"]
    assert ctl(daemon, namespace, "agent", "delete", "b").returncode == 0
    assert json.loads(ctl(daemon, namespace, "agents", "-o", "json").stdout) == ["a"]
    assert json.loads(ctl(daemon, namespace, "agent", "show", "b", "-o", "json").stdout)["deleted"] is True

    missing = ctl(daemon, namespace, "snapshot", "show", "nope")
    assert missing.returncode == 3 and "no snapshot named 'nope'" in missing.stderr
    duplicate = ctl(daemon, namespace, "snapshot", "create", "s1", "--agent", "a")
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    neither = ctl(daemon, namespace, "snapshot", "create", "s2")
    assert neither.returncode == 2 and "--agent AGENT or --all" in neither.stderr
    deleted = ctl(daemon, namespace, "snapshot", "delete", "s1")
    assert deleted.returncode == 0 and client.list_snapshots() == []


def test_events_by_session_type_actor_agent_and_time(client: Statehouse) -> None:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    recorded = [
        client.record_event(
            "a" if index % 2 == 0 else "b",
            "error" if index % 3 == 0 else "message",
            {"n": index, "text": f"hello {index}"},
            session_id=f"s{index % 2}",
            actor="user" if index % 4 == 0 else None,
            occurred_at=base + timedelta(seconds=index),
        )
        for index in range(12)
    ]
    assert recorded[0].id and recorded[0].commit_ts >= 1
    assert [event.id for event in client.get_events()] == [event.id for event in recorded]
    assert [event.content["n"] for event in client.get_events("s1")] == [1, 3, 5, 7, 9, 11]
    assert [event.content["n"] for event in client.get_events_by_type("error")] == [0, 3, 6, 9]
    assert [event.content["n"] for event in client.get_events(actor="user", agent_id="a")] == [0, 4, 8]
    window = client.get_events(since=base + timedelta(seconds=2), until=base + timedelta(seconds=4))
    assert [event.content["n"] for event in window] == [2, 3, 4]
    assert [event.content["n"] for event in client.get_events(limit=2)] == [0, 1]
    one = client.get_event(recorded[5].id)
    assert one == recorded[5] and one.occurred_at == base + timedelta(seconds=5)
    with pytest.raises(NotFoundError):
        client.get_event("0190a3b2-7c00-7000-8000-000000000000")
    with pytest.raises(InvalidArgumentError):
        client.record_event("a", "", {"x": 1})
    with pytest.raises(InvalidArgumentError):
        client.record_event("a", "t", {"x": 1}, event_id="not-a-uuid")


def test_events_in_the_same_commit_as_state_and_recorded_once(client: Statehouse) -> None:
    event_id = "0190a3b2-7c00-7abc-8000-0000000000aa"
    result = client.apply(
        [Put("a", "k", 1)], events=[EventDraft("a", "tool_call", {"tool": "search"}, session_id="s", id=event_id)]
    )
    assert client.get_event(event_id).commit_ts == result.commit_ts
    with pytest.raises(ConflictError):
        client.apply([Put("a", "k", 2)], events=[EventDraft("a", "again", None, id=event_id)])
    assert client.get_state("a", "k").value == 1
    ops = next(client.replay(start_ts=result.commit_ts)).operations
    assert [(op.agent_id, op.key) for op in ops] == [("a", "k"), ("@events", event_id)]


def test_the_async_client_records_and_finds_events(daemon, namespace: str) -> None:
    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            first = await client.record_event("a", "message", "hi", session_id="s")
            both = await client.record_events([EventDraft("a", "message", "one"), EventDraft("b", "error", "two")])
            assert len({event.commit_ts for event in both}) == 1 and both[0].commit_ts > first.commit_ts
            await client.apply([Put("a", "k", 1)], events=[EventDraft("a", "note", {"k": 1}, session_id="s")])
            assert [event.content for event in await client.get_events("s")] == ["hi", {"k": 1}]
            assert [event.content for event in await client.get_events_by_type("error")] == ["two"]
            assert (await client.get_event(first.id)).content == "hi"

    asyncio.run(main())


def test_statehousectl_events(daemon, client: Statehouse, namespace: str) -> None:
    recorded = ctl(
        daemon, namespace, "event", "record", "a", "message", '{"text":"hi"}', "--session", "s1", "-o", "json"
    )
    assert recorded.returncode == 0, recorded.stderr
    event = json.loads(recorded.stdout)
    assert (event["agent_id"], event["type"], event["session_id"], event["content"]) == (
        "a",
        "message",
        "s1",
        {"text": "hi"},
    )
    client.record_event("b", "error", "boom", actor="tool")
    listed = json.loads(ctl(daemon, namespace, "events", "--session", "s1", "-o", "json").stdout)
    assert [item["id"] for item in listed] == [event["id"]]
    text = ctl(daemon, namespace, "events", "--type", "error", "--color", "never").stdout
    assert 'b  error  actor=tool  "boom"' in text
    shown = json.loads(ctl(daemon, namespace, "event", "show", event["id"], "-o", "json").stdout)
    assert shown == event
    bad = ctl(daemon, namespace, "event", "record", "a", "message", "{not json")
    assert bad.returncode == 2


def test_sessions_and_tasks(client: Statehouse) -> None:
    first = client.start_session("a", metadata={"channel": "chat"})
    second = client.start_session("b", session_id="b-1")
    assert (first.status, first.ended_at, first.metadata) == ("active", None, {"channel": "chat"})
    assert [item.id for item in client.list_sessions()] == sorted([first.id, "b-1"])
    ended = client.end_session(first.id, "done")
    assert ended.status == "done" and ended.ended_at is not None
    assert client.get_session(first.id) == ended
    assert [item.id for item in client.list_sessions(status="active")] == [second.id]
    assert [item.id for item in client.list_sessions(agent_id="a")] == [first.id]
    with pytest.raises(InvalidArgumentError, match="already ended"):
        client.end_session(first.id)
    with pytest.raises(InvalidArgumentError, match="already exists"):
        client.start_session("b", session_id="b-1")
    with pytest.raises(NotFoundError):
        client.get_session("nope")

    task = client.create_task("write the report", description="two pages\nwith charts", assigned_to="a")
    other = client.create_task("review", status="blocked", task_id="t-2")
    assert (task.status, task.assigned_to, task.description) == ("pending", "a", "two pages\nwith charts")
    updated = client.update_task(task.id, status="done", metadata={"pages": 2})
    assert (updated.status, updated.title, updated.metadata) == ("done", "write the report", {"pages": 2})
    assert updated.updated_at >= task.updated_at
    assert client.get_task(task.id) == updated
    assert [item.id for item in client.list_tasks(status="blocked")] == [other.id]
    assert [item.id for item in client.list_tasks(assigned_to="a")] == [task.id]
    with pytest.raises(InvalidArgumentError):
        client.create_task("")
    with pytest.raises(InvalidArgumentError):
        client.update_task(task.id)
    with pytest.raises(NotFoundError):
        client.update_task("missing", status="x")
    # The records are commits in the log, under the reserved agents.
    keys = [(op.agent_id, op.key) for event in client.replay() for op in event.operations]
    assert ("@sessions", first.id) in keys and ("@tasks", task.id) in keys


def test_the_async_client_has_sessions_and_tasks(daemon, namespace: str) -> None:
    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            started = await client.start_session("a")
            assert (await client.end_session(started.id)).status == "ended"
            assert (await client.get_session(started.id)).ended_at is not None
            assert [item.id for item in await client.list_sessions(agent_id="a")] == [started.id]
            task = await client.create_task("t", assigned_to="a")
            assert (await client.update_task(task.id, assigned_to="b")).assigned_to == "b"
            assert (await client.get_task(task.id)).assigned_to == "b"
            assert [item.id for item in await client.list_tasks(assigned_to="b")] == [task.id]

    asyncio.run(main())


def test_statehousectl_sessions_and_tasks(daemon, client: Statehouse, namespace: str) -> None:
    started = ctl(daemon, namespace, "session", "start", "a", "--id", "s-1")
    assert started.returncode == 0 and started.stdout.strip() == "s-1", started.stderr
    ended = json.loads(ctl(daemon, namespace, "session", "end", "s-1", "--status", "done", "-o", "json").stdout)
    assert (ended["status"], ended["agent_id"]) == ("done", "a") and ended["ended_at"]
    assert json.loads(ctl(daemon, namespace, "session", "list", "--agent", "a", "-o", "json").stdout)[0]["id"] == "s-1"
    again = ctl(daemon, namespace, "session", "end", "s-1")
    assert again.returncode == 2 and "already ended" in again.stderr

    created = ctl(daemon, namespace, "task", "create", "write it", "--assign", "a", "--description", "two pages")
    task_id = created.stdout.strip()
    assert created.returncode == 0 and client.get_task(task_id).assigned_to == "a", created.stderr
    updated = ctl(daemon, namespace, "task", "update", task_id, "--status", "done", "-o", "json")
    assert json.loads(updated.stdout)["status"] == "done"
    assert [
        item["id"]
        for item in json.loads(ctl(daemon, namespace, "task", "list", "--status", "done", "-o", "json").stdout)
    ] == [task_id]
    shown = ctl(daemon, namespace, "task", "show", task_id, "--color", "never")
    assert "write it" in shown.stdout and "two pages" in shown.stdout
    nothing = ctl(daemon, namespace, "task", "update", task_id)
    assert nothing.returncode == 2 and "--status" in nothing.stderr
    missing = ctl(daemon, namespace, "task", "show", "nope")
    assert missing.returncode == 3


def test_search_events_and_commit_metadata(client: Statehouse) -> None:
    for index in range(6):
        client.record_event(
            "a" if index < 3 else "b",
            "error" if index % 2 else "message",
            {"text": f"disk {'full' if index % 3 == 0 else 'fine'} on node {index}"},
            session_id=f"s{index % 2}",
        )
    client.apply(
        [Put("a", "k", {"note": "quarterly disk report"})], metadata={"reason": "disk cleanup", "actor": "ops"}
    )
    hits = client.search("disk full")
    assert len(hits) == 2 and all(hit.kind == "event" and "«full»" in hit.snippet for hit in hits)
    assert hits[0].score >= hits[1].score > 0
    assert [hit.agent_id for hit in client.search("disk full", agent_id="b")] == ["b"]
    assert len(client.search("disk", kinds=["event"], session_id="s1", type="error")) == 3
    commits = client.search("cleanup", kinds=["commit"])
    assert len(commits) == 1 and commits[0].actor == "ops" and commits[0].kind == "commit"
    assert client.search("quarterly") == []  # state values are not indexed by default
    assert len(client.search_events("disk")) == 6
    assert [hit.event_id for hit in client.search("disk", limit=2, kinds=["event"])] != []
    with pytest.raises(InvalidArgumentError, match="search query is malformed"):
        client.search('"unclosed')
    with pytest.raises(InvalidArgumentError):
        client.search("   ")
    with pytest.raises(InvalidArgumentError):
        client.search("disk", kinds=["other"])


def test_search_state_values_when_the_daemon_indexes_them(make_daemon) -> None:
    daemon = make_daemon("--search-state")
    with Statehouse(url=daemon.url) as client:
        client.apply([Put("a", "notes", {"text": "the quick brown fox"})])
        client.apply([Put("a", "notes", {"text": "a slow turtle"})])
        assert [hit.key for hit in client.search("turtle")] == ["notes"]
        assert client.search("fox") == []
        old = client.search("fox", history=True)
        assert [(hit.kind, hit.key, hit.version) for hit in old] == [("state", "notes", 1)]
        assert client.search("turtle", key_prefix="other") == []


def test_the_async_client_searches(daemon, namespace: str) -> None:
    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            await client.record_event("a", "message", "deploy failed on staging")
            assert [hit.kind for hit in await client.search("deploy staging")] == ["event"]
            assert len(await client.search_events("failed")) == 1

    asyncio.run(main())


def test_statehousectl_search(daemon, client: Statehouse, namespace: str) -> None:
    client.record_event("a", "error", {"text": "timeout calling the weather tool"}, session_id="s")
    found = json.loads(ctl(daemon, namespace, "search", "weather timeout", "-o", "json").stdout)
    assert [(hit["kind"], hit["agent_id"], hit["type"]) for hit in found] == [("event", "a", "error")]
    text = ctl(daemon, namespace, "search", "weather", "--color", "never").stdout
    assert text.startswith("event  a error") and "«weather»" in text
    bad = ctl(daemon, namespace, "search", "weather AND")
    assert bad.returncode == 2 and "malformed" in bad.stderr
    assert ctl(daemon, namespace, "search", "x", "--kind", "nope").returncode == 2


def test_transitions_show_before_after_and_why(client: Statehouse, daemon, namespace: str) -> None:
    client.apply([Put("a", "plan", {"step": 1})], metadata={"actor": "planner", "reason": "first plan"})
    client.apply([Put("a", "plan", {"step": 2})], metadata={"reason": "replanned after the error"})
    client.apply([Delete("a", "plan")])
    changes = client.transitions("a", "plan")
    assert [(c.version, c.before, c.after, c.deleted) for c in changes] == [
        (3, {"step": 2}, None, True),
        (2, {"step": 1}, {"step": 2}, False),
        (1, None, {"step": 1}, False),
    ]
    assert [(c.actor, c.reason) for c in changes] == [
        (None, None),
        (None, "replanned after the error"),
        ("planner", "first plan"),
    ]
    assert [c.version for c in client.transitions("a", "plan", limit=2)] == [3, 2]
    assert client.transitions("a", "plan", limit=2)[1].before == {"step": 1}
    text = ctl(daemon, namespace, "history", "a", "plan", "--reasons", "--color", "never").stdout
    assert "REASON" in text and "replanned after the error" in text and "planner" in text
    rows = json.loads(ctl(daemon, namespace, "history", "a", "plan", "--reasons", "-o", "json").stdout)
    assert [row["reason"] for row in rows] == [None, "replanned after the error", "first plan"]


@pytest.mark.sqlite_only(reason="Backup copies the SQLite store (PostgreSQL is backed up with its own tools)")
def test_backup_under_concurrent_writers_restores_to_a_consistent_head(make_daemon, tmp_path) -> None:
    import threading

    from daemon import Daemon

    source = make_daemon()
    stop = threading.Event()
    errors_seen: list = []

    def writer(index: int) -> None:
        try:
            with Statehouse(url=source.url) as client:
                count = 0
                while not stop.is_set() and count < 5000:
                    client.apply([Put(f"w{index}", f"k{count % 50}", {"n": count})], namespace=f"ns{index % 2}")
                    count += 1
        except Exception as error:  # noqa: BLE001 - reported below
            errors_seen.append(error)

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    try:
        with Statehouse(url=source.url) as client:
            while client.head(namespace="ns0").commit_ts < 50 or client.head(namespace="ns1").commit_ts < 50:
                pass
            report = client.backup(str(tmp_path / "backup"))
            with pytest.raises(InvalidArgumentError, match="not empty"):
                client.backup(str(tmp_path / "backup"))
            with pytest.raises(InvalidArgumentError, match="absolute"):
                client.backup("relative/dir")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors_seen
    assert report.bytes > 0 and {head.namespace for head in report.heads} == {"ns0", "ns1"}
    copy = Daemon(tmp_path / "backup").start()
    try:
        with Statehouse(url=copy.url) as restored, Statehouse(url=source.url) as live:
            for head in report.heads:
                assert restored.head(namespace=head.namespace) == head
                assert restored.verify(namespace=head.namespace).ok
                for agent in restored.list_agents(namespace=head.namespace):
                    for key in restored.list_keys(agent, namespace=head.namespace):
                        then = live.get_state(agent, key, namespace=head.namespace, at=head.commit_ts)
                        assert restored.get_state(agent, key, namespace=head.namespace).value == then.value
    finally:
        copy.stop()


def test_statehousectl_export_and_import(daemon, client: Statehouse, namespace: str, tmp_path) -> None:
    for index in range(5):
        client.apply(
            [Put("a", f"k{index % 3}", {"n": index, "text": "line\u2028sep"})], metadata={"reason": f"r{index}"}
        )
    client.apply([Delete("a", "k1")])
    client.record_event("a", "note", {"x": 1}, session_id="s")
    exported = tmp_path / "log.jsonl"
    assert ctl(daemon, namespace, "export", "--out", str(exported)).returncode == 0
    lines = exported.read_text(encoding="utf-8").split("\n")
    assert json.loads(lines[0])["export"]["head_commit_ts"] == 7
    target = f"{namespace}-copy"
    imported = ctl(daemon, target, "import", str(exported))
    assert imported.returncode == 0 and "imported 7 events" in imported.stdout, imported.stderr
    assert client.verify(namespace=target).ok
    original = list(client.replay())
    copied = list(client.replay(namespace=target))
    assert [(e.commit_ts, [op.to_dict() for op in e.operations], e.metadata) for e in copied] == [
        (e.commit_ts, [op.to_dict() for op in e.operations], e.metadata) for e in original
    ]
    assert [event.content for event in client.get_events("s", namespace=target)] == [{"x": 1}]
    again = ctl(daemon, target, "import", str(exported))
    assert again.returncode == 2 and "already has 7 commits" in again.stderr
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(exported.read_text(encoding="utf-8").replace('\\"n\\":3', '\\"n\\":4'), encoding="utf-8")
    refused = ctl(daemon, f"{namespace}-bad", "import", str(tampered))
    assert refused.returncode == 1 and "commit_ts 4" in refused.stderr, refused.stderr
