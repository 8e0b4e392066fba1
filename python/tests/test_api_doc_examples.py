"""The curl examples of docs/api.md ("HTTP API", "Examples") run as written against a fresh daemon (its HTTP port in
place of 8080), their output compared with the documented one: `…` stands for text that differs from run to run
(ids, hashes, times are compared by shape), a line `…` for the rest of the output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def examples() -> List[Tuple[str, List[str]]]:
    text = DOC.read_text()
    section = text[text.index("### Examples") : text.index("### Web console")]
    commands: List[Tuple[str, List[str]]] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        command = None
        for line in block.splitlines():
            if command is not None and command[0].count("'") % 2 == 1:
                command = (command[0] + "\n" + line, command[1])
                commands[-1] = command
            elif line.startswith("$ "):
                command = (line[2:], [])
                commands.append(command)
            elif command is not None:
                command[1].append(line)
    return commands


def pattern(expected: str) -> re.Pattern[str]:
    expected = TIME.sub("TIME", expected)
    expected = re.sub(r"[0-9a-f-]+…", "…", expected)
    return re.compile(".*".join(re.escape(part) for part in expected.split("…")))


def test_the_examples_run_as_documented(make_daemon: Any) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    daemon = make_daemon()
    base = daemon.http_url
    variables: Dict[str, str] = {}
    ran = 0
    for command, expected in examples():
        command = command.replace("http://127.0.0.1:8080", base)
        assignment = re.fullmatch(r"(\w+)=(\S+)", command)
        if assignment:
            variables[assignment[1]] = assignment[2]
            continue
        if command.startswith("curl -N"):
            command = "curl --max-time 1 " + command[len("curl ") :]  # a watch streams until stopped
        result = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, env={**os.environ, **variables}, timeout=30
        )
        assert result.returncode in (0, 28), (command, result.stderr)
        actual = [
            TIME.sub("TIME", line.rstrip("\r"))
            for line in result.stdout.splitlines()
            if not line.lower().startswith(("date:", "content-length:"))
        ]
        for index, line in enumerate(expected):
            if line == "…":
                break
            assert index < len(actual), (command, expected, actual)
            assert pattern(line).fullmatch(actual[index]), (command, line, actual[index])
        else:
            assert len(actual) == len(expected), (command, expected, actual)
        ran += 1
    assert ran >= 8
