"""What a test daemon stores of a namespace's artifacts, whichever its backend: the files of its data directory
(SQLite) or the rows of its database (PostgreSQL, STATEHOUSE_TEST_BACKEND=postgres), for the tests that look at what
is stored or damage it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List, Optional

from daemon import Daemon, psql


def _sql(daemon: Daemon, statement: str) -> str:
    """Runs SQL on the daemon's database (given on standard input: a statement may hold megabytes of hex)."""
    assert daemon.database_url is not None
    done = subprocess.run(
        [psql(), daemon.database_url, "-qAt", "-v", "ON_ERROR_STOP=1", "-f", "-"],
        input=statement,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def blob_path(daemon: Daemon, namespace: str, digest: str) -> Path:
    return daemon.data_dir / "artifacts" / f"ns.{namespace}" / "sha256" / digest[:2] / digest[2:]


def stored_bytes(daemon: Daemon, namespace: str, digest: str) -> Optional[bytes]:
    """The bytes stored under `digest`, or None when the namespace holds no such blob."""
    if daemon.database_url is None:
        path = blob_path(daemon, namespace, digest)
        return path.read_bytes() if path.exists() else None
    rows = _sql(
        daemon,
        "SELECT encode(c.bytes, 'hex') FROM statehouse_artifacts AS a "
        "LEFT JOIN statehouse_artifact_chunks AS c ON c.blob_id = a.blob_id "
        f"WHERE a.namespace = {_quote(namespace)} AND a.sha256 = {_quote(digest)} ORDER BY c.seq",
    ).splitlines()
    return None if not rows else bytes.fromhex("".join(rows))


def stored_digests(daemon: Daemon, namespace: str) -> List[str]:
    """The digests of the namespace's blobs, sorted."""
    if daemon.database_url is None:
        root = daemon.data_dir / "artifacts" / f"ns.{namespace}" / "sha256"
        return sorted(path.parent.name + path.name for path in root.rglob("*") if path.is_file())
    return _sql(
        daemon, f"SELECT sha256 FROM statehouse_artifacts WHERE namespace = {_quote(namespace)} ORDER BY sha256"
    ).split()


def overwrite_blob(daemon: Daemon, namespace: str, digest: str, data: bytes) -> None:
    """Replaces what is stored under `digest` with `data` (damage the daemon must notice when it reads)."""
    if daemon.database_url is None:
        blob_path(daemon, namespace, digest).write_bytes(data)
        return
    where = f"namespace = {_quote(namespace)} AND sha256 = {_quote(digest)}"
    blob = f"(SELECT blob_id FROM statehouse_artifacts WHERE {where})"
    _sql(
        daemon,
        f"BEGIN; DELETE FROM statehouse_artifact_chunks WHERE blob_id = {blob}; "
        "INSERT INTO statehouse_artifact_chunks(blob_id, seq, bytes) "
        f"VALUES ({blob}, 0, decode('{data.hex()}', 'hex')); COMMIT;",
    )


def upload_started(daemon: Daemon) -> bool:
    """Whether some bytes of an upload that has not finished are stored (in a temporary file, or in chunk rows)."""
    if daemon.database_url is None:
        return any(path.stat().st_size > 0 for path in (daemon.data_dir / "artifacts" / "tmp").iterdir())
    return _sql(daemon, "SELECT count(*) FROM statehouse_artifact_chunks").strip() != "0"


def unfinished_uploads(daemon: Daemon) -> int:
    """Uploads whose bytes are kept though no blob is named by them: temporary files, or blob rows no artifact names."""
    if daemon.database_url is None:
        return len(list((daemon.data_dir / "artifacts" / "tmp").iterdir()))
    count = _sql(
        daemon,
        "SELECT count(*) FROM statehouse_artifact_blobs AS b "
        "WHERE NOT EXISTS (SELECT 1 FROM statehouse_artifacts AS a WHERE a.blob_id = b.id)",
    )
    return int(count.strip())
