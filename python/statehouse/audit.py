"""Offline verification of audit bundles (``statehousectl audit export``), trusting only a public key.

Written from docs/architecture.md ("Audit bundles") independently of the Swift verifier (``statehousectl audit
verify``); the two must agree on every bundle, which is what tests/test_audit.py checks on a corpus of good and bad
bundles. Streaming: memory stays flat however many events, except for the final state (one entry per key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _run_line, merkle
from .exceptions import VerificationError
from .ledger import LeafOperation, LedgerPublicKey, SignedTreeHead, TreeHead, leaf_bytes

__all__ = ["BundleReport", "event_line_leaf_hash", "verify_bundle"]

FORMAT = "statehouse-audit"
VERSION = 1
_MEMBERS = ("manifest", "event", "leaf", "state", "witness", "run", "end")


@dataclass(frozen=True)
class BundleReport:
    """What a bundle proved."""

    namespace: str
    agent_id: Optional[str]
    from_commit_ts: int
    to_commit_ts: int
    tree_size: int
    root_hash: bytes
    events: int
    leaves: int
    state_entries: int
    state_complete: bool  # the state lines are exactly the state the events produce (a bundle from commit_ts 1)
    # A run's bundle: its run line (run_id, baseline_run_id, provenance, advisory, replay_plan, ...), recomputed from
    # the proven state and found equal.
    run: Optional[Dict[str, Any]] = None


def _unique_members(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    """An object whose member names are unique (json.loads would keep the last of two silently)."""
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member name appears twice")
    return members


def _hash(text: Any) -> Optional[bytes]:
    if not isinstance(text, str) or len(text) != 64:
        return None
    try:
        return bytes.fromhex(text) if text == text.lower() else None
    except ValueError:
        return None


def _hashes(texts: Any) -> Optional[List[bytes]]:
    if not isinstance(texts, list):
        return None
    hashes = [_hash(text) for text in texts]
    return None if any(h is None for h in hashes) else hashes  # type: ignore[return-value]


def _head(value: Any) -> Optional[SignedTreeHead]:
    try:
        root, signature = _hash(value["root_hash"]), bytes.fromhex(value["signature"])
        if root is None:
            return None
        return SignedTreeHead(
            head=TreeHead(namespace=value["namespace"], tree_size=int(value["tree_size"]), root_hash=root),
            timestamp_micros=int(value["timestamp_micros"]),
            key_id=value["key_id"],
            signature=signature,
        )
    except (KeyError, TypeError, ValueError):
        return None


_INT64 = range(-(1 << 63), 1 << 63)


def _expiry(op: Dict[str, Any]) -> Optional[int]:
    """An operation's ``expires_at_micros`` (absent: None). A member that is there must be an integer (an i64), as
    the Swift codec reads it: anything else (null included) makes the line malformed."""
    if "expires_at_micros" not in op:
        return None
    value = op["expires_at_micros"]
    if isinstance(value, bool) or not isinstance(value, int) or value not in _INT64:
        raise TypeError(f"expires_at_micros must be a 64-bit integer, not {value!r}")
    return value


def _leaf_operation(op: Dict[str, Any]) -> Optional[LeafOperation]:
    """The leaf operation of a bundle's operation object; None when it fits no kind: neither put nor delete, a put
    with both a value and a value digest or a digest that is not 64 lowercase hex digits, a delete with a value
    digest or an expiry."""
    expires = _expiry(op)
    if op["kind"] == "put":
        if op.get("value_digest") is not None:
            digest = _hash(op["value_digest"])
            if op.get("value") is not None or digest is None:
                return None
            return LeafOperation(op["agent_id"], op["key"], op["version"], None, expires, digest)
        return LeafOperation(op["agent_id"], op["key"], op["version"], (op.get("value") or "").encode(), expires)
    if op["kind"] == "delete":
        if op.get("value_digest") is not None or expires is not None:
            return None
        return LeafOperation(op["agent_id"], op["key"], op["version"], None)
    return None


def event_line_leaf_hash(namespace: str, event: Dict[str, Any]) -> Optional[bytes]:
    """The leaf hash of a bundle's event object (values hashed here; a removed value by the ``value_digest`` given
    for it); None when an operation fits no kind (see ``_leaf_operation``)."""
    operations = []
    for op in event["operations"]:
        operation = _leaf_operation(op)
        if operation is None:
            return None
        operations.append(operation)
    metadata = event.get("metadata") or {}
    return merkle.leaf_hash(
        leaf_bytes(
            namespace=namespace,
            commit_ts=event["commit_ts"],
            txn_id=event["txn_id"],
            committed_at_micros=event["committed_at_micros"],
            actor=metadata.get("actor"),
            reason=metadata.get("reason"),
            tags=metadata.get("tags") or {},
            operations=operations,
        )
    )


def _written(op: Dict[str, Any], commit_ts: int) -> Tuple[int, int, Optional[str], bool]:
    """What an event's operation leaves for its key: version, commit_ts, value (None for a delete and for a value
    retention removed) and whether the value has an expiry."""
    return (op["version"], commit_ts, op.get("value"), op.get("expires_at_micros") is not None)


class _Frontier:
    """The perfect subtrees of a growing tree, largest first (what appending a leaf needs)."""

    def __init__(self, size: int, hashes: List[bytes]) -> None:
        self.size = size
        self.nodes: List[Tuple[int, bytes]] = []  # (level, hash)
        levels = [level for level in range(63, -1, -1) if size >> level & 1]
        self.nodes = list(zip(levels, hashes))

    def append(self, leaf: bytes) -> None:
        level, node = 0, leaf
        while self.nodes and self.nodes[-1][0] == level:
            _, left = self.nodes.pop()
            node = merkle.node_hash(left, node)
            level += 1
        self.nodes.append((level, node))
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return merkle.EMPTY_ROOT
        root = self.nodes[-1][1]
        for _, node in reversed(self.nodes[:-1]):
            root = merkle.node_hash(node, root)
        return root


def verify_bundle(path: Union[str, Path], public_key: Union[LedgerPublicKey, str, bytes]) -> BundleReport:
    """Checks the audit bundle at ``path`` with ``public_key`` (a LedgerPublicKey, or its PEM text).

    Returns what was proven; raises :class:`~statehouse.exceptions.VerificationError` naming the line, the commit_ts
    where there is one, and the check that failed.
    """
    key = public_key if isinstance(public_key, LedgerPublicKey) else LedgerPublicKey.from_pem(public_key)
    with open(path, "rb") as lines:
        return _Verifier(key).run(lines)


class _Verifier:
    def __init__(self, key: LedgerPublicKey) -> None:
        self.key = key
        self.line = 0
        self.manifest: Dict[str, Any] = {}
        self.head: Optional[TreeHead] = None
        self.frontier = _Frontier(0, [])
        self.next_ts = 0
        self.events = self.leaves = self.witnesses = self.states = 0
        self.in_state = False
        self.finished = False
        # The newest version of each key the events (then witnesses) wrote, its commit_ts, value (None for a delete
        # and a removed value) and whether it has an expiry: one entry per key, so memory stays flat.
        self.latest: Dict[Tuple[str, str], Tuple[int, int, Optional[str], bool]] = {}
        self.claimed: set = set()
        # The proven state of the reserved agents @runs and @provenance: (agent, key) -> (commit_ts, value).
        self.run_state: Dict[Tuple[str, str], Tuple[int, str]] = {}
        self.run_line: Optional[Dict[str, Any]] = None

    def fail(self, what: str, commit_ts: Optional[int] = None) -> VerificationError:
        where = f" (commit_ts {commit_ts})" if commit_ts is not None else ""
        return VerificationError(f"line {self.line}{where}: {what}")

    def run(self, lines: Any) -> BundleReport:
        for raw in lines:
            self.consume(raw.rstrip(b"\n"))
        if not self.finished:
            raise VerificationError(f"the bundle is cut short after line {self.line}: it has no end line")
        m = self.manifest
        assert self.head is not None
        return BundleReport(
            namespace=m["namespace"],
            agent_id=m.get("agent_id"),
            from_commit_ts=m["from_commit_ts"],
            to_commit_ts=m["to_commit_ts"],
            tree_size=self.head.tree_size,
            root_hash=self.head.root_hash,
            events=self.events,
            leaves=self.leaves,
            state_entries=self.states,
            state_complete=m["from_commit_ts"] == 1,
            run=self.run_line,
        )

    def consume(self, raw: bytes) -> None:
        self.line += 1
        if self.finished:
            raise self.fail("a line after the end line")
        try:
            line = json.loads(raw, object_pairs_hook=_unique_members)
        except ValueError as error:
            raise self.fail(f"not a bundle line ({error})") from None
        present = [name for name in _MEMBERS if isinstance(line, dict) and line.get(name) is not None]
        if not isinstance(line, dict) or len(present) != 1 or len(line) != 1:
            raise self.fail(f"a line must have exactly one member; it has {len(present)}")
        kind, body = present[0], line[present[0]]
        try:
            if kind == "manifest":
                self.start(body)
            elif kind == "run" and self.manifest:
                # Numbers as their text: the line must be what the proven state gives, number for number.
                self.on_run(_run_line.parse_exact(raw)["run"])
            elif not self.manifest:
                raise self.fail("the bundle does not start with its manifest")
            else:
                getattr(self, "on_" + kind)(body)
        except (KeyError, TypeError, AttributeError) as error:
            raise self.fail(f"a {kind} line is malformed ({error!r})") from None

    def start(self, m: Dict[str, Any]) -> None:
        if self.line != 1:
            raise self.fail("a second manifest")
        if m.get("format") != FORMAT or m.get("version") != VERSION:
            raise self.fail(f"not a {FORMAT} bundle of version {VERSION}")
        if m.get("run_id") is not None and not isinstance(m["run_id"], str):
            raise self.fail("not a bundle line (the manifest's run_id is not a string)")
        signed = _head(m["head"])
        if signed is None:
            raise self.fail("the head is malformed")
        if signed.key_id != self.key.key_id:
            raise self.fail(f"the bundle is signed by key {signed.key_id}, not by the trusted key {self.key.key_id}")
        if not self.key.verify_head(signed):
            raise self.fail(f"the head's signature does not verify with the trusted key {self.key.key_id}")
        if signed.head.namespace != m["namespace"]:
            raise self.fail(f"the head is of namespace {signed.head.namespace!r}, not {m['namespace']!r}")
        first, last, size = m["from_commit_ts"], m["to_commit_ts"], signed.head.tree_size
        if not (1 <= first <= last + 1 and last <= size):
            raise self.fail(f"the range {first}…{last} does not fit the tree of size {size}")
        if m.get("since_head") is not None:
            since = _head(m["since_head"])
            if since is None or not self.key.verify_head(since) or since.head.namespace != m["namespace"]:
                raise self.fail("the earlier head is malformed or not signed by the trusted key")
            proof = _hashes(m.get("since_consistency") or [])
            if proof is None or not merkle.verify_consistency(
                since.head.tree_size, size, since.head.root_hash, signed.head.root_hash, proof
            ):
                raise self.fail(
                    f"the head (size {size}) does not extend the earlier head (size {since.head.tree_size}): "
                    "history was rewritten"
                )
        prefix = _hashes(m["prefix"])
        if prefix is None:
            raise self.fail("a prefix hash is malformed")
        expected = bin(first - 1).count("1")
        if len(prefix) != expected:
            raise self.fail(f"the prefix has {len(prefix)} subtrees; a tree of {first - 1} leaves has {expected}")
        self.frontier = _Frontier(first - 1, prefix)
        self.manifest, self.head, self.next_ts = m, signed.head, first

    def position(self, commit_ts: int) -> None:
        last = self.manifest["to_commit_ts"]
        if commit_ts > last:
            raise self.fail(f"commit_ts is beyond the bundle's range, which ends at {last}", commit_ts)
        if commit_ts != self.next_ts:
            what = (
                "out of order or repeated"
                if commit_ts < self.next_ts
                else f"commit_ts {self.next_ts} is missing before it"
            )
            raise self.fail(what, commit_ts)

    def on_event(self, event: Dict[str, Any]) -> None:
        ts = event["commit_ts"]
        if self.in_state:
            raise self.fail("an event after the state lines", ts)
        self.position(ts)
        leaf = event_line_leaf_hash(self.manifest["namespace"], event)
        if leaf is None:
            raise self.fail(
                "an operation is neither a put nor a delete (or its value, value digest or expiry does not fit its "
                "kind)",
                ts,
            )
        if event.get("leaf_hash") is not None and event["leaf_hash"] != leaf.hex():
            raise self.fail("the event's content does not match the leaf hash it was exported with", ts)
        agent = self.manifest.get("agent_id")
        if agent is not None and not any(op["agent_id"] == agent for op in event["operations"]):
            raise self.fail("an event of other agents only is given whole", ts)
        self.frontier.append(leaf)
        self.next_ts += 1
        self.events += 1
        for op in event["operations"]:
            self.latest[(op["agent_id"], op["key"])] = _written(op, ts)

    def on_leaf(self, leaf: Dict[str, Any]) -> None:
        ts = leaf["commit_ts"]
        if self.in_state:
            raise self.fail("a leaf after the state lines", ts)
        if self.manifest.get("agent_id") is None:
            raise self.fail("a bundle of the whole namespace gives every event whole", ts)
        self.position(ts)
        value = _hash(leaf["hash"])
        if value is None:
            raise self.fail("the leaf hash is not 32 bytes of hexadecimal", ts)
        self.frontier.append(value)
        self.next_ts += 1
        self.leaves += 1

    def range_end(self) -> None:
        if self.in_state:
            return
        m, head = self.manifest, self.head
        assert head is not None
        if self.next_ts != m["to_commit_ts"] + 1:
            raise self.fail(f"the events stop at commit_ts {self.next_ts - 1}; the range ends at {m['to_commit_ts']}")
        proof = _hashes(m["consistency"])
        if proof is None or not merkle.verify_consistency(
            m["to_commit_ts"], head.tree_size, self.frontier.root(), head.root_hash, proof
        ):
            raise self.fail(
                f"the events {m['from_commit_ts']}…{m['to_commit_ts']} do not lead to the signed root of tree size "
                f"{head.tree_size}: an event was changed, dropped or reordered"
            )
        self.in_state = True

    def on_witness(self, witness: Dict[str, Any]) -> None:
        event = witness["event"]
        ts = event["commit_ts"]
        if self.states:
            raise self.fail("a witness after the state lines", ts)
        self.range_end()
        if ts >= self.manifest["from_commit_ts"]:
            raise self.fail("a witness must be older than the range", ts)
        head = self.head
        assert head is not None
        leaf = event_line_leaf_hash(self.manifest["namespace"], event)
        proof = _hashes(witness["proof"])
        if (
            leaf is None
            or proof is None
            or not 1 <= ts <= head.tree_size
            or not merkle.verify_inclusion(ts - 1, head.tree_size, leaf, proof, head.root_hash)
        ):
            raise self.fail("the witness event's inclusion proof does not lead to the signed root", ts)
        # Older than the range: counts for keys the range did not write, and of two witnesses of a key, the newer.
        for op in event["operations"]:
            address = (op["agent_id"], op["key"])
            if address not in self.latest or self.latest[address][1] < ts:
                self.latest[address] = _written(op, ts)
        self.witnesses += 1

    def on_state(self, state: Dict[str, Any]) -> None:
        if self.run_line is not None:
            raise self.fail("a state line after the run line")
        self.range_end()
        agent, key, version, ts = state["agent_id"], state["key"], state["version"], state["commit_ts"]
        written = self.latest.get((agent, key))
        if ts > self.manifest["to_commit_ts"] or written is None or written[:3] != (version, ts, state["value"]):
            raise self.fail(
                f"the state of agent {agent!r} key {key!r} (version {version}) is not the newest version a proven "
                "event wrote",
                ts,
            )
        if self.manifest.get("agent_id") not in (None, agent):
            raise self.fail(f"a state entry of another agent ({agent!r})", ts)
        if (agent, key) in self.claimed:
            raise self.fail(f"agent {agent!r} key {key!r} is given twice", ts)
        self.claimed.add((agent, key))
        self.states += 1
        if agent in (_run_line.RUNS_AGENT, _run_line.PROVENANCE_AGENT):
            self.run_state[(agent, key)] = (ts, state["value"])

    def on_run(self, run: Any) -> None:
        self.range_end()
        run_id = self.manifest.get("run_id")
        if run_id is None:
            raise self.fail("a run line in a bundle whose manifest names no run")
        if self.run_line is not None:
            raise self.fail("a second run line")
        if not isinstance(run, dict) or not isinstance(run.get("run_id"), str):
            raise self.fail("a run line has no run_id")
        if run["run_id"] != run_id:
            raise self.fail(f"the run line is of run {run['run_id']!r}; the manifest names run {run_id!r}")
        baseline = run.get("baseline_run_id")
        try:
            expected = _run_line.run_line(run_id, baseline if isinstance(baseline, str) else None, self.run_state)
        except _run_line.RunLineError as error:
            raise self.fail(f"the run line cannot be recomputed from the proven state: {error}") from None
        if _run_line.canonical(run) != _run_line.canonical(expected):
            raise self.fail(
                f"the run line is not what the proven provenance of run {run_id!r} gives: its status, records, "
                "advisory or replay plan was changed"
            )
        self.run_line = expected

    def on_end(self, end: Dict[str, Any]) -> None:
        self.range_end()
        if self.manifest.get("run_id") is not None and self.run_line is None:
            raise self.fail(f"the bundle of run {self.manifest['run_id']!r} has no run line")
        counts = (self.events, self.leaves, self.states, self.witnesses)
        claimed = (end["events"], end["leaves"], end["state"], end["witnesses"])
        if claimed != counts:
            raise self.fail(
                f"the end line counts {claimed[0]} events, {claimed[1]} leaves, {claimed[2]} state entries and "
                f"{claimed[3]} witnesses; the bundle has {counts[0]}, {counts[1]}, {counts[2]} and {counts[3]}"
            )
        # Every key the range's events leave live must have its state line (from commit_ts 1: every key), so that state
        # lines cannot be dropped unnoticed (a run line is recomputed from them).
        only, first = self.manifest.get("agent_id"), self.manifest["from_commit_ts"]
        for (agent, key), (_, ts, value, expires) in self.latest.items():
            # A value with an expiry may have expired by the end of the range: its state line is optional.
            if (
                value is not None
                and not expires
                and ts >= first
                and only in (None, agent)
                and (agent, key) not in self.claimed
            ):
                raise self.fail(f"the state lines leave out agent {agent!r} key {key!r}, which the events leave live")
        self.finished = True
