"""LangGraph checkpointers backed by Statehouse: :class:`StatehouseSaver` (sync) and :class:`AsyncStatehouseSaver`.

Install with ``pip install "statehouse[langgraph]"`` (langgraph-checkpoint 4.x, langgraph 1.x)::

    from langgraph.graph import StateGraph, MessagesState, START
    from statehouse import Statehouse
    from statehouse.langgraph import StatehouseSaver

    saver = StatehouseSaver(Statehouse(url="localhost:50051"))
    graph = builder.compile(checkpointer=saver)
    graph.invoke({"messages": [("user", "hi")]}, {"configurable": {"thread_id": "chat-1"}})

Layout (documented in docs/architecture.md, "LangGraph checkpoints"): every thread is one agent of the saver's
namespace (default ``langgraph``), with its thread id as the agent id, so ``statehousectl -n langgraph history``,
``replay`` and ``verify`` show a thread's timeline. Under it, with ``NS`` the checkpoint namespace and ``ID`` a
checkpoint id, each escaped (``%`` -> ``%25``, ``/`` -> ``%2F``):

- ``checkpoint/NS/DESC`` -> the checkpoint without its channel values, its metadata (as JSON), its id and its
  parent's. ``DESC`` is the id's UTF-8 bytes, each as ``255 - byte`` in two hex digits, then ``ff``: the keys sort
  newest first, so the latest checkpoint is the first key of the prefix (one index seek, however long the history)
  and ``list(before=...)`` starts right after a key.
- ``checkpoint/NS/DESC/w/TASK/IDX`` -> one pending write of a task, right after its checkpoint's record, so that one
  scan reads a checkpoint and its writes.
- ``blob/NS/CHANNEL/VERSION`` -> one channel value, written once by the checkpoint that made that version.
- ``KEY/part/I`` -> part ``I`` (from 1) of a channel value or write larger than 512 KiB of base64 (a Statehouse value
  holds at most 1 MiB); the value at ``KEY`` holds part 0 and the number of parts.

A ``get_tuple`` is two calls (the scan of the record and its writes; the channel values, in one ``GetMany``), a
``list`` two per 16 checkpoints listed.

Values are stored as LangGraph's serializer makes them: ``{"type": ..., "base64": ...}`` (msgpack by default).
Every ``put`` is one atomic commit (the checkpoint and the blobs it adds), every ``put_writes`` one commit of the
task's writes, each with metadata naming the thread, the checkpoint and the step.
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Dict, Generator, List, Optional, Tuple

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    SerializerProtocol,
    get_checkpoint_id,
    get_checkpoint_metadata,
    writes_sort_key,
)

from . import _operations as ops
from ._wire import decode_value
from .aio import AsyncStatehouse
from .client import Statehouse
from .exceptions import ConflictError, InvalidArgumentError, StatehouseError
from .types import Condition, Delete, Metadata, Put, StateResult

__all__ = ["AsyncStatehouseSaver", "StatehouseSaver"]

DEFAULT_NAMESPACE = "langgraph"

# Operations per commit when a thread is copied or deleted (the daemon takes up to 10,000 per transaction).
_BATCH = 5_000

Plan = Generator[ops.Call, Any, Any]

# Base64 characters per stored part of a large channel value or write (a Statehouse value holds at most 1 MiB).
_PART_CHARS = 512 * 1024
# Keys (checkpoint records, writes, parts) read per call while reading checkpoints.
_LIST_PAGE = 100
# Listed checkpoints whose channel values are read together (one call for all their blobs).
_LIST_BATCH = 16


# ---- keys and values ---------------------------------------------------------------------------------------------


def _escape(component: str) -> str:
    return component.replace("%", "%25").replace("/", "%2F")


# Each byte b to 255 - b, for _descending.
_INVERTED = bytes(255 - byte for byte in range(256))


def _descending(checkpoint_id: str) -> str:
    """A key component whose byte order is the reverse of ``checkpoint_id``'s (see the module's layout)."""
    return checkpoint_id.encode().translate(_INVERTED).hex() + "ff"


def _checkpoint_prefix(checkpoint_ns: Optional[str]) -> str:
    return "checkpoint/" if checkpoint_ns is None else f"checkpoint/{_escape(checkpoint_ns)}/"


def _checkpoint_key(checkpoint_ns: str, checkpoint_id: str) -> str:
    return _checkpoint_prefix(checkpoint_ns) + _descending(checkpoint_id)


def _blob_key(checkpoint_ns: str, channel: str, version: Any) -> str:
    return f"blob/{_escape(checkpoint_ns)}/{_escape(channel)}/{_escape(str(version))}"


def _writes_prefix(checkpoint_ns: str, checkpoint_id: str) -> str:
    """A checkpoint's writes are stored right after its record (``checkpoint/NS/DESC/w/...``): one scan reads both."""
    return _checkpoint_key(checkpoint_ns, checkpoint_id) + "/w/"


