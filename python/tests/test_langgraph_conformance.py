"""LangGraph's own checkpointer conformance suite (langgraph-checkpoint-conformance, base and extended capabilities)
against both savers and a real daemon.

The sync saver is checked through its async methods, which run its sync ones on a worker thread: every call the
suite makes goes through StatehouseSaver's sync code.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

pytest.importorskip("langgraph.checkpoint.conformance")

from langgraph.checkpoint.conformance import checkpointer_test, validate  # noqa: E402
from langgraph.checkpoint.conformance.report import ProgressCallbacks  # noqa: E402

from statehouse import AsyncStatehouse, Statehouse  # noqa: E402
from statehouse.langgraph import AsyncStatehouseSaver, StatehouseSaver  # noqa: E402

_instances = itertools.count(1)


def _check(report) -> None:
    report.print_report()
    failures = {name: result for name, result in report.results.items() if result.detected and not result.passed}
    assert report.passed_all_base(), failures
    assert report.passed_all(), failures
    # The extended capabilities are all implemented, so all must have been detected and run.
    assert all(result.detected for result in report.results.values()), report.results


def test_async_saver_passes_the_conformance_suite(daemon, namespace: str) -> None:
    @checkpointer_test(name="AsyncStatehouseSaver")
    async def factory():
        # A namespace per instance: listings across threads must see only this instance's checkpoints.
        async with AsyncStatehouse(url=daemon.url) as client:
            yield AsyncStatehouseSaver(client, namespace=f"{namespace}-a{next(_instances)}")

    report = asyncio.run(validate(factory, progress=ProgressCallbacks.verbose()))
    _check(report)


def test_sync_saver_passes_the_conformance_suite(daemon, namespace: str) -> None:
    client = Statehouse(url=daemon.url)

    @checkpointer_test(name="StatehouseSaver")
    async def factory():
        yield StatehouseSaver(client, namespace=f"{namespace}-s{next(_instances)}")

    try:
        report = asyncio.run(validate(factory, progress=ProgressCallbacks.verbose()))
    finally:
        client.close()
    _check(report)
