"""`python -m statehouse.cli` against a real daemon, run as a subprocess: every command and flag, the address
variables, exit codes (0, 1, 2, 130) and colour only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from queue import Empty, Queue
from typing import Any, Dict, List, Optional

import pytest

from daemon import free_port
from statehouse import Metadata, Statehouse
from statehouse._operations import pretty_lines


def environment(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """This process's environment without STATEHOUSE_* and NO_COLOR, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STATEHOUSE_") and key != "NO_COLOR"}
    env.update(extra or {})
    return env


def cli(*args: str, address: Optional[str] = None, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "statehouse.cli"]
    if address is not None:
        command += ["--address", address]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=environment(env), timeout=120)


def lines_of(result: subprocess.CompletedProcess) -> List[str]:
    return result.stdout.splitlines()


@pytest.fixture
def agent_log(client: Statehouse) -> Dict[str, Any]:
    """research-1's history: 2 writes in one commit, 12 steps, a delete with a reason, a plain delete."""
    with client.begin_transaction() as tx:
        tx.write("research-1", "context", {"topic": "distributed databases", "sources": 2})
        tx.write("research-1", "tool/search", "raft vs paxos")
        tx.write("bystander", "noise", 0)
    for index in range(12):
        with client.begin_transaction() as tx:
            tx.write("research-1", f"step/{index:04d}", {"index": index})
    tx = client.begin_transaction()
    tx.delete("research-1", "context")
    tx.commit(metadata=Metadata(reason="superseded"))
    with client.begin_transaction() as tx:
        tx.delete("research-1", "step/0011")
    events = list(client.replay("research-1"))
    assert len(events) == 15
    pretty = [line for event in events for line in pretty_lines(event, False)]
    verbose = [line for event in events for line in pretty_lines(event, True)]
    assert len(pretty) == 16
    return {"events": events, "pretty": pretty, "verbose": verbose}


# ---- health, version, addresses -------------------------------------------------------------------------------------


def test_health_and_version(daemon, client: Statehouse) -> None:
    result = cli("health", address=daemon.url)
    assert (result.returncode, result.stdout, result.stderr) == (0, "✓ Daemon is healthy\n", "")
    version, git_sha = client.version()
    result = cli("version", address=daemon.url)
    assert (result.returncode, result.stdout) == (0, f"Version: {version}\nGit SHA: {git_sha}\n")


def test_an_unreachable_daemon_fails_with_exit_code_1(daemon) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    result = cli("health", address=nobody)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("✗ Connection failed: ") and nobody in result.stderr
    result = cli("keys", "agent", address=nobody)
    assert result.returncode == 1 and result.stdout == "" and result.stderr.startswith("✗ Error: ")


def test_the_address_comes_from_the_option_then_the_variables_in_order(daemon) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    cases = [
        ({"STATEHOUSE_ADDRESS": daemon.url, "STATEHOUSE_ADDR": nobody, "STATEHOUSE_URL": nobody}, 0),
        ({"STATEHOUSE_ADDRESS": "  ", "STATEHOUSE_ADDR": daemon.url, "STATEHOUSE_URL": nobody}, 0),
        ({"STATEHOUSE_URL": daemon.url}, 0),
        ({"STATEHOUSE_ADDRESS": nobody, "STATEHOUSE_URL": daemon.url}, 1),
    ]
    for variables, code in cases:
        assert cli("health", env=variables).returncode == code, variables
    # --address wins over every variable.
    assert cli("health", address=daemon.url, env={"STATEHOUSE_ADDRESS": nobody}).returncode == 0
    assert cli("health", address=nobody, env={"STATEHOUSE_ADDRESS": daemon.url}).returncode == 1


def test_without_anything_the_address_is_localhost_50051(monkeypatch) -> None:
    from statehouse.cli.main import default_address

    assert default_address({}) == "localhost:50051"
    assert default_address({"STATEHOUSE_URL": "u:1", "STATEHOUSE_ADDR": "a:1"}) == "a:1"


