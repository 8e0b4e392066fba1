"""The daemon's HTTP API (/v1) against a real statehoused: every route, its errors and limits, conditional writes,
SSE resume without gap, NDJSON replay, and the OpenAPI document kept in the repository."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from daemon import Daemon
from http_client import HTTP, Reply, key_path, sse_events
from statehouse import AsyncStatehouse, Put, Statehouse

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def http(daemon: Daemon) -> HTTP:
    client = HTTP(daemon.http_url)
    client.wait_ready()
    return client


def head(http: HTTP, namespace: str) -> Dict[str, Any]:
    reply = http.get(f"/v1/namespaces/{namespace}")
    assert reply.status == 200, reply.body
    return reply.json()


def test_put_get_etag_and_stored_bytes(http: HTTP, namespace: str) -> None:
    path = key_path(namespace, "planner", "plan/step 1")
    body = b'{"step": 1,   "big": 123456789012345678901234567890, "f": 1.50}'
    created = http.request("PUT", path, body, headers={"Statehouse-Actor": "tester", "Statehouse-Reason": "first"})
    assert created.status == 201, created.body
    assert created.headers["etag"] == '"1"'
    assert created.json()["versions"] == [1]
    got = http.get(path)
    assert got.status == 200
    assert got.body == body  # the stored bytes, never re-encoded
    assert got.headers["etag"] == '"1"'
    assert got.headers["statehouse-version"] == "1"
    assert got.headers["statehouse-commit-ts"] == str(created.json()["commit_ts"])
    assert got.headers["content-type"] == "application/json"
    # If-None-Match with the current version: 304, no body.
    assert http.get(path, headers={"If-None-Match": '"1"'}).status == 304
    assert http.get(path, headers={"If-None-Match": '"7"'}).status == 200
    # as_of: a time after the first commit (times are shown to the millisecond) and one before every commit.
    after = datetime.fromisoformat(created.json()["committed_at"].replace("Z", "+00:00")) + timedelta(milliseconds=1)
    assert http.get(path + "?as_of=" + after.isoformat().replace("+00:00", "Z")).body == body
    assert http.get(path + "?as_of=2000-01-01T00:00:00Z").status == 404
    second = http.request("PUT", path, b"[1, 2]", headers={"If-Match": '"1"'})
    assert second.status == 200 and second.headers["etag"] == '"2"'
    # Reads at a version, a commit_ts and a time.
    assert http.get(path + "?version=1").body == body
    assert http.get(path + f"?at={created.json()['commit_ts']}").body == body
    assert http.get(path).body == b"[1, 2]"
    history = http.get(path + "/history").json()
    assert [item["version"] for item in history["items"]] == [2, 1]
    assert history["items"][1]["metadata"] == {"actor": "tester", "reason": "first"}
    assert history["next_cursor"] is None


def test_conditional_writes(http: HTTP, namespace: str) -> None:
    path = key_path(namespace, "a", "k")
    assert http.request("PUT", path, b"1", headers={"If-None-Match": "*"}).status == 201
    refused = http.request("PUT", path, b"2", headers={"If-None-Match": "*"})
    assert refused.status == 412 and refused.problem_code == "conflict"
    assert refused.json()["actual_version"] == 1
    stale = http.request("PUT", path, b"3", headers={"If-Match": '"9"'})
    assert stale.status == 412
    assert stale.json() | {"detail": ""} == {
        "type": "urn:statehouse:problem:conflict",
        "title": "Precondition Failed",
        "status": 412,
        "code": "conflict",
        "detail": "",
        "agent_id": "a",
        "key": "k",
        "expected_version": 9,
        "actual_version": 1,
    }
    assert http.get(path).body == b"1"  # nothing changed
    assert http.request("DELETE", path, headers={"If-Match": '"2"'}).status == 412
    deleted = http.request("DELETE", path, headers={"If-Match": '"1"'})
    assert deleted.status == 200 and deleted.json()["versions"] == [2]
    gone = http.get(path)
    assert gone.status == 404 and "deleted" in gone.json()["detail"]
    assert http.get(path + "?version=1").body == b"1"


def test_commit_conditions_idempotency_and_metadata(http: HTTP, namespace: str) -> None:
    commits = f"/v1/namespaces/{namespace}/commits"
    body = {
        "operations": [
            {"op": "put", "agent_id": "a", "key": "x", "value": {"n": 1}},
            {"op": "put", "agent_id": "a", "key": "y", "value": [1, "two", None]},
        ],
        "conditions": [{"agent_id": "a", "key": "x", "version": 0}],
        "idempotency_key": "step-1",
        "metadata": {"actor": "planner", "reason": "plan", "tags": {"run": "7"}},
    }
    first = http.request("POST", commits, body)
    assert first.status == 200, first.body
    again = http.request("POST", commits, body)
    assert again.status == 200 and again.json()["commit_ts"] == first.json()["commit_ts"]
    conflicting = dict(body, idempotency_key="step-2")
    refused = http.request("POST", commits, conflicting)
    assert refused.status == 409 and refused.problem_code == "conflict"
    assert head(http, namespace)["commit_ts"] == first.json()["commit_ts"]
    event = http.get(f"{commits}/{first.json()['commit_ts']}").json()
    assert event["metadata"] == {"actor": "planner", "reason": "plan", "tags": {"run": "7"}}
    assert [op["key"] for op in event["operations"]] == ["x", "y"]
    assert http.get(f"{commits}/999999").status == 404
    listed = http.get(f"{commits}?agent_id=a&limit=1").json()
    assert len(listed["items"]) == 1
    rest = http.get(f"{commits}?agent_id=a&limit=1&cursor={listed['next_cursor']}").json()
    assert rest == {"items": [], "next_cursor": None}


def test_state_keys_agents_and_pages(http: HTTP, namespace: str) -> None:
    with Statehouse(url=http_daemon_url(http), namespace=namespace) as client:
        client.apply([Put("lister", f"k{i:03d}", {"i": i}) for i in range(25)])
    base = f"/v1/namespaces/{namespace}/agents/lister"
    keys: List[str] = []
    cursor = None
    while True:
        reply = http.get(f"{base}/keys?limit=10" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200
        page = reply.json()
        keys += [item["key"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert keys == [f"k{i:03d}" for i in range(25)]
    state = http.get(f"{base}/state?prefix=k01&limit=100").json()
    assert [(r["key"], r["value"]) for r in state["items"]] == [(f"k01{i}", {"i": 10 + i}) for i in range(10)]
    after = http.get(f"{base}/state?start_after=k022").json()
    assert [r["key"] for r in after["items"]] == ["k023", "k024"]
    agent = http.get(base).json()
    assert agent["agent_id"] == "lister" and agent["key_count"] == 25
    agents = http.get(f"/v1/namespaces/{namespace}/agents").json()
    assert "lister" in [a["agent_id"] for a in agents["items"]]
    namespaces = http.get("/v1/namespaces?limit=10000").json()
    assert namespace in [h["namespace"] for h in namespaces["items"]]


def http_daemon_url(http: HTTP) -> str:
    """The gRPC address of the shared daemon (the fixture's), for seeding through the SDK."""
    return _shared_grpc_url[0]


_shared_grpc_url: List[str] = []


@pytest.fixture(autouse=True)
def _remember_grpc_url(daemon: Daemon) -> None:
    if not _shared_grpc_url:
        _shared_grpc_url.append(daemon.url)


def test_timeline_newest_first(http: HTTP, namespace: str) -> None:
    for i in range(7):
        assert http.request("PUT", key_path(namespace, "t", "k"), str(i)).status in (200, 201)
        assert http.request("PUT", key_path(namespace, "other", "k"), str(i)).status in (200, 201)
    seen: List[int] = []
    before = ""
    while True:
        page = http.get(f"/v1/namespaces/{namespace}/timeline?agent_id=t&limit=3{before}").json()
        seen += [event["commit_ts"] for event in page["items"]]
        assert all(op["agent_id"] == "t" for event in page["items"] for op in event["operations"])
        if page["next_before"] is None:
            break
        before = f"&before={page['next_before']}"
    assert seen == sorted(seen, reverse=True) and len(seen) == 7


def test_verify_tree_head_and_proofs(http: HTTP, namespace: str) -> None:
    for i in range(5):
        http.request("PUT", key_path(namespace, "v", f"k{i}"), str(i))
    base = f"/v1/namespaces/{namespace}"
    report = http.get(f"{base}/verify").json()
    assert report["ok"] is True and report["events_checked"] == 5
    tree = http.get(f"{base}/tree-head").json()
    assert tree["tree_size"] == 5 and len(tree["root_hash"]) == 64 and tree["signature"]
    inclusion = http.get(f"{base}/proofs/inclusion?commit_ts=2").json()
    assert inclusion["tree_size"] == 5 and inclusion["hashes"]
    consistency = http.get(f"{base}/proofs/consistency?from_size=3").json()
    assert consistency["to_size"] == 5 and consistency["hashes"]
    assert http.get("/v1/namespaces/never-written/verify").status == 404


BAD_REQUESTS = [
    # (method, path (NS replaced), headers, body, status, code)
    (
        "PUT",
        "/v1/namespaces/NS/agents/a/keys/k",
        {"content-type": "application/json"},
        b"{bad",
        400,
        "invalid_argument",
    ),
    ("PUT", "/v1/namespaces/NS/agents/a/keys/k", {"content-type": "text/plain"}, b"1", 415, "unsupported_media_type"),
    ("PUT", "/v1/namespaces/NS/agents/a/keys/k", {}, b"1", 415, "unsupported_media_type"),
    (
        "PUT",
        "/v1/namespaces/NS/agents/a/keys/k",
        {"content-type": "application/json"},
        b"1" * (1024 * 1024 + 1),
        413,
        "too_large",
    ),
    (
        "PUT",
        "/v1/namespaces/NS/agents/a/keys/k",
        {"content-type": "application/json", "If-Match": "abc"},
        b"1",
        400,
        "invalid_argument",
    ),
    (
        "PUT",
        "/v1/namespaces/NS/agents/a/keys/k",
        {"content-type": "application/json", "If-None-Match": '"1"'},
        b"1",
        400,
        "invalid_argument",
    ),
    (
        "PUT",
        "/v1/namespaces/NS/agents/a/keys/k?expires_at=tomorrow",
        {"content-type": "application/json"},
        b"1",
        400,
        "invalid_argument",
    ),
    (
        "PUT",
        "/v1/namespaces/bad%20name!/agents/a/keys/k",
        {"content-type": "application/json"},
        b"1",
        400,
        "invalid_argument",
    ),
    ("PUT", "/v1/namespaces/NS/agents/a/keys/%FF", {"content-type": "application/json"}, b"1", 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/agents/a/keys/k?version=0", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/agents/a/keys/k?at=1&as_of=2026-01-01T00:00:00Z", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/agents/a/keys/k?limt=1", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/agents/a/keys?limit=0", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/agents/a/keys?limit=1&limit=2", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/agents/a/keys?cursor=not-a-cursor", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/agents/a/state?version=3", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/commits?from=9&to=2", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/commits/zero", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/timeline?before=x", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/proofs/inclusion", {}, None, 400, "invalid_argument"),
    ("GET", "/v1/namespaces/NS/watch", {"Last-Event-ID": "abc"}, None, 400, "invalid_argument"),
    ("GET", "/v1/no-such-route", {}, None, 404, "not_found"),
    ("POST", "/v1/namespaces/NS/commits", {"content-type": "application/json"}, b"[]", 400, "invalid_argument"),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/json"},
        b'{"operations": [{"op": "put", "agent_id": "a", "key": "k"}]}',
        400,
        "invalid_argument",
    ),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/json"},
        b'{"operations": [{"op": "upsert", "agent_id": "a", "key": "k", "value": 1}]}',
        400,
        "invalid_argument",
    ),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/json"},
        b'{"operations": [{"op": "put", "agent_id": "a", "key": "k", "value": 1}], "condtions": []}',
        400,
        "invalid_argument",
    ),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/json"},
        b'{"operations": [{"op": "put", "agent_id": "a", "key": "k", "value": 1}], '
        b'"conditions": [{"agent_id": "a", "key": "k", "version": -1}]}',
        400,
        "invalid_argument",
    ),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/json"},
        b'{"operations": [{"op": "put", "agent_id": "", "key": "k", "value": 1}]}',
        400,
        "invalid_argument",
    ),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/json"},
        b'{"operations": [{"op": "delete", "agent_id": "a", "key": "k", "value": 1}]}',
        400,
        "invalid_argument",
    ),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/json"},
        b'{"operations": [{"op": "put", "agent_id": "a", "key": "k", "value": 1}], "metadata": {"tags": {"x": 1}}}',
        400,
        "invalid_argument",
    ),
    (
        "POST",
        "/v1/namespaces/NS/commits",
        {"content-type": "application/xml"},
        b"<commit/>",
        415,
        "unsupported_media_type",
    ),
]


