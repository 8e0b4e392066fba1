"""Fixtures: a real statehoused on a free loopback port with a temporary data directory."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

from daemon import Daemon
from statehouse import Statehouse

_names = itertools.count(1)


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
