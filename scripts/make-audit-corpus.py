#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/audit-bundles: audit bundles exported from a real daemon, and copies of them changed
the ways an attacker or an accident would, with the verdict each must get (expected.json).

Both verifiers (statehousectl audit verify, Swift; statehouse.audit.verify_bundle, Python) are tested on this corpus
and must agree with expected.json: ok or not, and the line of the first failure. Run from the repository root after
`swift build` (it uses .build/debug/statehoused and statehousectl) with the SDK importable:

    .build/venv-sdk/bin/python scripts/make-audit-corpus.py
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))
sys.path.insert(0, str(ROOT / "python"))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from daemon import Daemon  # noqa: E402
from statehouse import Delete, Metadata, Put, Statehouse, merkle  # noqa: E402
from statehouse.audit import event_line_leaf_hash  # noqa: E402

OUT = ROOT / "Tests" / "Fixtures" / "audit-bundles"
CTL = ROOT / ".build" / "debug" / "statehousectl"


def ctl(daemon, *args):
    subprocess.run([str(CTL), "--addr", daemon.url, *args], check=True, capture_output=True)


def lines(name):
    # Split on newlines only: values may hold U+2028, which str.splitlines() would split on too.
    return (OUT / name).read_text(encoding="utf-8").rstrip("\n").split("\n")


def write(name, content):
    (OUT / name).write_text("\n".join(content) + "\n", encoding="utf-8")


RUNS = {
    # Every advisory rule fires between run-1 and run-2 (missing_capture and model_parameters_changed between run-2 and
    # run-3), and run-2's mutations have every replay-plan finding: duplicate, gap, mixed_namespaces, config_mismatch.
    "run-1": [
        ("code", {"repository": "github.com/example/agent", "commit": "a" * 40, "dirty": True}),
        ("config", {"source": "agent.json", "sha256": "1" * 64}),
        ("environment", {"os": "linux", "arch": "x86_64", "runtime": {"python": "3.11.4"}}),
        ("model", {"provider": "anthropic", "name": "claude", "version": "4"}),
        ("tool", {"name": "search", "version": "1"}),
    ],
    "run-2": [
        ("code", {"repository": "github.com/example/agent", "commit": "b" * 40, "dirty": False}),
        ("config", {"source": "agent.json", "sha256": "2" * 64}),
        ("environment", {"os": "linux", "arch": "aarch64", "runtime": {"python": "3.12.1", "node": "20"}}),
        ("model", {"provider": "anthropic", "name": "claude", "version": "4.5", "parameters": {"temperature": 0}}),
        ("tool", {"name": "search", "version": "2"}),
        ("mutation", {"type": "kafka", "id": "o-1", "source": "orders", "sequence": 1, "namespace": "shop"}),
        ("mutation", {"type": "kafka", "id": "o-1b", "source": "orders", "sequence": 1, "namespace": "shop"}),
        ("mutation", {"type": "kafka", "id": "o-4", "source": "orders", "sequence": 4, "namespace": "billing"}),
        ("mutation", {"type": "pg", "id": "s-7", "source": "invoices_seq", "sequence": 7, "config_sha256": "9" * 64}),
    ],
    "run-3": [
        ("code", {"repository": "github.com/example/agent", "commit": "b" * 40}),
        ("config", {"source": "agent.json", "sha256": "2" * 64}),
        ("model", {"provider": "anthropic", "name": "claude", "version": "4.5", "parameters": {"temperature": 0.5}}),
    ],
}


