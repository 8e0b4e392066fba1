"""statehouse.formatting, the original's documented replay format (docs/operations/output-format.md of the original
Statehouse), and replay_pretty built on it against a real daemon, sync and async."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any, List

import pytest

from statehouse import AsyncStatehouse, Metadata, OperationType, Statehouse
from statehouse.formatting import (
    format_agent,
    format_event_json,
    format_event_pretty,
    format_event_verbose,
    format_key,
    format_ts,
    format_value_summary,
)

UTC = timezone.utc
T = 1770488464  # 2026-02-07T18:21:04Z


# ---- fields ----------------------------------------------------------------------------------------------------------


def test_format_ts_is_utc_hours_minutes_seconds() -> None:
    assert format_ts(T) == "18:21:04Z"
    assert format_ts(0) == "00:00:00Z"
    assert format_ts(T + 0.999) == "18:21:04Z"
    assert format_ts(-1) == "23:59:59Z"
    assert format_ts(datetime(2026, 2, 7, 18, 21, 4, 999_999, tzinfo=UTC)) == "18:21:04Z"
    assert format_ts(datetime(2026, 2, 7, 20, 21, 4, tzinfo=timezone(timedelta(hours=2)))) == "18:21:04Z"
    assert format_ts(datetime(2026, 2, 7, 18, 21, 4)) == "18:21:04Z"  # naive: UTC
    assert format_ts(None) == "--:--:--Z"
    for bad in ("18:21", True, float("nan")):
        with pytest.raises(TypeError):
            format_ts(bad)


def test_format_key() -> None:
    assert format_key("context") == "context"
    assert format_key("k" * 48) == "k" * 48
    assert format_key("k" * 49) == "k" * 45 + "..."
    path = "agent/research-1/task/subtask/very-long-key-name-that-should-be-cut/final"
    assert format_key(path) == "agent/.../final"
    # A last part too long for first/.../last: cut like any key.
    long_last = "tool/runs/" + "x" * 60
    assert format_key(long_last) == long_last[:45] + "..."
    assert format_key("a/b" + "c" * 60, max_len=10) == "a/bccc" + "c" + "..."
    assert len(format_key("/" * 100)) == 48
    assert format_key("line\nbreak") == "line\\nbreak"


def test_format_agent_cuts_long_ids_to_seventeen_and_an_ellipsis() -> None:
    assert format_agent("research-1") == "research-1"
    assert format_agent("a" * 20) == "a" * 20
    assert format_agent("very-long-agent-identifier") == "very-long-agent-i..."


def test_scalar_summaries() -> None:
    assert [format_value_summary(value) for value in (None, True, False, 42, -7, 3.14159, 1e100, 2**80)] == [
        "null",
        "true",
        "false",
        "42",
        "-7",
        "3.14159",
        "1e+100",
        "1208925819614629174706176",
    ]
    assert format_value_summary("hello") == '"hello"'
    assert format_value_summary('tab\there "quoted" back\\slash\r\n') == '"tab\\there \\"quoted\\" back\\\\slash\\r\\n"'
    assert format_value_summary("bell\x07 del\x7f nbsp\u2028") == '"bell\\u0007 del\\u007f nbsp\\u2028"'
    assert format_value_summary("é ✓ 漢") == '"é ✓ 漢"'


def test_long_strings_are_cut_so_the_quoted_text_is_at_most_max_len() -> None:
    assert format_value_summary("a" * 118) == '"' + "a" * 118 + '"'  # 120 with its quotes: whole
    assert format_value_summary("a" * 119) == '"' + "a" * 115 + '..."'
    for length in (119, 120, 200, 1000):
        assert len(format_value_summary("a" * length)) == 120
    assert format_value_summary("abcdefghij", max_len=8) == '"abc..."'
    # An escape sequence is never split: the cut happens before it.
    assert format_value_summary("ab\ncdefgh", max_len=8) == '"ab..."'
    assert format_value_summary("a\ncdefgh", max_len=8) == '"a\\n..."'


def test_small_objects_and_lists_are_compact_json() -> None:
    assert format_value_summary({}) == "{}"
    assert format_value_summary([]) == "[]"
    assert format_value_summary({"a": 1, "b": [1, 2]}) == '{"a":1,"b":[1,2]}'
    assert format_value_summary([1, "two", None]) == '[1,"two",null]'
    assert format_value_summary({"topic": "é"}) == '{"topic":"é"}'
    just_under = {"k": "x" * 71}  # {"k":"..."} is 79 characters
    assert format_value_summary(just_under) == json.dumps(just_under, separators=(",", ":"))


def test_big_objects_and_lists_are_summarised() -> None:
    assert format_value_summary({"k": "x" * 72}) == "{k:..., n_fields=1}"
    big = {f"key{i}": i for i in range(20)}
    assert format_value_summary(big) == "{key0:..., key1:..., key2:..., n_fields=20}"
    assert format_value_summary(big, max_len=30) == "{key0:..., n_fields=20}"
    assert format_value_summary(list(range(100))) == "[0, 1, ...] len=100"
    assert format_value_summary([{"a": "x" * 80}, [1] * 50, "z"]) == "[{...}, [...], ...] len=3"
    assert format_value_summary(["x" * 100, "y" * 100]) == '["' + "x" * 19 + '...", "' + "y" * 19 + '..."] len=2'
    assert format_value_summary(list(range(100)), max_len=16) == "[0, ...] len=100"
    assert format_value_summary(list(range(100)), max_len=5) == "[...] len=100"


def test_summaries_are_deterministic() -> None:
    value = {"b": [1, {"c": "x" * 100}], "a": "y" * 200}
    assert len({format_value_summary(value) for _ in range(5)}) == 1
    assert format_value_summary(value) == "{b:..., a:..., n_fields=2}"


# ---- lines -----------------------------------------------------------------------------------------------------------


def test_pretty_line_layout() -> None:
    line = format_event_pretty(T, "research-1", "write", "context", 3, {"topic": "databases"})
    assert line == '18:21:04Z  agent=research-1  WRITE  key=context               v=3  {"topic":"databases"}'
    wide = format_event_pretty(T, "a", "write", "k" * 30, 12, "v")
    assert wide == f'18:21:04Z  agent=a  WRITE  key={"k" * 30}  v=12  "v"'
    cut = format_event_pretty(T, "a", "write", "k" * 60, 1, 1)
    assert cut == f"18:21:04Z  agent=a  WRITE  key={'k' * 45}...  v=1  1"


@pytest.mark.parametrize(
    "operation, key, op",
    [
        ("write", "context", "WRITE"),
        ("delete", "context", "DEL  "),
        ("DELETE", "tool/search", "DEL  "),
        (OperationType.DELETE, "x", "DEL  "),
        (OperationType.WRITE, "x", "WRITE"),
        ("write", "tool/search", "TOOL "),
        ("write", "note/checkpoint", "NOTE "),
        ("write", "annotation/why", "NOTE "),
        ("write", "final/answer", "FINAL"),
        ("write", "answer/text", "FINAL"),
        ("write", "tools/search", "WRITE"),
        ("write", "finally", "WRITE"),
    ],
)
def test_the_op_column(operation: Any, key: str, op: str) -> None:
    line = format_event_pretty(T, "a", operation, key, 1, "v")
    assert line.split("  key=")[0] == f"18:21:04Z  agent=a  {op}"


def test_deletes_show_the_reason_or_a_tombstone() -> None:
    assert format_event_pretty(T, "a", "delete", "draft", 4).endswith("key=draft                 v=4  tombstone")
    assert format_event_pretty(T, "a", "delete", "draft", 4, value={"ignored": 1}, reason='old "one"').endswith(
        'v=4  reason="old \\"one\\""'
    )


def test_namespace_and_long_agent_ids() -> None:
    assert format_event_pretty(T, "a", "write", "k", 1, 1, namespace="default").startswith("18:21:04Z  agent=a  ")
    assert format_event_pretty(T, "a", "write", "k", 1, 1, namespace="prod").startswith("18:21:04Z  ns=prod  agent=a  ")
    line = format_event_pretty(T, "very-long-agent-identifier-that-needs-truncation", "write", "k", 1, 1)
    assert "  agent=very-long-agent-i...  WRITE  " in line


def test_verbose_lines() -> None:
    text = format_event_verbose(
        T,
        "research-1",
        "write",
        "context",
        3,
        "a3f7b2d1-4c8e-4f12-9a8b-3d7e5c2f8a4b",
        42,
        {"topic": "databases", "sources": ["paper1", "paper2"], "long": "x" * 300},
    )
    header, payload = text.split("\n")
    assert header == "18:21:04Z  agent=research-1  WRITE  key=context  v=3  txn=a3f7b2d1-4c8  event=42"
    assert payload == '  payload: {"topic":"databases","sources":["paper1","paper2"],"long":"' + "x" * 300 + '"}'
    deleted = format_event_verbose(T, "a", "delete", "k", 2, "t", 7, namespace="prod", reason="done")
    assert deleted == '18:21:04Z  ns=prod  agent=a  DEL    key=k  v=2  txn=t  event=7  reason="done"\n  payload: null'
    assert format_event_verbose(T, "a", "write", "k", 1, "t", 1, "two\nlines").endswith('payload: "two\\nlines"')


def test_format_event_json() -> None:
    event = {"timestamp": "2026-02-07T12:31:04Z", "agent_id": "research-1", "version": 3, "value": {"t": "é\n"}}
    text = format_event_json(event)
    assert "\n" not in text and json.loads(text) == event
    assert text == '{"timestamp":"2026-02-07T12:31:04Z","agent_id":"research-1","version":3,"value":{"t":"é\\n"}}'
    when = datetime(2026, 2, 7, 12, 31, 4, tzinfo=UTC)
    assert json.loads(format_event_json({"at": when, "op": OperationType.WRITE})) == {
        "at": "2026-02-07T12:31:04Z",
        "op": "write",
    }

    class Opaque:
        pass

    for bad in ({"event_id": 99, "bad": Opaque()}, {"event_id": 99, "bad": float("nan")}):
        failure = json.loads(format_event_json(bad))
        assert failure["error"] == "serialization_failed" and failure["event_id"] == 99 and failure["message"]
    cyclic: Any = {"event_id": "e"}
    cyclic["self"] = cyclic
    assert json.loads(format_event_json(cyclic))["error"] == "serialization_failed"


# ---- replay_pretty against a daemon ----------------------------------------------------------------------------------


def populate(client: Statehouse) -> List[Any]:
    with client.begin_transaction() as tx:
        tx.write("research-1", "context", {"topic": "distributed databases", "sources": 2})
        tx.write("research-1", "tool/search", "raft vs paxos")
        tx.write("someone-else", "noise", 1)
    tx = client.begin_transaction()
    tx.delete("research-1", "context")
    tx.commit(metadata=Metadata(reason="superseded"))
    with client.begin_transaction() as tx:
        tx.delete("research-1", "tool/search")
    return list(client.replay("research-1"))


def expected_lines(events: List[Any], namespace: str, verbose: bool) -> List[str]:
    first, second, third = events
    ns = f"ns={namespace}  "
    clock = [event.committed_at.strftime("%H:%M:%SZ") for event in events]
    if not verbose:
        return [
            f"{clock[0]}  {ns}agent=research-1  WRITE  key=context               v=1  "
            '{"topic":"distributed databases","sources":2}',
            f'{clock[0]}  {ns}agent=research-1  TOOL   key=tool/search           v=1  "raft vs paxos"',
            f'{clock[1]}  {ns}agent=research-1  DEL    key=context               v=2  reason="superseded"',
            f"{clock[2]}  {ns}agent=research-1  DEL    key=tool/search           v=2  tombstone",
        ]
    return [
        f"{clock[0]}  {ns}agent=research-1  WRITE  key=context  v=1  txn={first.txn_id[:12]}  event=1\n"
        '  payload: {"topic":"distributed databases","sources":2}',
        f"{clock[0]}  {ns}agent=research-1  TOOL   key=tool/search  v=1  txn={first.txn_id[:12]}  event=1\n"
        '  payload: "raft vs paxos"',
        f"{clock[1]}  {ns}agent=research-1  DEL    key=context  v=2  txn={second.txn_id[:12]}  event=2  "
        'reason="superseded"\n  payload: null',
        f"{clock[2]}  {ns}agent=research-1  DEL    key=tool/search  v=2  txn={third.txn_id[:12]}  event=3\n"
        "  payload: null",
    ]


@pytest.mark.parametrize("verbose", [False, True])
def test_replay_pretty_uses_the_real_commit_time(daemon, client: Statehouse, verbose: bool) -> None:
    events = populate(client)
    assert all(event.committed_at.year >= 2025 for event in events)
    wanted = expected_lines(events, client.namespace, verbose)
    assert list(client.replay_pretty("research-1", verbose=verbose)) == wanted
    assert list(client.replay_pretty("research-1", 2, 3, verbose=verbose)) == wanted[2:]
    assert (
        list(
            client.replay_pretty(
                agent_id="research-1", start_ts=1, end_ts=1, namespace=client.namespace, verbose=verbose
            )
        )
        == wanted[:2]
    )

    async def main() -> List[str]:
        async with AsyncStatehouse(url=daemon.url, namespace=client.namespace) as aclient:
            return [line async for line in aclient.replay_pretty("research-1", verbose=verbose)]

    assert asyncio.run(main()) == wanted


def test_replay_pretty_in_the_default_namespace_has_no_ns_field(daemon) -> None:
    with Statehouse(url=daemon.url, namespace="default") as client:
        agent = "fmt-default-ns"
        with client.begin_transaction() as tx:
            tx.write(agent, "k", 1)
        (event,) = client.replay(agent)
        (line,) = client.replay_pretty(agent)
    assert line == f"{event.committed_at.strftime('%H:%M:%SZ')}  agent={agent}  WRITE  key=k{' ' * 19}  v=1  1"


def test_stopping_a_pretty_replay_early_closes_its_stream(client: Statehouse) -> None:
    for index in range(3):
        with client.begin_transaction() as tx:
            tx.write("a", "k", index)
    lines = client.replay_pretty("a")
    assert next(lines).endswith("v=1  0")
    lines.close()
    with pytest.raises(StopIteration):
        next(lines)
