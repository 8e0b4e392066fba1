"""Several statehoused processes over one PostgreSQL database (the private server scripts/test.sh starts).

The bank-transfer workload through interactive transactions on three daemons at once: the total is conserved at every
commit_ts, the log is gap-free and its chain verifies, and a watcher on each daemon sees every commit once and in
order, whichever daemon made it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import pytest

from daemon import Daemon, create_database, drop_database
from statehouse import ConflictError, Put, Statehouse, StatehouseError

ACCOUNTS = 8
OPENING_BALANCE = 100
TRANSFERS_PER_CLIENT = 12
CLIENTS_PER_DAEMON = 2


@pytest.fixture
def database_url() -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards."""
    url = create_database()
    yield url
    drop_database(url)


def start_daemons(make_daemon: Callable[..., Daemon], url: str, count: int) -> List[Daemon]:
    """The first daemon creates the schema and the signing key; the others share both."""
    first = make_daemon("--backend", "postgres", "--postgres-url", url)
    key = first.data_dir / "ledger-signing-key.pem"
    others = [
        make_daemon("--backend", "postgres", "--postgres-url", url, "--signing-key", str(key)) for _ in range(count - 1)
    ]
    return [first, *others]


def transfer(client: Statehouse, rng: random.Random) -> None:
    """Moves a random amount between two random accounts in one interactive transaction, retrying on conflict."""
    for _ in range(200):  # bounded: conflicts are frequent with 6 clients on 8 accounts, never endless
        source, target = rng.sample(range(ACCOUNTS), 2)
        txn = client.begin_transaction()
        try:
            balance_from = txn.get("bank", f"acct-{source}").value
            balance_to = txn.get("bank", f"acct-{target}").value
            amount = rng.randint(0, balance_from)
            txn.write("bank", f"acct-{source}", balance_from - amount)
            txn.write("bank", f"acct-{target}", balance_to + amount)
            txn.commit()
            return
        except ConflictError:
            continue
    raise AssertionError("a transfer conflicted 200 times in a row")


def test_three_daemons_share_one_log(make_daemon: Callable[..., Daemon], database_url: str) -> None:
    daemons = start_daemons(make_daemon, database_url, 3)
    namespace = "bank"
    clients = [Statehouse(url=daemon.url, namespace=namespace) for daemon in daemons]
    try:
        txn = clients[0].begin_transaction()
        for account in range(ACCOUNTS):
            txn.write("bank", f"acct-{account}", OPENING_BALANCE)
        txn.commit()

        seen: Dict[int, List[int]] = {index: [] for index in range(len(daemons))}
        # The commit_ts of the marker written after the transfers; watchers stop once they delivered it.
        final: List[int] = []

        def watch(index: int) -> None:
            with Statehouse(url=daemons[index].url, namespace=namespace) as watcher:
                with watcher.watch(from_ts=1) as stream:
                    deadline = time.monotonic() + 120
                    for event in stream:  # bounded: ends at the marker or the deadline
                        seen[index].append(event.commit_ts)
                        if (final and event.commit_ts >= final[0]) or time.monotonic() > deadline:
                            break

        watchers = [threading.Thread(target=watch, args=(index,)) for index in range(len(daemons))]
        for thread in watchers:
            thread.start()

        errors: List[BaseException] = []

        def work(client: Statehouse, seed: int) -> None:
            rng = random.Random(seed)
            try:
                for _ in range(TRANSFERS_PER_CLIENT):
                    transfer(client, rng)
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)

        workers = [
            threading.Thread(target=work, args=(clients[index % len(clients)], index))
            for index in range(len(daemons) * CLIENTS_PER_DAEMON)
        ]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=300)
        assert not errors, errors

        head = clients[0].head().commit_ts
        assert head == 1 + len(workers) * TRANSFERS_PER_CLIENT
        # A marker through another daemon: its commit_ts tells the watchers where to stop.
        final.append(head + 1)
        marker = clients[1].begin_transaction()
        marker.write("marker", "end", True)
        assert marker.commit() == head + 1
        for thread in watchers:
            thread.join(timeout=150)
        for index in seen:
            assert seen[index] == list(range(1, head + 2)), f"the watcher on daemon {index} saw {seen[index][:20]}..."

        # Gap-free, and the total is conserved at every commit_ts.
        balances: Dict[str, int] = {}
        commit_tss = []
        for event in clients[2].replay():
            commit_tss.append(event.commit_ts)
            for operation in event.operations:
                if operation.agent_id == "bank":
                    balances[operation.key] = operation.value
            if event.commit_ts > 1:
                assert sum(balances.values()) == ACCOUNTS * OPENING_BALANCE, event.commit_ts
        assert commit_tss == list(range(1, head + 2))
        for client in clients:
            assert client.verify().ok
    finally:
        for client in clients:
            client.close()


