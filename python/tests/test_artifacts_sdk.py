"""The SDK's artifact methods against a real daemon, sync and async: bytes, files and file objects round trip (streamed
in 1 MiB chunks), equal content is stored once, an upload that does not hash to what it was sent as stores nothing,
a corrupted blob is DataLossError (and a download leaves no partial file), and the SDK and the CLI name a file alike."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any, List

import pytest

from artifact_storage import overwrite_blob, stored_bytes
from daemon import Daemon, statehoused_binary
from statehouse import (
    ArtifactInfo,
    AsyncStatehouse,
    DataLossError,
    InvalidArgumentError,
    NotFoundError,
    Statehouse,
)
from statehouse.artifacts import CHUNK_SIZE

BIG = 5 * CHUNK_SIZE + 123  # 5 MiB and a bit: several chunks, the last one short


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Reader(io.RawIOBase):
    """A binary file object that records the sizes it is asked for (the SDK must never read it whole)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.asked: List[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        return self._data.read(size)


def test_bytes_files_and_file_objects_round_trip(daemon: Daemon, namespace: str, tmp_path: Path) -> None:
    data = os.urandom(BIG)
    digest = sha256(data)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        info = client.put_artifact(path)
        assert info == ArtifactInfo(namespace, digest, BIG, True, False)
        assert client.put_artifact(str(path)).deduplicated
        assert client.put_artifact(data).sha256 == digest
        reader = Reader(data)
        assert client.put_artifact(reader) == ArtifactInfo(namespace, digest, BIG, True, True)
        assert reader.asked and set(reader.asked) == {CHUNK_SIZE}
        with open(path, "rb") as file:
            file.seek(BIG - 10)  # a file object is read from where it is
            assert client.put_artifact(file).sha256 == sha256(data[-10:])

        assert client.get_artifact(digest) == data
        chunks = list(client.iter_artifact(digest))
        assert len(chunks) > 1 and b"".join(chunks) == data
        copy = tmp_path / "copy.bin"
        assert client.download_artifact(digest, copy) == BIG
        assert copy.read_bytes() == data
        assert client.stat_artifact(digest) == ArtifactInfo(namespace, digest, BIG, True, False)

        empty = client.put_artifact(b"")
        assert empty == ArtifactInfo(namespace, sha256(b""), 0, True, False)
        assert client.get_artifact(empty.sha256) == b""
    # Stored once, by content, in the namespace's own directory (or rows).
    assert stored_bytes(daemon, namespace, digest) == data


def test_the_async_client_round_trips_and_agrees(daemon: Daemon, namespace: str, tmp_path: Path) -> None:
    data = os.urandom(BIG)
    digest = sha256(data)
    path = tmp_path / "big.bin"
    path.write_bytes(data)

    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            assert await client.put_artifact(path) == ArtifactInfo(namespace, digest, BIG, True, False)
            assert (await client.put_artifact(data)).deduplicated
            with open(path, "rb") as file:
                assert (await client.put_artifact(file)).deduplicated
            assert await client.get_artifact(digest) == data
            chunks = [chunk async for chunk in client.iter_artifact(digest)]
            assert len(chunks) > 1 and b"".join(chunks) == data
            copy = tmp_path / "async-copy.bin"
            assert await client.download_artifact(digest, copy) == BIG
            assert copy.read_bytes() == data
            assert (await client.stat_artifact(digest)).size == BIG
            absent = await client.stat_artifact("0" * 64)
            assert absent == ArtifactInfo(namespace, "0" * 64, 0, False, False)
            with pytest.raises(NotFoundError):
                await client.get_artifact("0" * 64)
            with pytest.raises(InvalidArgumentError):
                await client.put_artifact(b"x", expected_sha256="f" * 64)
            assert not (await client.stat_artifact(sha256(b"x"))).exists
            with pytest.raises(InvalidArgumentError):
                await client.stat_artifact("not-a-digest")
            # Pipelined unary calls still work beside the streams.
            assert await client.health() == "ok"

    asyncio.run(main())
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        assert client.get_artifact(digest) == data


def test_namespaces_are_separate_and_the_client_namespace_is_the_default(daemon: Daemon, namespace: str) -> None:
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        info = client.put_artifact(b"only here")
        assert info.namespace == namespace
        other = f"{namespace}-other"
        assert not client.stat_artifact(info.sha256, namespace=other).exists
        with pytest.raises(NotFoundError):
            client.get_artifact(info.sha256, namespace=other)
        moved = client.put_artifact(b"only here", namespace=other)
        assert moved.namespace == other and not moved.deduplicated


def test_an_expected_digest_that_does_not_match_stores_nothing(daemon: Daemon, namespace: str) -> None:
    data = os.urandom(CHUNK_SIZE + 1)
    digest = sha256(data)
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        with pytest.raises(InvalidArgumentError):
            client.put_artifact(data, expected_sha256="f" * 64)
        assert not client.stat_artifact(digest).exists
        assert stored_bytes(daemon, namespace, digest) is None
        assert client.put_artifact(data, expected_sha256=digest).sha256 == digest


def test_absent_and_malformed_digests(daemon: Daemon, namespace: str, tmp_path: Path) -> None:
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        assert client.stat_artifact("a" * 64) == ArtifactInfo(namespace, "a" * 64, 0, False, False)
        with pytest.raises(NotFoundError):
            client.get_artifact("a" * 64)
        out = tmp_path / "absent.bin"
        with pytest.raises(NotFoundError):
            client.download_artifact("a" * 64, out)
        assert not out.exists()
        for bad in ("not-a-digest", "A" * 64, "a" * 63):
            with pytest.raises(InvalidArgumentError):
                client.stat_artifact(bad)
            with pytest.raises(InvalidArgumentError):
                client.get_artifact(bad)
        with pytest.raises(InvalidArgumentError):
            client.put_artifact(b"x", expected_sha256="not-a-digest")
        with pytest.raises(InvalidArgumentError):
            client.put_artifact(12345)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError):
            client.put_artifact(io.StringIO("text"))  # type: ignore[arg-type]
        with pytest.raises(FileNotFoundError):
            client.put_artifact(tmp_path / "no-such-file")