@pytest.mark.parametrize("method,path,headers,body,status,code", BAD_REQUESTS)
def test_bad_input_is_refused_and_changes_nothing(
    http: HTTP, namespace: str, method: str, path: str, headers: Dict[str, str], body: Any, status: int, code: str
) -> None:
    seed = http.request("PUT", key_path(namespace, "a", "k"), b'"seed"')
    assert seed.status == 201
    before = head(http, namespace)
    reply = http.request(method, path.replace("NS", namespace), body, headers=headers, json_body=False)
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert problem["code"] == code and problem["status"] == status and problem["detail"]
    assert "Traceback" not in problem["detail"] and "Error(" not in problem["detail"]
    assert head(http, namespace) == before
    assert http.get(key_path(namespace, "a", "k")).body == b'"seed"'


def test_sse_watch_resumes_with_last_event_id_without_gap(http: HTTP, namespace: str) -> None:
    path = key_path(namespace, "w", "k")
    http.request("PUT", path, b"0")
    start = head(http, namespace)["commit_ts"]
    conn, events = sse_events(http, f"/v1/namespaces/{namespace}/watch?from={start + 1}")
    received: List[int] = []
    for i in range(1, 6):
        http.request("PUT", path, str(i).encode())
    for event in events:
        assert event["event"] == "commit"
        data = json.loads(event["data"])
        assert int(event["id"]) == data["commit_ts"]
        received.append(data["commit_ts"])
        if len(received) == 3:
            break
    conn.close()  # drop mid-stream, after commit received[-1]
    for i in range(6, 9):  # commits while disconnected
        http.request("PUT", path, str(i).encode())
    conn, events = sse_events(
        http, f"/v1/namespaces/{namespace}/watch?from=1", headers={"Last-Event-ID": str(received[-1])}
    )
    for event in events:
        received.append(int(event["id"]))
        if len(received) == 8:
            break
    conn.close()
    assert received == list(range(start + 1, start + 9))


