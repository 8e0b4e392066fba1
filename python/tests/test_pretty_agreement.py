"""Two independent implementations of the pretty replay format must agree: statehousectl's (Swift,
Sources/statehousectl/PrettyFormat.swift) and the Python SDK's replay_pretty (statehouse/formatting.py), fed the same
log, print the same lines, byte for byte, plain and verbose (docs/api.md, "The pretty format")."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List

import pytest

from daemon import Daemon, statehoused_binary
from statehouse import Delete, Put, Statehouse

LONG_TEXT = 'line one\nline "two"\twith a backslash \\ and ' + "x" * 150
TRICKY_VALUES = [
    {"topic": "databases", "sources": 2},
    LONG_TEXT,
    "héllo wörld ✓ 😀 é",
    "controls \u0001 \u007f zero\u200bwidth no\u00a0break",
    {f"field{i}": i for i in range(20)},
    {"a_rather_long_field_name_that_is_long": "x" * 90, "b": 1},
    list(range(100)),
    [{"nested": True}, [1, 2], "third"],
    ["a string that is long enough to be cut in a preview", "b" * 40, "c"],
    [],
    {},
    None,
    True,
    False,
    42,
    3.14159,
    1e300,
    12345678901234567890123,
    -0.5,
    9.5e15,  # between 2^53 and 1e16: Python's repr is plain digits
    {"n": 9007199254740993.0, "m": 1e16},
    {"text": "a\nb", "deep": {"list": [1.5, 2e-7, None]}},
]
RAW_VALUES = [b"-0", b"1E5", b"1.0e2", b'{"x":1e400}', b"1e400", b'{"a":1,"b":2,"a":3}', b'"\\u00e9\\ud83d\\ude00"']
KEYS = [
    "context",
    "tool/search",
    "note/checkpoint",
    "annotation/why",
    "final/answer",
    "answer/short",
    "agent/research-1/task/subtask/very-long-key-name-that-should-be-truncated-here",
    "k" * 60,
    "with space and ünïcode",
]


def statehousectl() -> Path:
    return statehoused_binary().parent / "statehousectl"


def cli_lines(daemon: Daemon, namespace: str, *flags: str) -> List[str]:
    result = subprocess.run(
        [str(statehousectl()), "--addr", daemon.url, "-n", namespace, "--color", "never", "replay", *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def fill(client: Statehouse, namespace: str, include_non_finite: bool) -> None:
    for index, value in enumerate(TRICKY_VALUES):
        client.apply([Put("agent-1", KEYS[index % len(KEYS)], value)], namespace=namespace)
    client.apply([Put("a-very-long-agent-identifier-indeed", "context", {"x": 1})], namespace=namespace)
    client.apply([Delete("agent-1", "context")], namespace=namespace, metadata={"reason": 'superseded "v2" \\ ok'})
    client.apply([Delete("agent-1", "tool/search")], namespace=namespace)
    raws = RAW_VALUES if include_non_finite else [raw for raw in RAW_VALUES if b"e400" not in raw]
    for index, raw in enumerate(raws):
        # Raw JSON texts the SDK would never produce (other number spellings, repeated names, escapes).
        from statehouse._proto import statehouse_pb2 as pb

        request = pb.ApplyRequest(
            namespace=namespace,
            operations=[pb.Operation(agent_id="raw", key=f"raw/{index}", kind=pb.OPERATION_KIND_PUT, value=raw)],
        )
        client._stub.Apply(request, timeout=30)


@pytest.mark.parametrize("namespace", ["default", "pretty-ns"])
def test_plain_lines_agree(namespace: str, tmp_path: Path) -> None:
    private = Daemon(tmp_path / "data").start()
    try:
        with Statehouse(url=private.url) as client:
            fill(client, namespace, include_non_finite=True)
            python_lines = list(client.replay_pretty(namespace=namespace))
        swift_lines = cli_lines(private, namespace)
    finally:
        private.stop()
    assert len(python_lines) == len(TRICKY_VALUES) + 3 + len(RAW_VALUES)
    for python_line, swift_line in zip(python_lines, swift_lines):
        assert swift_line == python_line
    assert len(swift_lines) == len(python_lines)
    # The formats are what the documentation shows, not only equal to each other.
    assert any(
        "  DEL    key=context               v=" in line and line.endswith('reason="superseded \\"v2\\" \\\\ ok"')
        for line in python_lines
    )
    assert any(line.endswith("tombstone") for line in python_lines)
    assert all(len(line) < 300 for line in python_lines)
    if namespace != "default":
        assert all(f"Z  ns={namespace}  agent=" in line for line in python_lines)


def test_verbose_lines_agree(tmp_path: Path) -> None:
    private = Daemon(tmp_path / "data").start()
    try:
        with Statehouse(url=private.url) as client:
            fill(client, "verbose", include_non_finite=True)
            python_text = "\n".join(client.replay_pretty(namespace="verbose", verbose=True)).splitlines()
        swift_lines = cli_lines(private, "verbose", "--verbose")
    finally:
        private.stop()
    assert swift_lines == python_text
    assert any(line.startswith("  payload: ") for line in swift_lines)
