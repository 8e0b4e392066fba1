"""The original Statehouse's documented examples, run as written against a real statehoused.

The Python snippets are those of the original README (quickstart, transactions, versioning, deletes, the research
agent, error handling), of its python/README.md, of its FAQ and of its replay semantics document; the shell lines are
its CLI documentation's (README "CLI Tools", docs/operations/cli.md, python/docs/CLI.md) and the FAQ's backup
instruction. Each runs unchanged but for one thing: the daemon's address. The documents use localhost:50051; the
test's daemon listens on a free loopback port, which replaces that literal text (and the placeholders "..." and
prod-host:50051), and STATEHOUSE_ADDR points the CLI at it, as the CLI documentation's "Connection" section shows.
Where an original document shows a form that never ran against the original either, or that we changed on
purpose, docs/compatibility.md says so and the snippet is not here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

from daemon import Daemon, statehoused_binary
from statehouse import Statehouse


@pytest.fixture(scope="module")
def docs_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    process = Daemon(tmp_path_factory.mktemp("docs") / "data").start()
    yield process
    process.stop()


def run_python(daemon: Daemon, snippet: str, cwd: Path) -> str:
    """Runs a documented Python snippet as a script and returns what it printed."""
    code = textwrap.dedent(snippet)
    for placeholder in ("localhost:50051", 'url="..."'):
        code = code.replace(placeholder, daemon.url if placeholder == "localhost:50051" else f'url="{daemon.url}"')
    env = {**os.environ, "STATEHOUSE_URL": daemon.url}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=cwd, env=env)
    assert result.returncode == 0, f"{code}\n--- stderr ---\n{result.stderr}"
    return result.stdout


def shell_env(daemon: Daemon) -> Dict[str, str]:
    """STATEHOUSE_ADDR for the CLI, and statehousectl (the Swift CLI built beside statehoused) first on PATH."""
    bin_dir = statehoused_binary().parent
    return {**os.environ, "STATEHOUSE_ADDR": daemon.url, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_shell(daemon: Daemon, line: str, cwd: Optional[Path] = None, expect_code: int = 0) -> str:
    command = line.replace("localhost:50051", daemon.url).replace("prod-host:50051", daemon.url)
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=shell_env(daemon),
    )
    assert result.returncode == expect_code, (
        f"{command}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    return result.stdout


# ---- Python: the original README ----------------------------------------------------------------------------------


def test_readme_basic_usage(docs_daemon: Daemon, tmp_path: Path) -> None:
    out = run_python(
        docs_daemon,
        """
        from statehouse import Statehouse

        # Connect to daemon
        client = Statehouse(url="localhost:50051")

        # Write state
        with client.begin_transaction() as tx:
            tx.write(
                agent_id="my-agent",
                key="memory",
                value={"fact": "Paris is the capital of France"},
            )
        # Transaction auto-commits on exit

        # Read state
        result = client.get_state(agent_id="my-agent", key="memory")
        print(result.value)  # {"fact": "Paris is the capital of France"}

        # List all keys
        keys = client.list_keys(agent_id="my-agent")

        # Replay events
        for event in client.replay(agent_id="my-agent"):
            print(f"[{event.commit_ts}] Transaction {event.txn_id}")
            for op in event.operations:
                print(f"  {op.key}: {op.value}")
        """,
        tmp_path,
    )
    assert out.splitlines()[0] == "{'fact': 'Paris is the capital of France'}"
    assert "  memory: {'fact': 'Paris is the capital of France'}" in out
    assert "] Transaction " in out


def test_readme_key_features(docs_daemon: Daemon, tmp_path: Path) -> None:
    out = run_python(
        docs_daemon,
        """
        from statehouse import Statehouse
        client = Statehouse(url="localhost:50051")

        # All operations succeed or fail together
        with client.begin_transaction() as tx:
            tx.write(agent_id="agent-1", key="step-1", value={"status": "started"})
            tx.write(agent_id="agent-1", key="step-2", value={"status": "pending"})
            # Both writes committed atomically

        # First write
        with client.begin_transaction() as tx:
            tx.write(agent_id="agent-1", key="config", value={"mode": "learning"})

        # Second write
        with client.begin_transaction() as tx:
            tx.write(agent_id="agent-1", key="config", value={"mode": "inference"})

        # Get latest version
        result = client.get_state(agent_id="agent-1", key="config")
        print(result.version)  # 2

        with client.begin_transaction() as tx:
            tx.delete(agent_id="agent-1", key="temp-data")

        # Deleted keys don't exist
        result = client.get_state(agent_id="agent-1", key="temp-data")
        print(result.exists)  # False
        """,
        tmp_path,
    )
    assert out.splitlines() == ["2", "False"]


def test_readme_research_agent(docs_daemon: Daemon, tmp_path: Path) -> None:
    out = run_python(
        docs_daemon,
        '''
        from statehouse import Statehouse
        import time

        class ResearchAgent:
            def __init__(self):
                self.client = Statehouse()
                self.agent_id = "agent-research-1"

            def research(self, question: str):
                # Store the question
                with self.client.begin_transaction() as tx:
                    tx.write(
                        agent_id=self.agent_id,
                        key=f"question:{int(time.time())}",
                        value={"text": question, "timestamp": time.time()},
                    )

                # Do research (stub: replace with real LLM or tool calls)
                answer = self._perform_research(question)

                # Store the answer with provenance
                with self.client.begin_transaction() as tx:
                    tx.write(
                        agent_id=self.agent_id,
                        key=f"answer:{int(time.time())}",
                        value={
                            "question": question,
                            "answer": answer,
                            "sources": ["source1", "source2"],
                            "confidence": 0.95,
                        },
                    )

                return answer

            def _perform_research(self, question: str) -> str:
                """Stub: replace with real LLM or tool calls."""
                if "statehouse" in question.lower():
                    return "Statehouse is a strongly consistent state and memory engine for AI agents."
                return f"(stub answer for: {question})"

            def replay_history(self):
                """Replay all research sessions."""
                for event in self.client.replay(agent_id=self.agent_id):
                    print(f"Transaction {event.txn_id} at ts={event.commit_ts}")
                    for op in event.operations:
                        print(f"  {op.key}: {op.value}")

        # Usage
        agent = ResearchAgent()
        answer = agent.research("What is Statehouse?")

        # Replay everything the agent did
        agent.replay_history()
        ''',
        tmp_path,
    )
    assert out.count("Transaction ") == 2
    assert "'answer': 'Statehouse is a strongly consistent state and memory engine for AI agents.'" in out


def test_readme_error_handling_and_python_readme(docs_daemon: Daemon, tmp_path: Path) -> None:
    run_python(
        docs_daemon,
        """
        from statehouse import Statehouse, StatehouseError, TransactionError

        client = Statehouse()

        try:
            with client.begin_transaction() as tx:
                tx.write(agent_id="agent-1", key="data", value={"x": 1})
                # Transaction will auto-commit
        except TransactionError as e:
            print(f"Transaction failed: {e}")
        except StatehouseError as e:
            print(f"Statehouse error: {e}")
        """,
        tmp_path,
    )
    out = run_python(
        docs_daemon,
        """
        from statehouse import Statehouse

        # Connect to daemon
        client = Statehouse(url="localhost:50051")

        # Write state
        tx = client.begin_transaction()
        tx.write(agent_id="agent-1", key="memory", value={"fact": "sky is blue"})
        tx.commit()

        # Read state
        state = client.get_state(agent_id="agent-1", key="memory")
        print(state.value)  # {"fact": "sky is blue"}

        # Replay events
        for event in client.replay(agent_id="agent-1"):
            print(f"[{event.commit_ts}] {len(event.operations)} operations")
        """,
        tmp_path,
    )
    assert out.splitlines()[0] == "{'fact': 'sky is blue'}"
    assert out.splitlines()[-1].endswith("] 1 operations")


# ---- Python: the FAQ -------------------------------------------------------------------------------------------------


def test_faq_snippets(docs_daemon: Daemon, tmp_path: Path) -> None:
    out = run_python(
        docs_daemon,
        """
        from statehouse import Statehouse, TransactionError

        client = Statehouse(url="localhost:50051")

        tx = client.begin_transaction()
        tx.write(agent_id="a1", key="memory", value={"fact": "Paris is in France"})
        tx.commit()

        with client.begin_transaction() as tx:
            tx.write(agent_id="a1", key="k1", value={"x": 1})
            tx.write(agent_id="a1", key="k2", value={"y": 2})
        # Auto-commits on exit (or aborts on exception)

        with client.begin_transaction() as tx:
            tx.write(agent_id="agent-1", key="k", value={"x": 1})
            tx.write(agent_id="agent-2", key="k", value={"y": 2})
        # Both writes commit atomically

        with client.begin_transaction() as tx:
            tx.write(
                agent_id="a1",
                key="document:123",
                value={
                    "title": "Large Document",
                    "s3_key": "s3://bucket/doc123.pdf",
                    "size_bytes": 50_000_000,
                    "checksum": "sha256:abc123..."
                }
            )

        try:
            with client.begin_transaction() as tx:
                tx.write(agent_id="a1", key="k", value={"x": 1})
        except TransactionError:
            pass  # Handle failure (retry, log, etc.)

        result = client.get_state(agent_id="a1", key="memory")
        if result:
            print(result.value)  # {"fact": "..."}

        for version in range(2, 6):
            with client.begin_transaction() as tx:
                tx.write(agent_id="a1", key="memory", value={"fact": "Paris is in France", "v": version})

        # Get state at specific version
        result = client.get_state_at_version(
            agent_id="a1",
            key="memory",
            version=5
        )
        print(result.value["v"])

        for event in client.replay(agent_id="a1"):
            print(f"[{event.timestamp}] {event.operations}")

        # By time range
        for event in client.replay(
            agent_id="a1",
            from_timestamp="2026-02-07T10:00:00Z",
            to_timestamp="2026-02-07T11:00:00Z"
        ):
            print(event)

        # By namespace
        for event in client.replay(
            agent_id="a1",
            namespace="production"
        ):
            print(event)

        # Initial write
        tx = client.begin_transaction()
        tx.write(agent_id="a1", key="config", value={"mode": "fast"})
        tx.commit()

        # Update
        tx = client.begin_transaction()
        tx.write(agent_id="a1", key="config", value={"mode": "slow"})
        tx.commit()

        tx = client.begin_transaction()
        tx.delete(agent_id="a1", key="temp_data")
        tx.commit()

        keys = client.list_keys(agent_id="a1")
        print(keys)  # ['config', 'state', 'memory', ...]

        keys = client.scan_prefix(
            agent_id="a1",
            prefix="session:2026-02-07:"
        )

        # Client
        metadata = [("authorization", "Bearer YOUR_TOKEN")]
        client = Statehouse(url="...", metadata=metadata)
        print(client.health())

        result = client.get_state(agent_id="a1", key="k-never-written")
        if not result:
            print("Key doesn't exist")
        """,
        tmp_path,
    )
    lines = out.splitlines()
    assert lines[0] == "{'fact': 'Paris is in France'}"
    assert lines[1] == "5"
    assert any(line.startswith("[20") and "+00:00] [Operation(key='memory'" in line for line in lines)
    assert "['config', 'document:123', 'k', 'k1', 'k2', 'memory']" in lines
    assert lines[-2:] == ["ok", "Key doesn't exist"]


# ---- Python: replay semantics --------------------------------------------------------------------------------------


def test_replay_semantics_snippets(docs_daemon: Daemon, tmp_path: Path) -> None:
    out = run_python(
        docs_daemon,
        """
        from statehouse import Statehouse, OperationType
        client = Statehouse(url="localhost:50051", namespace="semantics")

        # Transaction A started first
        tx_a = client.begin_transaction()
        tx_a.write(agent_id="a1", key="ka", value={"x": 1})

        # Transaction B started second
        tx_b = client.begin_transaction()
        tx_b.write(agent_id="a1", key="kb", value={"y": 2})

        # But B commits first!
        tx_b.commit()  # commit_ts = 10
        tx_a.commit()  # commit_ts = 11

        # Replay order: B before A
        print([event.operations[0].key for event in client.replay(agent_id="a1")])

        with client.begin_transaction() as tx:
            tx.write(agent_id="a1", key="k1", value={"x": 1})
            tx.write(agent_id="a1", key="k2", value={"y": 2})
            tx.delete(agent_id="a1", key="k3")

        # Agent 1 writes
        with client.begin_transaction() as tx:
            tx.write(agent_id="agent-1", key="k", value={"x": 1})

        # Agent 2 writes
        with client.begin_transaction() as tx:
            tx.write(agent_id="agent-2", key="k", value={"x": 2})

        # Replay for agent-1 only shows agent-1's events
        events = list(client.replay(agent_id="agent-1"))
        assert all(e.operations[0].agent_id == "agent-1" for e in events)

        # Write some data
        with client.begin_transaction() as tx:
            tx.write(agent_id="c1", key="k1", value={"x": 1})
        with client.begin_transaction() as tx:
            tx.write(agent_id="c1", key="k1", value={"x": 2})  # Update

        # Replay shows both writes
        events = list(client.replay(agent_id="c1"))
        assert len(events) == 2

        # Final state matches last replay event
        state = client.get_state(agent_id="c1", key="k1")
        assert state.value == events[-1].operations[0].value

        # Start with empty state
        state = {}

        # Replay all events
        for event in client.replay(agent_id="a1"):
            for op in event.operations:
                if op.type == OperationType.WRITE:
                    state[op.key] = op.value
                elif op.type == OperationType.DELETE:
                    state.pop(op.key, None)

        print(sorted(state))

        events = list(client.replay(agent_id="new-agent"))
        assert events == []  # Empty list, not an error

        # Write then delete
        with client.begin_transaction() as tx:
            tx.write(agent_id="d1", key="temp", value={"x": 1})
        with client.begin_transaction() as tx:
            tx.delete(agent_id="d1", key="temp")

        # Both events appear in replay
        events = list(client.replay(agent_id="d1"))
        assert len(events) == 2
        assert events[0].operations[0].type == OperationType.WRITE
        assert events[1].operations[0].type == OperationType.DELETE

        import json
        with open("audit.jsonl", "w") as f:
            for event in client.replay(agent_id="d1"):
                f.write(json.dumps({
                    "timestamp": event.timestamp.isoformat(),
                    "txn_id": event.txn_id,
                    "operations": [
                        {
                            "type": op.type.name,
                            "key": op.key,
                            "value": op.value
                        }
                        for op in event.operations
                    ]
                }) + "\\n")
        print(open("audit.jsonl").read().count("DELETE"))
        """,
        tmp_path,
    )
    assert out.splitlines() == ["['kb', 'ka']", "['k1', 'k2', 'ka', 'kb']", "1"]


# ---- the CLI -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon of its own, holding what the CLI examples read."""
    daemon = Daemon(tmp_path_factory.mktemp("cli-docs") / "data").start()
    with Statehouse(url=daemon.url) as client:
        with client.begin_transaction() as tx:
            tx.write("my-agent", "memory", {"fact": "the sky is blue"})
            tx.write("my-agent", "last_error", {"error": "timeout", "step": 3})
        for key, value in [
            ("task", {"description": "Research the history of computing"}),
            ("context", {"topic": "distributed databases", "sources": 2}),
            ("step/0000", {"type": "tool_call", "tool": "search"}),
            ("tool/search", {"query": "raft vs paxos", "results": 8}),
            ("final/answer", {"answer": "expected answer"}),
            ("final_answer", {"answer": "expected answer"}),
        ]:
            with client.begin_transaction() as tx:
                tx.write("agent-1", key, value)
        with client.begin_transaction(namespace="production") as tx:
            tx.write("agent-1", "config", {"mode": "production"})
        with client.begin_transaction() as tx:
            tx.write("cli-demo-agent", "context", {"phase": "research"})
    yield daemon
    daemon.stop()


