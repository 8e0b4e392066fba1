"""The Python bundle verifier on the shared corpus (the Swift one runs on it in AuditBundleCorpusTests), and bundles
exported from a live daemon by statehousectl."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from daemon import Daemon
from statehouse import Put, Statehouse, VerificationError, audit

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "Tests" / "Fixtures" / "audit-bundles"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
CTL = REPO / ".build" / "debug" / "statehousectl"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bundle_of_the_corpus_gets_the_verdict_of_expected_json(name):
    expected = EXPECTED[name]
    path = CORPUS / name.split(":")[0]
    key = (CORPUS / expected.get("key", "public.pem")).read_text()
    if expected["ok"]:
        report = audit.verify_bundle(path, key)
        assert report.events > 0
    else:
        with pytest.raises(VerificationError) as failure:
            audit.verify_bundle(path, key)
        line = re.search(r"line (\d+)", str(failure.value))
        assert line is not None and int(line.group(1)) == expected["line"], str(failure.value)


def test_a_live_export_verifies_in_both_verifiers_and_a_changed_copy_fails_in_both(tmp_path: Path):
    process = Daemon(tmp_path / "data").start()
    try:
        with Statehouse(url=process.url, namespace="live") as client:
            for index in range(30):
                client.apply([Put(agent_id=f"a{index % 3}", key=f"k{index % 5}", value={"i": index})])
            pem = client.ledger_key().pem
        bundle, key = tmp_path / "bundle.jsonl", tmp_path / "key.pem"
        key.write_text(pem)
        export = [str(CTL), "--addr", process.url, "-n", "live", "audit", "export", "--out", str(bundle)]
        subprocess.run(export, check=True, capture_output=True)
    finally:
        process.stop()
    report = audit.verify_bundle(bundle, pem)
    assert (report.from_commit_ts, report.to_commit_ts, report.events, report.state_complete) == (1, 30, 30, True)
    swift = subprocess.run(
        [str(CTL), "audit", "verify", str(bundle), "--public-key", str(key), "-o", "json"],
        capture_output=True,
        text=True,
    )
    assert swift.returncode == 0 and json.loads(swift.stdout)["events"] == 30
    lines = bundle.read_bytes().split(b"\n")
    assert b'\\"i\\":6' in lines[7]  # the value is JSON text inside a JSON string
    lines[7] = lines[7].replace(b'\\"i\\":6', b'\\"i\\":7')
    changed = tmp_path / "changed.jsonl"
    changed.write_bytes(b"\n".join(lines))
    with pytest.raises(VerificationError, match=r"line 8 \(commit_ts 7\)"):
        audit.verify_bundle(changed, pem)
    swift = subprocess.run(
        [str(CTL), "audit", "verify", str(changed), "--public-key", str(key)], capture_output=True, text=True
    )
    assert swift.returncode == 1 and "line 8 (commit_ts 7)" in swift.stderr


def test_an_export_by_time_covers_the_events_committed_between_the_bounds(tmp_path: Path):
    import time
    from datetime import timedelta

    process = Daemon(tmp_path / "data").start()
    try:
        with Statehouse(url=process.url, namespace="times") as client:
            for index in range(10):
                client.apply([Put(agent_id="a", key="k", value=index)])
                time.sleep(0.02)
            events = list(client.replay())
            pem = client.ledger_key().pem

        def rfc3339(moment):
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # milliseconds, as the CLI reads them

        since = events[3].committed_at.replace(microsecond=events[3].committed_at.microsecond // 1000 * 1000)
        until = events[6].committed_at + timedelta(milliseconds=1)
        bundle = tmp_path / "times.jsonl"
        command = [str(CTL), "--addr", process.url, "-n", "times", "audit", "export", "--out", str(bundle)]
        subprocess.run(
            [*command, "--since", rfc3339(since), "--until", rfc3339(until)], check=True, capture_output=True
        )
        later = subprocess.run([*command, "--since", "2999-01-01T00:00:00Z"], capture_output=True, text=True)
    finally:
        process.stop()
    report = audit.verify_bundle(bundle, pem)
    assert (report.from_commit_ts, report.to_commit_ts) == (4, 7)
    assert later.returncode == 3 and "no event of namespace 'times' was committed between" in later.stderr


def test_a_later_export_is_proven_to_extend_an_earlier_bundle_or_head(tmp_path: Path):
    """--since-head takes an earlier bundle, or the head JSON that `statehousectl state -o json` prints."""
    process = Daemon(tmp_path / "data").start()
    try:
        base = [str(CTL), "--addr", process.url, "-n", "since"]
        with Statehouse(url=process.url, namespace="since") as client:
            for index in range(5):
                client.apply([Put(agent_id="a", key=f"k{index}", value=index)])
            pem = client.ledger_key().pem
            first = tmp_path / "first.jsonl"
            subprocess.run([*base, "audit", "export", "--out", str(first)], check=True, capture_output=True)
            state = subprocess.run([*base, "state", "a", "-o", "json"], check=True, capture_output=True, text=True)
            head = tmp_path / "head.json"
            head.write_text(json.dumps(json.loads(state.stdout)["head"]))
            for index in range(5, 9):
                client.apply([Put(agent_id="a", key=f"k{index}", value=index)])
        for earlier in (first, head):
            later = tmp_path / f"later-{earlier.stem}.jsonl"
            subprocess.run(
                [*base, "audit", "export", "--out", str(later), "--from", "6", "--since-head", str(earlier)],
                check=True,
                capture_output=True,
            )
            manifest = json.loads(later.read_text().split("\n")[0])["manifest"]
            assert manifest["since_head"]["tree_size"] == 5
            report = audit.verify_bundle(later, pem)
            assert (report.from_commit_ts, report.to_commit_ts, report.tree_size) == (6, 9, 9)
        bad = tmp_path / "bad.json"
        bad.write_text("{}")
        refused = subprocess.run(
            [*base, "audit", "export", "--out", str(tmp_path / "x.jsonl"), "--since-head", str(bad)],
            capture_output=True,
            text=True,
        )
        assert refused.returncode == 2 and "is neither an audit bundle nor a signed head" in refused.stderr
    finally:
        process.stop()
