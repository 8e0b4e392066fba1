"""scripts/package.sh makes a release that works once unpacked: it packages the build under test (--bin-dir, so no
second compile), the checksums hold, the daemon and the CLI run from the unpacked bin/, the systemd unit names only
settings the daemon has, and the SDK's wheel installs into a fresh venv and talks to that daemon."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from daemon import REPO, free_port, statehoused_binary

PACKAGE = REPO / "scripts" / "package.sh"


def run(command: List[str], timeout: float, **options: object) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)  # type: ignore


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_sums(path: Path) -> Dict[str, str]:
    """SHA256SUMS as sha256sum writes it: '<hex>  <name>' lines; name -> hex."""
    sums = {}
    for line in path.read_text().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    return sums


def clean_environment() -> Dict[str, str]:
    """This environment without STATEHOUSE_* settings, which the daemon and the CLI would read."""
    return {name: value for name, value in os.environ.items() if not name.startswith("STATEHOUSE_")}


@dataclass
class Release:
    dist: Path
    printed: List[Path]
    stderr: str
    version: str
    tarball: Path
    root: Path  # the unpacked tarball's top directory


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    dist = tmp_path_factory.mktemp("dist")
    binaries = statehoused_binary().resolve().parent
    result = run([str(PACKAGE), "--bin-dir", str(binaries), "--output", str(dist)], timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr

    version_output = run([str(binaries / "statehoused"), "--version"], timeout=60)
    version = version_output.stdout.split()[1]  # "statehoused 0.1.0", perhaps followed by the commit
    system = os.uname()
    tarball = dist / f"statehouse-{version}-{system.sysname.lower()}-{system.machine}.tar.gz"
    assert tarball.exists(), sorted(path.name for path in dist.iterdir())

    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        assert all(name.split("/")[0] == tarball.name[: -len(".tar.gz")] for name in names), names
        if hasattr(tarfile, "data_filter"):
            archive.extractall(unpacked, filter="data")
        else:
            archive.extractall(unpacked)
    root = unpacked / tarball.name[: -len(".tar.gz")]
    printed = [Path(line) for line in result.stdout.splitlines() if line.strip()]
    return Release(dist, printed, result.stderr, version, tarball, root)


def test_package_sh_is_quiet_in_a_pipe_and_prints_its_artifacts(release: Release) -> None:
    assert "==>" not in release.stderr, release.stderr  # progress only on a terminal
    assert all(path.parent == release.dist for path in release.printed), release.printed
    names = {path.name for path in release.printed}
    wheels = {name for name in names if name.endswith("-py3-none-any.whl")}
    sdists = {name for name in names if name.endswith(".tar.gz") and name != release.tarball.name}
    assert len(names) == 4 and {release.tarball.name, "SHA256SUMS"} <= names, names
    assert len(wheels) == 1 and len(sdists) == 1, names


def test_sha256sums_cover_every_artifact(release: Release) -> None:
    sums = read_sums(release.dist / "SHA256SUMS")
    artifacts = {path.name for path in release.printed} - {"SHA256SUMS"}
    assert set(sums) == artifacts
    for name, digest in sums.items():
        assert sha256(release.dist / name) == digest, name
    # And the same as sha256sum itself checks them.
    check = run(["sha256sum", "--check", "--strict", "SHA256SUMS"], timeout=120, cwd=str(release.dist))
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_tarball_holds_binaries_unit_config_docs_and_the_sdk(release: Release) -> None:
    root = release.root
    for binary in ("statehoused", "statehousectl"):
        assert os.access(root / "bin" / binary, os.X_OK), binary
    assert (root / "packaging" / "statehoused.service").read_bytes() == (
        REPO / "packaging" / "statehoused.service"
    ).read_bytes()
    assert (root / "statehouse.conf.example").read_bytes() == (REPO / "statehouse.conf.example").read_bytes()
    assert (root / "README.md").read_bytes() == (REPO / "README.md").read_bytes()
    assert sorted(path.name for path in (root / "docs").iterdir()) == sorted(
        path.name for path in (REPO / "docs").glob("*.md")
    )
    wheels = list((root / "python").glob("statehouse-*-py3-none-any.whl"))
    sdists = list((root / "python").glob("statehouse-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list((root / "python").iterdir())
    assert wheels[0].read_bytes() == (release.dist / wheels[0].name).read_bytes()
    assert sdists[0].read_bytes() == (release.dist / sdists[0].name).read_bytes()

    # SHA256SUMS inside covers every other file of the tarball, and matches.
    inner = read_sums(root / "SHA256SUMS")
    files = {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()} - {"SHA256SUMS"}
    assert set(inner) == files
    for name, digest in inner.items():
        assert sha256(root / name) == digest, name


def test_the_unit_file_names_only_what_the_daemon_has(release: Release) -> None:
    unit = (release.root / "packaging" / "statehoused.service").read_text()
    help_text = run([str(release.root / "bin" / "statehoused"), "--help"], timeout=60).stdout
    variables = set(re.findall(r"\bSTATEHOUSE_[A-Z_]+", unit))
    assert variables, unit
    assert {name for name in variables if name not in help_text} == set()
    exec_start = re.search(r"^ExecStart=(\S+)", unit, re.MULTILINE)
    assert exec_start is not None and Path(exec_start.group(1)).name == "statehoused"
    assert "StateDirectory=statehouse" in unit and "STATEHOUSE_DATA_DIR=/var/lib/statehouse" in unit


def unit_environment(unit: str) -> Dict[str, str]:
    """The Environment= settings of the unit (the uncommented ones)."""
    settings = {}
    for value in re.findall(r"^Environment=(\S+)$", unit, re.MULTILINE):
        name, _, setting = value.partition("=")
        settings[name] = setting
    return settings


@dataclass
class Running:
    url: str
    process: subprocess.Popen
    log: Path
    ctl: Path


@pytest.fixture(scope="module")
def unpacked_daemon(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """statehoused from the unpacked bin/, with the unit's environment (its address and data directory replaced by
    a free loopback port and a temporary directory), in memory."""
    work = tmp_path_factory.mktemp("unpacked-daemon")
    url = f"127.0.0.1:{free_port()}"
    environment = clean_environment()
    environment.update(unit_environment((release.root / "packaging" / "statehoused.service").read_text()))
    environment.update(STATEHOUSE_LISTEN=url, STATEHOUSE_DATA_DIR=str(work / "data"))
    log = work / "statehoused.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(release.root / "bin" / "statehoused"), "--memory"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    running = Running(url, process, log, release.root / "bin" / "statehousectl")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"statehoused exited with {process.returncode}: {log.read_text()}"
            health = run([str(running.ctl), "health", "--addr", url], timeout=30, env=clean_environment())
            if health.returncode == 0:
                break
            assert time.monotonic() < deadline, f"no healthy daemon at {url}: {health.stderr}\n{log.read_text()}"
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, f"statehoused exited with {process.returncode} after SIGTERM: {log.read_text()}"


def test_the_unpacked_daemon_and_cli_work(unpacked_daemon: Running) -> None:
    ctl = [str(unpacked_daemon.ctl)]
    address = ["--addr", unpacked_daemon.url, "--namespace", "package-test"]
    environment = clean_environment()

    health = run([*ctl, "health", "--addr", unpacked_daemon.url], timeout=30, env=environment)
    assert health.returncode == 0 and health.stdout.strip() == "ok", health.stdout + health.stderr

    put = run([*ctl, "put", *address, "packager", "release/1", '{"step": 1, "ok": true}'], timeout=30, env=environment)
    assert put.returncode == 0, put.stdout + put.stderr
    got = run([*ctl, "get", *address, "packager", "release/1"], timeout=30, env=environment)
    assert got.returncode == 0, got.stdout + got.stderr
    assert json.loads(got.stdout) == {"step": 1, "ok": True}

    # The unit asks for JSON logs (STATEHOUSE_LOG_FORMAT=json): the daemon honoured it.
    lines = [line for line in unpacked_daemon.log.read_text().splitlines() if line.strip()]
    assert lines, "the daemon logged nothing"
    for line in lines:
        assert isinstance(json.loads(line), dict), line


def test_the_wheel_installs_into_a_fresh_venv_and_talks_to_the_unpacked_daemon(
    release: Release, unpacked_daemon: Running, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    wheel = next((release.root / "python").glob("statehouse-*-py3-none-any.whl"))
    installed = run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    script = """
import json, sys
import statehouse
from statehouse import Statehouse
with Statehouse(url=sys.argv[1], namespace="package-wheel") as client:
    with client.begin_transaction() as tx:
        tx.write(agent_id="wheel", key="memory", value={"fact": "installed from the wheel"})
    print(json.dumps({"module": statehouse.__file__, "value": client.get_state(agent_id="wheel", key="memory").value}))
"""
    environment = {name: value for name, value in clean_environment().items() if name != "PYTHONPATH"}
    result = run([python, "-c", script, unpacked_daemon.url], timeout=120, cwd=str(tmp_path), env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(answer["module"]).resolve().is_relative_to(venv.resolve()), answer["module"]
    assert answer["value"] == {"fact": "installed from the wheel"}