def test_cli_readme_commands(cli_data: Daemon, tmp_path: Path) -> None:
    assert run_shell(cli_data, "statehousectl health") == "ok\n"
    assert "memory" in run_shell(cli_data, "statehousectl keys my-agent")
    assert "memory" in run_shell(cli_data, "statehousectl keys my-agent --prefix memory")
    assert run_shell(cli_data, "statehousectl get my-agent memory") == '{"fact":"the sky is blue"}\n'
    assert "WRITE  key=memory" in run_shell(cli_data, "statehousectl replay my-agent")
    assert "key=memory" in run_shell(cli_data, "statehousectl replay my-agent --start-ts 0 --end-ts 10")
    assert len(run_shell(cli_data, "statehousectl replay my-agent --limit 10").splitlines()) == 2
    assert "key=last_error" in run_shell(cli_data, "statehousectl tail my-agent")
    # The FAQ's backup instruction writes the file.
    assert "State dumped to /tmp" in run_shell(cli_data, f"statehousectl dump my-agent -o {tmp_path}/backup.json")
    assert '"memory": {"value": {"fact":"the sky is blue"}' in (tmp_path / "backup.json").read_text()
    assert "statehouse_dump" in run_shell(
        cli_data, "statehousectl dump my-agent -o backup.json && cat backup.json", tmp_path
    )


