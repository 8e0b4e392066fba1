"""The asyncio client against a real daemon: every public method, pipelining over the session, and errors."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import pytest

from statehouse import (
    AsyncStatehouse,
    AsyncTransaction,
    Condition,
    ConflictError,
    Delete,
    InvalidArgumentError,
    Put,
    TransactionError,
    TransactionExpiredError,
    TransactionNotFoundError,
    UnavailableError,
    exceptions,
)


def run(daemon, namespace: str, body: Callable[[AsyncStatehouse], Awaitable[Any]], **options: Any) -> Any:
    async def main() -> Any:
        async with AsyncStatehouse(url=daemon.url, namespace=namespace, **options) as client:
            return await body(client)

    return asyncio.run(main())


@pytest.mark.parametrize("pipelined", [True, False])
def test_transactions_and_reads(daemon, namespace: str, pipelined: bool) -> None:
    async def body(client: AsyncStatehouse) -> None:
        assert await client.health() == "ok"
        assert (await client.version())[0]
        async with await client.begin_transaction() as tx:
            assert isinstance(tx, AsyncTransaction)
            tx.write("a", "memory", {"n": 2**100})
            tx.write("a", "plan", ["x"])
            assert (await tx.get("a", "memory")).value == {"n": 2**100}
        assert tx.result is not None and tx.result.commit_ts == 1

        tx = await client.begin_transaction(timeout_ms=5_000)
        assert (await tx.get("a", "plan")).value == ["x"]
        tx.write("a", "plan", ["x", "y"])
        tx.delete("a", "memory")
        assert await tx.commit() == 2
        with pytest.raises(TransactionError, match="already committed"):
            await tx.commit()

        state = await client.get_state("a", "plan")
        assert (state.value, state.version, state.commit_ts, state.exists) == (["x", "y"], 2, 2, True)
        assert (await client.get_state("a", "memory")).exists is False
        assert (await client.get_state("a", "plan", at=1)).value == ["x"]
        assert (await client.get_state("a", "plan", as_of=tx.result.committed_at)).value == ["x", "y"]
        assert (await client.get_state_at_version("a", "memory", 1)).value == {"n": 2**100}
        assert [item.value for item in await client.get_many([("a", "plan"), ("a", "memory")])] == [["x", "y"], None]
        assert await client.list_keys("a") == ["plan"]
        assert await client.list_keys("a", include_deleted=True) == ["memory", "plan"]
        assert [item.key for item in await client.scan_prefix("a", "p")] == ["plan"]
        assert [item.version for item in await client.history("a", "memory")] == [2, 1]
        assert await client.list_agents() == ["a"]
        assert namespace in [head.namespace for head in await client.list_namespaces()]
        assert (await client.head()).commit_ts == 2
        assert [event.commit_ts async for event in client.replay("a", start_ts=1, end_ts=2)] == [1, 2]
        report = await client.verify()
        assert report.ok and report.events_checked == 2

        aborted = await client.begin_transaction()
        aborted.write("a", "plan", "no")
        await aborted.abort()
        await aborted.abort()
        with pytest.raises(TransactionError, match="aborted"):
            await aborted.commit()
        with pytest.raises(RuntimeError):
            async with await client.begin_transaction() as failing:
                failing.write("a", "plan", "no")
                raise RuntimeError("crash")
        assert (await client.get_state("a", "plan")).value == ["x", "y"]

    run(daemon, namespace, body, pipelined=pipelined)


def test_apply_conditions_and_errors(daemon, namespace: str) -> None:
    async def body(client: AsyncStatehouse) -> None:
        first = await client.apply(
            [Put("a", "x", 1), Delete("a", "y")], idempotency_key="k-1", metadata={"actor": "me"}
        )
        assert (
            await client.apply([Put("a", "x", 1), Delete("a", "y")], idempotency_key="k-1", metadata={"actor": "me"})
        ).commit_ts == first.commit_ts
        with pytest.raises(ConflictError):
            await client.apply([Put("a", "x", 2)], conditions=[Condition("a", "x", must_not_exist=True)])
        with pytest.raises(InvalidArgumentError):
            await client.apply([Put("", "x", 2)])
        with pytest.raises(InvalidArgumentError):
            await client.get_state_at_version("a", "x", 0)
        with pytest.raises(TransactionNotFoundError):
            await AsyncTransaction(client, "unknown").commit()
        expiring = await client.begin_transaction(timeout_ms=100)
        expiring.write("a", "x", 3)
        await asyncio.sleep(0.5)
        with pytest.raises(TransactionExpiredError):
            await expiring.commit()
        with pytest.raises(ConflictError):
            async with await client.begin_transaction() as tx:
                tx.write("a", "x", 9, expected_version=3)
        assert (await client.get_state("a", "x")).value == 1

    run(daemon, namespace, body)


def test_a_conflict_over_the_session_names_its_key_and_reason(daemon, namespace: str) -> None:
    """The daemon's reason and a conflict's facts reach the caller through the session stream as they do through
    the trailers of a unary call (SessionError.reason and .details)."""

    async def body(client: AsyncStatehouse) -> None:
        await client.apply([Put("a", "x", 1)])
        with pytest.raises(ConflictError) as raised:
            async with client.begin_transaction() as tx:
                tx.write("a", "x", 2, expected_version=3)
        conflict = raised.value
        assert (conflict.agent_id, conflict.key) == ("a", "x")
        assert (conflict.expected_version, conflict.actual_version) == (3, 1)
        assert (conflict.code, conflict.reason) == ("ABORTED", "conflict")
        with pytest.raises(TransactionNotFoundError) as unknown:
            await AsyncTransaction(client, "unknown").commit()
        assert unknown.value.reason == "transaction_not_found"

    run(daemon, namespace, body, pipelined=True)


def test_concurrent_calls_are_pipelined_and_all_commit(daemon, namespace: str) -> None:
    async def one(client: AsyncStatehouse, index: int) -> int:
        tx = await client.begin_transaction()
        tx.write(f"agent-{index % 8}", f"k{index}", index)
        return await tx.commit()

    async def body(client: AsyncStatehouse) -> None:
        timestamps = await asyncio.gather(*(one(client, index) for index in range(200)))
        assert sorted(timestamps) == list(range(1, 201))
        reads = await asyncio.gather(*(client.get_state(f"agent-{i % 8}", f"k{i}") for i in range(200)))
        assert [item.value for item in reads] == list(range(200))

    run(daemon, namespace, body)


def test_concurrent_read_modify_write_loses_no_update(daemon, namespace: str) -> None:
    async def increment(client: AsyncStatehouse) -> None:
        while True:
            tx = await client.begin_transaction()
            current = (await tx.get("a", "counter")).value
            tx.write("a", "counter", current + 1)
            try:
                await tx.commit()
                return
            except ConflictError:
                continue

    async def body(client: AsyncStatehouse) -> None:
        await client.apply([Put("a", "counter", 0)])
        await asyncio.gather(*(increment(client) for _ in range(30)))
        assert (await client.get_state("a", "counter")).value == 30

    run(daemon, namespace, body)


def test_a_commit_whose_reply_was_lost_is_retried_and_applied_once(daemon, namespace: str) -> None:
    async def body(client: AsyncStatehouse) -> None:
        original = client._once
        lost = []

        async def lose_first_commit_reply(call, wait_for_ready, timeout):
            response = await original(call, wait_for_ready, timeout)
            if call.method == "Commit" and not lost:
                lost.append(call)
                raise UnavailableError("simulated lost reply", code="UNAVAILABLE")
            return response

        client._once = lose_first_commit_reply
        tx = await client.begin_transaction()
        tx.write("a", "once", 1)
        commit_ts = await tx.commit()
        assert lost and (await client.head()).commit_ts == commit_ts
        assert (await client.get_state("a", "once")).version == 1

    run(daemon, namespace, body)


def test_a_watch_gives_up_once_the_daemon_stays_away_for_its_reconnect_timeout(make_daemon) -> None:
    daemon = make_daemon()

    async def body(client: AsyncStatehouse) -> None:
        await client.apply([Put("a", "k", 0)])
        async with client.watch(from_ts=1, reconnect_timeout=1) as stream:
            assert (await stream.__anext__()).commit_ts == 1
            await asyncio.get_running_loop().run_in_executor(None, daemon.stop)
            with pytest.raises(exceptions.UnavailableError):
                # The bound is the test's only; the watch gives up after 1 s of failing.
                await asyncio.wait_for(stream.__anext__(), timeout=60)

    async def main() -> None:
        async with AsyncStatehouse(url=daemon.url) as client:
            await body(client)

    asyncio.run(main())


def test_watch_hands_over_without_a_gap_and_resumes_after_restart(make_daemon) -> None:
    daemon = make_daemon()

    async def body(client: AsyncStatehouse) -> None:
        for index in range(20):
            await client.apply([Put("a", "k", index)])
        received = []

        async def follow() -> None:
            async with client.watch(from_ts=1) as stream:
                async for event in stream:
                    received.append(event.commit_ts)
                    if len(received) == 40:
                        return

        follower = asyncio.ensure_future(follow())
        for index in range(10):
            await client.apply([Put("a", "k", 20 + index)])
        await asyncio.get_running_loop().run_in_executor(None, daemon.restart)
        for index in range(10):
            await client.apply([Put("a", "k", 30 + index)])
        await asyncio.wait_for(follower, 60)
        assert received == list(range(1, 41))

        async with client.watch(agent_id="b") as live:
            await client.apply([Put("a", "ignored", 1)])
            await client.apply([Put("b", "seen", 1)])
            event = await live.__anext__()
        assert event.commit_ts == 42 and event.operations[0].key == "seen"

    run(daemon, "default", body)


def test_unreachable_daemon() -> None:
    from daemon import free_port

    address = f"127.0.0.1:{free_port()}"

    async def main() -> None:
        async with AsyncStatehouse(url=address, timeout=5) as client:
            with pytest.raises(exceptions.ConnectionError) as raised:
                await client.health()
            assert address in str(raised.value)
            with pytest.raises(exceptions.ConnectionError):
                await client.get_state("a", "k")

    asyncio.run(main())