def test_a_source_that_fails_mid_upload_raises_its_own_error_and_stores_nothing(daemon: Daemon, namespace: str) -> None:
    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.reads = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            if self.reads > 2:
                raise OSError("the disk went away")
            return b"y" * size

    with Statehouse(url=daemon.url, namespace=namespace) as client:
        with pytest.raises(OSError, match="the disk went away"):
            client.put_artifact(Failing())
        assert not client.stat_artifact(sha256(b"y" * (2 * CHUNK_SIZE))).exists

    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            with pytest.raises(OSError, match="the disk went away"):
                await client.put_artifact(Failing())
            assert await client.health() == "ok"

    asyncio.run(main())


def test_a_corrupted_blob_is_data_loss_and_a_download_leaves_nothing(
    daemon: Daemon, namespace: str, tmp_path: Path
) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    digest = sha256(data)
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        client.put_artifact(data)
        corrupted = bytearray(data)
        corrupted[-1] ^= 0xFF  # same size, last byte flipped: only the end of the stream can tell
        overwrite_blob(daemon, namespace, digest, bytes(corrupted))

        with pytest.raises(DataLossError) as caught:
            client.get_artifact(digest)
        assert caught.value.reason == "data_corruption"
        received: List[bytes] = []
        with pytest.raises(DataLossError):
            for chunk in client.iter_artifact(digest):
                received.append(chunk)
        assert b"".join(received) == bytes(corrupted)  # every chunk came, then the error
        out = tmp_path / "out.bin"
        with pytest.raises(DataLossError):
            client.download_artifact(digest, out)
        assert not out.exists()

    async def main() -> Any:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            out = tmp_path / "async-out.bin"
            with pytest.raises(DataLossError) as caught:
                await client.download_artifact(digest, out)
            assert caught.value.reason == "data_corruption"
            assert not out.exists()
            with pytest.raises(DataLossError):
                await client.get_artifact(digest)

    asyncio.run(main())


def test_the_sdk_and_the_cli_name_a_file_alike(daemon: Daemon, namespace: str, tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 7)
    path = tmp_path / "shared.bin"
    path.write_bytes(data)
    ctl = statehoused_binary().with_name("statehousectl")
    if not ctl.exists():
        pytest.skip(f"no statehousectl beside {statehoused_binary()}")
    put = subprocess.run(
        [str(ctl), "--addr", daemon.url, "-n", namespace, "artifact", "put", str(path), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert put.returncode == 0, put.stderr
    printed = json.loads(put.stdout)
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        info = client.put_artifact(path)
    assert info.sha256 == printed["sha256"] == sha256(data)
    assert info.size == printed["size"] == len(data)
    assert info.deduplicated and not printed["deduplicated"]
