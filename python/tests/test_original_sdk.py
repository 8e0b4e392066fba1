"""The original Statehouse SDK's own integration tests, run unchanged against our daemon: first with the original SDK
(statehouse 0.1.1 from PyPI, which speaks statehouse.v1), then with our SDK in its place.

The original source is not ours to copy, so nothing of it is in the repository: the sdist is downloaded from PyPI at
run time (pinned) and kept, unpacked and with a venv of its own, in .build/original-sdk/, so later runs need no
network. Its tests/test_client.py hard-codes localhost:50051 in a module-level `daemon_url` fixture;
original_sdk_plugin.py (loaded with -p) answers that fixture with the address of a daemon started here, and
--noconftest keeps any conftest.py of the sdist from running.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List
from xml.etree import ElementTree

import pytest

import statehouse
from daemon import REPO, Daemon

VERSION = "0.1.1"
EXPECTED_TESTS = 19
CACHE = REPO / ".build" / "original-sdk"
SDIST = CACHE / f"statehouse-{VERSION}.tar.gz"
SOURCE = CACHE / f"statehouse-{VERSION}"
TEST_FILE = SOURCE / "tests" / "test_client.py"
VENV = CACHE / "venv"
VENV_PYTHON = VENV / "bin" / "python"
VENV_READY = VENV / ".statehouse-original-sdk-ready"  # written last: a venv without it is remade
TESTS_DIR = Path(__file__).resolve().parent


def run(command: List[str], timeout: float, **options: object) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)  # type: ignore


@contextlib.contextmanager
def cache_lock() -> Iterator[None]:
    """Two suites running at once (a developer's and CI's) fill the cache one after the other."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def download_sdist() -> None:
    partial = CACHE / "download"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        result = run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--timeout",
                "30",
                "--dest",
                str(partial),
                f"statehouse=={VERSION}",
            ],
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"downloading statehouse=={VERSION} from PyPI took over 300 s, and {CACHE} holds no copy")
    archive = partial / SDIST.name
    if result.returncode != 0 or not archive.exists():
        pytest.fail(
            f"cannot download the original SDK (statehouse=={VERSION}, sdist) from PyPI, and {CACHE} holds no copy; "
            f"this test needs PyPI once.\npip said:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    archive.replace(SDIST)
    shutil.rmtree(partial, ignore_errors=True)


def unpack_sdist() -> None:
    staging = CACHE / "unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with tarfile.open(SDIST) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(staging, filter="data")
        else:  # Python < 3.12 without the backported filter: refuse members that leave the directory
            for member in archive.getmembers():
                target = (staging / member.name).resolve()
                if not (member.isfile() or member.isdir()) or staging.resolve() not in target.parents:
                    raise RuntimeError(f"unexpected member {member.name!r} in {SDIST}")
            archive.extractall(staging)
    shutil.rmtree(SOURCE, ignore_errors=True)
    (staging / SOURCE.name).replace(SOURCE)
    shutil.rmtree(staging, ignore_errors=True)


def make_venv() -> None:
    shutil.rmtree(VENV, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        # The sdist's own dependencies (grpcio, grpcio-tools, protobuf, click, tabulate) come with it.
        [
            str(VENV_PYTHON),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--timeout",
            "30",
            str(SOURCE),
            "pytest>=8,<10",
        ],
    ]
    for step in steps:
        try:
            result = run(step, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{' '.join(step)} took over 600 s")
        if result.returncode != 0:
            pytest.fail(
                f"{' '.join(step)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
            )
    VENV_READY.write_text(f"statehouse=={VERSION}\n")


@pytest.fixture(scope="module")
def original_sdk() -> Path:
    """The unpacked sdist and its venv, made once and reused (PyPI is needed only for the first run)."""
    with cache_lock():
        if not TEST_FILE.exists():
            if not SDIST.exists():
                download_sdist()
            unpack_sdist()
        if not VENV_READY.exists():
            make_venv()
    assert TEST_FILE.exists(), f"{SDIST} has no tests/test_client.py"
    return TEST_FILE


@dataclass
class Outcome:
    counts: Dict[str, int]
    failures: Dict[str, str]
    output: str
    sdk: Path  # where the `statehouse` package the tests imported lives

    def explain(self) -> str:
        details = "\n\n".join(f"--- {name}\n{text}" for name, text in self.failures.items())
        return f"outcome {self.counts}\n{details}\n\n--- pytest output (tail)\n{self.output[-6000:]}"


def run_original_tests(python: str, daemon: Daemon, work: Path, extra_pythonpath: str = "") -> Outcome:
    """Runs the sdist's tests/test_client.py, unchanged, with `python`, against `daemon`.

    cwd, rootdir and the ini file are an empty directory of ours: the sdist's own directory would put its
    `statehouse` package first on sys.path (python -m adds cwd), and its pyproject's pytest settings name a plugin
    we do not install.
    """
    work.mkdir(parents=True, exist_ok=True)
    ini = work / "pytest.ini"
    ini.write_text("[pytest]\n")
    junit = work / "junit.xml"
    sdk_report = work / "sdk-location"
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "PYTHONPATH"))}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), extra_pythonpath]))
    environment["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    environment["STATEHOUSE_ORIGINAL_TESTS_URL"] = daemon.url
    environment["STATEHOUSE_ORIGINAL_TESTS_SDK_REPORT"] = str(sdk_report)
    command = [
        python,
        "-m",
        "pytest",
        str(TEST_FILE),
        "-p",
        "original_sdk_plugin",
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-c",
        str(ini),
        "--rootdir",
        str(work),
        f"--junitxml={junit}",
        "-rA",
        "-q",
    ]
    try:
        result = run(command, timeout=300, cwd=str(work), env=environment)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"the original tests ran over 300 s:\n{timeout.stdout}\n{timeout.stderr}")
    output = f"{result.stdout}\n{result.stderr}"
    assert junit.exists(), f"pytest exited {result.returncode} without a report:\n{output[-6000:]}"

    counts = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures: Dict[str, str] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        counts["tests"] += 1
        problems = [child for child in case if child.tag in ("failure", "error", "skipped")]
        if not problems:
            counts["passed"] += 1
            continue
        for problem in problems:
            counts[{"failure": "failed", "error": "errors", "skipped": "skipped"}[problem.tag]] += 1
            text = f"{problem.get('message', '')}\n{(problem.text or '')[-4000:]}"
            failures[name] = (failures.get(name, "") + f"[{problem.tag}] {text}").strip()
    sdk = Path(sdk_report.read_text()).resolve().parent if sdk_report.exists() else Path()
    outcome = Outcome(counts, failures, output, sdk)
    assert result.returncode in (0, 1), f"pytest exited {result.returncode}:\n{outcome.explain()}"
    return outcome