def _after_writes(checkpoint_ns: str, checkpoint_id: str) -> str:
    """A key after a checkpoint's record and writes and before the next (older) checkpoint's record."""
    return _checkpoint_key(checkpoint_ns, checkpoint_id) + "/w0"


def _write_key(checkpoint_ns: str, checkpoint_id: str, task_id: str, idx: int) -> str:
    return f"{_writes_prefix(checkpoint_ns, checkpoint_id)}{_escape(task_id)}/{idx}"


def _is_record(key: str) -> bool:
    """Whether a key under ``checkpoint/`` is a checkpoint's record (``checkpoint/NS/DESC``, its components escaped)
    rather than one of its writes (``checkpoint/NS/DESC/w/TASK/IDX``) or a part of one (``.../part/I``)."""
    return key.count("/") == 2


class _StoredItem:
    """A key read by the saver's checkpoint scans, its JSON value parsed the first time it is looked at.

    A page of checkpoint keys usually holds more than the call returns (the record after the last checkpoint wanted,
    which tells where its writes end; the rest of a ``list`` page): those values are never parsed.
    """

    __slots__ = ("key", "_raw", "_value")

    _UNREAD = object()

    def __init__(self, record: Any) -> None:
        self.key: str = record.key
        self._raw: bytes = record.value
        self._value: Any = _StoredItem._UNREAD

    @property
    def value(self) -> Any:
        if self._value is _StoredItem._UNREAD:
            self._value = decode_value(self._raw)
        return self._value


def _typed(serialized: Tuple[str, bytes]) -> Dict[str, str]:
    type_, data = serialized
    return {"type": type_, "base64": base64.b64encode(data).decode("ascii")}


def _untyped(stored: Dict[str, Any]) -> Tuple[str, bytes]:
    return stored["type"], base64.b64decode(stored["base64"])


def _split(key: str, typed: Dict[str, str]) -> Tuple[Dict[str, Any], List[Tuple[str, Dict[str, Any]]]]:
    """A serialized value too large for one Statehouse value (1 MiB) as a head and parts: the head keeps the first
    ``_PART_CHARS`` characters of the base64 text and the number of parts; part ``i`` is stored at ``KEY/part/i``."""
    text = typed["base64"]
    if len(text) <= _PART_CHARS:
        return typed, []
    chunks = [text[start : start + _PART_CHARS] for start in range(0, len(text), _PART_CHARS)]
    head = {"type": typed["type"], "base64": chunks[0], "parts": len(chunks)}
    return head, [
        (f"{key}/part/{index}", {"part_of": key, "base64": chunk}) for index, chunk in enumerate(chunks) if index
    ]


def _part_keys(key: str, head: Dict[str, Any]) -> List[str]:
    return [f"{key}/part/{index}" for index in range(1, head.get("parts", 1))]


def _joined(head: Dict[str, Any], parts: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    if head.get("parts", 1) == 1:
        return head
    if len(parts) != head["parts"] - 1:
        raise StatehouseError(f"a stored LangGraph value has {len(parts) + 1} of its {head['parts']} parts")
    return {"type": head["type"], "base64": head["base64"] + "".join(part["base64"] for part in parts)}


def _config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns, "checkpoint_id": checkpoint_id}}


def _thread(config: RunnableConfig) -> str:
    configurable = config.get("configurable") or {}
    thread_id = configurable.get("thread_id")
    if thread_id is None or thread_id == "":
        raise InvalidArgumentError('a checkpointer config needs configurable["thread_id"]')
    return str(thread_id)


