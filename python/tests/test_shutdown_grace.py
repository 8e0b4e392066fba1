"""The shutdown grace period: calls still running when it ends are cancelled, and the daemon exits cleanly."""

from __future__ import annotations

import signal
import subprocess
import threading
from typing import Iterator

import grpc

from statehouse._proto import statehouse_pb2 as pb


def test_a_call_that_never_ends_is_cancelled_after_the_grace_period(make_daemon) -> None:
    daemon = make_daemon("--shutdown-grace-period", "1")
    release = threading.Event()

    def request_that_never_ends() -> Iterator[bytes]:
        # A unary method called as a client stream that sends its message but never half-closes: the daemon's
        # handler waits for the end of the request, and a graceful shutdown would wait for the handler.
        yield pb.GetStateRequest(namespace="grace", agent_id="a", key="k").SerializeToString()
        release.wait(60)

    channel = grpc.insecure_channel(daemon.url)
    try:
        call = channel.stream_unary(
            "/statehouse.v2.StatehouseService/GetState", request_serializer=None, response_deserializer=None
        )
        pending = call.future(request_that_never_ends())
        process = daemon.process
        assert process is not None
        # A call made after it on the same connection is answered only after the daemon read the frames before it.
        health = channel.unary_unary(
            "/statehouse.v2.StatehouseService/Health", request_serializer=None, response_deserializer=None
        )
        health(pb.HealthRequest().SerializeToString(), timeout=10)
        assert not pending.done()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"statehoused kept waiting for the call: {daemon.log()}") from None
        daemon.process = None
        assert code == 0, daemon.log()
        assert "Calls still running after the shutdown grace period; cancelling them" in daemon.log()
        assert pending.exception(timeout=10) is not None, "the stuck call ended with an error, not a reply"
    finally:
        release.set()
        channel.close()