def test_cli_operations_guide(cli_data: Daemon, tmp_path: Path) -> None:
    assert run_shell(cli_data, "statehousectl --address localhost:50051 health") == "ok\n"
    assert run_shell(cli_data, "export STATEHOUSE_ADDRESS=localhost:50051\nstatehousectl health") == "ok\n"
    verbose = run_shell(cli_data, "statehousectl replay agent-1 --verbose")
    assert "txn=" in verbose and "  payload: " in verbose
    assert run_shell(cli_data, "statehousectl replay agent-1 --json").count('"txn_id"') == 6
    inspect = run_shell(cli_data, "statehousectl inspect cli-demo-agent")
    assert "=== Agent Inspect: cli-demo-agent ===" in inspect and "Total Keys: 1" in inspect
    assert len(run_shell(cli_data, "statehousectl tail my-agent -n 20").splitlines()) == 2
    assert "Key:       last_error" in run_shell(cli_data, "statehousectl get my-agent last_error --pretty")
    run_shell(cli_data, "statehousectl tail my-agent -n 50")
    run_shell(cli_data, "statehousectl replay my-agent --verbose")
    run_shell(cli_data, "statehousectl dump my-agent -o backup.json", tmp_path)
    run_shell(cli_data, "statehousectl replay my-agent --json > events.jsonl", tmp_path)
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 1
    run_shell(cli_data, "statehousectl replay my-agent --start-ts 1770488000 --json > recent.jsonl", tmp_path)
    assert (tmp_path / "recent.jsonl").read_text() == ""
    if shutil.which("jq"):
        keys = run_shell(
            cli_data, "statehousectl replay agent-1 --json | \\\n  jq -r '.operations[].key' | \\\n  sort | uniq"
        )
        assert keys.splitlines() == sorted(
            ["context", "final/answer", "final_answer", "step/0000", "task", "tool/search"]
        )
        counts = run_shell(
            cli_data,
            "statehousectl replay agent-1 --json | \\\n"
            "  jq -r '.operations[].key | split(\"/\")[0]' | \\\n"
            "  sort | uniq -c",
        )
        assert "      1 final" in counts
        finals = run_shell(
            cli_data,
            "statehousectl replay agent-1 --json | \\\n  jq 'select(.operations[].key | startswith(\"final/\"))'",
        )
        assert '"final/answer"' in finals
        answer = run_shell(
            cli_data,
            "AGENT_ID=agent-1\n"
            "result=$(statehousectl get \"$AGENT_ID\" final_answer --json | jq -r '.value.answer')\n"
            'echo "$result"',
        )
        assert answer == "expected answer\n"
    found = run_shell(
        cli_data,
        "if statehousectl get agent-1 optional-key 2>/dev/null; then\n"
        '  echo "Key exists"\n'
        "else\n"
        '  echo "Key not found, using default"\n'
        "fi",
    )
    assert found == "Key not found, using default\n"
    version = run_shell(
        cli_data,
        "version=$(statehousectl version | grep \"Version:\" | cut -d' ' -f2)\n"
        'echo "OK: Daemon running (version $version)"',
    )
    assert version == "OK: Daemon running (version 0.1.0)\n"
    assert run_shell(cli_data, "statehousectl --namespace production keys agent-1").startswith("KEY")