def _metadata_json(config: RunnableConfig, metadata: CheckpointMetadata) -> Dict[str, Any]:
    """The checkpoint's metadata, stored as JSON (as SqliteSaver stores it) so that filters and statehousectl read it;
    the SDK refuses, before sending anything, metadata that is not JSON (InvalidArgumentError)."""
    return get_checkpoint_metadata(config, metadata)


def _commit_metadata(thread_id: str, what: str, **tags: Any) -> Metadata:
    return Metadata(
        actor="langgraph",
        reason=what[:200],
        tags={"langgraph.thread_id": thread_id[:256], **{f"langgraph.{k}": str(v)[:256] for k, v in tags.items()}},
    )


# ---- the plans both savers run -----------------------------------------------------------------------------------


class _SaverCore(BaseCheckpointSaver[str]):
    """What both savers share: the storage layout as plans (see ``statehouse._operations``), which the sync saver
    runs on a :class:`Statehouse` client and the async one on an :class:`AsyncStatehouse`."""

    namespace: str

    def __init__(self, *, namespace: str, serde: Optional[SerializerProtocol]) -> None:
        super().__init__(serde=serde)
        self.namespace = namespace

    def get_next_version(self, current: Optional[str], channel: None) -> str:
        # A random fraction after the counter, as InMemorySaver and PostgresSaver do: a graph that forks from an
        # earlier checkpoint makes the same counter again, and its blob must not overwrite the first branch's.
        if current is None:
            number = 0
        elif isinstance(current, int):
            number = current
        else:
            number = int(str(current).split(".")[0])
        return f"{number + 1:032}.{random.random():016}"

    # -- reads --

    def _tuples_plan(self, thread_id: str, groups: List[List[_StoredItem]]) -> Plan:
        """The full tuples of stored checkpoints, each given as its record followed by its writes (and their
        parts): the channel values of all of them are read in one call (and their parts, if any, in one more)."""
        decoded = []
        wanted: List[str] = []
        for group in groups:
            stored = group[0].value
            checkpoint: Checkpoint = self.serde.loads_typed(_untyped(stored["checkpoint"]))
            versions = checkpoint.get("channel_versions", {})
            blobs = {channel: _blob_key(stored["checkpoint_ns"], channel, versions[channel]) for channel in versions}
            decoded.append((stored, checkpoint, blobs, group[1:]))
            wanted += blobs.values()
        found: Dict[str, Any] = {}
        if wanted:
            unique = list(dict.fromkeys(wanted))
            results = yield from ops.get_many(self.namespace, [(thread_id, key) for key in unique], None, None)
            found = {item.key: item.value for item in results if item.exists}
            parts = [part for key, head in found.items() for part in _part_keys(key, head)]
            if parts:
                fetched = yield from ops.get_many(self.namespace, [(thread_id, key) for key in parts], None, None)
                found.update({item.key: item.value for item in fetched if item.exists})
        tuples = []
        for stored, checkpoint, blobs, writes in decoded:
            values: Dict[str, Any] = {}
            for channel, key in blobs.items():
                if key in found:
                    parts = [found[part] for part in _part_keys(key, found[key]) if part in found]
                    values[channel] = self.serde.loads_typed(_untyped(_joined(found[key], parts)))
            by_key = {write.key: write.value for write in writes}
            ordered = sorted(
                ((key, item) for key, item in by_key.items() if "part_of" not in item),
                key=lambda entry: writes_sort_key(entry[1].get("task_path", ""), entry[1]["task_id"], entry[1]["idx"]),
            )
            pending: List[PendingWrite] = []
            for key, item in ordered:
                parts = [by_key[part] for part in _part_keys(key, item["value"]) if part in by_key]
                pending.append(
                    (item["task_id"], item["channel"], self.serde.loads_typed(_untyped(_joined(item["value"], parts))))
                )
            checkpoint_ns, checkpoint_id = stored["checkpoint_ns"], stored["checkpoint_id"]
            parent = stored.get("parent_checkpoint_id")
            tuples.append(
                CheckpointTuple(
                    config=_config(thread_id, checkpoint_ns, checkpoint_id),
                    checkpoint={**checkpoint, "channel_values": values},
                    metadata=stored.get("metadata") or {},
                    parent_config=_config(thread_id, checkpoint_ns, parent) if parent else None,
                    pending_writes=pending,
                )
            )
        return tuples

    def _groups_plan(
        self, thread_id: str, prefix: str, start_after: Optional[str], want: Optional[int], page: int
    ) -> Generator[Any, Any, None]:
        """Reads checkpoint records in key order (newest first per namespace) with their writes, and yields each as
        a ``_Group`` once complete (the calls it needs in between), at most ``want`` of them. Pages start at ``page``
        keys and double up to ``_LIST_PAGE``, so that reading the latest checkpoint reads little of the history."""
        group: List[_StoredItem] = []
        emitted = 0
        while True:
            items = yield from ops.scan_prefix(
                self.namespace, thread_id, prefix, None, None, start_after, page, convert=_StoredItem
            )
            for item in items:
                if _is_record(item.key):  # a record; what follows it until the next record is its writes
                    if group:
                        yield _Group(group)
                        emitted += 1
                        if want is not None and emitted >= want:
                            return
                    group = [item]
                elif group:
                    group.append(item)
            if len(items) < page:
                if group:
                    yield _Group(group)
                return
            start_after = items[-1].key
            page = min(page * 2, _LIST_PAGE)

    def _get_tuple_plan(self, config: RunnableConfig) -> Plan:
        thread_id = _thread(config)
        checkpoint_ns = config["configurable"].get("checkpoint_ns", "") or ""
        checkpoint_id = get_checkpoint_id(config)
        # The record and its writes are one key range: the named checkpoint's, or the first of the namespace's.
        prefix = _checkpoint_key(checkpoint_ns, checkpoint_id) if checkpoint_id else _checkpoint_prefix(checkpoint_ns)
        reading = self._groups_plan(thread_id, prefix, None, 1, 4)
        groups: List[List[_StoredItem]] = []
        response: Any = None
        while True:
            try:
                item = reading.send(response)
            except StopIteration:
                break
            if isinstance(item, _Group):
                groups.append(item.items)
                response = None
            else:
                response = yield item
        if not groups:
            return None
        return (yield from self._tuples_plan(thread_id, groups))[0]

    def _threads_plan(self) -> Plan:
        return (yield from ops.list_agents(self.namespace))

    def _list_plan(
        self,
        config: Optional[RunnableConfig],
        filter: Optional[Dict[str, Any]],
        before: Optional[RunnableConfig],
        limit: Optional[int],
    ) -> Generator[Any, Any, None]:
        """Yields ``ops.Call`` objects to run and ``_Result`` tuples, newest first per checkpoint namespace."""
        if limit is not None and limit <= 0:
            return
        if config is not None:
            threads = [_thread(config)]
            checkpoint_ns = config["configurable"].get("checkpoint_ns")
            only_id = get_checkpoint_id(config)
        else:
            threads = yield from self._threads_plan()
            checkpoint_ns, only_id = None, None
        before_id = get_checkpoint_id(before) if before else None
        remaining = limit
        for thread_id in threads:
            prefix = _checkpoint_prefix(checkpoint_ns)
            start_after = None
            if only_id is not None and checkpoint_ns is not None:
                prefix = _checkpoint_key(checkpoint_ns, only_id)
            elif before_id is not None and checkpoint_ns is not None:
                start_after = _after_writes(checkpoint_ns, before_id)
            # About four keys per checkpoint (its record and a few writes) for what a limit still wants.
            first_page = _LIST_PAGE if remaining is None or filter else min(_LIST_PAGE, 4 * remaining + 4)
            reading = self._groups_plan(thread_id, prefix, start_after, None, first_page)
            batch: List[List[_StoredItem]] = []
            response: Any = None
            while True:
                try:
                    item = reading.send(response)
                except StopIteration:
                    item = None
                if isinstance(item, _Group):
                    response = None
                    stored = item.items[0].value
                    metadata = stored.get("metadata") or {}
                    if (
                        (only_id is None or stored["checkpoint_id"] == only_id)
                        and (before_id is None or stored["checkpoint_id"] < before_id)
                        and (not filter or all(metadata.get(name) == value for name, value in filter.items()))
                    ):
                        batch.append(item.items)
                    if len(batch) < (_LIST_BATCH if remaining is None else min(remaining, _LIST_BATCH)):
                        continue
                # A full batch, a call of the reading, or its end: hand out what is complete first, in order.
                if batch:
                    for result in (yield from self._tuples_plan(thread_id, batch)):
                        yield _Result(result)
                        if remaining is not None:
                            remaining -= 1
                            if remaining <= 0:
                                return
                    batch = []
                if item is None:
                    break
                if not isinstance(item, _Group):
                    response = yield item

    # -- writes --

    def _put_plan(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Plan:
        thread_id = _thread(config)
        checkpoint_ns = config["configurable"].get("checkpoint_ns", "") or ""
        parent_id = config["configurable"].get("checkpoint_id")
        without_values = {key: value for key, value in checkpoint.items() if key != "channel_values"}
        values = checkpoint.get("channel_values", {})
        record = {
            "checkpoint_id": checkpoint["id"],
            "checkpoint_ns": checkpoint_ns,
            "parent_checkpoint_id": parent_id,
            "checkpoint": _typed(self.serde.dumps_typed(without_values)),
            "metadata": _metadata_json(config, metadata),
        }
        operations = [Put(thread_id, _checkpoint_key(checkpoint_ns, checkpoint["id"]), record)]
        for channel, version in new_versions.items():
            if channel in values:
                key = _blob_key(checkpoint_ns, channel, version)
                head, parts = _split(key, _typed(self.serde.dumps_typed(values[channel])))
                operations.append(Put(thread_id, key, head))
                operations += [Put(thread_id, part_key, part) for part_key, part in parts]
        step = (metadata or {}).get("step")
        yield from ops.apply(
            self.namespace,
            operations,
            (),
            None,
            _commit_metadata(
                thread_id,
                f"checkpoint {checkpoint['id']}" + (f" (step {step})" if step is not None else ""),
                checkpoint_ns=checkpoint_ns,
                checkpoint_id=checkpoint["id"],
            ),
        )
        return _config(thread_id, checkpoint_ns, checkpoint["id"])

    def _put_writes_plan(
        self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str, task_path: str
    ) -> Plan:
        thread_id = _thread(config)
        checkpoint_ns = config["configurable"].get("checkpoint_ns", "") or ""
        checkpoint_id = config["configurable"].get("checkpoint_id")
        if not checkpoint_id:
            raise InvalidArgumentError('put_writes needs configurable["checkpoint_id"]')
        # Special channels (errors, interrupts: negative indices) replace an earlier write; the others are written
        # once per (task, index), so that a retried task does not add its writes twice.
        entries = []
        for position, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, position)
            key = _write_key(checkpoint_ns, checkpoint_id, task_id, idx)
            head, parts = _split(key, _typed(self.serde.dumps_typed(value)))
            entry = {"task_id": task_id, "task_path": task_path, "channel": channel, "idx": idx, "value": head}
            entries.append((key, idx, entry, parts))
        if not entries:
            return None
        skip: set = set()
        while True:
            wanted = [(key, idx, entry, parts) for key, idx, entry, parts in entries if key not in skip]
            if not wanted:
                return None
            conditions = [Condition(thread_id, key, must_not_exist=True) for key, idx, _, _ in wanted if idx >= 0]
            puts = []
            for key, _, entry, parts in wanted:
                puts.append(Put(thread_id, key, entry))
                puts += [Put(thread_id, part_key, part) for part_key, part in parts]
            try:
                yield from ops.apply(
                    self.namespace,
                    puts,
                    conditions,
                    None,
                    _commit_metadata(
                        thread_id,
                        f"writes of task {task_id} at checkpoint {checkpoint_id}",
                        checkpoint_ns=checkpoint_ns,
                        checkpoint_id=checkpoint_id,
                        task_id=task_id,
                    ),
                )
                return None
            except ConflictError:
                # Some were written before: read which, and write only the others.
                existing = yield from ops.get_many(
                    self.namespace, [(thread_id, key) for key, idx, _, _ in wanted if idx >= 0], None, None
                )
                found = {item.key for item in existing if item.exists}
                if not found:
                    raise
                skip |= found

    def _delete_keys_plan(self, thread_id: str, keys: List[str], what: str) -> Plan:
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            yield from ops.apply(
                self.namespace, [Delete(thread_id, key) for key in chunk], (), None, _commit_metadata(thread_id, what)
            )

    def _delete_thread_plan(self, thread_id: str) -> Plan:
        keys = yield from ops.list_keys(self.namespace, str(thread_id), "", False)
        yield from self._delete_keys_plan(str(thread_id), keys, "delete thread")

    def _checkpoints_plan(self, thread_id: str) -> Plan:
        """Every checkpoint record of a thread, per namespace newest first."""
        items = yield from ops.scan_prefix(self.namespace, thread_id, "checkpoint/", None, None)
        return [item for item in items if "checkpoint" in item.value]

    def _delete_for_runs_plan(self, run_ids: Sequence[str]) -> Plan:
        runs = {str(run_id) for run_id in run_ids}
        if not runs:
            return
        threads = yield from self._threads_plan()
        for thread_id in threads:
            records = yield from self._checkpoints_plan(thread_id)
            doomed = [record for record in records if (record.value.get("metadata") or {}).get("run_id") in runs]
            keys = [record.key for record in doomed]
            for record in doomed:
                writes = yield from ops.list_keys(
                    self.namespace,
                    thread_id,
                    _writes_prefix(record.value["checkpoint_ns"], record.value["checkpoint_id"]),
                    False,
                )
                keys += writes
            yield from self._delete_keys_plan(thread_id, keys, f"delete runs {', '.join(sorted(runs))[:150]}")

    def _copy_thread_plan(self, source: str, target: str) -> Plan:
        records = yield from ops.scan_prefix(self.namespace, str(source), "", None, None)
        for start in range(0, len(records), _BATCH):
            chunk = records[start : start + _BATCH]
            yield from ops.apply(
                self.namespace,
                [Put(str(target), record.key, record.value) for record in chunk],
                (),
                None,
                _commit_metadata(str(target), f"copy of thread {source}"[:200], source_thread_id=source),
            )

    def _prune_plan(self, thread_ids: Sequence[str], strategy: str) -> Plan:
        if strategy not in ("keep_latest", "delete"):
            raise InvalidArgumentError(f"unknown prune strategy {strategy!r}: use 'keep_latest' or 'delete'")
        for thread_id in thread_ids:
            thread_id = str(thread_id)
            if strategy == "delete":
                yield from self._delete_thread_plan(thread_id)
                continue
            records = yield from self._checkpoints_plan(thread_id)
            latest: Dict[str, StateResult] = {}
            for record in records:  # newest first within each namespace
                latest.setdefault(record.value["checkpoint_ns"], record)
            kept_records = {record.key for record in latest.values()}
            kept = set(kept_records)
            for record in latest.values():
                stored = record.value
                kept.add(_writes_prefix(stored["checkpoint_ns"], stored["checkpoint_id"]))
                checkpoint = self.serde.loads_typed(_untyped(stored["checkpoint"]))
                for channel, version in checkpoint.get("channel_versions", {}).items():
                    blob = _blob_key(stored["checkpoint_ns"], channel, version)
                    kept |= {blob, blob + "/part/"}
            keys = yield from ops.list_keys(self.namespace, thread_id, "", False)
            doomed = [
                key
                for key in keys
                if key not in kept and not any(key.startswith(prefix) for prefix in kept if prefix.endswith("/"))
            ]
            yield from self._delete_keys_plan(thread_id, doomed, "prune: keep the latest checkpoint")


