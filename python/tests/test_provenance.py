"""Provenance against a real daemon: the collectors of `statehousectl capture` over a real git repository made for
the test (clean, then dirty), this machine and real files; records checked against their schemas; a run that ties the
agent's commits to its provenance; and the provenance in effect at a point."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from statehouse import Put, Statehouse, ledger, merkle
from statehouse.audit import event_line_leaf_hash, verify_bundle
from statehouse.exceptions import VerificationError

CTL = Path(__file__).resolve().parents[2] / ".build" / "debug" / "statehousectl"


def ctl(daemon, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CTL), "--addr", daemon.url, "-n", namespace, *args], capture_output=True, text=True, timeout=60
    )


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "agent-repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "Test")
    (repo / "agent.py").write_text("print('hello')\n")
    (repo / "uv.lock").write_text("version = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def test_capture_git_reads_a_clean_and_a_dirty_work_tree(daemon, namespace: str, repo: Path) -> None:
    clean = ctl(daemon, namespace, "capture", "git", str(repo))
    assert clean.returncode == 0, clean.stderr
    payload = json.loads(clean.stdout)
    assert payload["commit"] == git(repo, "rev-parse", "HEAD")
    assert payload["dirty"] is False and payload["branch"] == "main"
    assert payload["repository"] == str(repo)  # no origin: the top directory
    lock = hashlib.sha256((repo / "uv.lock").read_bytes()).hexdigest()
    assert payload["lockfiles"] == [{"path": "uv.lock", "sha256": lock}]

    git(repo, "remote", "add", "origin", "git@example.com:acme/agent.git")
    (repo / "agent.py").write_text("print('changed')\n")
    dirty = json.loads(ctl(daemon, namespace, "capture", "git", str(repo)).stdout)
    assert dirty["dirty"] is True and dirty["repository"] == "git@example.com:acme/agent.git"

    outside = ctl(daemon, namespace, "capture", "git", str(repo.parent))
    assert outside.returncode == 2 and "not in a git repository" in outside.stderr


def test_capture_env_and_config_describe_this_machine_and_the_files(daemon, namespace: str, tmp_path: Path) -> None:
    env = json.loads(ctl(daemon, namespace, "capture", "env").stdout)
    assert env["os"] == platform.system() and env["arch"] == platform.machine()
    assert env["kernel"] == platform.release()
    assert (
        env["runtime"]["python"]
        == subprocess.run(
            ["python3", "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True
        ).stdout.strip()
    )
    first, second = tmp_path / "a.yaml", tmp_path / "b.json"
    first.write_text("model: claude\n")
    second.write_text('{"temperature": 0}')
    lines = ctl(daemon, namespace, "capture", "config", str(first), str(second)).stdout.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"source": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "size": path.stat().st_size}
        for path in (first, second)
    ]


def test_records_are_checked_against_their_schema_and_stored_in_the_log(daemon, namespace: str) -> None:
    refused = ctl(daemon, namespace, "provenance", "record", "model", '{"provider": "anthropic"}', "--agent", "a")
    assert refused.returncode == 2 and "model provenance needs 'name'" in refused.stderr
    unknown = ctl(daemon, namespace, "provenance", "record", "tool", '{"name": "x", "colour": 1}', "--agent", "a")
    assert unknown.returncode == 2 and "has no member 'colour'" in unknown.stderr
    recorded = ctl(
        daemon, namespace, "provenance", "record", "tool", '{"name": "search", "version": "2"}', "--agent", "a",
        "--id", "search-2", "-o", "json",
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    record = json.loads(recorded.stdout)
    assert record["kind"] == "tool" and record["id"] == "search-2" and record["commit_ts"] == 1
    again = ctl(
        daemon, namespace, "provenance", "record", "tool", '{"name": "other"}', "--agent", "a", "--id", "search-2"
    )
    assert again.returncode != 0  # records are immutable
    # The record is a commit: in the chain, and verify passes.
    assert ctl(daemon, namespace, "verify").returncode == 0


def test_a_run_ties_commits_to_its_provenance(daemon, namespace: str, repo: Path, tmp_path: Path) -> None:
    started = ctl(
        daemon, namespace, "run", "start", "planner", "--id", "run-1", "--capture", "env",
        "--capture", f"git={repo}", "--record", '{"provider": "anthropic", "name": "claude"}',
    )  # fmt: skip
    assert started.returncode == 2 and "KIND=JSON" in started.stderr
    started = ctl(
        daemon, namespace, "run", "start", "planner", "--id", "run-1", "--capture", "env",
        "--capture", f"git={repo}", "--record", 'model={"provider": "anthropic", "name": "claude"}',
    )  # fmt: skip
    assert started.returncode == 0 and started.stdout.strip() == "run-1", started.stderr
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        tagged = client.apply([Put("planner", "plan", {"step": 1})], metadata={"tags": {"run_id": "run-1"}})
        client.apply([Put("planner", "notes", "untagged")])
    ended = ctl(daemon, namespace, "run", "end", "run-1", "--status", "failed")
    assert ended.returncode == 0 and "(failed)" in ended.stdout, ended.stderr
    shown = json.loads(ctl(daemon, namespace, "run", "show", "run-1", "-o", "json").stdout)
    assert shown["run"]["status"] == "failed" and shown["run"]["agent_id"] == "planner"
    assert sorted(record["kind"] for record in shown["provenance"]) == ["code", "environment", "model"]
    assert [commit["commit_ts"] for commit in shown["commits"]] == [tagged.commit_ts]

    at = json.loads(
        ctl(daemon, namespace, "provenance", "--agent", "planner", "--at", str(tagged.commit_ts), "-o", "json").stdout
    )
    assert at["run"]["id"] == "run-1"
    assert sorted(record["kind"] for record in at["records"]) == ["code", "environment", "model"]
    code = next(record for record in at["records"] if record["kind"] == "code")
    assert code["payload"]["commit"] == git(repo, "rev-parse", "HEAD")
    # The agent's state then, and every record, the run and every key proven against the signed head: checked here
    # again with the Python ledger code, trusting the key saved from the daemon.
    assert [(entry["key"], entry["value"]) for entry in at["state"]] == [("plan", {"step": 1})]
    proven = {(entry["agent_id"], entry["key"]) for entry in at["proofs"]}
    assert proven == {("@provenance", f"{r['kind']}/{r['id']}") for r in at["records"]} | {("@runs", "run-1")}
    key = ledger.LedgerPublicKey.from_pem(ctl(daemon, namespace, "ledger-key").stdout)
    head = ledger.SignedTreeHead(
        head=ledger.TreeHead(namespace, at["head"]["tree_size"], bytes.fromhex(at["head"]["root_hash"])),
        timestamp_micros=at["head"]["timestamp_micros"],
        key_id=at["head"]["key_id"],
        signature=bytes.fromhex(at["head"]["signature"]),
    )
    assert key.verify_head(head)
    for entry in at["state"] + at["proofs"]:
        event, proof = entry["proven_by"]["event"], [bytes.fromhex(h) for h in entry["proven_by"]["proof"]]
        leaf = event_line_leaf_hash(namespace, event)
        assert merkle.verify_inclusion(event["commit_ts"] - 1, head.head.tree_size, leaf, proof, head.head.root_hash)
        written = next(
            op for op in event["operations"] if (op["agent_id"], op["key"]) == (entry["agent_id"], entry["key"])
        )
        assert json.loads(written["value"]) == entry["value"]
    text = ctl(daemon, namespace, "provenance", "--agent", "planner", "--at", str(tagged.commit_ts))
    assert "state of agent 'planner' at commit_ts" in text.stdout and "plan\tv1" in text.stdout
    assert "4 records and 1 keys, each proven" in text.stderr  # code, environment, model and the run
    other = tmp_path / "other.pem"
    other.write_text(
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    )
    distrusted = ctl(daemon, namespace, "provenance", "--agent", "planner", "--public-key", str(other))
    assert distrusted.returncode != 0 and "does not verify with the trusted key" in distrusted.stderr


def test_advisory_between_two_runs_with_a_changed_config_and_a_replay_plan(
    daemon, namespace: str, tmp_path: Path
) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("temperature: 0\n")
    for run, text in (("good", "temperature: 0\n"), ("bad", "temperature: 1\n")):
        config.write_text(text)
        captured = json.loads(ctl(daemon, namespace, "capture", "config", str(config)).stdout)
        mutations = [
            f'mutation={{"type": "kafka", "id": "{run}-{n}", "source": "orders", "sequence": {n}}}' for n in (1, 2, 4)
        ]
        started = ctl(
            daemon, namespace, "run", "start", "planner", "--id", run, "--capture", "env",
            "--record", "config=" + json.dumps(captured),
            "--record", 'model={"provider": "anthropic", "name": "claude"}',
            *[part for mutation in mutations for part in ("--record", mutation)],
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        assert ctl(daemon, namespace, "run", "end", run).returncode == 0
    advice = ctl(daemon, namespace, "advisory", "--from-run", "good", "--to-run", "bad", "-o", "json")
    assert advice.returncode == 0, advice.stderr
    report = json.loads(advice.stdout)
    rules = [finding["rule"] for finding in report["findings"]]
    assert "config_changed" in rules and "missing_capture" in rules  # neither run captured code
    assert report["score"] == sum(finding["points"] for finding in report["findings"])
    text = ctl(daemon, namespace, "advisory", "--from-run", "good", "--to-run", "bad").stdout
    assert text.startswith(f"reproducibility risk {report['score']}/100") and "config_changed" in text

    plan = json.loads(ctl(daemon, namespace, "run", "plan", "bad", "-o", "json").stdout)
    assert [step["sequence"] for step in plan["sources"][0]["steps"]] == [1, 2, 4]
    assert [finding["rule"] for finding in plan["findings"]] == ["gap"]
    usage = ctl(daemon, namespace, "advisory", "--from-run", "good")
    assert usage.returncode == 2 and "both --from-run and --to-run" in usage.stderr


def test_a_manifest_is_validated_shown_and_run(daemon, namespace: str, repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("temperature: 0\n")
    manifest = tmp_path / "capture.json"
    manifest.write_text(
        json.dumps(
            {
                "agent": "planner",
                "capture": [
                    {"kind": "git", "path": str(repo)},
                    {"kind": "env"},
                    {"kind": "config", "files": [str(config)]},
                    {"kind": "model", "provider": "anthropic", "name": "claude", "parameters": {"temperature": 0}},
                    {"kind": "tool", "name": "search", "version": "2"},
                    {"kind": "record", "provenance": "mutation",
                     "payload": {"type": "kafka", "id": "o-1", "source": "orders", "sequence": 1}},
                ],
            }
        )
    )  # fmt: skip
    valid = ctl(daemon, namespace, "manifest", "validate", str(manifest))
    assert valid.returncode == 0 and "ok: 6 capture(s) for agent 'planner'" in valid.stdout, valid.stderr
    shown = json.loads(ctl(daemon, namespace, "manifest", "show", str(manifest), "-o", "json").stdout)
    assert [item["kind"] for item in shown] == ["code", "environment", "config", "model", "tool", "mutation"]
    assert shown[3]["payload"]["parameters"] == {"temperature": 0}
    # The same manifest in YAML (an anchor, a flow mapping, a comment) shows the same captures.
    yaml_manifest = tmp_path / "capture.yaml"
    yaml_manifest.write_text(
        f"""# what the planner depends on