def test_cli_reference(cli_data: Daemon, tmp_path: Path) -> None:
    assert '"description"' in run_shell(cli_data, "statehousectl get agent-1 task")
    assert "Value: {" in run_shell(cli_data, "statehousectl get agent-1 context --pretty")
    assert (
        run_shell(cli_data, "statehousectl --address localhost:50051 get agent-1 config --namespace production")
        == '{"mode":"production"}\n'
    )
    assert "step/0000" in run_shell(cli_data, 'statehousectl keys agent-1 --prefix "step/"')
    assert run_shell(cli_data, "statehousectl replay agent-1 --start-ts 1770488000 --end-ts 1770489000") == ""
    assert len(run_shell(cli_data, "statehousectl tail agent-1 -n 5").splitlines()) == 5
    assert len(run_shell(cli_data, "statehousectl tail agent-1 --lines 20").splitlines()) == 6
    run_shell(cli_data, "statehousectl dump agent-1 --output agent-1-state.json", tmp_path)
    assert '"task": {"value"' in (tmp_path / "agent-1-state.json").read_text()
    assert "Version: 1" in run_shell(cli_data, "statehousectl dump agent-1 --format text")
    run_shell(cli_data, "statehousectl --address prod-host:50051 dump agent-1 --output prod-backup.json", tmp_path)
    assert (tmp_path / "prod-backup.json").exists()
    # A pipeline whose grep finds nothing fails, as it did with the original.
    run_shell(cli_data, "statehousectl tail agent-1 --lines 50 | grep -i error", expect_code=1)
    assert "timeout" in run_shell(cli_data, "statehousectl tail my-agent --lines 50 | grep -i error")
