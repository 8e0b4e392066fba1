"""The HTTP API's lifecycle routes against a real daemon: agent records, delete, snapshots and restore, fork, diff,
events, sessions, tasks and search, with their errors."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from daemon import Daemon
from http_client import HTTP, key_path


@pytest.fixture(scope="module")
def http(daemon: Daemon) -> HTTP:
    client = HTTP(daemon.http_url)
    client.wait_ready()
    return client


def ok(reply: Any, status: int = 200) -> Dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    return reply.json()


def test_agent_record_update_and_delete(http: HTTP, namespace: str) -> None:
    base = f"/v1/namespaces/{namespace}/agents/planner"
    assert http.request("PUT", key_path(namespace, "planner", "plan"), b"1").status == 201
    record = ok(http.request("PATCH", base, {"display_name": "Planner", "status": "paused", "metadata": {"team": 7}}))
    assert (record["display_name"], record["status"], record["metadata"]) == ("Planner", "paused", {"team": 7})
    paused = ok(http.get(f"/v1/namespaces/{namespace}/agents?status=paused"))
    assert [a["agent_id"] for a in paused["items"]] == ["planner"]
    refused = http.request("PATCH", base, {"display_nam": "x"})
    assert refused.status == 400 and "display_nam" in refused.json()["detail"]
    deleted = ok(http.request("DELETE", base, headers={"Statehouse-Reason": "retired"}))
    assert deleted["commit_ts"] >= 3
    assert http.get(key_path(namespace, "planner", "plan")).status == 404
    listed = ok(http.get(f"/v1/namespaces/{namespace}/agents"))
    assert "planner" not in [a["agent_id"] for a in listed["items"]]


def test_snapshot_restore_fork_and_diff(http: HTTP, namespace: str) -> None:
    agent = f"/v1/namespaces/{namespace}/agents/worker"
    snapshots = f"/v1/namespaces/{namespace}/snapshots"
    http.request("PUT", key_path(namespace, "worker", "a"), b"1")
    http.request("PUT", key_path(namespace, "worker", "b"), b'{"x": 1}')
    snapshot = ok(http.request("POST", snapshots, {"name": "good", "agent_id": "worker", "description": "before"}), 201)
    assert snapshot["name"] == "good" and snapshot["agent_id"] == "worker"
    assert http.request("POST", snapshots, {"name": "good", "agent_id": "worker"}).status == 400  # the name is taken
    http.request("PUT", key_path(namespace, "worker", "b"), b'{"x": 2}')
    http.request("PUT", key_path(namespace, "worker", "c"), b"3")
    diff = ok(http.get(f"{agent}/diff?from=snapshot:good"))
    assert [(d["key"], d["change"]) for d in diff["differences"]] == [("b", "changed"), ("c", "added")]
    assert http.get(f"{agent}/diff?from=yesterday").status == 400
    assert http.get(f"{agent}/diff").status == 400
    restored = ok(http.request("POST", f"{snapshots}/good/restore", headers={"Statehouse-Actor": "ops"}))
    assert (restored["puts"], restored["deletes"]) == (1, 1)
    assert http.get(key_path(namespace, "worker", "b")).body == b'{"x": 1}'
    assert http.get(key_path(namespace, "worker", "c")).status == 404
    again = ok(http.request("POST", f"{snapshots}/good/restore"))
    assert (again["puts"], again["deletes"]) == (0, 0)
    fork = ok(http.request("POST", f"{agent}/fork", {"target_agent_id": "worker-2", "at": "snapshot:good"}))
    assert fork["puts"] == 2
    assert http.get(key_path(namespace, "worker-2", "b")).body == b'{"x": 1}'
    assert http.request("POST", f"{agent}/fork", {"target": "x"}).status == 400
    assert [s["name"] for s in ok(http.get(snapshots))["items"]] == ["good"]
    assert ok(http.get(f"{snapshots}/good"))["description"] == "before"
    ok(http.request("DELETE", f"{snapshots}/good"))
    assert http.get(f"{snapshots}/good").status == 404
    assert http.request("POST", f"{snapshots}/good/restore").status == 404


def test_events_sessions_tasks_and_search(http: HTTP, namespace: str) -> None:
    base = f"/v1/namespaces/{namespace}"
    session = ok(http.request("POST", f"{base}/sessions", {"agent_id": "chat", "metadata": {"user": "ann"}}), 201)
    assert session["status"] == "active"
    events = ok(
        http.request(
            "POST",
            f"{base}/events",
            {
                "events": [
                    {
                        "agent_id": "chat",
                        "type": "message",
                        "content": {"text": "the weather in Lisbon"},
                        "session_id": session["id"],
                    },
                    {"agent_id": "chat", "type": "tool", "content": {"name": "forecast"}, "actor": "tooling"},
                ]
            },
        ),
        201,
    )
    assert [e["type"] for e in events["items"]] == ["message", "tool"]
    listed = ok(http.get(f"{base}/events?session_id={session['id']}"))
    assert [e["content"] for e in listed["items"]] == [{"text": "the weather in Lisbon"}]
    one = ok(http.get(f"{base}/events/{events['items'][1]['id']}"))
    assert one["actor"] == "tooling"
    assert http.request("POST", f"{base}/events", {"events": [{"agent_id": "chat", "type": "x"}]}).status == 400
    ended = ok(http.request("POST", f"{base}/sessions/{session['id']}/end", {"status": "done"}))
    assert ended["status"] == "done" and ended["ended_at"]
    assert ok(http.get(f"{base}/sessions/{session['id']}"))["status"] == "done"
    assert [s["id"] for s in ok(http.get(f"{base}/sessions?agent_id=chat"))["items"]] == [session["id"]]

    task = ok(http.request("POST", f"{base}/tasks", {"title": "book flights", "assigned_to": "chat"}), 201)
    assert task["status"] == "pending"
    updated = ok(http.request("PATCH", f"{base}/tasks/{task['id']}", {"status": "done"}))
    assert updated["status"] == "done" and updated["title"] == "book flights"
    assert [t["id"] for t in ok(http.get(f"{base}/tasks?status=done"))["items"]] == [task["id"]]
    assert ok(http.get(f"{base}/tasks/{task['id']}"))["assigned_to"] == "chat"
    assert http.request("POST", f"{base}/tasks", {"description": "no title"}).status == 400

    hits = ok(http.get(f"{base}/search?q=Lisbon"))
    assert hits["items"] and hits["items"][0]["kind"] == "event" and "«Lisbon»" in hits["items"][0]["snippet"]
    assert ok(http.get(f"{base}/search?q=Lisbon&kinds=commit"))["items"] == []
    assert http.get(f"{base}/search").status == 400
    assert http.get(f"{base}/search?q=x&kinds=files").status == 400
    assert http.get(f"{base}/search?q=%22unterminated").status == 400


def test_retention_compaction_and_verified_read(http: HTTP, namespace: str) -> None:
    base = f"/v1/namespaces/{namespace}"
    path = key_path(namespace, "r", "k")
    for i in range(5):
        http.request("PUT", path, str(i).encode())
    assert ok(http.get(f"{base}/retention"))["source"] in ("default", "none")
    policy = ok(http.request("PUT", f"{base}/retention", {"keep_versions": 2}, headers={"Statehouse-Actor": "ops"}))
    assert (policy["keep_versions"], policy["source"]) == (2, "namespace")
    assert http.request("PUT", f"{base}/retention", {"keep_version": 2}).status == 400
    report = ok(http.request("POST", f"{base}/compact"))
    assert report["values_removed"] == 3 and report["policy"]["keep_versions"] == 2
    removed = http.get(path + "?version=1")
    assert removed.status == 412 and removed.problem_code == "failed_precondition"
    history = ok(http.get(path + "/history"))
    assert [item.get("value_removed", False) for item in history["items"]] == [False, False, True, True, True]
    assert ok(http.get(f"{base}/verify"))["ok"] is True  # removed values are checked by their leaves
    cleared = ok(http.request("DELETE", f"{base}/retention"))
    assert cleared["source"] != "namespace"

    read = ok(http.get(path + "/proof?known_size=2"))
    assert read["record"]["value"] == 4 and read["event"]["commit_ts"] == read["record"]["commit_ts"]
    assert read["inclusion"]["commit_ts"] == read["record"]["commit_ts"] and read["inclusion"]["hashes"]
    assert read["head"]["tree_size"] == read["inclusion"]["tree_size"] and read["head"]["signature"]
    assert read["consistency"]["from_size"] == 2
    never = ok(http.get(key_path(namespace, "r", "never") + "/proof"))
    assert never["record"]["exists"] is False and never["event"] is None and never["inclusion"] is None
