"""Signed tree heads, proofs and verified reads: Python's independent implementation against a real daemon."""

import hashlib
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from daemon import Daemon, statehoused_binary
from statehouse import (
    Delete,
    InvalidArgumentError,
    Metadata,
    NotFoundError,
    Put,
    Statehouse,
    VerificationError,
    ledger,
    merkle,
)


def _signed(private: Ed25519PrivateKey, head: ledger.TreeHead, timestamp: int, key_id: str) -> ledger.SignedTreeHead:
    unsigned = ledger.SignedTreeHead(head=head, timestamp_micros=timestamp, key_id=key_id, signature=b"")
    return ledger.SignedTreeHead(
        head=head, timestamp_micros=timestamp, key_id=key_id, signature=private.sign(ledger.signed_head_bytes(unsigned))
    )


def test_a_signed_head_verifies_and_any_changed_field_fails():
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = ledger.LedgerPublicKey(raw)
    head = ledger.TreeHead(namespace="ns", tree_size=7, root_hash=bytes(range(32)))
    signed = _signed(private, head, 1_700_000_000_000_000, key.key_id)
    assert key.verify_head(signed)
    changed = [
        ledger.SignedTreeHead(
            ledger.TreeHead("nt", 7, head.root_hash), signed.timestamp_micros, key.key_id, signed.signature
        ),
        ledger.SignedTreeHead(
            ledger.TreeHead("ns", 8, head.root_hash), signed.timestamp_micros, key.key_id, signed.signature
        ),
        ledger.SignedTreeHead(
            ledger.TreeHead("ns", 7, bytes(32)), signed.timestamp_micros, key.key_id, signed.signature
        ),
        ledger.SignedTreeHead(head, signed.timestamp_micros + 1, key.key_id, signed.signature),
        ledger.SignedTreeHead(head, signed.timestamp_micros, "0" * 16, signed.signature),
        ledger.SignedTreeHead(head, signed.timestamp_micros, key.key_id, bytes(64)),
    ]
    for head_changed in changed:
        assert not key.verify_head(head_changed)
    other = ledger.LedgerPublicKey(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    assert not other.verify_head(signed)


def test_public_keys_round_trip_through_pem_and_bad_pem_is_refused():
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = ledger.LedgerPublicKey.from_pem(pem)
    assert ledger.LedgerPublicKey.from_pem(key.pem) == key
    assert key.pem.encode() == pem
    with pytest.raises(ValueError):
        ledger.LedgerPublicKey.from_pem("not a key")
    with pytest.raises(ValueError):
        ledger.LedgerPublicKey.from_pem(pem.replace(b"MCowBQYDK2Vw", b"MCowBQYDK2Vx"))


def test_verified_reads_return_what_plain_reads_return(client: Statehouse):
    client.apply(_puts({"k1": {"n": 1}, "k2": "two"}))
    client.apply(
        _puts({"k1": {"n": 2, "tags": ["x", "y"]}}), metadata=Metadata(actor="tester", tags={"b": "2", "a": "1"})
    )
    client.apply([Delete(agent_id="agent", key="k2")])
    for key in ("k1", "k2", "never-written"):
        assert client.get_state("agent", key, verify=True) == client.get_state("agent", key)
    old = client.get_state("agent", "k1", at=1, verify=True)
    assert old.value == {"n": 1} and old.version == 1
    head = client.tree_head()
    assert client.ledger_key().verify_head(head)
    assert head.head.tree_size == 3


def test_inclusion_and_consistency_proofs_verify_against_signed_heads(client: Statehouse):
    for index in range(9):
        client.apply(_puts({f"k{index % 4}": index}))
    key = client.ledger_key()
    heads = [client.tree_head(size=size) for size in range(1, 10)]
    assert all(key.verify_head(head) for head in heads)
    for old in heads:
        for new in heads[heads.index(old) :]:
            proof = client.consistency_proof(old.head.tree_size, new_size=new.head.tree_size)
            assert merkle.verify_consistency(
                old.head.tree_size, new.head.tree_size, old.head.root_hash, new.head.root_hash, proof.hashes
            )
    proof = client.inclusion_proof(4, tree_size=9)
    assert proof.tree_size == 9 and merkle.inclusion_root(3, 9, bytes(32), proof.hashes) is not None
    with pytest.raises(InvalidArgumentError, match="commit_ts 0 is not in"):
        client.inclusion_proof(0)
    with pytest.raises(InvalidArgumentError, match="tree size 10 is beyond"):
        client.tree_head(size=10)
    with pytest.raises(InvalidArgumentError, match="larger than the new"):
        client.consistency_proof(5, new_size=4)
    with pytest.raises(NotFoundError):
        client.inclusion_proof(1, namespace="ledger-nobody")


def _puts(values):
    return [Put(agent_id="agent", key=key, value=value) for key, value in values.items()]


@pytest.mark.sqlite_only(reason="rewrites the SQLite file")
def test_a_rewritten_history_is_refused_by_a_client_that_saw_the_old_head(tmp_path: Path):
    """Attack (b): a daemon restored from a copy and written differently, with the same signing key."""
    first = Daemon(tmp_path / "first").start()
    try:
        with Statehouse(url=first.url, namespace="ledger") as writer:
            for index in range(5):
                writer.apply(_puts({"k": index}))
        first.stop()
        shutil.copytree(tmp_path / "first", tmp_path / "copy")
        first.start()
        with Statehouse(url=first.url, namespace="ledger") as writer:
            for index in range(5, 10):
                writer.apply(_puts({"k": index}))
        watcher = Statehouse(url=first.url, namespace="ledger")
        assert watcher.get_state("agent", "k", verify=True).value == 9
        port = first.port
    finally:
        first.stop()
    rewritten = Daemon(tmp_path / "copy")
    rewritten.port = port  # the same address the client knows
    rewritten.start()
    try:
        with Statehouse(url=rewritten.url, namespace="ledger") as writer:
            for index in range(7):
                writer.apply(_puts({"k": 100 + index}))
        with pytest.raises(VerificationError, match="does not extend the tree of size 10"):
            watcher.get_state("agent", "k", verify=True)
        # A client that never saw the old history has nothing to hold it to: the new one checks out on its own.
        with Statehouse(url=rewritten.url, namespace="ledger") as fresh:
            fresh.trust_ledger_key(watcher.ledger_key().pem)
            assert fresh.get_state("agent", "k", verify=True).value == 106
    finally:
        watcher.close()
        rewritten.stop()


@pytest.mark.sqlite_only(reason="edits the SQLite file")
def test_an_edited_value_fails_a_verified_read_and_verify_names_it(tmp_path: Path):
    """Attack (a): a value changed in the SQLite file behind the daemon's back."""
    process = Daemon(tmp_path / "data").start()
    try:
        with Statehouse(url=process.url, namespace="ledger") as writer:
            writer.apply(_puts({"k": {"amount": 10}}))
            writer.apply(_puts({"other": 1}))
        process.stop()
        with sqlite3.connect(tmp_path / "data" / "statehouse.db") as db:
            changed = db.execute("UPDATE versions SET value = ? WHERE key = 'k'", (b'{"amount":1000}',)).rowcount
        assert changed == 1
        process.start()
        with Statehouse(url=process.url, namespace="ledger") as reader:
            assert reader.get_state("agent", "k").value == {"amount": 1000}
            with pytest.raises(VerificationError, match="inclusion proof of commit_ts 1 does not lead"):
                reader.get_state("agent", "k", verify=True)
            assert reader.get_state("agent", "other", verify=True).value == 1
            report = reader.verify()
            assert not report.ok and report.first_bad_commit_ts == 1
    finally:
        process.stop()


def test_a_client_trusting_another_key_refuses_the_daemons_heads(client: Statehouse):
    client.apply(_puts({"k": 1}))
    other = Ed25519PrivateKey.generate().public_key()
    client.trust_ledger_key(
        other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(VerificationError, match="signature does not verify with the trusted key"):
        client.get_state("agent", "k", verify=True)


def test_the_daemon_signs_with_a_key_given_as_a_pkcs8_pem_file(tmp_path: Path):
    private = Ed25519PrivateKey.generate()
    key_file = tmp_path / "ledger.pem"
    key_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    process = Daemon(tmp_path / "data", ["--signing-key", str(key_file)]).start()
    try:
        with Statehouse(url=process.url, namespace="ledger") as client:
            raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            assert client.ledger_key().raw == raw
            client.apply(_puts({"k": 1}))
            assert client.get_state("agent", "k", verify=True).value == 1
        assert not (tmp_path / "data" / "ledger-signing-key.pem").exists()
    finally:
        process.stop()
    default = Daemon(tmp_path / "default").start()
    try:
        key_path = tmp_path / "default" / "ledger-signing-key.pem"
        assert key_path.stat().st_mode & 0o777 == 0o600
        with Statehouse(url=default.url) as client:
            first = client.ledger_key()
        default.restart()
        with Statehouse(url=default.url) as client:
            assert client.ledger_key() == first  # the key made on first start is kept
    finally:
        default.stop()


def test_a_malformed_signing_key_file_stops_the_daemon_with_the_reason(tmp_path: Path):
    key_file = tmp_path / "bad.pem"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    result = subprocess.run(
        [
            str(statehoused_binary()),
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            str(tmp_path / "data"),
            "--signing-key",
            str(key_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"cannot use the signing key {key_file}" in result.stdout + result.stderr


def test_statehousectl_state_output_checks_out_in_python(tmp_path: Path):
    """`statehousectl state -o json` gives, per key, the event and proof; Python checks them on its own."""
    import json

    from statehouse.audit import event_line_leaf_hash

    process = Daemon(tmp_path / "data").start()
    try:
        with Statehouse(url=process.url, namespace="ledger") as client:
            for index in range(12):
                client.apply(_puts({f"k{index % 5}": {"i": index}}))
            key = client.ledger_key()
        ctl = Path(statehoused_binary()).parent / "statehousectl"
        result = subprocess.run(
            [str(ctl), "--addr", process.url, "-n", "ledger", "state", "agent", "--at", "9", "-o", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        process.stop()
    state = json.loads(result.stdout)
    head = ledger.SignedTreeHead(
        head=ledger.TreeHead("ledger", state["head"]["tree_size"], bytes.fromhex(state["head"]["root_hash"])),
        timestamp_micros=state["head"]["timestamp_micros"],
        key_id=state["head"]["key_id"],
        signature=bytes.fromhex(state["head"]["signature"]),
    )
    assert key.verify_head(head) and head.head.tree_size == 12
    assert {entry["key"]: entry["value"]["i"] for entry in state["entries"]} == {f"k{i % 5}": i for i in range(9)}
    for entry in state["entries"]:
        event = entry["proven_by"]["event"]
        proof = [bytes.fromhex(h) for h in entry["proven_by"]["proof"]]
        leaf = event_line_leaf_hash("ledger", event)
        assert merkle.verify_inclusion(event["commit_ts"] - 1, 12, leaf, proof, head.head.root_hash)


def test_a_signing_key_others_can_read_is_used_with_a_warning(tmp_path: Path):
    key_file = tmp_path / "open.pem"
    key_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o644)
    process = Daemon(tmp_path / "data", ["--signing-key", str(key_file)]).start()
    try:
        assert "The signing key file can be read by other users; make it 0600" in process.log()
    finally:
        process.stop()


# ---- expiries and removed values in leaves (no daemon) ---------------------------------------------------------------


def _s(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def test_leaf_bytes_of_expiring_puts_removed_values_and_deletes_are_the_documented_layout():
    """kind 1: digest; kind 3: digest then the expiry as an i64 (two's complement); kind 2: the version only. A put
    whose value was removed gives the kept digest instead of the value."""
    value = b'{"n":1}'
    digest = hashlib.sha256(value).digest()
    expires = 1_700_000_005_000_000
    leaf = ledger.leaf_bytes(
        namespace="ns",
        commit_ts=9,
        txn_id="t",
        committed_at_micros=1_700_000_000_000_000,
        actor=None,
        reason="r",
        tags={},
        operations=[
            ledger.LeafOperation("a", "k", 3, value, expires_at_micros=expires),
            ledger.LeafOperation("a", "old", 1, None, value_digest=digest),
            ledger.LeafOperation("a", "both", 2, None, expires_at_micros=-2, value_digest=digest),
            ledger.LeafOperation("b", "gone", 4, None),
            ledger.LeafOperation("b", "plain", 1, b"7"),
        ],
    )
    expected = b"".join(
        [
            b"statehouse.leaf.v1\x00",
            struct.pack(">Q", 9),
            _s("ns"),
            _s("t"),
            struct.pack(">q", 1_700_000_000_000_000),
            b"\x00",
            b"\x01" + _s("r"),
            struct.pack(">I", 0),
            struct.pack(">I", 5),
            _s("a") + _s("k") + b"\x03" + struct.pack(">Q", 3) + digest + bytes.fromhex("00060a24186a8b40"),
            _s("a") + _s("old") + b"\x01" + struct.pack(">Q", 1) + digest,
            _s("a") + _s("both") + b"\x03" + struct.pack(">Q", 2) + digest + b"\xff" * 7 + b"\xfe",
            _s("b") + _s("gone") + b"\x02" + struct.pack(">Q", 4),
            _s("b") + _s("plain") + b"\x01" + struct.pack(">Q", 1) + hashlib.sha256(b"7").digest(),
        ]
    )
    assert struct.pack(">q", expires) == bytes.fromhex("00060a24186a8b40")
    assert leaf == expected


def test_a_removed_value_leaves_the_leaf_as_it_was_and_an_expiry_changes_it():
    def leaf(*operations: ledger.LeafOperation) -> bytes:
        return merkle.leaf_hash(
            ledger.leaf_bytes(
                namespace="ns",
                commit_ts=1,
                txn_id="t",
                committed_at_micros=5,
                actor="me",
                reason=None,
                tags={"b": "2", "a": "1"},
                operations=list(operations),
            )
        )

    value = b'"hello"'
    with_value = leaf(ledger.LeafOperation("a", "k", 1, value, expires_at_micros=77))
    assert leaf(ledger.LeafOperation("a", "k", 1, None, 77, hashlib.sha256(value).digest())) == with_value
    assert leaf(ledger.LeafOperation("a", "k", 1, value, expires_at_micros=78)) != with_value
    assert leaf(ledger.LeafOperation("a", "k", 1, value)) != with_value
    with pytest.raises(ValueError, match="not both"):
        leaf(ledger.LeafOperation("a", "k", 1, value, value_digest=hashlib.sha256(value).digest()))
    with pytest.raises(ValueError, match="32 bytes"):
        leaf(ledger.LeafOperation("a", "k", 1, None, value_digest=bytes(31)))
    with pytest.raises(ValueError, match="no expiry"):
        leaf(ledger.LeafOperation("a", "k", 1, None, expires_at_micros=5))


def test_the_leaf_of_a_wire_event_uses_the_expiry_and_the_removed_values_digest():
    from statehouse import _wire as wire
    from statehouse._proto import statehouse_pb2 as pb

    value = b'{"x":[1,2]}'
    put = pb.AppliedOperation(
        agent_id="a", key="k", kind=pb.OPERATION_KIND_PUT, value=value, version=2, expires_at_micros=123
    )
    removed = pb.AppliedOperation(agent_id="a", key="k", kind=pb.OPERATION_KIND_PUT, version=2, expires_at_micros=123)
    removed.removed_value_digest = hashlib.sha256(value).digest()
    event = pb.Event(namespace="ns", commit_ts=4, txn_id="t", committed_at_micros=9, operations=[put])
    expected = merkle.leaf_hash(
        ledger.leaf_bytes(
            namespace="ns",
            commit_ts=4,
            txn_id="t",
            committed_at_micros=9,
            actor=None,
            reason=None,
            tags={},
            operations=[ledger.LeafOperation("a", "k", 2, value, 123)],
        )
    )
    assert wire.event_leaf_hash(event) == expected
    same = pb.Event(namespace="ns", commit_ts=4, txn_id="t", committed_at_micros=9, operations=[removed])
    assert wire.event_leaf_hash(same) == expected
    removed.removed_value_digest = bytes(5)
    with pytest.raises(VerificationError, match="32 bytes"):
        wire.event_leaf_hash(pb.Event(namespace="ns", commit_ts=4, operations=[removed]))


def test_a_verified_read_accepts_an_expired_put_read_as_deleted_and_nothing_else():
    """The daemon reads a put whose expiry passed as deleted at the put's version (until its delete is committed);
    the proven event is then that put, with an expiry. Any other mismatch is still refused."""
    from statehouse import _wire as wire
    from statehouse._proto import statehouse_pb2 as pb

    put = pb.AppliedOperation(agent_id="a", key="k", kind=pb.OPERATION_KIND_PUT, value=b"1", version=3)
    expiring = pb.AppliedOperation()
    expiring.CopyFrom(put)
    expiring.expires_at_micros = 50
    delete = pb.AppliedOperation(agent_id="a", key="k", kind=pb.OPERATION_KIND_DELETE, version=3)
    live = pb.StateRecord(agent_id="a", key="k", value=b"1", exists=True, version=3)
    live_expiring = pb.StateRecord(agent_id="a", key="k", value=b"1", exists=True, version=3, expires_at_micros=50)
    expired = pb.StateRecord(agent_id="a", key="k", exists=False, deleted=True, version=3, expires_at_micros=50)
    tombstone = pb.StateRecord(agent_id="a", key="k", exists=False, deleted=True, version=3)
    assert wire._wrote_record(put, live)
    assert wire._wrote_record(expiring, live_expiring)
    assert wire._wrote_record(expiring, expired)
    assert wire._wrote_record(delete, tombstone)
    assert not wire._wrote_record(put, tombstone)  # a put without an expiry never reads as deleted
    assert not wire._wrote_record(expiring, live)  # the expiry shown must be the proven one
    assert not wire._wrote_record(put, live_expiring)
    assert not wire._wrote_record(delete, live)
    other = pb.StateRecord()
    other.CopyFrom(expired)
    other.expires_at_micros = 51
    assert not wire._wrote_record(expiring, other)
    other.CopyFrom(live)
    other.version = 4
    assert not wire._wrote_record(put, other)
    other.CopyFrom(live)
    other.value = b"2"
    assert not wire._wrote_record(put, other)
