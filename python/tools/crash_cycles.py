"""Crash-cycle harness: writes under load (one-shot and interactive commits, counters, large transactions, events
recorded with writes, snapshots and restores) while a compactor removes old values (the namespace keeps the newest
KEEP_VERSIONS versions of each key), SIGKILLs statehoused at random moments, restarts it, and checks that no
acknowledged commit was lost or changed, no transaction is half applied, the log is gap-free and its hash chain
verifies, the state matches the log, a commit retried across a kill applied exactly once, every acknowledged event is
found by its session at its commit, every acknowledged restore brought the snapshot's state back whole, and the
compaction removed no value the policy keeps (each key's newest versions, those a snapshot names) and left a digest
for each value it removed.

    scripts/crash-test --cycles 100 [--seed 7] [--writers 6] [--keep]

Exits 0 when every cycle passed, 1 with the first violation otherwise. Only loopback; every loop is bounded.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from daemon import Daemon  # noqa: E402
from statehouse import (  # noqa: E402
    EventDraft,
    Put,
    Statehouse,
    StatehouseError,
    TransactionNotFoundError,
    UnavailableError,
)

NS = "crash"
KEEP_VERSIONS = 3
Op = Tuple[str, str, Optional[object]]  # agent, key, value (None: delete)


@dataclass
class Intent:
    """What one commit attempt meant to do, recorded before it is sent."""

    token: str
    operations: List[Op]
    idempotency_key: Optional[str] = None
    acknowledged: Optional[int] = None  # commit_ts once the daemon answered
    versions: List[int] = field(default_factory=list)
    lost: bool = False  # its commit was unanswered and the daemon no longer knows it: it must not be in the log


@dataclass
class Lifecycle:
    """An acknowledged event (its id and commit) or restore (the commit and the value it must have brought back)."""

    kind: str  # "event" or "restore"
    commit_ts: int
    agent: str = ""
    event_id: str = ""
    session: str = ""
    value: Optional[object] = None
    created: str = ""  # a key the restore must have deleted (written after the snapshot)


class Ledger:
    """Every commit attempt of every writer, and which were acknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.intents: Dict[str, Intent] = {}
        self.lifecycle: List[Lifecycle] = []

    def add(self, intent: Intent) -> None:
        with self.lock:
            self.intents[intent.token] = intent