def test_usage_errors_exit_2() -> None:
    assert cli().returncode == 2
    assert cli("no-such-command").returncode == 2
    result = cli("get", "only-agent", address="127.0.0.1:1")
    assert result.returncode == 2 and "expected AGENT KEY or NAMESPACE AGENT KEY" in result.stderr
    result = cli("get", "a", "b", "c", "d", address="127.0.0.1:1")
    assert result.returncode == 2
    assert cli("tail", "a", "-n", "-1", address="127.0.0.1:1").returncode == 2
    assert cli("dump", "a", "--format", "xml", address="127.0.0.1:1").returncode == 2
    assert cli("--help").returncode == 0


# ---- get ------------------------------------------------------------------------------------------------------------


def test_get_in_its_three_formats(daemon, client: Statehouse, namespace: str) -> None:
    with client.begin_transaction() as tx:
        tx.write("agent-1", "task", {"description": "Research the history of computing", "n": 2**70})
    state = client.get_state("agent-1", "task")
    ns = ["--namespace", namespace]

    result = cli("get", "agent-1", "task", *ns, address=daemon.url)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == (
        "Key:       task\nVersion:   1\nCommit TS: 1\n\nValue:\n"
        '{\n  "description": "Research the history of computing",\n  "n": 1180591620717411303424\n}\n'
    )
    for flag in ("--json-output", "--json"):
        result = cli("get", "agent-1", "task", flag, *ns, address=daemon.url)
        assert result.returncode == 0
        assert json.loads(result.stdout) == {
            "namespace": namespace,
            "agent_id": "agent-1",
            "key": "task",
            "version": 1,
            "commit_ts": 1,
            "timestamp": state.committed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z"),
            "value": {"description": "Research the history of computing", "n": 2**70},
        }
    result = cli("get", "agent-1", "task", "--pretty", *ns, address=daemon.url)
    assert result.stdout == (
        f"Key:       task\nVersion:   1\nTimestamp: {state.committed_at.strftime('%H:%M:%SZ')}\n\n"
        'Value: {"description":"Research the history of computing","n":1180591620717411303424}\n'
    )


def test_get_takes_the_namespace_as_a_first_positional(daemon, client: Statehouse, namespace: str) -> None:
    with client.begin_transaction() as tx:
        tx.write("agent-1", "config", "three")
    result = cli("get", namespace, "agent-1", "config", address=daemon.url)
    assert result.returncode == 0 and result.stdout.endswith('Value:\n"three"\n')
    assert cli("get", namespace, "agent-1", "config", "--namespace", namespace, address=daemon.url).returncode == 0
    assert cli("--namespace", namespace, "get", "agent-1", "config", address=daemon.url).returncode == 0
    conflict = cli("get", namespace, "agent-1", "config", "--namespace", "other", address=daemon.url)
    assert conflict.returncode == 2 and "the namespace is given twice" in conflict.stderr
    # Without a namespace: "default", where this key does not exist.
    assert cli("get", "agent-1", "config", address=daemon.url).returncode == 1


def test_get_of_a_missing_or_deleted_key_exits_1(daemon, client: Statehouse, namespace: str) -> None:
    with client.begin_transaction() as tx:
        tx.write("agent-1", "gone", 1)
        tx.write("agent-1", "null", None)
    with client.begin_transaction() as tx:
        tx.delete("agent-1", "gone")
    missing = cli("get", "agent-1", "never", "--namespace", namespace, address=daemon.url)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"✗ Key not found: 'never' of agent 'agent-1' in namespace '{namespace}'\n"
    gone = cli("get", "agent-1", "gone", "--namespace", namespace, address=daemon.url)
    assert gone.returncode == 1 and gone.stderr.endswith("(deleted at version 2)\n")
    # A stored null exists.
    assert cli("get", "agent-1", "null", "--namespace", namespace, address=daemon.url).stdout.endswith("null\n")
    # --version N reads that version.
    old = cli("get", "agent-1", "gone", "--version", "1", "--namespace", namespace, address=daemon.url)
    assert old.returncode == 0 and old.stdout.startswith("Key:       gone\nVersion:   1\n")
    beyond = cli("get", "agent-1", "gone", "--version", "9", "--namespace", namespace, address=daemon.url)
    assert beyond.returncode == 1 and beyond.stderr.startswith("✗ Error: ")


# ---- keys -----------------------------------------------------------------------------------------------------------


