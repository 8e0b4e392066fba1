"""Starts and stops a real statehoused for the tests: a free loopback port and a temporary data directory."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, List, Optional

REPO = Path(__file__).resolve().parents[2]


def statehoused_binary() -> Path:
    """The daemon to test: $STATEHOUSED, else the one `swift build` made (debug, then release)."""
    configured = os.environ.get("STATEHOUSED")
    if configured:
        return Path(configured)
    for configuration in ("debug", "release"):
        candidate = REPO / ".build" / configuration / "statehoused"
        if candidate.exists():
            return candidate
    raise RuntimeError("statehoused not found: run `swift build` in the repository (or set STATEHOUSED to the binary)")


def backend() -> str:
    """The storage the tests' daemons use: STATEHOUSE_TEST_BACKEND, `sqlite` (the default) or `postgres`.

    With `postgres`, every daemon a test starts gets a database of its own on the server at
    STATEHOUSE_TEST_POSTGRES_URL (scripts/test.sh runs the service tests a second time this way).
    """
    return os.environ.get("STATEHOUSE_TEST_BACKEND", "sqlite")


def psql() -> str:
    """Debian's psql (scripts/postgres.sh installs the server package, which brings it)."""
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))), None)
    if found is None:
        raise RuntimeError("psql is not installed: run scripts/test.sh, which installs PostgreSQL")
    return found


def postgres_server_url() -> str:
    server = os.environ.get("STATEHOUSE_TEST_POSTGRES_URL")
    if not server:
        raise RuntimeError(
            "STATEHOUSE_TEST_POSTGRES_URL is not set: run scripts/test.sh, or start a server with "
            "'scripts/postgres.sh start DIR' and export the URL it prints"
        )
    return server


def create_database() -> str:
    """A new, empty database on the test server; returns its URL."""
    server = postgres_server_url()
    name = f"statehouse_py_{uuid.uuid4().hex}"
    subprocess.run([psql(), server, "-qc", f"CREATE DATABASE {name}"], check=True, timeout=60, capture_output=True)
    return f"{server.rsplit('/', 1)[0]}/{name}?sslmode=disable"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    subprocess.run(
        [psql(), postgres_server_url(), "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
        check=True,
        timeout=60,
        capture_output=True,
    )


# Daemons that made a database (STATEHOUSE_TEST_BACKEND=postgres) whose database is not dropped yet.
_with_databases: List[Daemon] = []


def drop_databases(of_running_daemons: bool = False) -> None:
    """Drops the databases of the daemons that have stopped (after each test), or of all of them (at the end)."""
    for daemon in list(_with_databases):
        running = daemon.process is not None and daemon.process.poll() is None
        if running and not of_running_daemons:
            continue
        if running:
            daemon.kill()
        _with_databases.remove(daemon)
        if daemon.database_url is not None:
            drop_database(daemon.database_url)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _PortTaken(RuntimeError):
    """The daemon could not listen: a port it was given was taken meanwhile."""


class Daemon:
    """One statehoused process on 127.0.0.1 with its own data directory; restartable on the same port and data."""

    def __init__(self, data_dir: Path, extra_args: Optional[List[str]] = None, client_tls: Any = None) -> None:
        self.data_dir = data_dir
        self.extra_args = extra_args or []
        # How start() reaches a daemon that serves TLS (a statehouse.TLS), for its health check.
        self.client_tls = client_tls
        self.port = free_port()
        self.http_port = free_port()
        self.started_once = False
        self.process: Optional[subprocess.Popen] = None
        self.log_path = data_dir.parent / f"statehoused-{self.port}.log"
        # Under STATEHOUSE_TEST_BACKEND=postgres a daemon not told otherwise keeps its state in a database of its own,
        # made at its first start and kept across restarts (as its data directory is).
        self.database_url: Optional[str] = None
        if backend() == "postgres" and "--backend" not in self.extra_args:
            self.database_url = create_database()
            self.extra_args = ["--backend", "postgres", "--postgres-url", self.database_url, *self.extra_args]
            _with_databases.append(self)

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        """Base URL of the daemon's HTTP listener (API, probes, metrics, console)."""
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout: float = 30.0) -> Daemon:
        """Starts the daemon and waits until it answers Health.

        A port found free can be taken before the daemon binds it (by any process's outgoing connection: PostgreSQL
        clients make many), so a first start that fails with "address already in use" tries new ports, at most four
        times. A restart keeps its ports: its clients know them.
        """
        for attempt in range(4):
            try:
                return self._start_once(timeout)
            except _PortTaken:
                if self.started_once or attempt == 3:
                    raise
                self.port, self.http_port = free_port(), free_port()
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> Daemon:
        from statehouse import Statehouse, StatehouseError

        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                str(statehoused_binary()),
                *("--listen", self.url, "--data-dir", str(self.data_dir)),
                *("--http-listen", f"127.0.0.1:{self.http_port}"),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        with Statehouse(url=self.url, timeout=2.0, tls=self.client_tls) as client:
            while True:
                if self.process.poll() is not None:
                    written = self.log_path.read_text(errors="replace")[log_start:]
                    if "ddress already in use" in written or "address is already in use" in written:
                        raise _PortTaken(written)
                    raise RuntimeError(f"statehoused exited with {self.process.returncode}: {self.log()}")
                try:
                    if client.health() == "ok":
                        self.started_once = True
                        return self
                except StatehouseError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"statehoused did not become healthy in {timeout} s: {self.log()}")
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, expecting a clean exit with status 0.

        Open watches and sessions must not hold the daemon up: it has to exit well before its 30 s grace period
        (which would otherwise hide a stream that keeps it waiting).
        """
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RuntimeError(f"statehoused did not exit within 20 s of SIGTERM: {self.log()}") from None
        if code != 0:
            raise RuntimeError(f"statehoused exited with {code} after SIGTERM: {self.log()}")

    def kill(self) -> None:
        """SIGKILL: the daemon gets no chance to clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""
