"""Faults a client can cause: limits on open transactions and watchers, and clients that vanish mid-stream or
mid-transaction. Each limit answers RESOURCE_EXHAUSTED and is freed again afterwards."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from daemon import Daemon, statehoused_binary
from statehouse import AsyncStatehouse, Put, ResourceExhaustedError, StateResult, Statehouse, StatehouseError
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc


def test_ten_thousand_open_transactions_hit_the_limit_and_are_freed(make_daemon) -> None:
    daemon = make_daemon()  # the default limit: 10,000 open transactions

    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url) as client:
            transactions = await asyncio.gather(*(client.begin_transaction() for _ in range(10_000)))
            with pytest.raises(ResourceExhaustedError, match="too many open transactions"):
                await client.begin_transaction()
            await asyncio.gather(*(tx.abort() for tx in transactions))
            again = await client.begin_transaction()
            again.write("a", "k", 1)
            assert await again.commit() == 1

    asyncio.run(main())


def test_watchers_hit_their_limit_and_are_freed_when_clients_vanish(make_daemon) -> None:
    daemon = make_daemon("--max-watchers", "3")
    channels = [grpc.insecure_channel(daemon.url) for _ in range(3)]
    streams = []
    for channel in channels:
        stream = statehouse_pb2_grpc.StatehouseServiceStub(channel).Watch(pb.WatchRequest(namespace="default"))
        streams.append(stream)
    with Statehouse(url=daemon.url) as client:
        client.apply([Put("a", "k", 1)])
        for stream in streams:  # all three are live: each receives the commit
            assert next(stream).events[0].commit_ts == 1
        with pytest.raises(ResourceExhaustedError, match="watch"):
            next(iter(client.watch(from_ts=1)))
        for channel in channels:  # the clients vanish without cancelling anything
            channel.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                with client.watch(from_ts=1) as stream:
                    assert next(stream).commit_ts == 1
                break
            except ResourceExhaustedError:
                assert time.monotonic() < deadline, "watchers of closed connections were never freed"
                time.sleep(0.1)
        assert client.health() == "ok"


def test_a_transaction_whose_client_vanished_expires_and_frees_its_slot(make_daemon) -> None:
    daemon = make_daemon("--max-open-transactions", "1")
    abandoned = Statehouse(url=daemon.url)
    tx = abandoned.begin_transaction(timeout_ms=500)
    tx.write("a", "k", "never committed")
    abandoned.close()
    with Statehouse(url=daemon.url) as client:
        with pytest.raises(ResourceExhaustedError):
            client.begin_transaction()
        deadline = time.monotonic() + 30
        while True:
            try:
                fresh = client.begin_transaction()
                break
            except ResourceExhaustedError:
                assert time.monotonic() < deadline, "the abandoned transaction was never reaped"
                time.sleep(0.2)
        fresh.write("a", "k", "committed")
        fresh.commit()
        assert [item.value for item in client.history("a", "k")] == ["committed"]


def test_a_client_that_vanishes_mid_replay_or_mid_session_leaves_the_daemon_serving(make_daemon) -> None:
    daemon = make_daemon()
    with Statehouse(url=daemon.url) as client:
        with client.begin_transaction() as tx:
            for index in range(3000):
                tx.write("a", f"k{index}", index)
        for _ in range(3):
            channel = grpc.insecure_channel(daemon.url)
            replay = statehouse_pb2_grpc.StatehouseServiceStub(channel).Replay(
                pb.ReplayRequest(filter=pb.LogFilter(namespace="default")))
            next(replay)
            channel.close()  # mid-stream

        async def abandon_session() -> None:
            async_client = AsyncStatehouse(url=daemon.url, timeout=None)  # no deadline would rescue a lost call
            pending = [asyncio.ensure_future(async_client.get_state("a", f"k{i}")) for i in range(200)]
            await asyncio.sleep(0)
            await async_client.close()  # with requests in flight
            # Every call ends: answered before the close, or failed by it; none is left waiting.
            results = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 30)
            assert all(isinstance(result, (StateResult, StatehouseError)) for result in results)
            with pytest.raises(StatehouseError, match="closed"):
                await async_client.get_state("a", "k1")

        asyncio.run(abandon_session())
        assert client.get_state("a", "k2999").value == 2999
        assert client.verify().ok


# ---- the disk: full, read-only ------------------------------------------------------------------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

from statehouse import UnavailableError  # noqa: E402


def mount_tmpfs(path: Path, size: str) -> None:
    """A size-limited tmpfs for the data directory; skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a size-limited tmpfs")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_refuses_commits_keeps_serving_reads_and_recovers(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "8m")
    daemon = None
    try:
        ballast = disk / "ballast"
        ballast.write_bytes(b"\0" * (3 * 1024 * 1024))  # freed later, to give the space back
        daemon = Daemon(disk / "data").start()
        acknowledged = []
        with Statehouse(url=daemon.url, commit_retry_timeout=1) as client:
            refusal = None
            for index in range(1000):
                try:
                    client.apply([Put("a", f"k{index}", "x" * 32_000)])
                    acknowledged.append(index)
                except StatehouseError as error:
                    refusal = error
                    break
            assert acknowledged and refusal is not None, "the disk never filled"
            assert isinstance(refusal, ResourceExhaustedError), repr(refusal)
            assert "full" in str(refusal)
            # Reads go on while writes are refused.
            assert client.get_state("a", f"k{acknowledged[-1]}").value == "x" * 32_000
            assert client.verify().ok
            with pytest.raises(ResourceExhaustedError):
                client.apply([Put("a", "more", "x" * 32_000)])

            ballast.unlink()  # space returns
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.apply([Put("a", "after", "space is back")])
                    break
                except ResourceExhaustedError:
                    assert time.monotonic() < deadline, "writes did not recover when space returned"
                    time.sleep(0.2)
        daemon.stop()
        daemon.start()
        with Statehouse(url=daemon.url) as client:
            for index in acknowledged:
                assert client.get_state("a", f"k{index}").exists, f"acknowledged k{index} lost"
            assert client.get_state("a", "after").value == "space is back"
            assert client.head().commit_ts == len(acknowledged) + 1
            assert client.verify().ok
    finally:
        if daemon is not None:
            daemon.kill()
        unmount(disk)


def test_a_read_only_data_directory_is_refused_at_startup_with_its_cause(tmp_path: Path) -> None:
    # Linux will not remount a filesystem read-only while a daemon holds files open for writing (EBUSY), so the
    # read-only case is checked at the next start, which is where an operator meets it.
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "64m")
    daemon = None
    try:
        daemon = Daemon(disk / "data").start()
        with Statehouse(url=daemon.url) as client:
            client.apply([Put("a", "k", 1)])
        daemon.stop()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        refused = subprocess.run(
            [str(statehoused_binary()), "--listen", f"127.0.0.1:{daemon.port}", "--data-dir", str(disk / "data")],
            capture_output=True, text=True, timeout=60,
        )
        assert refused.returncode == 1
        assert "not writable" in refused.stderr or "cannot be opened for writing" in refused.stderr, refused.stderr
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        daemon.start()
        with Statehouse(url=daemon.url) as client:
            assert client.get_state("a", "k").value == 1 and client.verify().ok
    finally:
        if daemon is not None:
            daemon.kill()
        unmount(disk)