def test_keys(daemon, client: Statehouse, namespace: str) -> None:
    with client.begin_transaction() as tx:
        for key in ("task", "step/0001", "step/0000", "answer", "with space"):
            tx.write("agent-1", key, 1)
    with client.begin_transaction() as tx:
        tx.delete("agent-1", "answer")
    result = cli("keys", "agent-1", "--namespace", namespace, address=daemon.url)
    assert result.returncode == 0
    assert result.stdout == (
        f"Keys for agent 'agent-1' (namespace: {namespace}):\n"
        "  - step/0000\n  - step/0001\n  - task\n  - with space\n\nTotal: 4\n"
    )
    result = cli("keys", namespace, "agent-1", "--prefix", "step/", address=daemon.url)
    assert lines_of(result) == [
        f"Keys for agent 'agent-1' (namespace: {namespace}):",
        "  - step/0000",
        "  - step/0001",
        "",
        "Total: 2",
    ]
    result = cli("--namespace", namespace, "keys", "agent-1", "--json", address=daemon.url)
    assert json.loads(result.stdout) == {
        "namespace": namespace,
        "agent_id": "agent-1",
        "count": 4,
        "keys": ["step/0000", "step/0001", "task", "with space"],
    }
    result = cli("keys", "nobody", "--namespace", namespace, address=daemon.url)
    assert (result.returncode, result.stdout) == (0, "No keys found for agent 'nobody'\n")
    result = cli("keys", "agent-1", "--prefix", "zzz", "--namespace", namespace, address=daemon.url)
    assert result.stdout == "No keys found for agent 'agent-1' with prefix 'zzz'\n"


# ---- replay ---------------------------------------------------------------------------------------------------------


def test_replay_pretty_verbose_limits_and_ranges(daemon, namespace: str, agent_log: Dict[str, Any]) -> None:
    ns = ["--namespace", namespace]
    pretty, verbose, events = agent_log["pretty"], agent_log["verbose"], agent_log["events"]
    result = cli("replay", "research-1", *ns, address=daemon.url)
    assert result.returncode == 0 and lines_of(result) == pretty
    assert pretty[0].endswith('WRITE  key=context               v=1  {"topic":"distributed databases","sources":2}')
    assert pretty[-2].endswith('DEL    key=context               v=2  reason="superseded"')
    assert lines_of(cli("replay", "research-1", "--limit", "3", *ns, address=daemon.url)) == pretty[:3]
    assert lines_of(cli("replay", "research-1", "--limit", "0", *ns, address=daemon.url)) == pretty
    assert lines_of(cli("replay", "research-1", "--start-ts", "14", *ns, address=daemon.url)) == pretty[-2:]
    assert (
        lines_of(cli("replay", "research-1", "--start-ts", "2", "--end-ts", "3", *ns, address=daemon.url))
        == pretty[2:4]
    )
    result = cli("replay", "research-1", "--verbose", "--start-ts", "14", *ns, address=daemon.url)
    assert result.stdout == "\n".join(verbose[-2:]) + "\n"
    assert '  event=14  reason="superseded"\n  payload: null' in result.stdout
    # RFC 3339 bounds: the 14th commit's own time, at both ends.
    when = events[13].to_dict()["timestamp"]
    result = cli("replay", "research-1", "--from-ts", when, "--to-ts", when, *ns, address=daemon.url)
    same = [
        line for event in events if event.committed_at == events[13].committed_at for line in pretty_lines(event, False)
    ]
    assert lines_of(result) == same and pretty[14] in same
    bad = cli("replay", "research-1", "--from-ts", "yesterday", *ns, address=daemon.url)
    assert bad.returncode == 1 and "from_timestamp must be an RFC 3339 time" in bad.stderr
    reversed_range = cli("replay", "research-1", "--start-ts", "5", "--end-ts", "4", *ns, address=daemon.url)
    assert reversed_range.returncode == 1 and "end_ts (4) is before start_ts (5)" in reversed_range.stderr
    none = cli("replay", "nobody", *ns, address=daemon.url)
    assert (none.returncode, none.stdout) == (0, "No events found for agent 'nobody'\n")
    # The original's status document names the namespace first: `replay NAMESPACE AGENT`.
    assert lines_of(cli("replay", namespace, "research-1", address=daemon.url)) == pretty