class _Group:
    """A checkpoint record and its writes, as a reading yields them between its calls."""

    __slots__ = ("items",)

    def __init__(self, items: List[_StoredItem]) -> None:
        self.items = items


class _Result:
    """A listed tuple, told apart from the calls a listing plan yields."""

    __slots__ = ("value",)

    def __init__(self, value: CheckpointTuple) -> None:
        self.value = value


def _run_listing_sync(client: Statehouse, plan: Generator[Any, Any, None]) -> Iterator[CheckpointTuple]:
    """Runs a listing plan on the sync client, handing out its results as they come."""
    try:
        item = next(plan)
        while True:
            if isinstance(item, _Result):
                yield item.value
                item = next(plan)
                continue
            try:
                response = client._invoke(item)
            except StatehouseError as error:
                item = plan.throw(error)
            else:
                item = plan.send(response)
    except StopIteration:
        return


async def _run_listing_async(
    client: AsyncStatehouse, plan: Generator[Any, Any, None]
) -> AsyncIterator[CheckpointTuple]:
    try:
        item = next(plan)
        while True:
            if isinstance(item, _Result):
                yield item.value
                item = next(plan)
                continue
            try:
                response = await client._invoke(item)
            except StatehouseError as error:
                item = plan.throw(error)
            else:
                item = plan.send(response)
    except StopIteration:
        return


