"""Every Python example of python/README.md runs, in order, against a fresh daemon (its address put in place of
localhost:50051), and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any, Dict, List

from statehouse import Statehouse

README = Path(__file__).resolve().parents[1] / "README.md"
CLOCK = re.compile(r"^\d\d:\d\d:\d\dZ")


def examples() -> List[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def promised(block: str) -> List[str]:
    """The outputs a block's `print(...)   # output` comments promise, in order."""
    return [match.group(1) for match in re.finditer(r"^\s*print\(.*\)\s+# (.*)$", block, re.M)]


def test_every_python_example_runs_and_prints_what_it_says(make_daemon) -> None:
    daemon = make_daemon()
    blocks = examples()
    assert len(blocks) == 13
    printed: List[str] = []
    scopes: List[Dict[str, Any]] = []
    for block in blocks:
        scope: Dict[str, Any] = {"__name__": "readme_example"}
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block.replace("localhost:50051", daemon.url), str(README), "exec"), scope)  # noqa: S102
        printed.append(buffer.getvalue())
        scopes.append(scope)

    (
        quick,
        run_async,
        missing,
        by_time,
        formatting,
        metadata,
        errors,
        verified,
        lifecycle,
        retention,
        provenance,
        artifacts,
        langgraph,
    ) = printed
    lines = quick.splitlines()
    assert lines[0] == "{'fact': 'the sky is blue'} 1 1 True"
    assert [CLOCK.sub("HH:MM:SSZ", line) for line in lines[-2:]] == [
        'HH:MM:SSZ  agent=agent-1  WRITE  key=memory                v=1  {"fact":"the sky is blue"}',
        'HH:MM:SSZ  agent=agent-1  WRITE  key=plan                  v=1  ["search","answer"]',
    ]
    assert CLOCK.sub("HH:MM:SSZ", lines[-2]) == CLOCK.sub("HH:MM:SSZ", promised(blocks[0])[-1])
    assert run_async.splitlines()[0] == "['checked the sky']"
    assert missing == "{'fact': 'the sky is blue'}\nno such key\n"
    assert by_time.count("\n") == 2 and "['memory', 'plan']" in by_time and "['notes']" in by_time
    assert formatting.splitlines() == promised(blocks[4])
    assert metadata.splitlines() == promised(blocks[5]) == ["ok"]
    assert errors == ""
    assert verified.splitlines() == promised(blocks[7]) == ["{'step': 1}"]
    assert lifecycle.splitlines() == promised(blocks[8])
    expected = ["True", "namespace", "2", "True", "[False, True, True]", "2"]
    assert retention.splitlines() == promised(blocks[9]) == expected
    assert provenance.splitlines() == promised(blocks[10])
    assert len(promised(blocks[10])) == 4
    assert artifacts.splitlines() == promised(blocks[11])
    assert len(promised(blocks[11])) == 5
    assert langgraph.splitlines() == promised(blocks[12]) == ["3 message(s) so far"]

    # The retry loop of the Errors section increments.
    increment = scopes[6]["increment"]
    with Statehouse(url=daemon.url) as client:
        first, second = increment(client, "agent-1", "counter"), increment(client, "agent-1", "counter")
        assert second == first + 1 and client.get_state("agent-1", "counter").value == 2
