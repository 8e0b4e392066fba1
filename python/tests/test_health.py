"""gRPC's standard health service on the daemon's port (grpc.health.v1), as Kubernetes probes and grpc_health_probe
use it, checked with grpcio-health-checking's own stubs against a real daemon."""

from __future__ import annotations

import signal
import threading

import grpc
import pytest

health_pb2 = pytest.importorskip("grpc_health.v1.health_pb2")
from grpc_health.v1 import health_pb2_grpc  # noqa: E402

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


def test_check_and_list(daemon) -> None:
    with grpc.insecure_channel(daemon.url) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "statehouse.v2.StatehouseService", "statehouse.v1.StatehouseService"):
            assert stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status == SERVING
        with pytest.raises(grpc.RpcError) as unknown:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        listed = stub.List(health_pb2.HealthListRequest(), timeout=10)
        assert {name: status.status for name, status in listed.statuses.items()} == {
            "": SERVING,
            "statehouse.v2.StatehouseService": SERVING,
            "statehouse.v1.StatehouseService": SERVING,
        }


def test_watch_sees_not_serving_when_a_shutdown_begins(make_daemon) -> None:
    daemon = make_daemon()
    with grpc.insecure_channel(daemon.url) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        unknown = stub.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=30)
        assert next(unknown).status == SERVICE_UNKNOWN
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=30)
        assert next(watch).status == SERVING
        seen = []
        reader = threading.Thread(target=lambda: seen.extend(update.status for update in watch))
        reader.start()
        daemon.process.send_signal(signal.SIGTERM)
        reader.join(timeout=30)
        assert not reader.is_alive()
        assert seen == [NOT_SERVING]  # and the stream ended, so the shutdown was not held up
        assert daemon.process.wait(timeout=30) == 0
