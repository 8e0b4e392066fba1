"""The daemon's structured logs (--log-format json): every line is one JSON object, and the lines an operator looks
for are there with their fields: startup (version, commit, address, store), the transaction lifecycle (began,
committed, aborted, expired) and replay (started, finished with its event count)."""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

from daemon_transactions import begin_on_daemon
from statehouse import Statehouse, TransactionError


def parse(log: str) -> List[Dict[str, Any]]:
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines, "the daemon wrote no log lines"
    return [json.loads(line) for line in lines]  # each line must parse on its own


def find(entries: List[Dict[str, Any]], message: str, **metadata: str) -> Dict[str, Any]:
    for entry in entries:
        fields = entry.get("metadata", {})
        if entry["message"] == message and all(fields.get(key) == value for key, value in metadata.items()):
            return entry
    raise AssertionError(f"no log line {message!r} with {metadata}; messages: {[e['message'] for e in entries]}")


def test_json_log_lines_cover_startup_transactions_and_replay(make_daemon) -> None:
    daemon = make_daemon("--log-format", "json")
    with Statehouse(url=daemon.url, namespace="logs") as client:
        # The lifecycle the daemon logs is that of the transactions it begins (begin_transaction begins on the
        # client, and the daemon only sees its commit).
        committed = begin_on_daemon(client)
        committed.write("agent-1", "memory", {"fact": 1})
        commit_ts = committed.commit()
        aborted = begin_on_daemon(client)
        aborted.write("agent-1", "memory", {"fact": 2})
        aborted.abort()
        expired = begin_on_daemon(client, timeout_ms=50)

        # The daemon's reaper (once a second) logs the expiry; wait for the line, then use the transaction.
        def reaped() -> bool:
            for line in daemon.log_path.read_text().splitlines():
                entry = json.loads(line) if line.startswith("{") else {}
                if (
                    entry.get("message") == "Transaction expired"
                    and entry.get("metadata", {}).get("txn.id") == expired.txn_id
                ):
                    return True
            return False

        deadline = time.monotonic() + 30
        while not reaped() and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            expired.commit()
        except TransactionError:
            pass
        assert len(list(client.replay("agent-1"))) == 1
    daemon.stop()
    entries = parse(daemon.log_path.read_text())

    for entry in entries:
        assert set(entry) >= {"ts", "level", "label", "message"}
        assert entry["ts"].endswith("Z") and entry["level"] in ("trace", "debug", "info", "notice", "warning", "error")

    starting = find(entries, "Statehouse starting")
    assert starting["metadata"]["version"] == "0.1.0"
    assert len(starting["metadata"]["git.sha"].split("-")[0]) == 12
    assert starting["metadata"]["listen"] == daemon.url
    assert starting["metadata"]["durability"] == "full"
    assert find(entries, "Listening")["metadata"]["address"] == daemon.url

    began = find(entries, "Transaction began", **{"txn.id": committed.txn_id})
    assert began["level"] == "info"
    done = find(entries, "Transaction committed", **{"txn.id": committed.txn_id})
    assert done["metadata"]["commit.ts"] == str(commit_ts) and done["metadata"]["namespace"] == "logs"
    find(entries, "Transaction aborted", **{"txn.id": aborted.txn_id})
    find(entries, "Transaction expired", **{"txn.id": expired.txn_id})

    started = find(entries, "Replay started", namespace="logs")
    finished = find(entries, "Replay finished", namespace="logs")
    assert finished["metadata"]["events"] == "1"
    assert entries.index(started) < entries.index(finished)
    assert entries[-1]["message"] in ("Statehouse stopped", "SQLite store closed")
    find(entries, "Statehouse stopped")
