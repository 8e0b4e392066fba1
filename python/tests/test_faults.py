"""Faults a client can cause: limits on open transactions and watchers, and clients that vanish mid-stream or
mid-transaction. Each limit answers RESOURCE_EXHAUSTED and is freed again afterwards."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from daemon import Daemon, statehoused_binary
from daemon_transactions import begin_on_daemon, begin_on_daemon_async
from statehouse import AsyncStatehouse, Put, ResourceExhaustedError, StateResult, Statehouse, StatehouseError
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc


def test_ten_thousand_open_transactions_hit_the_limit_and_are_freed(make_daemon) -> None:
    daemon = make_daemon()  # the default limit: 10,000 open transactions

    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url) as client:
            transactions = await asyncio.gather(*(begin_on_daemon_async(client) for _ in range(10_000)))
            with pytest.raises(ResourceExhaustedError, match="too many open transactions"):
                await begin_on_daemon_async(client)
            await asyncio.gather(*(tx.abort() for tx in transactions))
            again = await begin_on_daemon_async(client)
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
    tx = begin_on_daemon(abandoned, timeout_ms=500)
    tx.write("a", "k", "never committed")
    abandoned.close()
    with Statehouse(url=daemon.url) as client:
        with pytest.raises(ResourceExhaustedError):
            begin_on_daemon(client)
        deadline = time.monotonic() + 30
        while True:
            try:
                fresh = begin_on_daemon(client)
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
                pb.ReplayRequest(filter=pb.LogFilter(namespace="default"))
            )
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
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.mark.sqlite_only(reason="fills the file system of the SQLite store")
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
    # A data directory that is read-only when the daemon starts (the case of one turning read-only under a running
    # daemon is the ext4 test below).
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
            capture_output=True,
            text=True,
            timeout=60,
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


def mount_ext4_image(image: Path, mount_point: Path, size: str) -> Path:
    """A fresh ext4 filesystem in a file, loop-mounted with errors=remount-ro; returns its sysfs directory.

    ext4's `trigger_fs_error` (in that sysfs directory) records a filesystem error, and errors=remount-ro then
    turns the mounted filesystem read-only at once, with files still open: the way a failing disk or a
    filesystem error takes a data directory away from a running daemon. Skips where loop mounts are not allowed.
    """
    mount_point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("needs root to loop-mount an ext4 image")
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make an ext4 image here: {made.stderr.strip() or made.returncode}")
    mount_ext4(image, mount_point)
    device = subprocess.run(["findmnt", "-no", "SOURCE", str(mount_point)], capture_output=True, text=True)
    sysfs = Path("/sys/fs/ext4") / Path(device.stdout.strip()).name
    if not (sysfs / "trigger_fs_error").exists():
        unmount(mount_point)
        pytest.skip(f"this kernel has no {sysfs}/trigger_fs_error to turn the filesystem read-only")
    return sysfs


def mount_ext4(image: Path, mount_point: Path) -> None:
    mounted = subprocess.run(
        ["mount", "-o", "loop,errors=remount-ro", str(image), str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount an ext4 image here: {mounted.stderr.strip()}")


@pytest.mark.sqlite_only(reason="remounts the file system of the SQLite store read-only")
def test_a_filesystem_turning_read_only_under_the_daemon_refuses_writes_keeps_reads_and_loses_nothing(
    tmp_path: Path,
) -> None:
    import threading

    image, disk = tmp_path / "disk.img", tmp_path / "disk"
    sysfs = mount_ext4_image(image, disk, "64M")
    daemon = Daemon(disk)  # the mount point is the data directory, so the daemon's log beside it stays writable
    try:
        daemon.start()
        acknowledged: dict = {}  # (agent, key) -> (value, commit_ts)
        failures: list = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(number: int) -> None:
            # Writes until the filesystem goes away (bounded in count and time either way).
            give_up = time.monotonic() + 30
            with Statehouse(url=daemon.url, commit_retry_timeout=1) as client:
                for index in range(20_000):
                    if stop.is_set() or time.monotonic() > give_up:
                        return
                    value = {"writer": number, "index": index}
                    try:
                        result = client.apply([Put(f"w{number}", f"k{index}", value)])
                    except StatehouseError as error:
                        with lock:
                            failures.append(error)
                        return
                    with lock:
                        acknowledged[(f"w{number}", f"k{index}")] = (value, result.commit_ts)

        threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        (sysfs / "trigger_fs_error").write_text("statehouse test: take the data directory away\n")
        deadline = time.monotonic() + 20
        while len(failures) < len(threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert len(acknowledged) >= 200, "the writers did not get going"
        assert failures, "no write failed after the filesystem turned read-only"
        for error in failures:
            assert isinstance(error, UnavailableError), repr(error)
            assert "read-only" in str(error), str(error)

        with Statehouse(url=daemon.url, commit_retry_timeout=1) as client:
            # Writes, one-shot and interactive, are refused with the cause ...
            with pytest.raises(UnavailableError, match="read-only"):
                client.apply([Put("late", "k", 1)])
            with pytest.raises(UnavailableError, match="read-only"):
                with client.begin_transaction() as tx:
                    tx.write("late", "t", 1)
            # ... while every read goes on, and shows everything that was acknowledged.
            assert client.health() == "ok"
            for (agent, key), (value, commit_ts) in acknowledged.items():
                state = client.get_state(agent, key)
                assert (state.value, state.commit_ts) == (value, commit_ts)
            verified = client.verify()
            assert verified.ok and verified.events_checked >= len(acknowledged)
            assert len(list(client.replay())) == verified.events_checked
            assert client.get_state("late", "k").exists is False
        daemon.stop()

        # The operator's recovery: unmount, repair, mount, start. Nothing acknowledged is lost.
        subprocess.run(["umount", str(disk)], check=True)
        repaired = subprocess.run(["e2fsck", "-fy", str(image)], capture_output=True, text=True)
        assert repaired.returncode in (0, 1), repaired.stdout + repaired.stderr  # 1: errors were corrected
        mount_ext4(image, disk)
        daemon.start()
        with Statehouse(url=daemon.url) as client:
            for (agent, key), (value, commit_ts) in acknowledged.items():
                state = client.get_state(agent, key)
                assert (state.value, state.commit_ts) == (value, commit_ts), f"acknowledged {agent}/{key} lost"
            head = client.head().commit_ts
            assert head >= len(acknowledged)  # a commit made durable just before its reply failed may add one
            assert client.apply([Put("late", "k", "writable again")]).commit_ts == head + 1
            assert client.verify().ok
    finally:
        daemon.kill()
        unmount(disk)


def test_reads_ride_out_the_daemon_closing_a_connection_that_cancels_too_many_streams(make_daemon) -> None:
    # The daemon's HTTP/2 layer (swift-nio-http2's denial-of-service heuristics) closes a connection that resets more
    # than 200 streams in 30 s with GOAWAY ENHANCE_YOUR_CALM; every call in flight on it fails UNAVAILABLE. All the
    # Statehouse clients of a process share one connection, so a burst of closed watches must not fail the reads
    # another thread is making.
    import threading

    daemon = make_daemon()
    with Statehouse(url=daemon.url) as writer:
        for index in range(5):
            writer.apply([Put("a", f"k{index}", index)])
    failures: list = []
    reads = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal reads
        with Statehouse(url=daemon.url) as client:
            give_up = time.monotonic() + 120
            while not stop.is_set() and time.monotonic() < give_up:
                try:
                    assert client.get_state("a", "k1").value == 1
                    reads += 1
                except StatehouseError as error:
                    failures.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with Statehouse(url=daemon.url) as client:
            for _ in range(300):
                stream = client.watch(from_ts=1)
                for count, _event in enumerate(stream, start=1):
                    if count == 3:
                        break
                stream.close()  # a RST_STREAM on the shared connection
    finally:
        stop.set()
        reader.join(timeout=60)
    assert reads > 0
    assert failures == [], failures[:3]
    with Statehouse(url=daemon.url) as client:
        assert client.verify().ok