agent: planner
capture:
  - kind: git
    path: {json.dumps(str(repo))}
  - {{kind: env}}
  - kind: config
    files: [{json.dumps(str(config))}]
  - kind: model
    provider: anthropic
    name: claude
    parameters: &params {{temperature: 0}}
  - kind: tool
    name: search
    version: "2"
  - kind: record
    provenance: mutation
    payload: {{type: kafka, id: o-1, source: orders, sequence: 1}}
"""
    )
    from_yaml = ctl(daemon, namespace, "manifest", "show", str(yaml_manifest), "-o", "json")
    assert from_yaml.returncode == 0, from_yaml.stderr
    shown_yaml = json.loads(from_yaml.stdout)
    assert [item["kind"] for item in shown_yaml] == [item["kind"] for item in shown]
    assert shown_yaml[3]["payload"] == shown[3]["payload"] and shown_yaml[5]["payload"] == shown[5]["payload"]
    assert shown_yaml[4]["payload"] == {"name": "search", "version": "2"}
    for text, message in [
        ("agent: a\nagent: b\ncapture: [{kind: env}]\n", "duplicated key(s): 'agent'"),
        ("agent: a\ncapture: [{kind: model, provider: p, name: n, parameters: {t: .inf}}]\n", "not a finite number"),
        ("agent: a\ncapture: [{kind: env, [x]: 1}]\n", "a key must be a string"),
        ("agent: [unclosed\n", "not YAML"),
        ("agent: a\ncapture: [{kind: tool, name: 5}]\n", "'name' must be a non-empty string"),
        ("", "the manifest is empty"),
    ]:
        yaml_manifest.write_text(text)
        refused = ctl(daemon, namespace, "manifest", "validate", str(yaml_manifest))
        assert refused.returncode == 2 and message in refused.stderr, (text, refused.stderr)

    started = ctl(daemon, namespace, "manifest", "run", str(manifest), "--id", "from-manifest")
    assert started.returncode == 0 and started.stdout.strip() == "from-manifest", started.stderr
    run = json.loads(ctl(daemon, namespace, "run", "show", "from-manifest", "-o", "json").stdout)
    assert len(run["provenance"]) == 6

    for broken, message in [
        ({"agent": "a", "capture": [{"kind": "git", "colour": 1}]}, "git takes no member 'colour'"),
        ({"agent": "a", "capture": [{"kind": "config"}]}, "config needs 'files'"),
        ({"agent": "a", "capture": [{"kind": "dance"}]}, '"kind" is one of'),
        ({"agent": "a", "capture": []}, "non-empty array"),
        ({"capture": [{"kind": "env"}]}, '"agent" must be'),
        ({"agent": "a", "capture": [{"kind": "record", "provenance": "tool", "payload": {"nom": "x"}}]}, "tool"),
    ]:
        manifest.write_text(json.dumps(broken))
        refused = ctl(daemon, namespace, "manifest", "validate", str(manifest))
        assert refused.returncode == 2 and message in refused.stderr, (broken, refused.stderr)


def test_an_audit_bundle_of_a_run_carries_its_provenance_and_verifies_offline(
    daemon, namespace: str, repo: Path, tmp_path: Path
) -> None:
    started = ctl(
        daemon, namespace, "run", "start", "auditor", "--id", "audited", "--capture", f"git={repo}",
        "--record", 'config={"source": "agent.yaml", "sha256": "' + "c" * 64 + '"}',
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        client.apply([Put("auditor", "result", {"ok": True})], metadata={"tags": {"run_id": "audited"}})
    assert ctl(daemon, namespace, "run", "end", "audited").returncode == 0
    bundle, key = tmp_path / "run.jsonl", tmp_path / "ledger.pub"
    key.write_text(ctl(daemon, namespace, "ledger-key").stdout)
    exported = ctl(daemon, namespace, "audit", "export", "--run", "audited", "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in bundle.read_text().splitlines()]
    operations = [op for line in lines if "event" in line for op in line["event"]["operations"]]
    keys = {(op["agent_id"], op["key"].split("/")[0]) for op in operations}
    assert {("@provenance", "code"), ("@provenance", "config"), ("@runs", "audited"), ("auditor", "result")} <= keys
    verified = ctl(daemon, namespace, "audit", "verify", str(bundle), "--public-key", str(key))
    assert verified.returncode == 0 and verified.stdout.startswith("ok"), verified.stderr
    assert "no earlier run to compare with" in verified.stdout
    (run_line,) = [line["run"] for line in lines if "run" in line]
    assert run_line["advisory"] is None and run_line["baseline_run_id"] is None and run_line["status"] == "succeeded"
    assert verify_bundle(bundle, key.read_text()).run == run_line
    mixed = ctl(daemon, namespace, "audit", "export", "--run", "audited", "--from", "1", "--out", str(bundle))
    assert mixed.returncode == 2 and "--run sets the range itself" in mixed.stderr
    alone = ctl(daemon, namespace, "audit", "export", "--baseline", "audited", "--out", str(bundle))
    assert alone.returncode == 2 and "--baseline needs --run" in alone.stderr


def test_a_run_bundle_carries_the_advisory_and_replay_plan_both_verifiers_recompute(
    daemon, namespace: str, repo: Path, tmp_path: Path
) -> None:
    config = tmp_path / "agent.json"
    for run, text, sequences in (("first", '{"depth": 1}', (1, 2)), ("second", '{"depth": 2}', (3, 5, 5))):
        config.write_text(text)
        captured = json.loads(ctl(daemon, namespace, "capture", "config", str(config)).stdout)
        mutations = [
            f'mutation={{"type": "kafka", "id": "{run}-{n}-{i}", "source": "orders", "sequence": {n}}}'
            for i, n in enumerate(sequences)
        ]
        started = ctl(
            daemon, namespace, "run", "start", "auditor", "--id", run, "--capture", f"git={repo}", "--capture", "env",
            "--record", "config=" + json.dumps(captured),
            *[part for mutation in mutations for part in ("--record", mutation)],
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        assert ctl(daemon, namespace, "run", "end", run).returncode == 0
    bundle, key = tmp_path / "second.jsonl", tmp_path / "ledger.pub"
    key.write_text(ctl(daemon, namespace, "ledger-key").stdout)
    exported = ctl(daemon, namespace, "audit", "export", "--run", "second", "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr
    assert "advisory against run first" in exported.stderr and "config_changed" in exported.stderr
    lines = bundle.read_text().rstrip("\n").split("\n")
    assert json.loads(lines[0])["manifest"]["run_id"] == "second"
    run_at = next(index for index, line in enumerate(lines) if line.startswith('{"run"'))
    assert run_at == len(lines) - 2  # after the state lines, before the end line
    run_line = json.loads(lines[run_at])["run"]
    # The bundle's advisory and plan are what the daemon answers for the two runs.
    advice = json.loads(
        ctl(daemon, namespace, "advisory", "--from-run", "first", "--to-run", "second", "-o", "json").stdout
    )
    assert run_line["baseline_run_id"] == "first"
    assert run_line["advisory"]["score"] == advice["score"]
    assert run_line["advisory"]["findings"] == advice["findings"]
    plan = json.loads(ctl(daemon, namespace, "run", "plan", "second", "-o", "json").stdout)
    assert [f["rule"] for f in run_line["replay_plan"]["findings"]] == [f["rule"] for f in plan["findings"]]
    assert [f["rule"] for f in plan["findings"]] == ["gap", "duplicate"]
    assert [s["sequence"] for s in run_line["replay_plan"]["sources"][0]["steps"]] == [3, 5]
    # Both verifiers recompute the line from the proven records and agree with it.
    verified = ctl(daemon, namespace, "audit", "verify", str(bundle), "--public-key", str(key), "-o", "json")
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)["run"]
    assert report["score"] == advice["score"] and "config_changed" in report["advisory_rules"]
    assert verify_bundle(bundle, key.read_text()).run == run_line
    # A baseline named on the command line; a baseline that is no run is refused before anything is written.
    again = ctl(daemon, namespace, "audit", "export", "--run", "second", "--baseline", "second", "--out", str(bundle))
    assert again.returncode == 0 and "risk 10/100 (missing_capture)" in again.stderr, again.stderr  # no model
    missing = ctl(
        daemon, namespace, "audit", "export", "--run", "second", "--baseline", "nope", "--out", str(tmp_path / "x")
    )
    assert missing.returncode != 0 and "run 'nope' has no record" in missing.stderr
    assert not (tmp_path / "x").exists()

    # Changing the advisory, the plan or the status, or dropping the run line, fails both verifiers on that line.
    def changed(edit):
        body = json.loads(lines[run_at])
        edit(body["run"])
        return lines[:run_at] + [json.dumps(body)] + lines[run_at + 1 :]

    cases = {
        "score": (changed(lambda r: r["advisory"].update(score=0)), run_at + 1),
        "finding": (changed(lambda r: r["advisory"]["findings"].pop()), run_at + 1),
        "plan": (changed(lambda r: r["replay_plan"].update(findings=[])), run_at + 1),
        "status": (changed(lambda r: r.update(status="failed")), run_at + 1),
        "baseline": (changed(lambda r: r.update(baseline_run_id="second")), run_at + 1),
        "dropped": (lines[:run_at] + lines[run_at + 1 :], run_at + 1),
    }
    for name, (content, line) in cases.items():
        tampered = tmp_path / f"tampered-{name}.jsonl"
        tampered.write_text("\n".join(content) + "\n")
        swift = ctl(daemon, namespace, "audit", "verify", str(tampered), "--public-key", str(key))
        assert swift.returncode == 1 and f"line {line}" in swift.stderr, (name, swift.stderr)
        with pytest.raises(VerificationError, match=f"^line {line}"):
            verify_bundle(tampered, key.read_text())