def test_replay_json_lines(daemon, namespace: str, agent_log: Dict[str, Any]) -> None:
    ns = ["--namespace", namespace]
    result = cli("replay", "research-1", "--json", *ns, address=daemon.url)
    assert result.returncode == 0
    assert [json.loads(line) for line in lines_of(result)] == [event.to_dict() for event in agent_log["events"]]
    limited = cli("replay", "research-1", "--json", "--limit", "2", *ns, address=daemon.url)
    assert [json.loads(line)["commit_ts"] for line in lines_of(limited)] == [1, 2]
    first = json.loads(lines_of(limited)[0])
    assert [op["key"] for op in first["operations"]] == ["context", "tool/search"]
    none = cli("replay", "nobody", "--json", *ns, address=daemon.url)
    assert (none.returncode, none.stdout, none.stderr) == (0, "", "No events found for agent 'nobody'\n")


# ---- tail -----------------------------------------------------------------------------------------------------------


def test_tail_prints_the_last_lines(daemon, namespace: str, agent_log: Dict[str, Any]) -> None:
    ns = ["--namespace", namespace]
    pretty = agent_log["pretty"]
    result = cli("tail", "research-1", *ns, address=daemon.url)
    assert result.returncode == 0 and lines_of(result) == pretty[-10:]
    assert lines_of(cli("tail", "research-1", "-n", "3", *ns, address=daemon.url)) == pretty[-3:]
    assert lines_of(cli("tail", "research-1", "--lines", "20", *ns, address=daemon.url)) == pretty
    assert lines_of(cli("tail", "research-1", "--lines", "0", *ns, address=daemon.url)) == []
    none = cli("tail", "nobody", *ns, address=daemon.url)
    assert (none.returncode, none.stdout) == (0, "No events found for agent 'nobody'\n")


def _reader(stream: Any) -> Queue[str]:
    lines: Queue[str] = Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.mark.parametrize("flag", ["--follow", "-f"])
def test_tail_follow_prints_new_commits_until_ctrl_c(daemon, client: Statehouse, namespace: str, flag: str) -> None:
    with client.begin_transaction() as tx:
        tx.write("agent-1", "a", 1)
        tx.write("agent-1", "b", 2)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "statehouse.cli",
            "--address",
            daemon.url,
            "tail",
            "agent-1",
            "-n",
            "1",
            flag,
            "--namespace",
            namespace,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        out, err = _reader(process.stdout), _reader(process.stderr)

        def next_line(queue: Queue[str]) -> str:
            try:
                return queue.get(timeout=60)
            except Empty:
                pytest.fail("the CLI printed nothing within 60 s")

        assert next_line(out).endswith("key=b                     v=1  2\n")
        assert next_line(err) == "Waiting for new events (Ctrl+C to stop)...\n"
        with client.begin_transaction() as tx:
            tx.write("agent-1", "final/answer", "42")
            tx.write("someone-else", "x", 0)
        with client.begin_transaction() as tx:
            tx.write("someone-else", "y", 0)
        tx = client.begin_transaction()
        tx.delete("agent-1", "a")
        tx.commit(metadata={"reason": "cleanup"})
        events = list(client.replay("agent-1", start_ts=2))
        expected = [line for event in events for line in pretty_lines(event, False)]
        assert [next_line(out).rstrip("\n") for _ in expected] == expected
        assert expected[0].endswith('FINAL  key=final/answer          v=1  "42"')
        assert expected[1].endswith('DEL    key=a                     v=2  reason="cleanup"')
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# ---- dump -----------------------------------------------------------------------------------------------------------


