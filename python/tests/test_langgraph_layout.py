"""The savers' storage layout and edges the conformance suite does not reach: values larger than one Statehouse value,
the documented keys, bad configs, and the async saver's sync methods."""

from __future__ import annotations

import asyncio
import os

import pytest

pytest.importorskip("langgraph.checkpoint.base")

from langgraph.checkpoint.base import empty_checkpoint  # noqa: E402

from statehouse import AsyncStatehouse, InvalidArgumentError, Statehouse  # noqa: E402
from statehouse.langgraph import AsyncStatehouseSaver, StatehouseSaver  # noqa: E402


def _checkpoint(values: dict, versions: dict) -> dict:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = values
    checkpoint["channel_versions"] = versions
    return checkpoint


def test_values_larger_than_one_statehouse_value_are_stored_in_parts(client: Statehouse, namespace: str) -> None:
    saver = StatehouseSaver(client, namespace=namespace)
    big = os.urandom(3 * 1024 * 1024)  # 4 MiB of base64: eight parts of 512 KiB
    config = {"configurable": {"thread_id": "big", "checkpoint_ns": ""}}
    stored = saver.put(
        config, _checkpoint({"blob": big, "small": 1}, {"blob": 1, "small": 1}), {}, {"blob": 1, "small": 1}
    )
    saver.put_writes(stored, [("out", big[:2_000_000]), ("note", "ok")], "task-1")
    loaded = saver.get_tuple({"configurable": {"thread_id": "big"}})
    assert loaded.checkpoint["channel_values"] == {"blob": big, "small": 1}
    assert loaded.pending_writes == [("task-1", "out", big[:2_000_000]), ("task-1", "note", "ok")]
    keys = client.list_keys("big", namespace)
    assert sum("/part/" in key for key in keys) == 7 + 5  # parts after the head: 8 - 1 and 6 - 1
    # A later checkpoint that does not keep the big channel: prune keeps only what the latest needs.
    newer = saver.put(stored, _checkpoint({"small": 2}, {"small": 2}), {}, {"small": 2})
    saver.prune(["big"])
    assert not any(key.startswith("blob/%2F") for key in client.list_keys("big", namespace))
    assert all("/part/" not in key for key in client.list_keys("big", namespace))
    assert saver.get_tuple(newer).checkpoint["channel_values"] == {"small": 2}


def test_keys_follow_the_documented_layout(client: Statehouse, namespace: str) -> None:
    saver = StatehouseSaver(client, namespace=namespace)
    config = {"configurable": {"thread_id": "t/1", "checkpoint_ns": "child:a/b"}}
    checkpoint = _checkpoint({"messages": ["hi"]}, {"messages": "00000000000000000000000000000001.5"})
    checkpoint["id"] = "1ef4f797-8335-6428-8001-8a1503f9b875"
    stored = saver.put(config, checkpoint, {"source": "input", "step": -1}, checkpoint["channel_versions"])
    saver.put_writes(stored, [("messages", ["again"])], "task/9", "path")
    descending = "".join(f"{255 - byte:02x}" for byte in checkpoint["id"].encode()) + "ff"
    assert client.list_keys("t/1", namespace) == [
        "blob/child:a%2Fb/messages/00000000000000000000000000000001.5",
        f"checkpoint/child:a%2Fb/{descending}",
        f"checkpoint/child:a%2Fb/{descending}/w/task%2F9/0",
    ]
    record = client.get_state("t/1", f"checkpoint/child:a%2Fb/{descending}", namespace).value
    assert record["metadata"] == {"source": "input", "step": -1}
    assert record["parent_checkpoint_id"] is None and record["checkpoint"]["type"] == "msgpack"
    # Newer ids sort first, so the latest checkpoint is the prefix's first key.
    assert descending < "".join(f"{255 - byte:02x}" for byte in b"1ef4f797-8335-6428-8001-8a1503f9b874")