def test_replay_ndjson_100k_events(make_daemon: Any) -> None:
    daemon = make_daemon("--durability", "relaxed")
    http = HTTP(daemon.http_url)
    http.wait_ready()
    total = 100_000

    async def seed() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace="bulk") as client:
            next_index = iter(range(total))

            async def worker() -> None:
                for i in next_index:
                    await client.apply([Put(f"agent{i % 10}", f"k{i % 100}", i)], idempotency_key="")

            await asyncio.gather(*(worker() for _ in range(64)))

    asyncio.run(seed())
    conn = http.connection(timeout=120)
    conn.request("GET", "/v1/namespaces/bulk/replay")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-type") == "application/x-ndjson"
    count = 0
    previous = "0" * 64
    for line in response:
        event = json.loads(line)
        count += 1
        assert event["commit_ts"] == count and event["prev_hash"] == previous
        previous = event["hash"]
    conn.close()
    assert count == total
    agent_only = http.get("/v1/namespaces/bulk/replay?agent_id=agent3&from=1&to=1000").body.splitlines()
    assert len(agent_only) == 100
    assert all(json.loads(line)["operations"][0]["agent_id"] == "agent3" for line in agent_only)


def test_probes_and_off_switch(make_daemon: Any, http: HTTP) -> None:
    assert http.get("/healthz").status == 200
    ready = http.get("/readyz")
    assert ready.status == 200 and ready.body == b"ready\n"
    health = http.get("/v1/health").json()
    assert health["status"] == "ok" and health["version"]
    off = make_daemon("--http-listen", "off")
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", off.http_port)) != 0


