"""The Python bundle verifier on the shared corpus (the Swift one runs on it in AuditBundleCorpusTests), and bundles
exported from a live daemon by statehousectl."""

import hashlib
import json
import re
import struct
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from daemon import Daemon
from statehouse import Put, Statehouse, VerificationError, audit, ledger, merkle

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


# ---- expiries and removed values (bundles made here, leaves computed by hand) ----------------------------------------


def _str(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def _hand_leaf(namespace: str, event: dict) -> bytes:
    """The leaf hash of an event line from the documented layout, without statehouse.ledger: kind 1 put (digest),
    2 delete, 3 put with an expiry (digest, then i64 expires_at); a removed value by its value_digest."""
    meta = event.get("metadata") or {}
    out = b"statehouse.leaf.v1\x00" + struct.pack(">Q", event["commit_ts"]) + _str(namespace) + _str(event["txn_id"])
    out += struct.pack(">q", event["committed_at_micros"])
    for text in (meta.get("actor"), meta.get("reason")):
        out += b"\x00" if text is None else b"\x01" + _str(text)
    tags = meta.get("tags") or {}
    out += struct.pack(">I", len(tags)) + b"".join(_str(name) + _str(tags[name]) for name in sorted(tags))
    out += struct.pack(">I", len(event["operations"]))
    for op in event["operations"]:
        out += _str(op["agent_id"]) + _str(op["key"])
        if op["kind"] == "delete":
            out += b"\x02" + struct.pack(">Q", op["version"])
            continue
        if "value_digest" in op:
            digest = bytes.fromhex(op["value_digest"])
        else:
            digest = hashlib.sha256(op["value"].encode("utf-8")).digest()
        if "expires_at_micros" in op:
            out += b"\x03" + struct.pack(">Q", op["version"]) + digest + struct.pack(">q", op["expires_at_micros"])
        else:
            out += b"\x01" + struct.pack(">Q", op["version"]) + digest
    return hashlib.sha256(b"\x00" + out).digest()


def _event(ts: int, operations: list, **metadata: str) -> dict:
    event = {"commit_ts": ts, "committed_at_micros": 1_800_000_000_000_000 + ts, "txn_id": f"txn-{ts}"}
    if metadata:
        event["metadata"] = metadata
    event["operations"] = operations
    return event


def _put(agent: str, key: str, version: int, value=None, **extra) -> dict:
    op = {"agent_id": agent, "key": key, "kind": "put", "version": version}
    if value is not None:
        op["value"] = value
    op.update(extra)
    return op


E1, E2 = 1_900_000_000_000_000, 1_900_000_000_500_000
GONE = hashlib.sha256(b'"gone"').hexdigest()
TTL_EVENTS = [
    _event(1, [_put("a", "keep", 1, "1"), _put("a", "tmp", 1, "2", expires_at_micros=E1)]),
    _event(2, [_put("a", "old", 1, value_digest=GONE, expires_at_micros=E2)], reason="first"),
    _event(3, [_put("a", "old", 2, '"4"')]),
    _event(4, [_put("b", "ttl", 1, "5", expires_at_micros=E1)]),
    _event(5, [_put("c", "d", 1, "6")]),
    _event(6, [{"agent_id": "c", "key": "d", "kind": "delete", "version": 2}], reason="expired: 1 key(s)"),
]
TTL_STATE = [
    {"agent_id": "a", "commit_ts": 1, "key": "keep", "value": "1", "version": 1},
    {"agent_id": "a", "commit_ts": 3, "key": "old", "value": '"4"', "version": 2},
    {"agent_id": "a", "commit_ts": 1, "key": "tmp", "value": "2", "version": 1},
]


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory):
    """An Ed25519 key made for these bundles, and its PEM in a file (for statehousectl)."""
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path_factory.mktemp("key") / "public.pem"
    path.write_bytes(pem)
    return private, pem.decode(), path