@pytest.fixture
def memory_daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A fresh in-memory daemon per run: the original tests count keys and events of agents named by the time."""
    process = Daemon(tmp_path / "data", ["--memory"]).start()
    yield process
    process.stop()


def test_the_original_sdk_passes_its_own_tests_against_our_daemon(
    original_sdk: Path, memory_daemon: Daemon, tmp_path: Path
) -> None:
    outcome = run_original_tests(str(VENV_PYTHON), memory_daemon, tmp_path / "original")
    assert VENV.resolve() in outcome.sdk.parents, f"the tests imported statehouse from {outcome.sdk}"
    assert outcome.counts["tests"] == EXPECTED_TESTS, outcome.explain()
    assert outcome.counts["passed"] == EXPECTED_TESTS, outcome.explain()


def test_the_original_tests_pass_unchanged_with_our_sdk(
    original_sdk: Path, memory_daemon: Daemon, tmp_path: Path
) -> None:
    # Our SDK as this suite has it installed: sys.executable, with whatever PYTHONPATH the suite was given.
    outcome = run_original_tests(
        sys.executable, memory_daemon, tmp_path / "ours", extra_pythonpath=os.environ.get("PYTHONPATH", "")
    )
    ours = Path(statehouse.__file__).resolve().parent
    assert outcome.sdk == ours, f"the tests imported statehouse from {outcome.sdk}, not {ours}"
    assert outcome.counts["tests"] == EXPECTED_TESTS, outcome.explain()
    assert outcome.counts["passed"] == EXPECTED_TESTS, outcome.explain()