def test_shutdown_ends_open_watch_streams(make_daemon: Any) -> None:
    daemon = make_daemon()
    http = HTTP(daemon.http_url)
    http.wait_ready()
    http.request("PUT", key_path("default", "a", "k"), b"1")
    conn, events = sse_events(http, "/v1/namespaces/default/watch")
    ended = threading.Event()

    def drain() -> None:
        for _ in events:
            pass
        ended.set()

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    daemon.stop()  # asserts a clean exit well inside the grace period
    assert ended.wait(10)
    conn.close()


def _documented_operations() -> Iterator[tuple]:
    document = json.loads((REPO / "docs" / "openapi.json").read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_openapi_document_is_served_and_kept_in_the_repo(http: HTTP) -> None:
    served = http.get("/v1/openapi.json")
    assert served.status == 200
    kept = json.loads((REPO / "docs" / "openapi.json").read_text())
    served_document = served.json()
    served_document["info"]["version"] = kept["info"]["version"]
    assert served_document == kept, "docs/openapi.json is stale: run scripts/generate-openapi.sh"
    assert kept["openapi"].startswith("3.1")


def test_every_documented_route_answers(http: HTTP, namespace: str) -> None:
    base = f"/v1/namespaces/{namespace}"
    http.request("PUT", key_path(namespace, "agent", "key"), b"1")
    http.request("PUT", key_path(namespace, "agent", "key"), b"2")
    for name in ("snap", "snap-to-restore"):
        assert http.request("POST", f"{base}/snapshots", {"name": name, "agent_id": "agent"}).status == 201
    event = http.request("POST", f"{base}/events", {"events": [{"agent_id": "agent", "type": "t", "content": 1}]})
    session = http.request("POST", f"{base}/sessions", {"agent_id": "agent"}).json()
    task = http.request("POST", f"{base}/tasks", {"title": "t"}).json()
    ids = {"events": event.json()["items"][0]["id"], "sessions": session["id"], "tasks": task["id"]}
    values = {
        "namespace": namespace, "agent": "agent", "key": "key", "commit_ts": "1", "name": "snap",
        "sha256": hashlib.sha256(b"3").hexdigest(),
    }  # fmt: skip
    required = {"commit_ts": "1", "from_size": "1", "from": "1", "q": "t"}
    bodies: Dict[str, Any] = {
        "putValue": b"3",
        "putArtifact": b"3",
        "commit": {"operations": [{"op": "put", "agent_id": "agent", "key": "other", "value": 1}]},
        "updateAgent": {"status": "busy"},
        "forkAgent": {"target_agent_id": "agent-copy"},
        "createSnapshot": {"name": "another", "agent_id": "agent"},
        "recordEvents": {"events": [{"agent_id": "agent", "type": "t", "content": 2}]},
        "startSession": {"agent_id": "agent"},
        "endSession": {},
        "createTask": {"title": "another"},
        "updateTask": {"status": "done"},
        "setRetention": {"keep_versions": 10},
    }
    answered = set()
    # Deletes last: the agent's and the snapshot's would leave nothing for the routes after them.
    # The artifact is read after it is stored.
    operations = sorted(
        _documented_operations(), key=lambda item: (item[1] == "delete", item[2]["operationId"] == "getArtifact")
    )
    for path, method, operation in operations:
        url = path.replace("{name}", "snap-to-restore" if operation["operationId"] == "restoreSnapshot" else "snap")
        for name, value in values.items():
            url = url.replace("{" + name + "}", value)
        if "{id}" in url:
            url = url.replace("{id}", ids[url.split("/")[4]])
        query = [
            f"{p['name']}={required[p['name']]}"
            for p in operation.get("parameters", [])
            if p["in"] == "query"
            and p["name"] in required
            and operation["operationId"] not in ("listCommits", "replay")
        ]
        if operation["operationId"] == "watch":
            conn, events = sse_events(http, url + "?from=1")
            assert next(events)["event"] == "commit"
            conn.close()
            answered.add("watch")
            continue
        if query:
            url += "?" + "&".join(query)
        reply: Reply = http.request(method.upper(), url, bodies.get(operation["operationId"]))
        documented = {int(status) for status in operation["responses"]}
        assert reply.status in documented and reply.status < 400, (method, url, reply.status, reply.body)
        answered.add(operation["operationId"])
    assert len(answered) == sum(1 for _ in _documented_operations())


def test_taken_http_port_stops_the_daemon_before_the_store(tmp_path: Path) -> None:
    from daemon import free_port, statehoused_binary

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        data = tmp_path / "data"
        result = subprocess.run(
            [str(statehoused_binary()), "--listen", f"127.0.0.1:{free_port()}", "--http-listen", f"127.0.0.1:{port}"]
            + ["--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} (http-listen): the address is already in use" in result.stderr
    assert not data.exists()


@pytest.mark.parametrize(
    "host,status",
    [
        ("evil.example", 403),
        ("evil.example:8080", 403),
        ("127.0.0.1.evil.example", 403),
        ("localhost", 200),
        ("LOCALHOST:8080", 200),
        ("127.0.0.1:1", 200),
        ("[::1]:8080", 200),
    ],
)
def test_loopback_listener_answers_only_loopback_host_names(http: HTTP, namespace: str, host: str, status: int) -> None:
    """DNS rebinding: a page whose host name comes to resolve to 127.0.0.1 still sends its own name in Host."""
    before = head(http, namespace)
    reply = http.request("PUT", key_path(namespace, "a", "k"), b"1", headers={"Host": host})
    assert reply.status == (201 if status == 200 else 403), reply.body
    if status == 403:
        assert reply.problem_code == "forbidden_host"
        assert head(http, namespace) == before
        assert http.get("/v1/health", headers={"Host": host}).status == 403


def test_sighup_without_tls_is_logged_and_harmless(make_daemon: Any) -> None:
    import signal
    import time

    daemon = make_daemon()
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "nothing to reload" not in daemon.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "SIGHUP: nothing to reload" in daemon.log()
    assert daemon.process.poll() is None
    assert HTTP(daemon.http_url).get("/healthz").status == 200


def test_idle_watch_streams_get_keep_alive_comments(make_daemon: Any) -> None:
    daemon = make_daemon("--http-sse-keepalive", "1")
    http = HTTP(daemon.http_url)
    http.wait_ready()
    conn = http.connection(timeout=10)
    conn.request("GET", "/v1/namespaces/idle/watch", headers={"accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200
    lines = [response.readline() for _ in range(4)]  # retry, the watching comment, a blank, then a keep-alive
    assert lines[3] == b": keep-alive\n", lines
    http.request("PUT", key_path("idle", "a", "k"), b"1")
    rest = b""
    while b"event: commit" not in rest:
        rest += response.readline()
    conn.close()