def test_bad_configs_are_refused_with_a_clear_error(client: Statehouse, namespace: str) -> None:
    saver = StatehouseSaver(client, namespace=namespace)
    with pytest.raises(InvalidArgumentError, match="thread_id"):
        saver.get_tuple({"configurable": {}})
    with pytest.raises(InvalidArgumentError, match="checkpoint_id"):
        saver.put_writes({"configurable": {"thread_id": "t"}}, [("a", 1)], "task")
    with pytest.raises(InvalidArgumentError, match="prune strategy"):
        saver.prune(["t"], strategy="newest")
    with pytest.raises(InvalidArgumentError, match="JSON"):
        saver.put({"configurable": {"thread_id": "t", "checkpoint_ns": ""}}, _checkpoint({}, {}), {"x": object()}, {})
    assert client.list_agents(namespace) == []  # nothing was written


def test_async_saver_sync_methods_run_on_its_loop_from_other_threads(daemon, namespace: str) -> None:
    async def run() -> None:
        async with AsyncStatehouse(url=daemon.url) as client:
            saver = AsyncStatehouseSaver(client, namespace=namespace)
            config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
            stored = await asyncio.to_thread(saver.put, config, _checkpoint({"a": 1}, {"a": 1}), {}, {"a": 1})
            loaded = await asyncio.to_thread(saver.get_tuple, stored)
            assert loaded.checkpoint["channel_values"] == {"a": 1}
            assert len(await asyncio.to_thread(lambda: list(saver.list(None)))) == 1
            with pytest.raises(InvalidArgumentError, match="would block"):
                saver.get_tuple(stored)

    asyncio.run(run())


def test_listing_every_namespace_before_a_checkpoint(client: Statehouse, namespace: str) -> None:
    saver = StatehouseSaver(client, namespace=namespace)
    ids = {}
    for checkpoint_ns in ("", "child:1"):
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": checkpoint_ns}}
        for step in range(3):
            checkpoint = _checkpoint({"step": step}, {"step": f"{step + 1}"})
            config = saver.put(config, checkpoint, {"step": step}, {"step": f"{step + 1}"})
            ids[(checkpoint_ns, step)] = config["configurable"]["checkpoint_id"]
    before = {"configurable": {"checkpoint_id": ids[("", 2)]}}
    listed = list(saver.list({"configurable": {"thread_id": "t"}}, before=before))
    # Checkpoint ids rise with time, so "before the root's last" keeps the root's first two and the child's that are
    # older than it (all three were written after it), newest first in each namespace.
    assert [(t.config["configurable"]["checkpoint_ns"], t.metadata["step"]) for t in listed] == [("", 1), ("", 0)]
    assert [t.metadata["step"] for t in saver.list({"configurable": {"thread_id": "t"}}, limit=2)] == [2, 1]
    only = {"configurable": {"thread_id": "t", "checkpoint_id": ids[("child:1", 1)]}}
    assert [t.config["configurable"]["checkpoint_ns"] for t in saver.list(only)] == ["child:1"]


def test_a_retried_task_does_not_add_its_large_writes_twice(client: Statehouse, namespace: str) -> None:
    saver = StatehouseSaver(client, namespace=namespace)
    config = {"configurable": {"thread_id": "retry", "checkpoint_ns": ""}}
    stored = saver.put(config, _checkpoint({}, {}), {"run_id": "run-1"}, {})
    big = b"y" * 1_500_000
    saver.put_writes(stored, [("out", big), ("note", "first")], "task-1")
    saver.put_writes(stored, [("out", b"other"), ("note", "second")], "task-1")  # the retry: kept from the first
    assert saver.get_tuple(stored).pending_writes == [("task-1", "out", big), ("task-1", "note", "first")]
    saver.delete_for_runs(["run-1"])
    assert saver.get_tuple(stored) is None
    assert not any(key.startswith("checkpoint/") for key in client.list_keys("retry", namespace))