def _write_bundle(path: Path, signer, events: list, state: list, *, namespace: str = "ttl") -> Path:
    """A bundle of the whole namespace from commit_ts 1: the leaves (and each event's leaf_hash) by hand, the root
    with statehouse.merkle, the head signed here."""
    private, pem, _ = signer
    leaves = [_hand_leaf(namespace, event) for event in events]
    key = ledger.LedgerPublicKey.from_pem(pem)
    head = ledger.TreeHead(namespace, len(events), merkle.root(leaves))
    unsigned = ledger.SignedTreeHead(head, 1_800_000_001_000_000, key.key_id, b"")
    signature = private.sign(ledger.signed_head_bytes(unsigned))
    manifest = {
        "consistency": [],
        "format": "statehouse-audit",
        "from_commit_ts": 1,
        "head": {
            "key_id": key.key_id,
            "namespace": namespace,
            "root_hash": head.root_hash.hex(),
            "signature": signature.hex(),
            "timestamp_micros": unsigned.timestamp_micros,
            "tree_size": len(events),
        },
        "namespace": namespace,
        "prefix": [],
        "public_key": pem,
        "to_commit_ts": len(events),
        "version": 1,
    }
    lines = [{"manifest": manifest}]
    lines += [{"event": dict(event, leaf_hash=leaf.hex())} for event, leaf in zip(events, leaves)]
    lines += [{"state": entry} for entry in state]
    lines.append({"end": {"events": len(events), "leaves": 0, "state": len(state), "witnesses": 0}})
    path.write_text("".join(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in lines))
    return path


def _verdicts(path: Path, signer):
    """(ok, line of the failure) from the Python verifier and from statehousectl's (Swift)."""
    _, pem, key_path = signer
    try:
        audit.verify_bundle(path, pem)
        python = (True, None)
    except VerificationError as failure:
        found = re.search(r"line (\d+)", str(failure))
        python = (False, int(found.group(1)) if found else None, str(failure))
    swift = subprocess.run(
        [str(CTL), "audit", "verify", str(path), "--public-key", str(key_path)], capture_output=True, text=True
    )
    found = re.search(r"line (\d+)", swift.stderr)
    return python, (swift.returncode == 0, None if swift.returncode == 0 else int(found.group(1)) if found else None)


def _changed(events: list, index: int, op: int, **fields) -> list:
    """A copy of the events with fields of one operation changed (None: the field removed)."""
    copy = json.loads(json.dumps(events))
    for name, value in fields.items():
        if value is None:
            copy[index]["operations"][op].pop(name, None)
        else:
            copy[index]["operations"][op][name] = value
    return copy


def test_a_bundle_with_expiring_puts_and_removed_values_verifies_in_both_verifiers(tmp_path: Path, signer):
    """And a key whose newest version expires needs no state line (b/ttl has none; a/tmp has one: both are fine)."""
    path = _write_bundle(tmp_path / "ttl.jsonl", signer, TTL_EVENTS, TTL_STATE)
    text = path.read_text()
    assert '"expires_at_micros":1900000000000000,"key":"tmp","kind":"put","value":"2"' in text  # sorted members
    assert f'"kind":"put","value_digest":"{GONE}","version":1' in text
    report = audit.verify_bundle(path, signer[1])
    assert (report.events, report.state_entries, report.state_complete) == (6, 3, True)
    python, swift = _verdicts(path, signer)
    assert python == swift == (True, None)
    without_tmp = _write_bundle(tmp_path / "no-tmp.jsonl", signer, TTL_EVENTS, TTL_STATE[:2])
    assert _verdicts(without_tmp, signer) == ((True, None), (True, None))
    # The removed value itself, given back in place of its digest, makes the same leaf.
    lines = path.read_text().replace(f'"value_digest":"{GONE}"', '"value":"\\"gone\\""')
    given_back = tmp_path / "given-back.jsonl"
    given_back.write_text(lines)
    assert '"value":"\\"gone\\"","version":1' in lines
    assert _verdicts(given_back, signer) == ((True, None), (True, None))


def test_a_live_key_without_an_expiry_must_still_have_its_state_line(tmp_path: Path, signer):
    path = _write_bundle(tmp_path / "missing.jsonl", signer, TTL_EVENTS, TTL_STATE[1:])
    python, swift = _verdicts(path, signer)
    assert python[:2] == swift == (False, 10)
    assert "leave out agent 'a' key 'keep'" in python[2]
    # Without its expiry, a/tmp is required as well.
    events = _changed(TTL_EVENTS, 0, 1, expires_at_micros=None)
    path = _write_bundle(tmp_path / "no-expiry.jsonl", signer, events, [TTL_STATE[0], TTL_STATE[1]])
    python, swift = _verdicts(path, signer)
    assert python[:2] == swift == (False, 10)
    assert "key 'tmp'" in python[2]