def test_a_killed_daemon_loses_nothing_acknowledged(make_daemon: Callable[..., Daemon], database_url: str) -> None:
    """SIGKILL one of three daemons under load: the others go on, every acknowledged commit is in the log, and a
    commit retried on another daemon with the same idempotency key is applied once."""
    daemons = start_daemons(make_daemon, database_url, 3)
    namespace = "kill"
    acknowledged: Dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: List[BaseException] = []

    def write(worker: int) -> None:
        clients = [Statehouse(url=daemon.url, namespace=namespace, timeout=5.0) for daemon in daemons]
        try:
            for step in range(400):  # bounded; the test stops the workers earlier
                if stop.is_set():
                    return
                key = f"w{worker}-{step}"
                idempotency_key = uuid.uuid4().hex
                # Each worker starts on its own daemon and moves on when one fails, retrying the same commit.
                for attempt in range(len(clients) * 3):
                    client = clients[(worker + attempt) % len(clients)]
                    try:
                        result = client.apply([Put("load", key, step)], idempotency_key=idempotency_key)
                    except StatehouseError:
                        continue
                    with lock:
                        acknowledged[key] = result.commit_ts
                    break
                else:
                    raise AssertionError(f"no daemon took the commit of {key}")
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            for client in clients:
                client.close()

    workers = [threading.Thread(target=write, args=(worker,)) for worker in range(6)]
    for thread in workers:
        thread.start()
    while len(acknowledged) < 60 and not errors:  # bounded by the workers' 2,400 commits
        time.sleep(0.01)
    daemons[1].kill()
    with lock:
        at_kill = len(acknowledged)
    while len(acknowledged) < at_kill + 120 and not errors and any(thread.is_alive() for thread in workers):
        time.sleep(0.01)
    stop.set()
    for thread in workers:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(acknowledged) >= at_kill + 120, "the surviving daemons did not go on committing"

    with Statehouse(url=daemons[0].url, namespace=namespace) as client:
        head = client.head().commit_ts
        written: Dict[str, List[int]] = {}
        commit_tss = []
        for event in client.replay():
            commit_tss.append(event.commit_ts)
            for operation in event.operations:
                written.setdefault(operation.key, []).append(event.commit_ts)
        assert commit_tss == list(range(1, head + 1))
        for key, commit_ts in acknowledged.items():
            # Acknowledged means stored, at the commit_ts the client was told, and applied once despite retries.
            assert written.get(key) == [commit_ts], key
        assert client.verify().ok


def test_a_database_restart_fails_requests_then_they_recover(make_daemon: Callable[..., Daemon]) -> None:
    """Restart PostgreSQL under load: requests fail with UNAVAILABLE while it is away, then succeed again through the
    same daemon, and nothing acknowledged is lost."""
    from statehouse import UnavailableError

    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "postgres.sh")
    # Not under tmp_path: as root the server runs as the postgres user, who cannot enter pytest's private directory.
    server_dir = tempfile.mkdtemp(prefix="statehouse-pg-")
    os.chmod(server_dir, 0o755)
    url = subprocess.run(["bash", script, "start", str(server_dir)], check=True, capture_output=True, text=True)
    try:
        database = url.stdout.strip().rsplit("/", 1)[0] + "/postgres?sslmode=disable"
        daemon = make_daemon("--backend", "postgres", "--postgres-url", database, "--postgres-request-timeout", "2")
        acknowledged: Dict[str, int] = {}
        unavailable = 0
        # Commits are retried by the SDK while UNAVAILABLE (30 s by default); 1 s keeps the outage short here.
        with Statehouse(url=daemon.url, namespace="restart", timeout=10.0, commit_retry_timeout=1.0) as client:

            def write(count: int, prefix: str) -> None:
                nonlocal unavailable
                for step in range(count):
                    key = f"{prefix}-{step}"
                    try:
                        acknowledged[key] = client.apply([Put("load", key, step)]).commit_ts
                    except UnavailableError:
                        unavailable += 1

            write(20, "before")
            subprocess.run(["bash", script, "stop", str(server_dir)], check=True, timeout=60)
            write(3, "away")
            assert unavailable == 3, "requests while the database is away fail with UNAVAILABLE"
            subprocess.run(["bash", script, "start", str(server_dir)], check=True, capture_output=True, timeout=60)
            deadline = time.monotonic() + 60
            while True:  # bounded: the daemon's pool reconnects within seconds
                try:
                    acknowledged["after-0"] = client.apply([Put("load", "after-0", 0)]).commit_ts
                    break
                except UnavailableError:
                    assert time.monotonic() < deadline, "the daemon did not reconnect to the restarted database"
                    time.sleep(0.2)
            write(20, "after")
            head = client.head().commit_ts
            stored = {op.key: event.commit_ts for event in client.replay() for op in event.operations}
            assert [event.commit_ts for event in client.replay()] == list(range(1, head + 1))
            for key, commit_ts in acknowledged.items():
                assert stored.get(key) == commit_ts, key
            assert client.verify().ok
    finally:
        subprocess.run(["bash", script, "stop", str(server_dir)], check=False, timeout=60)
        shutil.rmtree(server_dir, ignore_errors=True)