# ---- the savers --------------------------------------------------------------------------------------------------


class StatehouseSaver(_SaverCore):
    """A LangGraph checkpointer on a synchronous :class:`~statehouse.Statehouse` client (thread-safe: one saver can
    serve many threads).

    Its async methods run the sync ones on a worker thread (``asyncio.to_thread``), so a graph driven with
    ``ainvoke`` works too; :class:`AsyncStatehouseSaver` does the same without threads.

    Args:
        client: the connection to the daemon (the saver does not close it).
        namespace: the Statehouse namespace holding the threads (default ``langgraph``).
        serde: LangGraph's serializer (default: its JsonPlusSerializer).
    """

    def __init__(
        self,
        client: Statehouse,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        serde: Optional[SerializerProtocol] = None,
    ) -> None:
        super().__init__(namespace=namespace, serde=serde)
        self.client = client

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return self.client._run(self._get_tuple_plan(config))

    def list(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> Iterator[CheckpointTuple]:
        return _run_listing_sync(self.client, self._list_plan(config, filter, before, limit))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.client._run(self._put_plan(config, checkpoint, metadata, new_versions))

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.client._run(self._put_writes_plan(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self.client._run(self._delete_thread_plan(str(thread_id)))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self.client._run(self._delete_for_runs_plan(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self.client._run(self._copy_thread_plan(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self.client._run(self._prune_plan(thread_ids, strategy))

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[CheckpointTuple]:
        items = await asyncio.to_thread(lambda: list(self.list(config, filter=filter, before=before, limit=limit)))
        for item in items:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)


class AsyncStatehouseSaver(_SaverCore):
    """A LangGraph checkpointer on an asyncio :class:`~statehouse.AsyncStatehouse` client.

    Its sync methods may be called from threads other than the event loop's (LangGraph does so for ``invoke`` on a
    graph compiled with an async saver): they run on the loop the saver was created in and wait for the result.

    Args:
        client: the connection to the daemon (the saver does not close it).
        namespace: the Statehouse namespace holding the threads (default ``langgraph``).
        serde: LangGraph's serializer (default: its JsonPlusSerializer).
    """

    def __init__(
        self,
        client: AsyncStatehouse,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        serde: Optional[SerializerProtocol] = None,
    ) -> None:
        super().__init__(namespace=namespace, serde=serde)
        self.client = client
        try:
            self.loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return await self.client._run(self._get_tuple_plan(config))

    async def alist(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[CheckpointTuple]:
        async for item in _run_listing_async(self.client, self._list_plan(config, filter, before, limit)):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await self.client._run(self._put_plan(config, checkpoint, metadata, new_versions))

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        await self.client._run(self._put_writes_plan(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        await self.client._run(self._delete_thread_plan(str(thread_id)))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self.client._run(self._delete_for_runs_plan(run_ids))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self.client._run(self._copy_thread_plan(source_thread_id, target_thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await self.client._run(self._prune_plan(thread_ids, strategy))

    # The sync interface, for code that calls it from another thread than the loop's.

    def _on_loop(self, coroutine: Any) -> Any:
        if self.loop is None:
            coroutine.close()
            raise InvalidArgumentError(
                "create AsyncStatehouseSaver inside a running event loop to use its sync methods"
            )
        try:
            if asyncio.get_running_loop() is self.loop:
                coroutine.close()
                raise InvalidArgumentError(
                    "synchronous calls to AsyncStatehouseSaver from its own event loop would block it; "
                    "use the async methods (ainvoke, astream) or StatehouseSaver"
                )
        except RuntimeError:
            pass
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return self._on_loop(self.aget_tuple(config))

    def list(
        self,
        config: Optional[RunnableConfig],
        *,
        filter: Optional[Dict[str, Any]] = None,
        before: Optional[RunnableConfig] = None,
        limit: Optional[int] = None,
    ) -> Iterator[CheckpointTuple]:
        async def collect() -> List[CheckpointTuple]:
            return [item async for item in self.alist(config, filter=filter, before=before, limit=limit)]

        return iter(self._on_loop(collect()))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._on_loop(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self._on_loop(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._on_loop(self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._on_loop(self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._on_loop(self.acopy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._on_loop(self.aprune(thread_ids, strategy=strategy))
