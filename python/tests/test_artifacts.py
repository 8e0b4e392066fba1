"""Artifacts against a real daemon: a 100 MiB blob streamed in and out with the daemon's memory bounded, stored once
per content, refused when it does not hash to what it was sent as, DATA_LOSS when the stored file no longer matches its
name, and an upload cut by SIGKILL leaving no blob behind."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import grpc
import pytest

from artifact_storage import overwrite_blob, stored_digests, unfinished_uploads, upload_started
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc

CTL = Path(__file__).resolve().parents[2] / ".build" / "debug" / "statehousectl"


def ctl(daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CTL), "--addr", daemon.url, "-n", "blobs", *args], capture_output=True, text=True, timeout=300
    )


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_large_blob_round_trips_once_per_content_with_bounded_memory(make_daemon, tmp_path: Path) -> None:
    daemon = make_daemon()
    blob = tmp_path / "blob.bin"
    with open(blob, "wb") as out:
        for _ in range(100):
            out.write(os.urandom(1 << 20))
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()
    before = rss_kib(daemon.process.pid)
    peak = [before]
    stop = threading.Event()

    def watch() -> None:  # bounded: ends with the transfers below
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(daemon.process.pid))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        put = ctl(daemon, "artifact", "put", str(blob), "-o", "json")
        assert put.returncode == 0, put.stderr
        copy = tmp_path / "copy.bin"
        got = ctl(daemon, "artifact", "get", digest, "--out", str(copy))
        assert got.returncode == 0, got.stderr
    finally:
        stop.set()
        watcher.join()
    assert f'"sha256":"{digest}"' in put.stdout and '"size":104857600' in put.stdout
    assert '"deduplicated":false' in put.stdout
    assert copy.read_bytes() == blob.read_bytes()
    # The daemon streams: 100 MiB in and out never sits in its memory.
    assert peak[0] - before < 64 * 1024, f"RSS grew by {(peak[0] - before) // 1024} MiB"

    again = ctl(daemon, "artifact", "put", str(blob), "-o", "json")
    assert '"deduplicated":true' in again.stdout
    assert stored_digests(daemon, "blobs") == [digest]
    stat = ctl(daemon, "artifact", "stat", digest)
    assert stat.returncode == 0 and stat.stdout.strip() == f"{digest}  104857600 bytes"
    missing = ctl(daemon, "artifact", "stat", "0" * 64)
    assert missing.returncode == 3 and "not stored" in missing.stdout


def test_a_wrong_digest_is_refused_and_a_corrupted_blob_is_data_loss(make_daemon, tmp_path: Path) -> None:
    daemon = make_daemon()
    small = tmp_path / "small.txt"
    small.write_text("the tool's output\n")
    digest = hashlib.sha256(small.read_bytes()).hexdigest()
    wrong = ctl(daemon, "artifact", "put", str(small), "--expect", "f" * 64)
    assert wrong.returncode == 2 and "nothing was stored" in wrong.stderr
    assert ctl(daemon, "artifact", "stat", digest).returncode == 3
    assert ctl(daemon, "artifact", "put", str(small), "--expect", digest).returncode == 0
    bad_name = ctl(daemon, "artifact", "stat", "not-a-digest")
    assert bad_name.returncode == 2 and "64 lowercase hex digits" in bad_name.stderr

    overwrite_blob(daemon, "blobs", digest, b"tampered\n")
    out = tmp_path / "out.txt"
    corrupt = ctl(daemon, "artifact", "get", digest, "--out", str(out))
    assert corrupt.returncode == 1 and "now hashes to" in corrupt.stderr
    assert not out.exists()  # the partial download is removed


def test_an_upload_cut_by_sigkill_leaves_no_blob(make_daemon) -> None:
    daemon = make_daemon()
    sent = threading.Event()

    def chunks():
        yield pb.ArtifactChunk(namespace="blobs", data=b"x" * (1 << 20))
        sent.set()
        time.sleep(30)  # the daemon is killed meanwhile; the call fails
        yield pb.ArtifactChunk(data=b"never")

    channel = grpc.insecure_channel(daemon.url)
    stub = statehouse_pb2_grpc.StatehouseServiceStub(channel)
    future = stub.PutArtifact.future(chunks(), timeout=60)
    assert sent.wait(30)
    for _ in range(200):  # bounded: the first chunk reaches the store
        if upload_started(daemon):
            break
        time.sleep(0.05)
    daemon.kill()
    with pytest.raises(grpc.RpcError):
        future.result()
    channel.close()
    daemon.start()
    digest = hashlib.sha256(b"x" * (1 << 20)).hexdigest()
    assert ctl(daemon, "artifact", "stat", digest).returncode == 3
    if daemon.database_url is None:
        assert unfinished_uploads(daemon) == 0  # the leftover file is removed at start
    else:
        # A leftover upload in the database is removed by a collection once older than its minimum age.
        assert unfinished_uploads(daemon) == 1
        assert ctl(daemon, "artifact", "gc", "--min-age", "0").returncode == 0
        assert unfinished_uploads(daemon) == 0


def test_artifacts_over_http(make_daemon, tmp_path: Path) -> None:
    from http_client import HTTP

    daemon = make_daemon()
    http = HTTP(daemon.http_url)
    data = os.urandom(3 << 20) + b"end"
    digest = hashlib.sha256(data).hexdigest()
    stored = http.request("POST", "/v1/namespaces/blobs/artifacts", data)
    assert stored.status == 201 and stored.json() == {
        "namespace": "blobs", "sha256": digest, "size": len(data), "exists": True, "deduplicated": False,
    }  # fmt: skip
    assert http.request("POST", "/v1/namespaces/blobs/artifacts", data).json()["deduplicated"] is True
    got = http.request("GET", f"/v1/namespaces/blobs/artifacts/{digest}")
    assert got.status == 200 and got.body == data
    # The gRPC side sees the same blob.
    assert ctl(daemon, "artifact", "stat", digest).stdout.strip() == f"{digest}  {len(data)} bytes"
    wrong = http.request("POST", "/v1/namespaces/blobs/artifacts?sha256=" + "0" * 64, b"other")
    assert wrong.status == 400 and "nothing was stored" in wrong.json()["detail"]
    assert http.request("GET", "/v1/namespaces/blobs/artifacts/" + "0" * 64).status == 404
    assert http.request("GET", "/v1/namespaces/blobs/artifacts/nope").status == 400
    # stat: exists and size, as StatArtifact answers.
    stat = http.request("GET", f"/v1/namespaces/blobs/artifacts/{digest}/stat")
    assert stat.status == 200 and stat.json()["exists"] is True and stat.json()["size"] == len(data)
    absent = http.request("GET", "/v1/namespaces/blobs/artifacts/" + "0" * 64 + "/stat").json()
    assert absent["exists"] is False and absent["size"] == 0
    assert http.request("GET", "/v1/namespaces/blobs/artifacts/nope/stat").status == 400


def test_collection_removes_only_blobs_nothing_mentions(make_daemon, tmp_path: Path) -> None:
    from statehouse import Put, Statehouse

    daemon = make_daemon()
    digests = {}
    for name in ("kept-by-state", "kept-by-history", "kept-by-provenance", "unreferenced"):
        path = tmp_path / name
        path.write_text(name)
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        assert ctl(daemon, "artifact", "put", str(path)).returncode == 0
    with Statehouse(url=daemon.url, namespace="blobs") as client:
        client.apply([Put("agent", "report", {"artifact": digests["kept-by-state"]})])
        client.apply([Put("agent", "draft", {"sha256": digests["kept-by-history"]})])
        client.apply([Put("agent", "draft", {"sha256": None})])  # the old version still mentions it
    config = {"source": "c", "sha256": "e" * 64, "artifact": digests["kept-by-provenance"]}
    recorded = ctl(daemon, "provenance", "record", "config", json.dumps(config), "--agent", "agent")
    assert recorded.returncode == 0, recorded.stderr
    young = ctl(daemon, "artifact", "gc")  # default: keep blobs younger than an hour
    assert young.returncode == 0 and young.stdout.strip() == "removed 0 of 4 blobs (0 bytes)", young.stderr
    collected = ctl(daemon, "artifact", "gc", "--min-age", "0", "-o", "json")
    assert json.loads(collected.stdout) == {"examined": 4, "removed": 1, "bytes_removed": len("unreferenced")}
    for name, digest in digests.items():
        assert (ctl(daemon, "artifact", "stat", digest).returncode == 0) == (name != "unreferenced"), name


def test_background_compaction_collects_blobs_no_value_names_any_more(make_daemon, tmp_path: Path) -> None:
    """After each background compaction the daemon collects, in every namespace, the blobs no stored value names and
    older than artifact-gc-min-age: a blob whose last mention compaction removed goes, one still named stays."""
    from statehouse import Put, Statehouse

    daemon = make_daemon("--compaction-interval", "1", "--artifact-gc-min-age", "0", "--retention-keep-versions", "1")
    contents = {name: f"{name} {os.urandom(8).hex()}".encode() for name in ("current", "superseded", "loose")}
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    with Statehouse(url=daemon.url, namespace="blobs") as client:
        # The values name the blobs before they are uploaded, so no collection can find them unnamed in between.
        client.apply([Put("agent", "report", {"artifact": digests["current"]})])
        client.apply([Put("agent", "draft", {"artifact": digests["superseded"]})])
        for name, data in contents.items():
            path = tmp_path / name
            path.write_bytes(data)
            assert ctl(daemon, "artifact", "put", str(path)).returncode == 0
        # Keep one version: compaction removes the value that named "superseded".
        client.apply([Put("agent", "draft", {"artifact": None})])

    def present(name: str) -> bool:
        return ctl(daemon, "artifact", "stat", digests[name]).returncode == 0

    deadline = time.monotonic() + 60
    while (present("superseded") or present("loose")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not present("superseded") and not present("loose")
    assert present("current")
    assert "Collected unreferenced artifacts" in daemon.log()


def test_namespaces_named_like_the_stores_own_directories_keep_their_blobs(make_daemon, tmp_path: Path) -> None:
    """`tmp`, `.` and `..` are valid namespace names: their blobs live beside the store's own upload directory (which
    a start empties) without being inside it or outside the store."""
    daemon = make_daemon()
    path = tmp_path / "blob"
    path.write_bytes(b"kept across a restart")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for namespace in ("tmp", ".", ".."):
        put = subprocess.run(
            [str(CTL), "--addr", daemon.url, "-n", namespace, "artifact", "put", str(path)], capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert put.returncode == 0, (namespace, put.stderr)
    daemon.restart()
    for namespace in ("tmp", ".", ".."):
        stat = subprocess.run(
            [str(CTL), "--addr", daemon.url, "-n", namespace, "artifact", "stat", digest], capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert stat.returncode == 0, (namespace, stat.stdout, stat.stderr)
    for namespace in ("tmp", ".", ".."):
        assert stored_digests(daemon, namespace) == [digest]
    if daemon.database_url is None:
        stored = sorted(p.relative_to(daemon.data_dir).as_posix() for p in daemon.data_dir.rglob(digest[2:]))
        assert stored == sorted(f"artifacts/ns.{ns}/sha256/{digest[:2]}/{digest[2:]}" for ns in ("tmp", ".", ".."))


def test_an_artifact_quota_refuses_the_upload_that_would_pass_it(make_daemon, tmp_path: Path) -> None:
    from http_client import HTTP

    daemon = make_daemon("--quota-artifact-bytes", "1000")
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_bytes(os.urandom(600))
    second.write_bytes(os.urandom(600))
    assert ctl(daemon, "artifact", "put", str(first)).returncode == 0
    refused = ctl(daemon, "artifact", "put", str(second))
    assert refused.returncode != 0 and "its quota is 1000 bytes" in refused.stderr, refused.stderr
    second_digest = hashlib.sha256(second.read_bytes()).hexdigest()
    assert ctl(daemon, "artifact", "stat", second_digest).returncode == 3  # nothing of it was kept
    for _ in range(100):  # bounded: on PostgreSQL the refused upload's chunks are dropped just after the answer
        if unfinished_uploads(daemon) == 0:
            break
        time.sleep(0.05)
    assert unfinished_uploads(daemon) == 0
    # A duplicate stores nothing, so it passes; over HTTP the refusal is 429.
    assert "(already stored)" in ctl(daemon, "artifact", "put", str(first)).stdout
    http = HTTP(daemon.http_url)
    assert http.request("POST", "/v1/namespaces/blobs/artifacts", second.read_bytes()).status == 429
    # Another namespace has a quota of its own.
    other = subprocess.run(
        [str(CTL), "--addr", daemon.url, "-n", "other", "artifact", "put", str(second)], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    # Collecting the unreferenced first blob frees its bytes.
    collected = ctl(daemon, "artifact", "gc", "--min-age", "0", "-o", "json")
    assert json.loads(collected.stdout)["bytes_removed"] == 600
    assert ctl(daemon, "artifact", "put", str(second)).returncode == 0
