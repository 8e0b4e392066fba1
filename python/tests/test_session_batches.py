"""Session responses in batches (SessionRequest.batch_responses): a client that asks gets its responses, possibly
several to a message, each exactly once and matched by request_id; a client that does not ask never sees a carrier."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import grpc

from statehouse import Put, Statehouse
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc


async def _exchange(url: str, namespace: str, ask: bool, rounds: int = 20) -> List[pb.SessionResponse]:
    """Sends `rounds` messages of 16 gets each, then collects every message the daemon sends back."""
    messages: List[pb.SessionResponse] = []
    async with grpc.aio.insecure_channel(url) as channel:
        stub = statehouse_pb2_grpc.StatehouseServiceStub(channel)
        done = asyncio.Event()

        async def requests() -> Any:
            for round_ in range(rounds):
                items = [
                    pb.SessionRequest(
                        request_id=round_ * 16 + n + 1,
                        get=pb.GetStateRequest(namespace=namespace, agent_id="a", key=f"k{n % 4}"),
                    )
                    for n in range(16)
                ]
                yield pb.SessionRequest(batch=items, batch_responses=ask)
            await done.wait()

        call = stub.Session(requests())
        answered = 0
        async for message in call:
            messages.append(message)
            answered += len(message.batch) if message.batch else 1
            if answered == rounds * 16:
                done.set()
                break
        call.cancel()
    return messages


def test_batched_session_responses_arrive_once_each_and_only_when_asked(daemon: Any, namespace: str) -> None:
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        for n in range(4):
            client.apply([Put("a", f"k{n}", {"n": n})])
    for ask in (True, False):
        messages = asyncio.run(_exchange(daemon.url, namespace, ask))
        responses: Dict[int, pb.SessionResponse] = {}
        for message in messages:
            if message.batch:
                assert ask, "a carrier sent to a client that did not ask for one"
                assert message.request_id == 0 and message.WhichOneof("response") is None
            for response in message.batch if message.batch else (message,):
                assert response.request_id not in responses, "a response delivered twice"
                responses[response.request_id] = response
        assert sorted(responses) == list(range(1, 20 * 16 + 1))
        for request_id, response in responses.items():
            n = (request_id - 1) % 16 % 4
            assert response.get.record.value == f'{{"n":{n}}}'.encode()
