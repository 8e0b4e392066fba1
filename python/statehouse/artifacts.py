"""Artifacts: content-addressed blobs of a namespace (docs/api.md, "Artifacts").

A blob is named by the SHA-256 of its content (64 lowercase hex digits) and stored once per namespace: putting the
same content again writes nothing (``deduplicated``). Blobs are streamed in and out in chunks of :data:`CHUNK_SIZE`, so
neither the client nor the daemon holds a whole blob in memory::

    from statehouse import Statehouse

    with Statehouse() as client:
        info = client.put_artifact("model.bin")  # bytes, a path or a binary file object
        client.download_artifact(info.sha256, "copy.bin")

The daemon checks a blob against its name as it sends it: one that no longer hashes to its digest ends the stream
with :class:`~statehouse.exceptions.DataLossError` (reason ``data_corruption``) *after* the last chunk, so a reader
must discard what it received (``get_artifact`` and ``download_artifact`` do).

The types the clients return, and the pieces both clients share (see ``_operations``).
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Iterator, Optional, Union

from . import exceptions as errors
from ._operations import Call, Plan
from ._proto import statehouse_pb2 as pb

__all__ = ["CHUNK_SIZE", "ArtifactInfo", "ArtifactSource"]

CHUNK_SIZE = 1 << 20
"""Bytes per message of an upload (the daemon chooses its own for downloads)."""

ArtifactSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO, IO[bytes]]
"""What ``put_artifact`` stores: the bytes themselves, a file's path, or a binary file object (read from where it is
to its end)."""


@dataclass(frozen=True)
class ArtifactInfo:
    """A blob of a namespace (:meth:`Statehouse.put_artifact <statehouse.Statehouse.put_artifact>`,
    :meth:`~statehouse.Statehouse.stat_artifact`).

    Attributes:
        namespace: the namespace that holds it.
        sha256: its name, the SHA-256 of its content in 64 lowercase hex digits.
        size: its length in bytes (0 when it does not exist).
        exists: it is stored (``stat_artifact`` of an absent blob: False).
        deduplicated: for an upload: the content was stored already, nothing was written.
    """

    namespace: str
    sha256: str
    size: int
    exists: bool
    deduplicated: bool = False


def artifact_info(message: pb.ArtifactInfo) -> ArtifactInfo:
    return ArtifactInfo(
        namespace=message.namespace,
        sha256=message.sha256,
        size=message.size,
        exists=message.exists,
        deduplicated=message.deduplicated,
    )


def _digest_text(name: str, value: Any) -> str:
    # The daemon checks the form (INVALID_ARGUMENT names it); only the type is the client's to check.
    if not isinstance(value, str):
        raise errors.InvalidArgumentError(
            f"{name} must be a str of 64 lowercase hex digits, not {type(value).__name__}"
        )
    return value


def get_request(namespace: str, sha256: str) -> pb.GetArtifactRequest:
    return pb.GetArtifactRequest(namespace=namespace, sha256=_digest_text("sha256", sha256))


def stat_artifact(namespace: str, sha256: str) -> Plan:
    response = yield Call("StatArtifact", get_request(namespace, sha256), read_only=True)
    return artifact_info(response)


class Upload:
    """The messages of one upload, read from a source a chunk at a time and hashed on the way.

    ``chunks()`` (the sync client) or ``read()`` (the async client, in a worker thread) give the data; the first
    message carries the namespace and the expected digest. An error reading the source is kept in ``error`` so the
    client can raise it instead of the cancelled call's.
    """

    def __init__(self, namespace: str, source: ArtifactSource, expected_sha256: Optional[str]) -> None:
        if expected_sha256 is not None:
            _digest_text("expected_sha256", expected_sha256)
        self.namespace = namespace
        self.expected_sha256 = expected_sha256 or ""
        self.hash = hashlib.sha256()
        self.size = 0
        self.error: Optional[BaseException] = None
        self._first = True
        self._owned: Optional[BinaryIO] = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._file: Any = io.BytesIO(source)
        elif isinstance(source, (str, os.PathLike)):
            self._file = self._owned = open(source, "rb")  # noqa: SIM115 - closed by close()
        elif hasattr(source, "read"):
            self._file = source
        else:
            raise errors.InvalidArgumentError(
                f"an artifact's source is bytes, a path or a binary file object, not {type(source).__name__}"
            )

    def read(self) -> Optional[pb.ArtifactChunk]:
        """The next message, or None at the end of the source."""
        data = self._file.read(CHUNK_SIZE)
        if not isinstance(data, (bytes, bytearray)):
            raise errors.InvalidArgumentError(
                f"an artifact's file object must be opened in binary mode (read gave {type(data).__name__})"
            )
        if not data and not self._first:
            return None
        self.hash.update(data)
        self.size += len(data)
        if self._first:
            self._first = False
            return pb.ArtifactChunk(namespace=self.namespace, expected_sha256=self.expected_sha256, data=bytes(data))
        return pb.ArtifactChunk(data=bytes(data))

    def chunks(self) -> Iterator[pb.ArtifactChunk]:
        try:
            while True:
                message = self.read()
                if message is None:
                    return
                yield message
        except BaseException as error:
            self.error = error
            raise

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    def checked(self, message: pb.ArtifactInfo) -> ArtifactInfo:
        """The daemon's answer, checked against what was sent."""
        info = artifact_info(message)
        if info.sha256 != self.hash.hexdigest() or info.size != self.size:
            raise errors.DataLossError(
                f"the daemon stored the artifact as {info.sha256} ({info.size} bytes), but the client sent "
                f"{self.hash.hexdigest()} ({self.size} bytes)"
            )
        return info


class Download:
    """Hashes a download's chunks; ``finish()`` at the end of the stream checks them against the name asked for (the
    daemon checks too, and ends a corrupted blob's stream with DATA_LOSS before this runs)."""

    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256
        self.hash = hashlib.sha256()

    def add(self, data: bytes) -> bytes:
        self.hash.update(data)
        return data

    def finish(self) -> None:
        received = self.hash.hexdigest()
        if received != self.sha256:
            raise errors.DataLossError(f"the artifact {self.sha256} was received as content hashing to {received}")


def remove_partial(path: Union[str, os.PathLike[str]]) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
