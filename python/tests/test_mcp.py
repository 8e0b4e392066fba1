"""The MCP server, driven by the official Python `mcp` client against a real daemon: over stdio (`statehousectl mcp`,
as a desktop client launches it) and over Streamable HTTP (`statehoused --mcp-listen`)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from statehouse import Put, Statehouse  # noqa: E402

TOOLS = [
    "remember",
    "recall",
    "forget",
    "list_keys",
    "list_agents",
    "history",
    "replay",
    "verify",
    "snapshot",
    "restore",
    "diff",
    "search",
]


def statehousectl() -> str:
    binary = Path(os.environ.get("STATEHOUSED", "")).with_name("statehousectl")
    if binary.is_file():
        return str(binary)
    for configuration in ("debug", "release"):
        candidate = Path(__file__).resolve().parents[2] / ".build" / configuration / "statehousectl"
        if candidate.is_file():
            return str(candidate)
    raise RuntimeError("statehousectl not found: run `swift build`")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def call(session: ClientSession, tool: str, **arguments: Any) -> Dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    parsed = json.loads(result.content[0].text)
    assert result.structured_content == parsed
    return parsed


async def error(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text


async def every_tool(session: ClientSession) -> None:
    """Initialize, list the tools, call each one, read both resources, and see tool errors."""
    listed = await session.list_tools()
    assert [tool.name for tool in listed.tools] == TOOLS
    for tool in listed.tools:
        assert tool.description and tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
    remember = next(tool for tool in listed.tools if tool.name == "remember")
    assert remember.input_schema["required"] == ["agent_id", "key", "value"]
    assert "namespace" not in remember.input_schema["properties"]

    first = await call(session, "remember", agent_id="scout", key="notes/paris", value={"weather": "rain"})
    assert (first["version"], first["commit_ts"]) == (1, 1)
    second = await call(
        session,
        "remember",
        agent_id="scout",
        key="notes/paris",
        value={"weather": "sun"},
        expected_version=1,
        reason="new forecast",
    )
    assert second["version"] == 2
    await call(session, "remember", agent_id="scout", key="plan", value=["fly", "walk"])
    recalled = await call(session, "recall", agent_id="scout", key="notes/paris")
    assert (recalled["exists"], recalled["value"], recalled["version"]) == (True, {"weather": "sun"}, 2)
    assert (await call(session, "recall", agent_id="scout", key="notes/paris", version=1))["value"] == {
        "weather": "rain"
    }
    assert (await call(session, "recall", agent_id="scout", key="notes/paris", commit_ts=1))["value"] == {
        "weather": "rain"
    }
    missing = await call(session, "recall", agent_id="scout", key="nothing")
    assert (missing["exists"], missing["value"]) == (False, None)

    snapshot = await call(session, "snapshot", name="before-forget", agent_id="scout")
    assert snapshot["commit_ts"] == 3
    forgot = await call(session, "forget", agent_id="scout", key="plan", reason="done")
    assert forgot["version"] == 2
    listed_keys = await call(session, "list_keys", agent_id="scout")
    assert [entry["key"] for entry in listed_keys["keys"]] == ["notes/paris"]
    assert (await call(session, "list_agents"))["agents"] == ["scout"]
    history = await call(session, "history", agent_id="scout", key="notes/paris")
    assert [(v["version"], v["value"], v["reason"]) for v in history["versions"]] == [
        (2, {"weather": "sun"}, "new forecast"),
        (1, {"weather": "rain"}, None),
    ]
    replay = await call(session, "replay", agent_id="scout", from_commit_ts=2, limit=2)
    assert [event["commit_ts"] for event in replay["events"]] == [2, 3] and replay["next_cursor"]
    assert replay["events"][0]["actor"] == "mcp"
    diff = await call(session, "diff", agent_id="scout", **{"from": "before-forget"})
    assert [(d["key"], d["change"]) for d in diff["differences"]] == [("plan", "removed")]
    restored = await call(session, "restore", name="before-forget")
    assert (restored["puts"], restored["deletes"]) == (1, 0)
    assert (await call(session, "recall", agent_id="scout", key="plan"))["value"] == ["fly", "walk"]
    verified = await call(session, "verify")
    assert verified["ok"] is True and verified["events_checked"] >= 6
    hits = await call(session, "search", query="forecast")
    assert hits["hits"] and hits["hits"][0]["commit_ts"] == 2

    resources = await session.list_resources()
    assert [resource.uri for resource in resources.resources] == [
        "statehouse://agents/scout/state",
        "statehouse://agents/scout/timeline",
    ]
    templates = await session.list_resource_templates()
    assert [t.uri_template for t in templates.resource_templates] == [
        "statehouse://agents/{agent_id}/state",
        "statehouse://agents/{agent_id}/timeline",
    ]
    state = json.loads((await session.read_resource("statehouse://agents/scout/state")).contents[0].text)
    assert state["keys"] == {
        "notes/paris": {"value": {"weather": "sun"}, "version": 2},
        "plan": {"value": ["fly", "walk"], "version": 3},
    }
    timeline = json.loads((await session.read_resource("statehouse://agents/scout/timeline")).contents[0].text)
    assert [event["commit_ts"] for event in timeline["events"]][:2] == [timeline["head_commit_ts"], 5]

    # Tool errors carry the daemon's message (or the argument check's); nothing changes.
    conflict = await error(session, "remember", agent_id="scout", key="plan", value=1, expected_version=1)
    assert "conflict" in conflict and "found version 3" in conflict
    assert "'value' is required" in await error(session, "remember", agent_id="scout", key="plan")
    assert "unknown argument 'agnet_id'" in await error(session, "recall", agnet_id="scout", key="plan")
    assert "at most one" in await error(session, "recall", agent_id="scout", key="plan", version=1, commit_ts=1)
    assert "RFC 3339" in await error(session, "recall", agent_id="scout", key="plan", at_time="yesterday")
    assert "unknown tool" in await error(session, "teleport")
    assert "not_found" in await error(session, "restore", name="no-such-snapshot")
    assert "invalid_argument" in await error(session, "search", query='"unbalanced')
    assert "did not allow" in await error(session, "recall", agent_id="scout", key="plan", namespace="elsewhere")
    assert (await call(session, "recall", agent_id="scout", key="plan"))["version"] == 3


def test_stdio_server_serves_every_tool_and_resource(daemon, namespace: str) -> None:
    async def run() -> None:
        parameters = StdioServerParameters(command=statehousectl(), args=["--addr", daemon.url, "-n", namespace, "mcp"])
        async with stdio_client(parameters) as (read, write):
            async with ClientSession(read, write) as session:
                initialized = await session.initialize()
                assert initialized.server_info.name == "statehouse"
                await every_tool(session)

    asyncio.run(run())
    # What the model did is in the namespace's log, as any client's commits.
    with Statehouse(url=daemon.url, namespace=namespace) as client:
        assert client.get_state("scout", "notes/paris").value == {"weather": "sun"}
        assert client.verify().ok


def test_stdio_server_may_let_calls_name_a_namespace(daemon, namespace: str) -> None:
    async def run() -> None:
        parameters = StdioServerParameters(
            command=statehousectl(),
            args=["--addr", daemon.url, "-n", namespace, "mcp", "--allow-namespace-argument"],
        )
        async with stdio_client(parameters) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                assert all("namespace" in tool.input_schema["properties"] for tool in tools.tools)
                await call(session, "remember", agent_id="a", key="k", value=1, namespace=f"{namespace}-other")

    asyncio.run(run())
    with Statehouse(url=daemon.url, namespace=f"{namespace}-other") as client:
        assert client.get_state("a", "k").value == 1


def test_http_endpoint_of_the_daemon(make_daemon) -> None:
    port = free_port()
    daemon = make_daemon("--mcp-listen", f"127.0.0.1:{port}", "--mcp-namespace", "assistant")

    async def run() -> None:
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                initialized = await session.initialize()
                assert initialized.server_info.name == "statehouse"
                await every_tool(session)

    asyncio.run(run())
    with Statehouse(url=daemon.url, namespace="assistant") as client:
        assert client.get_state("scout", "plan").value == ["fly", "walk"]
        client.apply([Put("scout", "from-grpc", True)])

    async def second_session() -> None:
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                assert (await call(session, "recall", agent_id="scout", key="from-grpc"))["value"] is True

    asyncio.run(second_session())


def test_http_endpoint_refuses_what_is_not_mcp(make_daemon) -> None:
    import urllib.error
    import urllib.request

    port = free_port()
    make_daemon("--mcp-listen", f"127.0.0.1:{port}")
    with pytest.raises(urllib.error.HTTPError) as wrong_path:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=10)
    assert wrong_path.value.code == 404
    no_session = urllib.request.Request(
        f"http://127.0.0.1:{port}/mcp",
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(no_session, timeout=10)
    assert missing.value.code == 400


def test_mcp_listen_must_be_loopback(tmp_path: Path) -> None:
    from daemon import statehoused_binary

    result = subprocess.run(
        [str(statehoused_binary()), "--memory", "--mcp-listen", "0.0.0.0:4000"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "mcp-listen must be a loopback address" in result.stderr
