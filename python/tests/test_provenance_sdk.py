"""Provenance through the Python SDK against a real daemon: records, runs, the provenance in effect at a point, advice
and replay plans (sync and async); payloads refused by their schema; the run context manager; and the SDK's
collectors agreeing with `statehousectl capture` (the same payload, member for member and in the same order) on a real
git repository, real files and this machine."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import threading
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import statehouse
from daemon import statehoused_binary
from statehouse import (
    Advisory,
    AgentRun,
    AsyncRunHandle,
    AsyncStatehouse,
    ConflictError,
    InvalidArgumentError,
    Metadata,
    NotFoundError,
    ProvenanceDraft,
    ProvenancePage,
    ProvenanceRecord,
    Put,
    ReplayPlan,
    RunHandle,
    Statehouse,
)
from statehouse.provenance import (
    LOCKFILE_NAMES,
    capture_config,
    capture_env,
    capture_git,
    capture_model,
    capture_tool,
)

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def ctl_binary() -> Path:
    """statehousectl, next to the daemon under test."""
    binary = statehoused_binary()
    for directory in (binary.parent, binary.resolve().parent):
        if (directory / "statehousectl").exists():
            return directory / "statehousectl"
    raise RuntimeError(f"no statehousectl next to {binary}")


def ctl(
    *args: str, daemon: Any = None, namespace: Optional[str] = None, cwd: Optional[Path] = None
) -> subprocess.CompletedProcess[str]:
    address = ["--addr", daemon.url, "-n", namespace or "default"] if daemon is not None else []
    return subprocess.run(
        [str(ctl_binary()), *address, *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=dict(os.environ)
    )


def printed(*args: str, cwd: Optional[Path] = None) -> List[Dict[str, Any]]:
    """The payloads `statehousectl capture ...` prints, one JSON object a line."""
    result = ctl("capture", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def same(python: Any, cli: Any) -> None:
    """The same JSON, member order included."""
    assert json.dumps(python) == json.dumps(cli)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "agent-repo"
    (repo / "src").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "Test")
    (repo / "src" / "agent.py").write_text("print('hello')\n")
    # Lock files written out of the collectors' order, and one nested (not at the top: left out).
    (repo / "requirements.txt").write_text("statehouse==0.1.0\n")
    (repo / "uv.lock").write_text("version = 1\n")
    (repo / "Package.resolved").write_text('{"pins": []}\n')
    (repo / "src" / "Cargo.lock").write_text("# nested\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    return repo


# ---- records -----------------------------------------------------------------------------------------------------


def test_records_round_trip_through_record_get_and_list(client: Statehouse) -> None:
    captured = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    tool, model = client.record_provenance(
        "planner",
        [
            ProvenanceDraft("tool", {"name": "search", "version": "2"}, id="search-2", captured_at=captured),
            ProvenanceDraft("model", {"provider": "anthropic", "name": "claude", "parameters": {"temperature": 0}}),
        ],
    )
    assert isinstance(tool, ProvenanceRecord)
    assert (tool.kind, tool.id, tool.key, tool.agent_id) == ("tool", "search-2", "tool/search-2", "planner")
    assert tool.payload == {"name": "search", "version": "2"} and tool.captured_at == captured
    assert tool.run_id is None
    assert model.kind == "model" and UUID7.match(model.id), model.id  # an id the daemon made
    assert model.payload == {"provider": "anthropic", "name": "claude", "parameters": {"temperature": 0}}
    assert model.captured_at is not None and model.captured_at.tzinfo is not None
    # One commit for both, in the namespace's chain.
    assert tool.commit_ts == model.commit_ts == client.head().commit_ts == 1
    assert client.verify().ok

    assert client.get_provenance("tool", "search-2") == tool
    assert client.get_provenance("model", model.id) == model
    with pytest.raises(NotFoundError):
        client.get_provenance("tool", "no-such-record")

    everything = client.list_provenance(agent_id="planner")
    assert isinstance(everything, ProvenancePage) and everything.next_cursor is None
    assert list(everything) == [model, tool] and len(everything) == 2  # kind and id order
    assert client.list_provenance(kind="tool").records == [tool]
    assert client.list_provenance(agent_id="someone-else").records == []
    assert client.list_provenance(run_id="no-such-run").records == []

    # Pages of one: following the cursors gives the same records.
    paged: List[ProvenanceRecord] = []
    cursor: Optional[str] = None
    while True:
        page = client.list_provenance(limit=1, cursor=cursor)
        assert len(page) <= 1
        paged += page.records
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert paged == everything.records

    with pytest.raises(InvalidArgumentError, match="limit"):
        client.list_provenance(limit=0)


@pytest.mark.parametrize(
    ("kind", "payload", "named"),
    [
        ("model", {"provider": "anthropic"}, "model provenance needs 'name'"),
        ("tool", {"name": "search", "colour": 1}, "tool provenance has no member 'colour'; it takes name, version"),
        ("code", {"repository": "r", "commit": "c", "dirty": "yes"}, "code provenance 'dirty' must be true or false"),
        ("config", {"source": "a.yaml", "sha256": "ABC"}, "config provenance 'sha256' must be a SHA-256"),
        ("mutation", {"type": "kafka", "id": "1", "source": "orders", "sequence": -1}, "'sequence'"),
        ("environment", {"os": "Linux", "arch": "x86_64", "runtime": {"python": 3}}, "'runtime'"),
        ("environment", {"os": "", "arch": "x86_64"}, "'os'"),
    ],
)
def test_a_payload_that_does_not_fit_its_schema_is_refused_naming_the_member(
    client: Statehouse, kind: str, payload: Dict[str, Any], named: str
) -> None:
    good = ProvenanceDraft("tool", {"name": "fine"})
    with pytest.raises(InvalidArgumentError) as refused:
        client.record_provenance("planner", [good, ProvenanceDraft(kind, payload)])
    assert named in str(refused.value)
    with pytest.raises(InvalidArgumentError) as refused:
        client.start_run("planner", [ProvenanceDraft(kind, payload)], id="refused")
    assert named in str(refused.value)
    # Nothing was recorded: not the good record beside it, not the run.
    assert client.head().commit_ts == 0
    with pytest.raises(NotFoundError):
        client.get_run("refused")


def test_kinds_ids_and_arguments_are_checked(client: Statehouse) -> None:
    with pytest.raises(InvalidArgumentError, match="is not one of code, config, environment, mutation, model, tool"):
        client.record_provenance("planner", [ProvenanceDraft("dance", {"name": "x"})])
    # Found by the SDK before anything is sent.
    with pytest.raises(InvalidArgumentError, match="must be a dict"):
        client.record_provenance("planner", [ProvenanceDraft("tool", '{"name": "x"}')])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="at least one"):
        client.record_provenance("planner", [])
    with pytest.raises(InvalidArgumentError, match="ProvenanceDraft"):
        client.record_provenance("planner", [{"kind": "tool", "payload": {"name": "x"}}])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError, match="not a JSON value"):
        client.record_provenance("planner", [ProvenanceDraft("tool", {"name": float("nan")})])
    assert client.head().commit_ts == 0

    # A single draft is taken as a list of one; an id is used once per kind (records are immutable).
    [first] = client.record_provenance("planner", ProvenanceDraft("tool", {"name": "search"}, id="search"))
    with pytest.raises(ConflictError):
        client.record_provenance("planner", [ProvenanceDraft("tool", {"name": "other"}, id="search")])
    assert client.get_provenance("tool", "search") == first
    # The same id for another kind is another record.
    client.record_provenance("planner", [ProvenanceDraft("config", capture_config(__file__)[0], id="search")])


# ---- runs ----------------------------------------------------------------------------------------------------------


def test_a_run_records_its_provenance_and_the_commits_tagged_with_it(client: Statehouse) -> None:
    environment = ProvenanceDraft("environment", capture_env())
    model = ProvenanceDraft("model", capture_model("anthropic", "claude", "4"), id="claude-4")
    run = client.start_run("planner", [environment, model], id="run-1", metadata={"ticket": 7})
    assert isinstance(run, AgentRun)
    assert (run.id, run.agent_id, run.status, run.running) == ("run-1", "planner", "running", True)
    assert run.ended_at is None and run.end_commit_ts is None and run.metadata == {"ticket": 7}
    assert run.start_commit_ts == client.head().commit_ts and run.started_at is not None
    assert len(run.provenance) == 2 and "model/claude-4" in run.provenance

    first = client.apply([Put("planner", "plan", {"step": 1})], metadata={"tags": {"run_id": "run-1"}})
    client.apply([Put("planner", "notes", "not of the run")])
    snapshot = client.create_snapshot("mid-run", "planner")
    second = client.apply([Put("planner", "plan", {"step": 2})], metadata={"actor": "me", "tags": {"run_id": "run-1"}})
    [tool] = client.record_provenance("planner", [ProvenanceDraft("tool", capture_tool("search", "2"))], "run-1")
    assert tool.run_id == "run-1"

    # In effect while it runs: its records (the ones it started with), at a commit_ts, a time or a snapshot.
    at = client.provenance_at("planner", first.commit_ts)
    assert at.commit_ts == first.commit_ts and at.run is not None and at.run.id == "run-1" and at.run.running
    assert sorted(record.key for record in at.records) == sorted(run.provenance)
    assert client.provenance_at("planner", first.committed_at).run.id == "run-1"  # type: ignore[union-attr]
    by_snapshot = client.provenance_at("planner", "mid-run")
    assert by_snapshot.commit_ts == snapshot.commit_ts and by_snapshot.run is not None
    with pytest.raises(NotFoundError):
        client.provenance_at("planner", "no-such-snapshot")

    ended = client.end_run("run-1")
    assert ended.status == "succeeded" and not ended.running and ended.ended_at is not None
    assert ended.end_commit_ts == client.head().commit_ts
    with pytest.raises(InvalidArgumentError, match="already ended"):
        client.end_run("run-1", "failed")

    details = client.get_run("run-1")
    assert details.run.status == "succeeded" and details.run.end_commit_ts == ended.end_commit_ts
    assert details.run.start_commit_ts == run.start_commit_ts and details.run.metadata == {"ticket": 7}
    assert [commit.commit_ts for commit in details.commits] == [first.commit_ts, second.commit_ts]
    assert details.commits[1].metadata == Metadata(actor="me", tags={"run_id": "run-1"})
    assert details.commits[0].operations[0].value == {"step": 1}
    assert sorted(record.key for record in details.provenance) == sorted([*run.provenance, tool.key])
    assert [commit.commit_ts for commit in client.get_run("run-1", commit_limit=1).commits] == [first.commit_ts]

    # After the run: no run in effect, the newest record of each kind.
    head = client.provenance_at("planner")
    assert head.run is None and head.commit_ts == ended.end_commit_ts
    assert [record.kind for record in head.records] == ["environment", "model", "tool"]

    with pytest.raises(NotFoundError):
        client.get_run("no-such-run")
    with pytest.raises(NotFoundError):
        client.end_run("no-such-run")
    with pytest.raises(ConflictError):
        client.start_run("planner", id="run-1")  # a run id is used once, as a record's
    generated = client.start_run("planner")
    assert UUID7.match(generated.id) and generated.provenance == [] and generated.metadata is None


def test_the_run_context_manager_tags_commits_and_ends_succeeded(client: Statehouse) -> None:
    with client.run("planner", provenance=[ProvenanceDraft("environment", capture_env())], id="ok") as run:
        assert isinstance(run, RunHandle) and run.id == "ok" and run.run.status == "running"
        assert run.metadata == Metadata(tags={"run_id": "ok"})
        first = run.apply([Put("planner", "plan", {"step": 1})])
        second = run.apply([Put("planner", "plan", {"step": 2})], metadata={"actor": "planner", "tags": {"n": "2"}})
        tx = client.begin_transaction()
        tx.write("planner", "notes", "from a transaction")
        third = tx.commit(metadata=run.metadata)
        client.apply([Put("planner", "other", "not of the run")])
        with pytest.raises(InvalidArgumentError, match="another"):
            run.apply([Put("planner", "x", 1)], metadata={"tags": {"run_id": "another"}})
        [model] = run.record([ProvenanceDraft("model", capture_model("anthropic", "claude"))])
        assert model.run_id == "ok"
    assert run.ended is not None and run.ended.status == "succeeded"

    details = client.get_run("ok")
    assert details.run.status == "succeeded"
    assert [commit.commit_ts for commit in details.commits] == [first.commit_ts, second.commit_ts, third]
    assert details.commits[1].metadata == Metadata(actor="planner", tags={"n": "2", "run_id": "ok"})
    assert sorted(record.kind for record in details.provenance) == ["environment", "model"]

    # No id: one the daemon makes.
    with client.run("planner") as generated:
        pass
    assert UUID7.match(generated.id) and client.get_run(generated.id).run.status == "succeeded"


def test_the_run_context_manager_ends_failed_when_the_block_raises(client: Statehouse) -> None:
    with pytest.raises(RuntimeError, match="the tool broke"):
        with client.run("planner", id="broken") as run:
            tagged = run.apply([Put("planner", "plan", {"step": 1})])
            raise RuntimeError("the tool broke")
    assert run.ended is not None and run.ended.status == "failed"
    details = client.get_run("broken")
    assert details.run.status == "failed" and [commit.commit_ts for commit in details.commits] == [tagged.commit_ts]

    # Ended early with a status of the caller's: the end of the block ends nothing more.
    with client.run("planner", id="cancelled") as run:
        assert run.end("cancelled").status == "cancelled"
    assert client.get_run("cancelled").run.status == "cancelled"

    # A run that cannot start raises at once, and the block does not run.
    with pytest.raises(InvalidArgumentError):
        with client.run("planner", provenance=[ProvenanceDraft("tool", {})], id="never"):
            raise AssertionError("the block ran")
    with pytest.raises(NotFoundError):
        client.get_run("never")


def test_a_run_ends_while_other_agents_commit(daemon: Any, namespace: str) -> None:
    stop = threading.Event()

    def other_agent() -> None:
        with Statehouse(url=daemon.url, namespace=namespace) as writer:
            step = 0
            while not stop.is_set():
                writer.apply([Put("other-agent", "progress", step)])
                step += 1

    writers = [threading.Thread(target=other_agent) for _ in range(2)]
    for thread in writers:
        thread.start()
    try:
        with Statehouse(url=daemon.url, namespace=namespace) as client:
            deadline = time.monotonic() + 20
            ended = 0
            while ended < 200 and time.monotonic() < deadline:
                run = client.start_run("planner")
                assert client.end_run(run.id).status == "succeeded"
                ended += 1
    finally:
        stop.set()
        for thread in writers:
            thread.join()


# ---- advice and replay plans -------------------------------------------------------------------------------------


def _run_drafts(run_id: str, config: Path, text: str, version: str, good_config: str) -> List[ProvenanceDraft]:
    config.write_text(text)
    orders = [
        ProvenanceDraft("mutation", {"type": "kafka", "id": f"{run_id}-{n}", "source": "orders", "sequence": n})
        for n in (1, 2, 4)
    ]
    # From the database: sequence 1 twice, the second produced under the good run's config. A duplicate's first (by
    # record key) is kept: the records get ids in that order here (ids the daemon makes in one call share a time).
    database = [
        ProvenanceDraft(
            "mutation", {"type": "row", "id": f"{run_id}-db-a", "source": "db", "sequence": 1}, id=f"{run_id}-a"
        ),
        ProvenanceDraft(
            "mutation",
            {"type": "row", "id": f"{run_id}-db-b", "source": "db", "sequence": 1, "config_sha256": good_config},
            id=f"{run_id}-b",
        ),
    ]
    return [
        ProvenanceDraft("config", capture_config(config)[0]),
        ProvenanceDraft("model", capture_model("anthropic", "claude", version)),
        *orders,
        *database,
    ]


def _check_advice_and_plan(
    advice: Advisory, points: Advisory, plan: ReplayPlan, good: AgentRun, bad: AgentRun, daemon: Any, namespace: str
) -> None:
    assert advice.from_commit_ts == advice.to_commit_ts == 0  # two runs
    assert {"config_changed", "model_changed", "missing_capture"} <= set(advice.rules)
    assert advice.score == min(100, sum(finding.points for finding in advice.findings))
    assert all(finding.message and finding.recommendation for finding in advice.findings)
    # The same as statehousectl says.
    cli = ctl("advisory", "--from-run", "good", "--to-run", "bad", "-o", "json", daemon=daemon, namespace=namespace)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == {
        "from_commit_ts": 0,
        "to_commit_ts": 0,
        "score": advice.score,
        "findings": [asdict(finding) for finding in advice.findings],
    }
    # Two points inside the runs: the runs in effect there, so the same findings.
    assert (points.from_commit_ts, points.to_commit_ts) == (good.start_commit_ts, bad.start_commit_ts)
    assert points.findings == advice.findings and points.score == advice.score

    assert plan.run_id == "bad"
    steps = {source.source: source.steps for source in plan.sources}
    assert [step.sequence for step in steps["orders"]] == [1, 2, 4]
    assert [step.id for step in steps["orders"]] == ["bad-1", "bad-2", "bad-4"]
    assert all(
        step.type == "kafka" and step.record.startswith("mutation/") and step.hash is None for step in steps["orders"]
    )
    assert [(step.id, step.record) for step in steps["db"]] == [("bad-db-a", "mutation/bad-a")]
    assert sorted((finding.rule, finding.source) for finding in plan.findings) == [
        ("config_mismatch", "db"),
        ("duplicate", "db"),
        ("gap", "orders"),
    ]
    cli = ctl("run", "plan", "bad", "-o", "json", daemon=daemon, namespace=namespace)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == {
        "sources": [
            {
                "source": source.source,
                "steps": [
                    {name: value for name, value in asdict(step).items() if value is not None} for step in source.steps
                ],
            }
            for source in plan.sources
        ],
        "findings": [asdict(finding) for finding in plan.findings],
    }


def test_advise_and_replay_plan(client: Statehouse, daemon: Any, namespace: str, tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    good_config = hashlib.sha256(b"temperature: 0\n").hexdigest()
    good = client.start_run("planner", _run_drafts("good", config, "temperature: 0\n", "4", good_config), id="good")
    client.end_run("good")
    bad = client.start_run("planner", _run_drafts("bad", config, "temperature: 1\n", "4.1", good_config), id="bad")
    client.end_run("bad")

    advice = client.advise(from_run="good", to_run="bad")
    points = client.advise("planner", from_=good.start_commit_ts, to=bad.start_commit_ts)
    _check_advice_and_plan(advice, points, client.replay_plan("bad"), good, bad, daemon, namespace)

    # The head against itself: nothing changed, only what is missing on either side.
    assert set(client.advise("planner").rules) <= {"missing_capture"}
    with pytest.raises(InvalidArgumentError, match="both from_run and to_run"):
        client.advise(from_run="good")
    with pytest.raises(InvalidArgumentError, match="not both"):
        client.advise(from_=1, from_run="good", to_run="bad")
    with pytest.raises(InvalidArgumentError, match="agent_id"):
        client.advise(from_=1)
    with pytest.raises(NotFoundError):
        client.advise(from_run="good", to_run="no-such-run")
    with pytest.raises(NotFoundError):
        client.replay_plan("no-such-run")


def test_the_async_client_has_the_same_provenance_calls(daemon: Any, namespace: str, tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    good_config = hashlib.sha256(b"temperature: 0\n").hexdigest()

    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as client:
            [tool] = await client.record_provenance("planner", [ProvenanceDraft("tool", {"name": "search"}, id="s")])
            assert await client.get_provenance("tool", "s") == tool
            assert (await client.list_provenance(kind="tool")).records == [tool]

            good = await client.start_run(
                "planner", _run_drafts("good", config, "temperature: 0\n", "4", good_config), id="good"
            )
            await client.end_run("good")
            bad = await client.start_run(
                "planner", _run_drafts("bad", config, "temperature: 1\n", "4.1", good_config), id="bad"
            )
            at = await client.provenance_at("planner", bad.start_commit_ts)
            assert at.run is not None and at.run.id == "bad"
            assert (await client.end_run("bad", "succeeded")).status == "succeeded"
            advice = await client.advise(from_run="good", to_run="bad")
            points = await client.advise("planner", from_=good.start_commit_ts, to=bad.start_commit_ts)
            plan = await client.replay_plan("bad")
            _check_advice_and_plan(advice, points, plan, good, bad, daemon, namespace)

            async with client.run("planner", provenance=[ProvenanceDraft("environment", capture_env())]) as run:
                assert isinstance(run, AsyncRunHandle)
                tagged = await run.apply([Put("planner", "plan", {"step": 1})])
            details = await client.get_run(run.id)
            assert details.run.status == "succeeded" and [c.commit_ts for c in details.commits] == [tagged.commit_ts]

            with pytest.raises(ValueError, match="async failure"):
                async with client.run("planner", id="async-broken") as run:
                    await run.apply([Put("planner", "plan", {"step": 2})])
                    raise ValueError("async failure")
            assert (await client.get_run("async-broken")).run.status == "failed"

            with pytest.raises(InvalidArgumentError, match="'name'"):
                await client.record_provenance("planner", [ProvenanceDraft("model", {"provider": "anthropic"})])

    asyncio.run(main())


# ---- the collectors agree with statehousectl capture ---------------------------------------------------------------


def test_capture_git_agrees_with_statehousectl(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = capture_git(repo)
    same(clean, printed("git", str(repo))[0])
    assert clean == {
        "repository": str(repo),  # no origin: the top directory
        "commit": git(repo, "rev-parse", "HEAD"),
        "dirty": False,
        "branch": "main",
        "lockfiles": [
            {"path": name, "sha256": hashlib.sha256((repo / name).read_bytes()).hexdigest()}
            for name in LOCKFILE_NAMES
            if name in ("Package.resolved", "uv.lock", "requirements.txt")
        ],
    }
    assert [entry["path"] for entry in clean["lockfiles"]] == ["Package.resolved", "uv.lock", "requirements.txt"]

    # A relative path from a directory inside, as given to both.
    monkeypatch.chdir(repo / "src")
    same(capture_git("."), printed("git", ".", cwd=repo / "src")[0])
    same(capture_git(), printed("git", cwd=repo / "src")[0])
    monkeypatch.chdir(tmp_path)

    # An untracked file makes it dirty; so does a change. An origin is the repository.
    (repo / "scratch.txt").write_text("untracked\n")
    untracked = capture_git(repo)
    assert untracked["dirty"] is True
    same(untracked, printed("git", str(repo))[0])
    git(repo, "remote", "add", "origin", "git@example.com:acme/agent.git")
    (repo / "src" / "agent.py").write_text("print('changed')\n")
    dirty = capture_git(repo)
    assert dirty["dirty"] is True and dirty["repository"] == "git@example.com:acme/agent.git"
    same(dirty, printed("git", str(repo))[0])

    # A detached HEAD has no branch; no lock file, no lockfiles.
    for name in ("Package.resolved", "uv.lock", "requirements.txt"):
        (repo / name).unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    git(repo, "checkout", "-q", "--detach", "HEAD~0")
    detached = capture_git(repo)
    assert "branch" not in detached and "lockfiles" not in detached and detached["dirty"] is False
    same(detached, printed("git", str(repo))[0])

    # Outside a repository, or in one with no commit: both refuse.
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(InvalidArgumentError, match="not in a git repository"):
        capture_git(outside)
    assert ctl("capture", "git", str(outside)).returncode == 2
    empty = tmp_path / "empty-repo"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(InvalidArgumentError, match="not in a git repository with a commit"):
        capture_git(empty)
    assert ctl("capture", "git", str(empty)).returncode == 2


def test_capture_config_agrees_with_statehousectl(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "agent.yaml").write_text("model: claude\ntemperature: 0\n")
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 3)
    names = ["conf/agent.yaml", "empty.json", "blob.bin"]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        relative = capture_config(*names)
    finally:
        os.chdir(cwd)
    same(relative, printed("config", *names, cwd=tmp_path))
    assert [payload["source"] for payload in relative] == names  # as given
    assert relative[1] == {"source": "empty.json", "sha256": hashlib.sha256(b"").hexdigest(), "size": 0}

    absolute = [str(tmp_path / name) for name in names]
    same(capture_config(*absolute), printed("config", *absolute))
    same(capture_config(tmp_path / "blob.bin"), printed("config", str(tmp_path / "blob.bin")))  # a Path

    with pytest.raises(InvalidArgumentError, match="cannot read"):
        capture_config(str(tmp_path / "missing.yaml"))
    assert ctl("capture", "config", str(tmp_path / "missing.yaml")).returncode != 0
    with pytest.raises(InvalidArgumentError, match="at least one file"):
        capture_config()


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"TZ": "Europe/Paris"},
        {"TZ": "EST"},
        {"TZ": "UTC"},
        {"TZ": "UTC+5:30"},
        {"TZ": "garbage"},
        {"TZ": ":Europe/Paris"},
        {"TZFILE": "Asia/Tokyo", "TZ": "Europe/Paris"},
        {"LANG": "fr_FR.UTF-8"},
        {"LC_ALL": "C", "LANG": "fr_FR.UTF-8"},
        {"LC_ALL": "", "LANG": "fr_FR.UTF-8"},
    ],
    ids=lambda variables: ",".join(f"{name}={value}" for name, value in variables.items()) or "as-is",
)
def test_capture_env_agrees_with_statehousectl(variables: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    if variables:
        for name in ("TZ", "TZFILE", "LC_ALL", "LANG"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
    python = capture_env()
    cli = printed("env")[0]
    compared = ("os", "arch", "kernel", "locale", "time_zone", "clock_source", "hostname")
    assert {name: python.get(name) for name in compared} == {name: cli.get(name) for name in compared}
    # The same members in the same order; only the runtimes differ (each names its own).
    assert list(python) == list(cli)
    assert python["runtime"] == {"python": platform.python_version(), "statehouse-sdk": statehouse.__version__}
    assert set(cli["runtime"]) <= {"statehousectl", "python"}


def test_capture_model_and_tool_agree_with_statehousectl(tmp_path: Path) -> None:
    template = tmp_path / "prompt.txt"
    template.write_text("You are a careful planner.\n")
    same(
        capture_model(
            "anthropic",
            "claude",
            "4",
            {"temperature": 0.5, "stop": ["\n"], "style": "terse", "tools": {"search": True}},
            template,
        ),
        printed(
            "model", "--provider", "anthropic", "--name", "claude", "--version", "4",
            "--param", "temperature=0.5", "--param", 'stop=["\\n"]', "--param", "style=terse",
            "--param", 'tools={"search": true}', "--prompt-template", str(template),
        )[0],
    )  # fmt: skip
    same(capture_model("anthropic", "claude"), printed("model", "--provider", "anthropic", "--name", "claude")[0])
    assert capture_model("anthropic", "claude", parameters={}) == {"provider": "anthropic", "name": "claude"}
    with pytest.raises(InvalidArgumentError, match="parameters must be a dict"):
        capture_model("anthropic", "claude", parameters=["temperature=0"])  # type: ignore[arg-type]

    tool = tmp_path / "search.sh"
    tool.write_text("#!/bin/sh\necho found\n")
    same(
        capture_tool("search", "2", tool), printed("tool", "--name", "search", "--version", "2", "--file", str(tool))[0]
    )
    same(capture_tool("search"), printed("tool", "--name", "search")[0])
    with pytest.raises(InvalidArgumentError, match="cannot read"):
        capture_tool("search", file=tmp_path / "missing")


def test_every_collected_payload_fits_its_schema(client: Statehouse, repo: Path, tmp_path: Path) -> None:
    template = tmp_path / "prompt.txt"
    template.write_text("prompt\n")
    drafts = [
        ProvenanceDraft("code", capture_git(repo)),
        ProvenanceDraft("environment", capture_env()),
        *[ProvenanceDraft("config", payload) for payload in capture_config(repo / "uv.lock", template)],
        ProvenanceDraft("model", capture_model("anthropic", "claude", "4", {"temperature": 0}, template)),
        ProvenanceDraft("tool", capture_tool("search", "2", template)),
    ]
    records = client.record_provenance("planner", drafts)
    assert [record.payload for record in records] == [dict(draft.payload) for draft in drafts]


def test_config_content_is_stored_as_an_artifact_by_the_cli_both_clients_and_manifests(
    client: Statehouse, daemon: Any, namespace: str, tmp_path: Path
) -> None:
    """`capture config --store`, `client.capture_config(...)` (sync and async) and a manifest's `"store": true` each
    store the file's bytes under its digest and name it in the payload's `artifact`; the payloads agree."""
    config = tmp_path / "agent.yaml"
    config.write_text("temperature: 0\n")
    digest = hashlib.sha256(config.read_bytes()).hexdigest()
    stored = ctl("capture", "config", "--store", str(config), daemon=daemon, namespace=namespace)
    assert stored.returncode == 0, stored.stderr
    [from_cli] = [json.loads(line) for line in stored.stdout.splitlines()]
    assert from_cli["artifact"] == digest == from_cli["sha256"]
    assert client.get_artifact(digest) == config.read_bytes()
    same(client.capture_config(str(config)), [from_cli])
    assert client.capture_config(str(config), store=False) == capture_config(str(config))

    other = tmp_path / "other.json"
    other.write_text('{"depth": 3}')

    async def main() -> List[Dict[str, Any]]:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace) as aclient:
            return await aclient.capture_config(other)

    [from_async] = asyncio.run(main())
    assert from_async["artifact"] == hashlib.sha256(other.read_bytes()).hexdigest()
    assert client.get_artifact(from_async["artifact"]) == other.read_bytes()
    recorded = client.record_provenance("planner", [ProvenanceDraft("config", from_async)])
    assert recorded[0].payload["artifact"] == from_async["artifact"]  # the schema takes it

    manifest = tmp_path / "capture.yaml"
    third = tmp_path / "third.toml"
    third.write_text("x = 1\n")
    manifest.write_text(
        f"agent: planner\ncapture:\n  - {{kind: config, files: [{json.dumps(str(third))}], store: true}}\n"
    )
    run = ctl("manifest", "run", str(manifest), "--no-run", daemon=daemon, namespace=namespace)
    assert run.returncode == 0, run.stderr
    assert client.get_artifact(hashlib.sha256(third.read_bytes()).hexdigest()) == third.read_bytes()
    manifest.write_text("agent: planner\ncapture:\n  - {kind: config, files: [a], store: 1}\n")
    refused = ctl("manifest", "validate", str(manifest))
    assert refused.returncode == 2 and "'store' must be true or false" in refused.stderr


def test_provenance_at_with_verify_checks_every_record_and_the_run_against_the_signed_head(
    daemon: Any, namespace: str
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from statehouse.exceptions import VerificationError

    with Statehouse(url=daemon.url, namespace=namespace) as client:
        run = client.start_run(
            "planner",
            [
                ProvenanceDraft("model", {"provider": "anthropic", "name": "claude", "parameters": {"t": 0.5}}),
                ProvenanceDraft("tool", {"name": "search", "version": "2"}),
            ],
            id="verified",
            metadata={"ticket": 7},
        )
        client.apply([Put("planner", "plan", 1)], metadata={"tags": {"run_id": "verified"}})
        plain = client.provenance_at("planner")
        proven = client.provenance_at("planner", verify=True)
        assert proven == plain and proven.run is not None and proven.run.id == run.id and len(proven.records) == 2

        async def main() -> Any:
            async with AsyncStatehouse(url=daemon.url, namespace=namespace) as aclient:
                return await aclient.provenance_at("planner", at=plain.commit_ts, verify=True)

        assert asyncio.run(main()) == plain

    with Statehouse(url=daemon.url, namespace=namespace) as distrusting:
        other = Ed25519PrivateKey.generate().public_key()
        distrusting.trust_ledger_key(other.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode())
        with pytest.raises(VerificationError):
            distrusting.provenance_at("planner", verify=True)