CTL = Path(__file__).resolve().parents[2] / ".build" / "debug" / "statehousectl"


def test_migrate_copies_a_sqlite_store_that_then_serves_the_same(
    make_daemon: Callable[..., Daemon], database_url: str
) -> None:
    """statehousectl migrate: a SQLite store (with events, a snapshot and values removed by retention) copied into
    PostgreSQL serves the same heads, values, history and proofs; a second run resumes; another log is refused."""
    sqlite = make_daemon("--backend", "sqlite")
    with Statehouse(url=sqlite.url, namespace="alpha") as client:
        for step in range(30):
            client.apply([Put("agent", f"k{step % 4}", {"step": step}), Put("other", "x", step)])
        client.record_event("agent", "note", {"text": "calibration of the probe"})
        client.create_snapshot("s1", agent_id="agent")
        client.set_retention(keep_versions=2)
        client.compact()
        client.apply([Put("agent", "after", True)], namespace="beta")
        report = client.put_artifact(b"a report the agent wrote\n" * 50_000)  # over one 1 MiB chunk
        loose = client.put_artifact(b"a blob in a namespace without commits", namespace="blobs")
        heads = {head.namespace: head for head in client.list_namespaces()}
        root = client.tree_head().head.root_hash
        history = [(entry.version, entry.value) for entry in client.history("agent", "k1")]
    sqlite.stop()

    migrated = subprocess.run(
        [str(CTL), "migrate", "--from", str(sqlite.data_dir), "--to", database_url, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrated.returncode == 0, migrated.stderr
    rows = {row["namespace"]: row for row in json.loads(migrated.stdout)}
    assert set(rows) == set(heads) | {"blobs"}
    for name, head in heads.items():
        assert rows[name]["commit_ts"] == head.commit_ts and rows[name]["hash"] == head.hash.hex()
        assert rows[name]["events_copied"] == head.commit_ts
    # The data directory's artifacts are copied too, each checked against its digest.
    assert (rows["alpha"]["artifacts_copied"], rows["alpha"]["artifact_bytes_copied"]) == (1, report.size)
    assert rows["beta"]["artifacts_copied"] == 0
    assert rows["blobs"] == {
        "namespace": "blobs",
        "artifacts_copied": 1,
        "artifact_bytes_copied": loose.size,
        "artifacts_present": 0,
    }

    postgres = make_daemon("--backend", "postgres", "--postgres-url", database_url)
    with Statehouse(url=postgres.url, namespace="alpha") as client:
        assert {head.namespace: (head.commit_ts, head.hash) for head in client.list_namespaces()} == {
            name: (head.commit_ts, head.hash) for name, head in heads.items()
        }
        assert client.tree_head().head.root_hash == root
        assert [(entry.version, entry.value) for entry in client.history("agent", "k1")] == history
        assert client.get_state("agent", "k3").value == {"step": 27}
        assert [hit.snippet for hit in client.search("calibration")]
        assert client.get_snapshot("s1").name == "s1"
        assert client.verify().ok
        assert client.get_artifact(report.sha256) == b"a report the agent wrote\n" * 50_000
        assert client.get_artifact(loose.sha256, namespace="blobs") == b"a blob in a namespace without commits"
        client.apply([Put("agent", "k0", "new")])  # commits go on after the copy
    postgres.stop()

    again = subprocess.run(
        [str(CTL), "migrate", "--from", str(sqlite.data_dir), "--to", database_url], capture_output=True, text=True
    )
    # 'alpha' moved on in PostgreSQL, so it is not this store's log any more: refused, and 'beta' is unchanged.
    assert again.returncode != 0
    assert "already holds" in again.stderr


class CuttableProxy:
    """A TCP proxy on loopback between a daemon and PostgreSQL whose connections can be cut at once (RST), as a network
    drop would; new connections are forwarded again right after."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.sockets: List[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Resets every connection in both directions, whatever is in flight."""
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            # Shut down first: it wakes the pump blocked in recv on this socket (closing alone would not, and the
            # descriptor could be handed to a new connection the old pump would then read from); then close without
            # lingering, so that the peer gets a reset.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        self.cut()


def test_a_network_drop_mid_commit_leaves_no_partial_commit(
    make_daemon: Callable[..., Daemon], database_url: str
) -> None:
    """Cut the daemon's connections to PostgreSQL again and again under load: a commit is stored whole or not at all,
    every acknowledged one is there once, and the log stays gap-free and verifies."""
    parsed = urllib.parse.urlsplit(database_url)
    proxy = CuttableProxy(parsed.hostname or "127.0.0.1", parsed.port or 5432)
    try:
        through_proxy = database_url.replace(f":{parsed.port}/", f":{proxy.port}/")
        daemon = make_daemon(
            "--backend", "postgres", "--postgres-url", through_proxy, "--postgres-request-timeout", "3"
        )
        acknowledged: Dict[str, int] = {}
        errors: List[BaseException] = []
        lock = threading.Lock()

        def write(worker: int) -> None:
            with Statehouse(url=daemon.url, namespace="drops", commit_retry_timeout=2.0) as client:
                try:
                    for step in range(60):
                        key = f"w{worker}-{step}"
                        idempotency_key = uuid.uuid4().hex
                        operations = [Put("load", f"{key}/{part}", step) for part in range(3)]
                        for _ in range(20):  # bounded retries of the same commit
                            try:
                                result = client.apply(operations, idempotency_key=idempotency_key)
                            except StatehouseError:
                                time.sleep(0.1)
                                continue
                            with lock:
                                acknowledged[key] = result.commit_ts
                            break
                        else:
                            raise AssertionError(f"{key} never committed")
                except BaseException as error:  # noqa: BLE001 - reported by the test
                    errors.append(error)

        workers = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
        for thread in workers:
            thread.start()
        for _ in range(5):  # five drops while commits are in flight
            time.sleep(0.4)
            proxy.cut()
        for thread in workers:
            thread.join(timeout=300)
        assert not errors, errors
        assert len(acknowledged) == 4 * 60

        with Statehouse(url=daemon.url, namespace="drops") as client:
            head = client.head().commit_ts
            events = list(client.replay())
            assert [event.commit_ts for event in events] == list(range(1, head + 1))
            for event in events:
                # Whole or nothing: every stored commit has its three writes.
                assert len(event.operations) == 3, event.commit_ts
            stored = {op.key.rsplit("/", 1)[0]: event.commit_ts for event in events for op in event.operations}
            assert len(events) == len(acknowledged), "a retried commit was applied twice"
            for key, commit_ts in acknowledged.items():
                assert stored.get(key) == commit_ts, key
            assert client.verify().ok
    finally:
        proxy.close()


def test_the_database_password_is_never_logged(make_daemon: Callable[..., Daemon], database_url: str) -> None:
    """A password in the URL (the test server trusts loopback, so any password is accepted) appears nowhere in the
    daemon's log, which names the database by its URL without it."""
    password = f"pw-{uuid.uuid4().hex}"
    with_password = database_url.replace("postgres://statehouse@", f"postgres://statehouse:{password}@")
    daemon = make_daemon("--backend", "postgres", "--postgres-url", with_password, "--log-level", "debug")
    with Statehouse(url=daemon.url, namespace="secret") as client:
        client.apply([Put("a", "k", 1)])
    daemon.stop()
    log = daemon.log_path.read_text(errors="replace")  # all of it (Daemon.log() keeps the end)
    assert "PostgreSQL store opened" in log
    assert password not in log