def make_runs(daemon):
    """Three runs of one agent in namespace 'runs', and the bundles of run-2 (against run-1) and run-3."""
    for run, records in RUNS.items():
        args = ["-n", "runs", "run", "start", "planner", "--id", run]
        for kind, payload in records:
            args += ["--record", f"{kind}={json.dumps(payload)}"]
        ctl(daemon, *args)
        with Statehouse(url=daemon.url, namespace="runs") as client:
            client.apply(
                [Put(agent_id="planner", key="step", value={"run": run})], metadata=Metadata(tags={"run_id": run})
            )
        ctl(daemon, "-n", "runs", "run", "end", run)
    ctl(daemon, "-n", "runs", "audit", "export", "--run", "run-2", "--out", str(OUT / "good-run.jsonl"))
    ctl(daemon, "-n", "runs", "audit", "export", "--run", "run-3", "--out", str(OUT / "good-run-params.jsonl"))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        key = Ed25519PrivateKey.generate()
        key_file = scratch / "key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (OUT / "public.pem").write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        other = Ed25519PrivateKey.generate().public_key()
        (OUT / "other-public.pem").write_bytes(
            other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        daemon = Daemon(scratch / "data", ["--signing-key", str(key_file)]).start()
        try:
            with Statehouse(url=daemon.url, namespace="audit") as client:
                for index in range(1, 21):
                    agent = f"agent-{index % 3}"
                    operations = [Put(agent_id=agent, key=f"k{index % 4}", value={"n": index, "text": "é\u2028"})]
                    if index % 7 == 0:
                        operations.append(Delete(agent_id=agent, key=f"k{(index + 1) % 4}"))
                    metadata = Metadata(actor="corpus", tags={"i": str(index), "a": "x"}) if index % 2 else None
                    client.apply(operations, metadata=metadata)
                ctl(daemon, "-n", "audit", "audit", "export", "--out", str(OUT / "good-whole.jsonl"))
                ctl(
                    daemon,
                    "-n",
                    "audit",
                    "audit",
                    "export",
                    "--out",
                    str(OUT / "good-agent.jsonl"),
                    "--agent",
                    "agent-1",
                    "--from",
                    "8",
                    "--to",
                    "14",
                )
                ctl(
                    daemon,
                    "-n",
                    "audit",
                    "audit",
                    "export",
                    "--out",
                    str(OUT / "good-range.jsonl"),
                    "--from",
                    "9",
                    "--to",
                    "9",
                )
                for index in range(21, 26):
                    client.apply([Put(agent_id="agent-0", key="later", value=index)])
                ctl(
                    daemon,
                    "-n",
                    "audit",
                    "audit",
                    "export",
                    "--out",
                    str(OUT / "good-since.jsonl"),
                    "--from",
                    "18",
                    "--since-head",
                    str(OUT / "good-whole.jsonl"),
                )
                make_runs(daemon)
        finally:
            daemon.stop()

    expected = {
        name: {"ok": True, "line": None}
        for name in ["good-whole.jsonl", "good-agent.jsonl", "good-range.jsonl", "good-since.jsonl"]
    }

    def bad(name, content, line):
        write(name, content)
        expected[name] = {"ok": False, "line": line}

    whole = lines("good-whole.jsonl")
    manifest = json.loads(whole[0])["manifest"]
    # An event's value changed: its leaf no longer matches the leaf hash it was exported with.
    changed = json.loads(whole[3])
    changed["event"]["operations"][0]["value"] = changed["event"]["operations"][0]["value"].replace('"n":3', '"n":4')
    bad("bad-value.jsonl", whole[:3] + [json.dumps(changed)] + whole[4:], 4)
    # The same change with its leaf hash recomputed: only the root check can catch it, after the last event.
    recomputed = json.loads(json.dumps(changed))
    recomputed["event"]["leaf_hash"] = event_line_leaf_hash("audit", recomputed["event"]).hex()
    bad("bad-value-rehashed.jsonl", whole[:3] + [json.dumps(recomputed)] + whole[4:], 22)
    bad("bad-dropped-event.jsonl", whole[:5] + whole[6:], 6)
    bad("bad-reordered.jsonl", whole[:5] + [whole[6], whole[5]] + whole[7:], 6)
    bad("bad-cut-short.jsonl", whole[:10], 10)
    bad("bad-extra-after-end.jsonl", whole + [whole[3]], len(whole) + 1)
    bad("bad-manifest-missing.jsonl", whole[1:], 1)
    bad("bad-not-json.jsonl", whole[:2] + ["{not json"] + whole[3:], 3)
    end = json.loads(whole[-1])["end"]
    bad("bad-end-count.jsonl", whole[:-1] + [json.dumps({"end": {**end, "events": end["events"] + 1}})], len(whole))
    # Not JSON for one parser and JSON for a lax one: both verifiers refuse the line.
    bad("bad-leading-zero.jsonl", whole[:-1] + [whole[-1].replace('"witnesses":0', '"witnesses":00')], len(whole))
    duplicated = whole[-1].replace('{"end":{', '{"end":{"events":' + str(end["events"] + 7) + ",")
    bad("bad-duplicate-member.jsonl", whole[:-1] + [duplicated], len(whole))
    state_at = next(i for i, line in enumerate(whole) if line.startswith('{"state"'))
    state = json.loads(whole[state_at])
    state["state"]["value"] = '{"n":99}'
    bad("bad-state-value.jsonl", whole[:state_at] + [json.dumps(state)] + whole[state_at + 1 :], state_at + 1)
    bad(
        "bad-state-missing.jsonl",
        whole[:state_at] + whole[state_at + 1 : -1] + [json.dumps({"end": {**end, "state": end["state"] - 1}})],
        len(whole) - 1,
    )
    forged = json.loads(whole[0])
    forged["manifest"]["head"]["tree_size"] += 1
    bad("bad-head-signature.jsonl", [json.dumps(forged)] + whole[1:], 1)
    since = lines("good-since.jsonl")
    rewritten = json.loads(since[0])
    rewritten["manifest"]["since_head"]["root_hash"] = merkle.leaf_hash(b"another history").hex()
    bad("bad-since-head.jsonl", [json.dumps(rewritten)] + since[1:], 1)
    agent = lines("good-agent.jsonl")
    leaf_at = next(i for i, line in enumerate(agent) if line.startswith('{"leaf"'))
    leaf = json.loads(agent[leaf_at])
    leaf["leaf"]["hash"] = merkle.leaf_hash(b"x").hex()
    last_leaf_or_event = max(i for i, line in enumerate(agent) if line.startswith(('{"leaf"', '{"event"')))
    bad("bad-agent-leaf.jsonl", agent[:leaf_at] + [json.dumps(leaf)] + agent[leaf_at + 1 :], last_leaf_or_event + 2)
    witness_at = next((i for i, line in enumerate(agent) if line.startswith('{"witness"')), None)
    if witness_at is not None:
        witness = json.loads(agent[witness_at])
        witness["witness"]["proof"][0] = merkle.leaf_hash(b"y").hex()
        bad(
            "bad-witness-proof.jsonl",
            agent[:witness_at] + [json.dumps(witness)] + agent[witness_at + 1 :],
            witness_at + 1,
        )
    expected["good-run.jsonl"] = {"ok": True, "line": None}
    expected["good-run-params.jsonl"] = {"ok": True, "line": None}
    run = lines("good-run.jsonl")
    run_at = next(i for i, line in enumerate(run) if line.startswith('{"run"'))

    def run_changed(edit):
        body = json.loads(run[run_at])
        edit(body["run"])
        return run[:run_at] + [json.dumps(body)] + run[run_at + 1 :]

    # The run line is recomputed from the proven records: any change to it fails on its line.
    bad(
        "bad-run-score.jsonl", run_changed(lambda r: r["advisory"].update(score=r["advisory"]["score"] - 5)), run_at + 1
    )
    bad("bad-run-finding.jsonl", run_changed(lambda r: r["advisory"]["findings"].pop(0)), run_at + 1)
    bad(
        "bad-run-message.jsonl",
        run_changed(lambda r: r["advisory"]["findings"][-1].update(message="nothing changed")),
        run_at + 1,
    )
    bad("bad-run-plan.jsonl", run_changed(lambda r: r["replay_plan"]["sources"][0]["steps"].pop()), run_at + 1)
    bad("bad-run-baseline.jsonl", run_changed(lambda r: r.update(baseline_run_id="run-3")), run_at + 1)
    bad("bad-run-unknown-baseline.jsonl", run_changed(lambda r: r.update(baseline_run_id="run-9")), run_at + 1)
    bad("bad-run-dropped.jsonl", run[:run_at] + run[run_at + 1 :], run_at + 1)
    # A record the run line depends on, changed in its state line: the state check fails first.
    record_at = next(
        i for i, line in enumerate(run) if line.startswith('{"state"') and '"@provenance"' in line and "run-2" in line
    )
    record = json.loads(run[record_at])
    record["state"]["value"] = record["state"]["value"].replace('"run_id":"run-2"', '"run_id":"run-1"')
    bad("bad-run-record.jsonl", run[:record_at] + [json.dumps(record)] + run[record_at + 1 :], record_at + 1)
    # A run's own records dropped from the state lines, the end count lowered: the run (proven) names them all, so
    # the run line cannot be recomputed without them.
    dropped = [
        line for line in run if not (line.startswith('{"state"') and '"@provenance"' in line and "run-2" in line)
    ]
    pruned_end = json.loads(dropped[-1])
    pruned_end["end"]["state"] -= len(run) - len(dropped)
    run_at_pruned = next(i for i, line in enumerate(dropped) if line.startswith('{"run"'))
    bad("bad-run-pruned.jsonl", dropped[:-1] + [json.dumps(pruned_end)], run_at_pruned + 1)
    # A key the range wrote and left live, dropped with the end count lowered: the end line finds it missing.
    step_at = next(i for i, line in enumerate(run) if line.startswith('{"state"') and '"planner"' in line)
    end_line = json.loads(run[-1])
    end_line["end"]["state"] -= 1
    bad("bad-range-pruned.jsonl", run[:step_at] + run[step_at + 1 : -1] + [json.dumps(end_line)], len(run) - 1)
    unannounced = json.loads(run[0])
    del unannounced["manifest"]["run_id"]
    bad("bad-run-unannounced.jsonl", [json.dumps(unannounced)] + run[1:], run_at + 1)
    expected["good-whole.jsonl:other-key"] = {"ok": False, "line": 1, "key": "other-public.pem"}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(expected)} cases to {OUT} (namespace {manifest['namespace']})")


if __name__ == "__main__":
    main()
