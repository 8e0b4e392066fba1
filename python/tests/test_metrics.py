"""/metrics: Prometheus text that Prometheus' own parser reads, with values that move after traffic."""

from __future__ import annotations

from typing import Dict, Tuple

import pytest
from prometheus_client.parser import text_string_to_metric_families

from daemon import Daemon
from http_client import HTTP, key_path
from statehouse import InvalidArgumentError, Put, Statehouse

Sample = Tuple[str, Tuple[Tuple[str, str], ...]]


def scrape(http: HTTP) -> Dict[Sample, float]:
    reply = http.get("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Dict[Sample, float] = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def fresh(make_daemon) -> Tuple[Daemon, HTTP]:
    daemon = make_daemon()
    http = HTTP(daemon.http_url)
    http.wait_ready()
    return daemon, http


def test_metrics_parse_and_move_after_traffic(fresh: Tuple[Daemon, HTTP]) -> None:
    daemon, http = fresh
    before = scrape(http)
    with Statehouse(url=daemon.url, namespace="m") as client:
        client.apply([Put("a", "k", 1)])
        client.apply([Put("a", "k", 2), Put("a", "j", 3)])
        assert client.get_state("a", "k").value == 2
        list(client.replay("a"))
    assert http.request("PUT", key_path("m", "a", "h"), b"4").status == 201
    assert http.request("PUT", key_path("m", "a", "h"), b"5", headers={"If-Match": '"9"'}).status == 412
    after = scrape(http)

    assert value(after, "statehouse_commits_total") - value(before, "statehouse_commits_total") == 3
    assert value(after, "statehouse_commit_errors_total", reason="conflict") == 1
    assert value(after, "statehouse_commit_duration_seconds_count") == 4
    assert value(after, "statehouse_commit_batch_size_count") >= 1
    assert value(after, "statehouse_reads_total", kind="get") >= 1
    assert value(after, "statehouse_reads_total", kind="log") >= 1
    assert value(after, "statehouse_replay_events_total") >= 2  # agent a's two commits
    assert value(after, "statehouse_rpc_duration_seconds_count", method="Apply") == 2
    assert value(after, "statehouse_rpc_duration_seconds_count", method="GetState") == 1
    route = "/v1/namespaces/{namespace}/agents/{agent}/keys/{key}"
    assert value(after, "statehouse_http_requests_total", route=route, status="201") == 1
    assert value(after, "statehouse_http_requests_total", route=route, status="412") == 1
    assert value(after, "statehouse_database_bytes") > 0
    assert ("statehouse_open_transactions", ()) in after
    assert ("statehouse_watchers", ()) in after
    assert ("statehouse_sessions", ()) in after


def test_rpc_errors_are_counted_by_code(fresh: Tuple[Daemon, HTTP]) -> None:
    daemon, http = fresh
    with Statehouse(url=daemon.url, namespace="m") as client:
        with pytest.raises(InvalidArgumentError):
            client.get_state("", "k")
    samples = scrape(http)
    assert value(samples, "statehouse_rpc_errors_total", method="GetState", code="INVALID_ARGUMENT") == 1


def test_rpc_metrics_can_be_turned_off(make_daemon) -> None:
    daemon = make_daemon("--rpc-metrics", "false")
    http = HTTP(daemon.http_url)
    http.wait_ready()
    with Statehouse(url=daemon.url, namespace="m") as client:
        client.apply([Put("a", "k", 1)])
    samples = scrape(http)
    assert value(samples, "statehouse_commits_total") == 1
    assert not any(name.startswith("statehouse_rpc_") for name, _ in samples)