class Writer(threading.Thread):
    """One client doing mixed work until told to stop; every attempt goes to the ledger first."""

    def __init__(self, index: int, url: str, ledger: Ledger, stop: threading.Event, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.index = index
        self.client = Statehouse(url=url, namespace=NS, timeout=5, commit_retry_timeout=0.5)
        self.ledger = ledger
        self.stop = stop
        self.rng = rng
        self.unanswered: List[Intent] = []  # applies whose reply the kill swallowed: retried after the restart
        self.uncommitted: List[Tuple[object, Intent]] = []  # the same for interactive commits
        self.retried = 0  # commits whose reply the kill swallowed, sent again after the restart

    def value(self, token: str, size: int = 0) -> Dict[str, object]:
        return {"token": token, "writer": self.index, "pad": "x" * size}

    def attempt(self) -> None:
        token = uuid.uuid4().hex
        kind = self.rng.random()
        agent = f"agent-{self.rng.randrange(8)}"
        if kind < 0.35:  # one-shot apply with an idempotency key
            operations: List[Op] = [(agent, f"k{self.rng.randrange(50)}", self.value(token))]
            intent = Intent(token, operations, idempotency_key=f"idem-{token}")
            self.ledger.add(intent)
            try:
                result = self.client.apply([Put(*operations[0])], idempotency_key=intent.idempotency_key)
                intent.acknowledged, intent.versions = result.commit_ts, result.versions
            except StatehouseError:
                self.unanswered.append(intent)
        elif kind < 0.7:  # an interactive transaction of several keys across agents, one of them a delete
            keys = self.rng.sample(range(50), 4)
            operations = [
                (f"agent-{(self.index + i) % 8}", f"k{key}", self.value(token)) for i, key in enumerate(keys[:3])
            ]
            operations.append((agent, f"k{keys[3]}", None))
            self.transaction(token, operations)
        elif kind < 0.9:  # conditional read-modify-write of a counter
            intent = Intent(token, [])
            try:
                tx = self.client.begin_transaction()
                current = tx.get(agent, "counter")
                operations = [(agent, "counter", {"token": token, "n": (current.value or {}).get("n", 0) + 1})]
                intent.operations = operations
                self.ledger.add(intent)
                tx.write(*operations[0], expected_version=current.version)
                tx.commit()
                intent.acknowledged, intent.versions = tx.result.commit_ts, tx.result.versions
            except StatehouseError:
                pass
        elif kind < 0.93:  # a write and an event in one commit, the event's id chosen here
            operations = [(agent, f"k{self.rng.randrange(50)}", self.value(token))]
            intent = Intent(token, operations, idempotency_key=f"idem-{token}")
            self.ledger.add(intent)
            event_id = str(uuid.UUID(int=(uuid.uuid4().int & ~(0xF << 76)) | (0x7 << 76)))
            session = f"session-{self.index}"
            try:
                result = self.client.apply(
                    [Put(*operations[0])],
                    idempotency_key=intent.idempotency_key,
                    events=[EventDraft(agent, "note", {"mark": token}, session_id=session, id=event_id)],
                )
                intent.acknowledged, intent.versions = result.commit_ts, result.versions[:1]
                with self.ledger.lock:
                    self.ledger.lifecycle.append(Lifecycle("event", result.commit_ts, agent, event_id, session))
            except StatehouseError:
                pass
        elif kind < 0.96:  # snapshot an agent only this writer touches, change it, restore it
            own = f"own-{self.index}"
            name = f"snap-{self.index}-{token}"
            try:
                self.client.apply([Put(own, "s", {"mark": f"before-{token}"})])
                self.client.create_snapshot(name, own)
                self.client.apply([Put(own, "s", {"mark": f"after-{token}"}), Put(own, f"new-{token}", 1)])
                restored = self.client.restore_snapshot(name)
                with self.ledger.lock:
                    self.ledger.lifecycle.append(
                        Lifecycle(
                            "restore",
                            restored.commit.commit_ts,
                            own,
                            value={"mark": f"before-{token}"},
                            created=f"new-{token}",
                        )
                    )
            except StatehouseError:
                pass
        else:  # a large transaction: 200 keys of 2 KiB
            operations = [(f"big-{self.index}", f"k{i}", self.value(token, 2048)) for i in range(200)]
            self.transaction(token, operations)

    def transaction(self, token: str, operations: List[Op]) -> None:
        intent = Intent(token, operations)
        self.ledger.add(intent)
        try:
            tx = self.client.begin_transaction()
            for agent, key, value in operations:
                if value is None:
                    tx.delete(agent, key)
                else:
                    tx.write(agent, key, value)
        except StatehouseError:
            return
        try:
            tx.commit()
            intent.acknowledged, intent.versions = tx.result.commit_ts, tx.result.versions
        except UnavailableError:
            self.uncommitted.append((tx, intent))  # did it commit? ask again after the restart
        except StatehouseError:
            pass

    def run(self) -> None:
        for _ in range(100_000):
            if self.stop.is_set():
                return
            self.attempt()

    def retry_unanswered(self) -> None:
        """Sends again every apply whose reply was lost in the kill, with the same idempotency key."""
        for intent in self.unanswered:
            result = self.client.apply([Put(*intent.operations[0])], idempotency_key=intent.idempotency_key)
            intent.acknowledged, intent.versions = result.commit_ts, result.versions
            self.retried += 1
        self.unanswered.clear()
        # An interactive commit sent again by txn_id: the original result if it committed before the kill, else
        # "not found" (its open transaction died with the daemon); check() then requires it absent from the log.
        for tx, intent in self.uncommitted:
            try:
                tx.commit()  # type: ignore[attr-defined]
                intent.acknowledged, intent.versions = tx.result.commit_ts, tx.result.versions  # type: ignore
                self.retried += 1
            except TransactionNotFoundError:
                intent.lost = True
        self.uncommitted.clear()


class Compactor(threading.Thread):
    """Compacts the namespace over and over while the writers run, so that kills land in the middle of compactions."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client = Statehouse(url=url, namespace=NS, timeout=5)
        self.stop = stop
        self.removed = 0

    def run(self) -> None:
        for _ in range(10_000):
            if self.stop.wait(0.05):
                return
            try:
                self.removed += self.client.compact().values_removed
            except StatehouseError:
                pass


def _applied(operations: List[object]) -> List[Tuple[str, str, object]]:
    """An event's operations as (agent, key, value), a removed value standing as REMOVED (compared by position only)."""
    return [(op.agent_id, op.key, REMOVED if op.value_removed else op.value) for op in operations]  # type: ignore


REMOVED = object()


def _same(applied: List[Tuple[str, str, object]], intended: List[Op]) -> bool:
    """Whether an event wrote what was intended: a value the compaction removed matches any value."""
    return len(applied) == len(intended) and all(
        a[:2] == i[:2] and (a[2] is REMOVED or a[2] == i[2]) for a, i in zip(applied, intended)
    )


def check(client: Statehouse, ledger: Ledger) -> List[str]:
    """Every invariant the crash must not break; returns the violations."""
    problems: List[str] = []
    events = list(client.replay())
    head = client.head().commit_ts
    if [event.commit_ts for event in events] != list(range(1, head + 1)):
        problems.append(f"log is not gap-free 1..{head}")
    by_ts = {event.commit_ts: event for event in events}
    tokens: Dict[str, List[int]] = {}
    state: Dict[Tuple[str, str], Tuple[Optional[object], int]] = {}
    versions: Dict[Tuple[str, str], List[object]] = {}  # each key's operations in order
    for event in events:
        event_tokens = set()
        for operation in event.operations:
            state[(operation.agent_id, operation.key)] = (operation.value, operation.version)
            versions.setdefault((operation.agent_id, operation.key), []).append(operation)
            if operation.value_removed and not operation.removed_value_digest:
                problems.append(f"commit {event.commit_ts} lost a value without keeping its digest")
            if isinstance(operation.value, dict) and "token" in operation.value:
                event_tokens.add(operation.value["token"])
        if len(event_tokens) > 1:
            problems.append(f"commit {event.commit_ts} mixes transactions {sorted(event_tokens)}")
        for token in event_tokens:
            tokens.setdefault(token, []).append(event.commit_ts)
    with ledger.lock:
        intents = list(ledger.intents.values())
    for intent in intents:
        written = [op for op in intent.operations if op[2] is not None]
        found = tokens.get(intent.token, [])
        if len(found) > 1:
            problems.append(f"transaction {intent.token} applied {len(found)} times: {found}")
        if intent.acknowledged is not None:
            event = by_ts.get(intent.acknowledged)
            if event is None:
                problems.append(f"acknowledged commit_ts {intent.acknowledged} is missing")
                continue
            # Writes under reserved agents (an event recorded with the writes) are the commit's, not the intent's.
            own = [op for op in event.operations if not op.agent_id.startswith("@")]
            if not _same(_applied(own), intent.operations) or [op.version for op in own] != intent.versions:
                problems.append(f"acknowledged commit_ts {intent.acknowledged} differs from what was acknowledged")
        elif intent.lost and found:
            problems.append(f"transaction {intent.token} was reported unknown after the restart but is in the log")
        elif found and written:
            # Not acknowledged but committed (the kill took the reply): it must be whole.
            event = by_ts[found[0]]
            own = [op for op in event.operations if not op.agent_id.startswith("@")]
            if not _same(_applied(own), intent.operations):
                problems.append(f"commit_ts {found[0]} holds part of transaction {intent.token}")
    # The state served matches the state the log builds (sampled: every key of 8 agents).
    for (agent, key), (value, version) in list(state.items())[:400]:
        record = client.get_state(agent, key)
        if record.version != version or record.value != value:
            problems.append(f"{agent}/{key}: state v{record.version} but the log says v{version}")
            break
    # The compaction kept what the policy keeps: each user key's newest KEEP_VERSIONS versions.
    for (agent, key), operations in versions.items():
        if agent.startswith("@"):
            if any(op.value_removed for op in operations):
                problems.append(f"{agent}/{key}: a reserved record lost a value to the compaction")
            continue
        if any(op.value_removed for op in operations[-KEEP_VERSIONS:]):
            problems.append(f"{agent}/{key}: one of its newest {KEEP_VERSIONS} versions lost its value")
    # Acknowledged events are in the log at their commit and in the event index; acknowledged restores brought the
    # snapshot's value back in their commit, whole (the key created since is gone). The snapshot is never deleted,
    # so the version it names keeps its value; the restore's own version may have been compacted since.
    with ledger.lock:
        lifecycle = list(ledger.lifecycle)
    by_session: Dict[str, set] = {}
    for item in lifecycle:
        if item.kind == "event":
            if item.session not in by_session:
                by_session[item.session] = {event.id for event in client.get_events(item.session)}
            if item.event_id not in by_session[item.session]:
                problems.append(f"acknowledged event {item.event_id} is not found by its session")
            elif client.get_event(item.event_id).commit_ts != item.commit_ts:
                problems.append(f"event {item.event_id} is not at its acknowledged commit_ts {item.commit_ts}")
        else:
            written = {op.key: op for op in by_ts[item.commit_ts].operations}
            if "s" not in written or not (written["s"].value_removed or written["s"].value == item.value):
                problems.append(f"restore at commit_ts {item.commit_ts} did not bring {item.agent}/s back")
            if item.created not in written or written[item.created].type.name != "DELETE":
                problems.append(
                    f"restore at commit_ts {item.commit_ts} kept {item.created}, written after the snapshot"
                )
    report = client.verify()
    if not report.ok:
        problems.append(f"hash chain broken at {report.first_bad_commit_ts}: {report.reason}")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--min-run", type=float, default=0.3, help="shortest load before a kill, seconds")
    parser.add_argument("--max-run", type=float, default=1.5, help="longest load before a kill, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="statehouse-crash-"))
    daemon = Daemon(work / "data")
    ledger = Ledger()
    started = time.monotonic()
    print(f"crash test: {args.cycles} cycles, {args.writers} writers, seed {args.seed}, data {work}", flush=True)
    removed = 0
    try:
        daemon.start()
        with Statehouse(url=daemon.url, namespace=NS) as client:
            client.set_retention(keep_versions=KEEP_VERSIONS)
        for cycle in range(1, args.cycles + 1):
            stop = threading.Event()
            writers = [Writer(i, daemon.url, ledger, stop, random.Random(rng.random())) for i in range(args.writers)]
            compactor = Compactor(daemon.url, stop)
            for writer in writers:
                writer.start()
            compactor.start()
            time.sleep(rng.uniform(args.min_run, args.max_run))
            daemon.kill()  # SIGKILL, mid-load: group commits and large transactions in flight
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
            compactor.join(timeout=60)
            compactor.client.close()
            removed += compactor.removed
            daemon.start()
            for writer in writers:
                writer.retry_unanswered()
                writer.client.close()
            with Statehouse(url=daemon.url, namespace=NS) as client:
                problems = check(client, ledger)
                head = client.head().commit_ts
            acknowledged = sum(1 for intent in ledger.intents.values() if intent.acknowledged is not None)
            retried = sum(writer.retried for writer in writers)
            events = sum(1 for item in ledger.lifecycle if item.kind == "event")
            restores = len(ledger.lifecycle) - events
            print(
                f"cycle {cycle}: head {head}, {acknowledged} acknowledged commits of {len(ledger.intents)} "
                f"attempts ({events} with an event, {restores} restores checked), {retried} retried across the "
                f"kill, {removed} values compacted so far, {'ok' if not problems else 'FAILED'}",
                flush=True,
            )
            if problems:
                for problem in problems[:20]:
                    print(f"  {problem}", flush=True)
                return 1
        print(f"all {args.cycles} cycles passed in {time.monotonic() - started:.0f} s", flush=True)
        return 0
    finally:
        try:
            daemon.stop()
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