def test_dump_json_and_text_to_stdout_and_to_a_file(
    daemon, client: Statehouse, namespace: str, tmp_path: Path, agent_log: Dict[str, Any]
) -> None:
    ns = ["--namespace", namespace]
    live = client.scan_prefix("research-1", "")
    expected = {
        state.key: {"value": state.value, "version": state.version, "commit_ts": state.commit_ts} for state in live
    }
    assert "context" not in expected and "step/0011" not in expected and len(expected) == 12
    result = cli("dump", "research-1", *ns, address=daemon.url)
    assert result.returncode == 0 and json.loads(result.stdout) == expected
    assert list(json.loads(result.stdout)) == sorted(expected)

    for option in ("--output", "-o"):
        target = tmp_path / f"dump{option}.json"
        result = cli("dump", "research-1", option, str(target), *ns, address=daemon.url)
        assert result.returncode == 0
        assert result.stdout == f"✓ State dumped to {target} (12 keys at commit_ts 15)\n"
        assert json.loads(target.read_text(encoding="utf-8")) == expected

    text = cli("dump", "research-1", "--format", "text", *ns, address=daemon.url)
    assert lines_of(text)[:6] == [
        f"State of agent 'research-1' (namespace: {namespace}) at commit_ts 15: 12 keys",
        "",
        "step/0000",
        "  Version:   1",
        "  Commit TS: 2",
        '  Value:     {"index":0}',
    ]
    assert lines_of(text)[-5:] == [
        "",
        "tool/search",
        "  Version:   1",
        "  Commit TS: 1",
        '  Value:     "raft vs paxos"',
    ]
    empty = cli("dump", "nobody", *ns, address=daemon.url)
    assert (empty.returncode, empty.stdout) == (0, "{}\n")
    unwritable = cli("dump", "research-1", "-o", str(tmp_path / "missing-dir" / "x.json"), *ns, address=daemon.url)
    assert unwritable.returncode == 1 and unwritable.stderr.startswith("✗ Error: cannot write ")


# ---- inspect --------------------------------------------------------------------------------------------------------


def test_inspect(daemon, client: Statehouse, namespace: str, agent_log: Dict[str, Any]) -> None:
    keys = client.list_keys("research-1")
    result = cli("inspect", "research-1", "--namespace", namespace, address=daemon.url)
    assert result.returncode == 0
    recent = [f"  {line}" for event in agent_log["events"][-5:] for line in pretty_lines(event, False)]
    assert lines_of(result) == [
        "=== Agent Inspect: research-1 ===",
        f"Namespace: {namespace}",
        "",
        "Total Keys: 12",
        "",
        "Keys (showing first 10):",
        *[f"  • {key}" for key in keys[:10]],
        "  ... and 2 more",
        "",
        "Total Events: 15",
        "",
        "Recent Activity (last 5 events):",
        *recent,
    ]
    empty = cli("inspect", "nobody", "--namespace", namespace, address=daemon.url)
    assert lines_of(empty) == [
        "=== Agent Inspect: nobody ===",
        f"Namespace: {namespace}",
        "",
        "Total Keys: 0",
        "",
        "Total Events: 0",
    ]


# ---- colour ---------------------------------------------------------------------------------------------------------


def run_on_a_terminal(args: List[str], env: Dict[str, str]) -> str:
    """The output of the CLI with a pseudo-terminal as stdout."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "statehouse.cli", *args], stdout=follower, stderr=subprocess.PIPE, env=environment(env)
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            pytest.fail("no output on the terminal within 60 s")
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the follower side closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_without_no_color(daemon, namespace: str, agent_log: Dict[str, Any]) -> None:
    coloured = run_on_a_terminal(["--address", daemon.url, "health"], {})
    assert coloured.replace("\r\n", "\n") == "\x1b[32m✓ Daemon is healthy\x1b[0m\n"
    replay = run_on_a_terminal(
        ["--address", daemon.url, "replay", "research-1", "--namespace", namespace, "--limit", "2"], {}
    )
    assert "\x1b[32mWRITE\x1b[0m  key=context" in replay and "\x1b[36mTOOL\x1b[0m   key=tool/search" in replay
    plain = run_on_a_terminal(["--address", daemon.url, "health"], {"NO_COLOR": "1"})
    assert plain.replace("\r\n", "\n") == "✓ Daemon is healthy\n"
    assert "\x1b" not in run_on_a_terminal(
        ["--address", daemon.url, "replay", "research-1", "--namespace", namespace], {"NO_COLOR": "yes"}
    )
    # no-color.org: an empty NO_COLOR does not count (the Swift CLI agrees).
    assert "\x1b[" in run_on_a_terminal(["--address", daemon.url, "health"], {"NO_COLOR": ""})
    piped = cli("replay", "research-1", "--namespace", namespace, address=daemon.url)
    assert "\x1b" not in piped.stdout and piped.returncode == 0