@pytest.mark.parametrize(
    "case, index, op, fields, line",
    [
        ("a changed expiry", 0, 1, {"expires_at_micros": E1 + 1}, 2),
        ("an expiry taken away", 1, 0, {"expires_at_micros": None}, 3),
        ("an expiry added", 4, 0, {"expires_at_micros": E1}, 6),
        ("a value next to its digest", 1, 0, {"value": '"gone"'}, 3),
        ("a digest in capitals", 1, 0, {"value_digest": GONE.upper()}, 3),
        ("a short digest", 1, 0, {"value_digest": GONE[:62]}, 3),
        ("another value's digest", 1, 0, {"value_digest": hashlib.sha256(b'"other"').hexdigest()}, 3),
        ("a wrong value for a removed one", 1, 0, {"value_digest": None, "value": '"gon"'}, 3),
        ("a delete with a digest", 5, 0, {"value_digest": GONE}, 7),
        ("a delete with an expiry", 5, 0, {"expires_at_micros": E1}, 7),
        ("a null expiry", 3, 0, {"expires_at_micros": "null"}, 5),
        ("an expiry as text", 3, 0, {"expires_at_micros": str(E1)}, 5),
    ],
)
def test_a_bad_expiry_or_digest_fails_in_both_verifiers_at_its_line(tmp_path, signer, case, index, op, fields, line):
    """Each change is made after the leaves were computed (the leaf_hash and the root are the good bundle's)."""
    good = _write_bundle(tmp_path / "good.jsonl", signer, TTL_EVENTS, TTL_STATE)
    lines = good.read_text().splitlines()
    event = json.loads(lines[index + 1])
    operation = event["event"]["operations"][op]
    for name, value in fields.items():
        if value is None:
            operation.pop(name)
        else:
            operation[name] = None if value == "null" else value
    lines[index + 1] = json.dumps(event, sort_keys=True, separators=(",", ":"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    python, swift = _verdicts(bad, signer)
    assert python[:2] == (False, line), (case, python)
    assert swift == (False, line), (case, swift)


def test_a_live_export_with_expiries_and_removed_values_verifies_in_both_verifiers(tmp_path: Path):
    process = Daemon(tmp_path / "data").start()
    try:
        with Statehouse(url=process.url, namespace="kept") as client:
            client.set_retention(keep_versions=1)
            for index in range(3):
                client.apply([Put("a", "k", {"i": index}), Put("a", f"t{index}", index, ttl=3600)])
            client.apply([Put("b", "soon", 1, ttl=0.5)])
            assert client.compact().values_removed == 2
            pem = client.ledger_key().pem
            deadline = time.monotonic() + 10
            while client.get_state("b", "soon").exists and time.monotonic() < deadline:
                time.sleep(0.1)
        bundle, key = tmp_path / "bundle.jsonl", tmp_path / "key.pem"
        key.write_text(pem)
        export = [str(CTL), "--addr", process.url, "-n", "kept", "audit", "export", "--out", str(bundle)]
        subprocess.run(export, check=True, capture_output=True)
    finally:
        process.stop()
    text = bundle.read_text()
    assert text.count('"value_digest":') == 2 and '"expires_at_micros":' in text
    report = audit.verify_bundle(bundle, pem)
    assert report.state_complete and report.events >= 5
    swift = subprocess.run(
        [str(CTL), "audit", "verify", str(bundle), "--public-key", str(key), "-o", "json"],
        capture_output=True,
        text=True,
    )
    assert swift.returncode == 0, swift.stderr
    assert json.loads(swift.stdout)["events"] == report.events


def test_the_run_line_compares_strings_by_code_points_as_the_swift_side_does() -> None:
    """'é' and 'e' + U+0301 are two model names; so they are to the Swift builder (AuditBundleRunLineTests)."""
    from statehouse import _run_line

    def record(run: str, name: str, ts: int) -> tuple:
        value = json.dumps(
            {"agent_id": "planner", "captured_at": 1, "payload": {"provider": "p", "name": name}, "run_id": run}
        )
        return ("@provenance", f"model/{run}"), (ts, value)

    def run(run_id: str, started: int, ts: int) -> tuple:
        value = {
            "agent_id": "planner",
            "ended_at": None,
            "metadata": None,
            "provenance": [],
            "started_at": started,
            "status": "succeeded",
        }
        return ("@runs", run_id), (ts, json.dumps(value))

    state = dict([record("r1", "caf\u00e9", 1), record("r2", "cafe\u0301", 3), run("r1", 10, 2), run("r2", 20, 4)])
    line = _run_line.run_line("r2", "r1", state)
    assert "model_changed" in [finding["rule"] for finding in line["advisory"]["findings"]]
