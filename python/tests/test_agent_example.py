"""The reference research agent (examples/agent_research) runs to completion, and a crashed run resumes to the
same answer and the same stored steps as an uninterrupted one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon import REPO, Daemon, free_port, statehoused_binary
from statehouse import Statehouse
from statehouse.audit import verify_bundle

RUN = REPO / "examples" / "agent_research" / "run.sh"
TASK = "What is 42 * 137?"


def run_agent(environment: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUN), "--task", TASK, *args], env=environment, capture_output=True, text=True, timeout=300
    )


@pytest.mark.sqlite_only(reason="run.sh starts its own daemon over a SQLite data directory that the test then opens")
def test_crash_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    environment = dict(
        os.environ,
        STATEHOUSE_URL=f"127.0.0.1:{free_port()}",
        STATEHOUSE_AGENT_DATA=str(tmp_path),
        STATEHOUSED=str(statehoused_binary()),
        PYTHON=sys.executable,
    )
    # Each run.sh call starts the daemon (none is reachable), runs the agent, and stops the daemon again.
    straight = run_agent(environment, "--agent-id", "uninterrupted")
    assert straight.returncode == 0, straight.stderr
    assert "answer: 42 * 137 = 5754" in straight.stdout

    crashed = run_agent(environment, "--agent-id", "resumed", "--crash-after", "2")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    assert "simulated crash during step 3" in crashed.stdout and "answer:" not in crashed.stdout
    # run.sh reports the crash in its own words, not with bash's "line N: PID Killed ..." line.
    assert "run.sh: the agent was killed by SIGKILL (exit status 137)" in crashed.stderr
    assert "Killed" not in crashed.stderr, crashed.stderr

    resumed = run_agent(environment, "--agent-id", "resumed")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming agent resumed after 2 finished steps" in resumed.stdout
    assert "step 1 " not in resumed.stdout and "step 3 " in resumed.stdout
    assert "answer: 42 * 137 = 5754" in resumed.stdout

    again = run_agent(environment, "--agent-id", "resumed")
    assert "already answered after 6 steps" in again.stdout

    timeline = run_agent(environment, "--agent-id", "resumed", "--replay")
    assert timeline.returncode == 0, timeline.stderr
    assert "task received" in timeline.stdout and "step 6: answer" in timeline.stdout
    assert "hash chain: verified" in timeline.stdout

    daemon = Daemon(tmp_path / "data")
    daemon.start()
    try:
        with Statehouse(url=daemon.url, namespace="agent-research") as client:

            def stored(agent: str) -> list:
                return [(item.key, item.value, item.version) for item in client.scan_prefix(agent, "steps/")]

            assert stored("resumed") == stored("uninterrupted")
            assert len(stored("resumed")) == 6
            # Every step was written exactly once: version 1, nothing redone after the crash.
            assert {version for _, _, version in stored("resumed")} == {1}
            for agent in ("resumed", "uninterrupted"):
                assert client.get_state(agent, "answer").value == {"text": "42 * 137 = 5754", "steps": 6}
                assert client.get_state(agent, "progress").value == {"completed_steps": 6, "status": "done"}
            assert client.verify().ok
    finally:
        daemon.stop()


def test_run_sh_makes_a_venv_for_the_agent_and_reuses_it(tmp_path: Path) -> None:
    """Without $PYTHON, run.sh installs the SDK into a venv of its own (never into the system Python, which Debian
    and Ubuntu refuse: externally-managed-environment), and a second run reuses that venv."""
    venv = tmp_path / "venv"
    environment = {name: value for name, value in os.environ.items() if name not in ("PYTHON", "VIRTUAL_ENV")}
    environment.update(
        STATEHOUSE_URL=f"127.0.0.1:{free_port()}",
        STATEHOUSE_AGENT_DATA=str(tmp_path / "agent"),
        STATEHOUSE_AGENT_VENV=str(venv),
        STATEHOUSED=str(statehoused_binary()),
    )
    crashed = run_agent(environment, "--agent-id", "venv", "--crash-after", "1")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    assert f"creating a virtual environment in {venv}" in crashed.stderr
    assert "simulated crash during step 2" in crashed.stdout
    assert "run.sh: the agent was killed by SIGKILL (exit status 137)" in crashed.stderr
    assert "Killed" not in crashed.stderr, crashed.stderr

    located = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import statehouse; print(statehouse.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert located.returncode == 0, located.stderr
    assert Path(located.stdout.strip()).resolve().is_relative_to(venv.resolve()), located.stdout

    resumed = run_agent(environment, "--agent-id", "venv")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "creating a virtual environment" not in resumed.stderr
    assert "resuming agent venv after 1 finished steps" in resumed.stdout
    assert "answer: 42 * 137 = 5754" in resumed.stdout


def test_a_research_question_is_answered_from_the_corpus(daemon: Daemon) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "agent_research" / "agent.py"),
            "--url",
            daemon.url,
            "--namespace",
            "agent-example-research",
            "--task",
            "How does a hash chain detect tampering?",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "(source: hash_chains.md)" in result.stdout


def test_each_run_records_its_provenance_and_a_changed_config_is_advised_and_bundled(
    daemon: Daemon, tmp_path: Path
) -> None:
    """The issue's end-to-end check: the reference agent records its provenance per run; its crashed run and the run
    that resumed it with another config are compared by the advisory; the resumed run's audit bundle verifies offline
    (statehousectl and the Python verifier) with that advisory inside."""
    namespace, agent = "agent-example-provenance", "audited"
    config = tmp_path / "agent-config.json"

    def agent_run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(REPO / "examples" / "agent_research" / "agent.py"), "--url", daemon.url,
             "--namespace", namespace, "--agent-id", agent, "--task", TASK, "--config", str(config), *args],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def run_id(output: str) -> str:
        return next(line.split()[1] for line in output.splitlines() if line.startswith("run ") and "started" in line)

    def ctl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(REPO / ".build" / "debug" / "statehousectl"), "--addr", daemon.url, "-n", namespace, *args],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    config.write_text('{"max_steps": 12}\n')
    crashed = agent_run("--crash-after", "2")
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr
    first = run_id(crashed.stdout)
    config.write_text('{"max_steps": 20}\n')
    resumed = agent_run()
    assert resumed.returncode == 0, resumed.stderr
    assert "answer: 42 * 137 = 5754" in resumed.stdout
    second = run_id(resumed.stdout)

    with Statehouse(url=daemon.url, namespace=namespace) as client:
        killed, finished = client.get_run(first).run, client.get_run(second).run
        assert killed.status == "running" and finished.status == "succeeded"  # SIGKILL ended nothing
        kinds = sorted(record.kind for record in client.list_provenance(run_id=second))
        assert kinds in (
            ["code", "config", "environment", "model", "tool", "tool"],
            ["config", "environment", "model", "tool", "tool"],  # outside a git checkout
        )
        # Every commit of the resumed run carries its run_id: steps 3 to 6.
        tagged = [event for event in client.replay(agent) if (event.metadata.tags or {}).get("run_id") == second]
        assert [event.metadata.reason for event in tagged][-1] == "step 6: answer" and len(tagged) == 4

    advice = ctl("advisory", "--from-run", first, "--to-run", second, "-o", "json")
    assert advice.returncode == 0, advice.stderr
    rules = {finding["rule"] for finding in json.loads(advice.stdout)["findings"]}
    assert "config_changed" in rules and rules <= {"config_changed", "dirty_tree"}, rules  # a dirty checkout adds one

    bundle, key = tmp_path / "run.jsonl", tmp_path / "ledger.pub"
    key.write_text(ctl("ledger-key").stdout)
    exported = ctl("audit", "export", "--run", second, "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr
    verified = ctl("audit", "verify", str(bundle), "--public-key", str(key), "-o", "json")
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)["run"]
    assert report["baseline_run_id"] == first and "config_changed" in report["advisory_rules"]
    offline = verify_bundle(bundle, key.read_text())
    assert offline.run is not None and offline.run["advisory"]["score"] == json.loads(advice.stdout)["score"]
