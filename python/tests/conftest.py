"""Fixtures: a real statehoused on a free loopback port with a temporary data directory."""

from __future__ import annotations

import itertools
import os
from concurrent import futures
from pathlib import Path
from typing import Any, Callable, Iterator, List

import grpc
import pytest

from daemon import Daemon, backend, drop_databases
from statehouse import Statehouse
from statehouse._proto import statehouse_pb2_grpc

_names = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """On PostgreSQL (STATEHOUSE_TEST_BACKEND=postgres) the tests that need the SQLite store's files are skipped, each
    with the reason its marker gives; every other test runs unchanged."""
    if backend() != "postgres":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "needs SQLite's files")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


# Daemons a test starts by hand take their HTTP listener on a kernel-chosen port: parallel daemons must not race for
# the default 8080 (Daemon gives its own a free port it can find again).
os.environ.setdefault("STATEHOUSE_HTTP_LISTEN", "127.0.0.1:0")


@pytest.fixture(autouse=True)
def _drop_databases_of_stopped_daemons() -> Iterator[None]:
    """On PostgreSQL, a test's daemons leave a database each: dropped once the test has stopped them."""
    yield
    drop_databases()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_databases(of_running_daemons=True)


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon shared by the tests that do not restart it; each test uses its own namespace."""
    process = Daemon(tmp_path_factory.mktemp("shared") / "data").start()
    yield process
    process.stop()


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Starts a private daemon (for restarts, kills and limits); all are stopped after the test."""
    started: List[Daemon] = []

    def make(*extra_args: str) -> Daemon:
        process = Daemon(tmp_path / f"data-{len(started)}", list(extra_args)).start()
        started.append(process)
        return process

    yield make
    for process in started:
        process.stop()


@pytest.fixture
def namespace() -> str:
    """A namespace no other test uses, so that tests sharing the daemon never see each other's commits."""
    return f"test-{next(_names)}"


@pytest.fixture
def client(daemon: Daemon, namespace: str) -> Iterator[Statehouse]:
    with Statehouse(url=daemon.url, namespace=namespace) as connected:
        yield connected


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Serves a stand-in servicer (a fake daemon written by the test) on a free loopback port; returns its address.
    Every server started is stopped after the test."""
    servers: List[grpc.Server] = []

    def start(servicer: Any) -> str:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        statehouse_pb2_grpc.add_StatehouseServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(None)
