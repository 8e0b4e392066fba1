"""Real LangGraph graphs on the Statehouse savers, against a real daemon: multi-turn memory, human in the loop,
subgraphs, time travel, and a process killed between two super-steps that resumes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Annotated, List, TypedDict

import pytest

pytest.importorskip("langgraph.graph")

from langgraph.graph import END, START, MessagesState, StateGraph  # noqa: E402
from langgraph.types import Command, interrupt  # noqa: E402

from statehouse import AsyncStatehouse, Statehouse, StatehouseError  # noqa: E402
from statehouse.langgraph import AsyncStatehouseSaver, StatehouseSaver  # noqa: E402


def _chat_graph():
    def reply(state: MessagesState) -> dict:
        said = state["messages"][-1].content
        return {"messages": [("ai", f"you said {said!r}; {len(state['messages'])} messages so far")]}

    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder


def test_multi_turn_memory_survives_a_new_client(daemon, namespace: str) -> None:
    config = {"configurable": {"thread_id": "chat-1"}}
    with Statehouse(url=daemon.url) as client:
        graph = _chat_graph().compile(checkpointer=StatehouseSaver(client, namespace=namespace))
        graph.invoke({"messages": [("user", "hello")]}, config)
        graph.invoke({"messages": [("user", "again")]}, config)
    with Statehouse(url=daemon.url) as client:
        graph = _chat_graph().compile(checkpointer=StatehouseSaver(client, namespace=namespace))
        result = graph.invoke({"messages": [("user", "third")]}, config)
        assert [message.content for message in result["messages"]] == [
            "hello",
            "you said 'hello'; 1 messages so far",
            "again",
            "you said 'again'; 3 messages so far",
            "third",
            "you said 'third'; 5 messages so far",
        ]
        # The thread is an agent of the namespace; each checkpoint is one commit naming it.
        assert client.list_agents(namespace) == ["chat-1"]
        events = list(client.replay("chat-1", namespace=namespace))
        assert events and all(event.metadata.actor == "langgraph" for event in events)
        assert all(event.metadata.tags["langgraph.thread_id"] == "chat-1" for event in events)
        assert client.verify(namespace).ok
    # statehousectl shows the thread's timeline: one commit per checkpoint, naming it, and verifies the chain.
    cli = [_statehousectl(), "--addr", daemon.url, "-n", namespace, "--color", "never"]
    replay = subprocess.run([*cli, "replay", "chat-1", "--json"], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    lines = [json.loads(line) for line in replay.stdout.splitlines()]
    assert len(lines) == len(events)
    puts = [line for line in lines if line["metadata"]["reason"].startswith("checkpoint ")]
    assert puts and all(line["metadata"]["actor"] == "langgraph" for line in lines)
    record = next(
        op["key"] for op in puts[-1]["operations"] if "/w/" not in op["key"] and op["key"].startswith("checkpoint/")
    )
    history = subprocess.run([*cli, "history", "chat-1", record, "--reasons"], capture_output=True, text=True)
    assert history.returncode == 0 and "checkpoint " in history.stdout, history.stderr
    verify = subprocess.run([*cli, "verify"], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _statehousectl() -> str:
    return str(
        Path(os.environ.get("STATEHOUSED") or REPO / ".build" / "debug" / "statehoused").with_name("statehousectl")
    )


REPO = Path(__file__).resolve().parents[2]


def test_async_saver_runs_a_graph_with_ainvoke(daemon, namespace: str) -> None:
    async def run() -> List[str]:
        async with AsyncStatehouse(url=daemon.url) as client:
            graph = _chat_graph().compile(checkpointer=AsyncStatehouseSaver(client, namespace=namespace))
            config = {"configurable": {"thread_id": "async-chat"}}
            await graph.ainvoke({"messages": [("user", "one")]}, config)
            result = await graph.ainvoke({"messages": [("user", "two")]}, config)
            history = [snapshot async for snapshot in graph.aget_state_history(config)]
            assert len(history) >= 6  # input + loop checkpoints of two runs
            return [message.content for message in result["messages"]]

    assert asyncio.run(run())[-1] == "you said 'two'; 3 messages so far"


class Approval(TypedDict, total=False):
    request: str
    decision: str
    done: str


def _approval_graph():
    def ask(state: Approval) -> dict:
        decision = interrupt({"question": f"approve {state['request']}?"})
        return {"decision": decision}

    def act(state: Approval) -> dict:
        return {"done": f"{state['request']}: {state['decision']}"}

    builder = StateGraph(Approval)
    builder.add_node("ask", ask)
    builder.add_node("act", act)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "act")
    builder.add_edge("act", END)
    return builder


def test_interrupt_and_resume_from_another_client(daemon, namespace: str) -> None:
    config = {"configurable": {"thread_id": "approval-1"}}
    with Statehouse(url=daemon.url) as client:
        graph = _approval_graph().compile(checkpointer=StatehouseSaver(client, namespace=namespace))
        first = graph.invoke({"request": "refund #42"}, config)
        assert first["__interrupt__"][0].value == {"question": "approve refund #42?"}
        assert graph.get_state(config).next == ("ask",)
    with Statehouse(url=daemon.url) as client:
        graph = _approval_graph().compile(checkpointer=StatehouseSaver(client, namespace=namespace))
        resumed = graph.invoke(Command(resume="approved"), config)
        assert resumed["done"] == "refund #42: approved"
        assert graph.get_state(config).next == ()


class Outer(TypedDict, total=False):
    topic: str
    notes: Annotated[List[str], lambda left, right: left + right]


def _graph_with_subgraph():
    def research(state: Outer) -> dict:
        answer = interrupt("which source?")
        return {"notes": [f"{state['topic']} from {answer}"]}

    inner = StateGraph(Outer)
    inner.add_node("research", research)
    inner.add_edge(START, "research")
    inner.add_edge("research", END)

    def summarize(state: Outer) -> dict:
        return {"notes": [f"summary of {len(state['notes'])} note(s)"]}

    outer = StateGraph(Outer)
    outer.add_node("inner", inner.compile())
    outer.add_node("summarize", summarize)
    outer.add_edge(START, "inner")
    outer.add_edge("inner", "summarize")
    outer.add_edge("summarize", END)
    return outer


def test_subgraph_checkpoints_live_in_their_own_namespace(daemon, namespace: str) -> None:
    config = {"configurable": {"thread_id": "nested-1"}}
    with Statehouse(url=daemon.url) as client:
        saver = StatehouseSaver(client, namespace=namespace)
        graph = _graph_with_subgraph().compile(checkpointer=saver)
        graph.invoke({"topic": "tides", "notes": []}, config)
        state = graph.get_state(config, subgraphs=True)
        child = state.tasks[0].state
        assert child.next == ("research",)
        child_ns = child.config["configurable"]["checkpoint_ns"]
        assert child_ns.startswith("inner:")
        # The child's checkpoints are listed under its namespace only.
        listed = list(saver.list({"configurable": {"thread_id": "nested-1", "checkpoint_ns": child_ns}}))
        assert listed and all(item.config["configurable"]["checkpoint_ns"] == child_ns for item in listed)
        result = graph.invoke(Command(resume="the almanac"), config)
        assert result["notes"] == ["tides from the almanac", "summary of 1 note(s)"]


class Counter(TypedDict):
    steps: Annotated[List[str], lambda left, right: left + right]


def _three_steps():
    builder = StateGraph(Counter)
    for name in ("a", "b", "c"):
        builder.add_node(name, lambda state, name=name: {"steps": [name]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder


def test_time_travel_replays_and_forks_from_an_earlier_checkpoint(daemon, namespace: str) -> None:
    config = {"configurable": {"thread_id": "travel-1"}}
    with Statehouse(url=daemon.url) as client:
        saver = StatehouseSaver(client, namespace=namespace)
        graph = _three_steps().compile(checkpointer=saver)
        assert graph.invoke({"steps": []}, config)["steps"] == ["a", "b", "c"]
        history = list(graph.get_state_history(config))
        after_a = next(snapshot for snapshot in history if snapshot.values.get("steps") == ["a"])
        assert after_a.next == ("b",)
        # Replay from after "a": b and c run again on that branch.
        assert graph.invoke(None, after_a.config)["steps"] == ["a", "b", "c"]
        # Fork: change the state at that point, then go on from the fork.
        forked = graph.update_state(after_a.config, {"steps": ["edited"]})
        assert graph.invoke(None, forked)["steps"] == ["a", "edited", "b", "c"]
        # The first branch is still there, unchanged.
        first = graph.get_state(history[0].config)
        assert first.values["steps"] == ["a", "b", "c"]
        latest = graph.get_state(config)
        assert latest.values["steps"] == ["a", "edited", "b", "c"]


_KILLED_GRAPH = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from typing import Annotated, List, TypedDict
    from langgraph.graph import END, START, StateGraph
    from statehouse import Statehouse
    from statehouse.langgraph import StatehouseSaver

    url, namespace, journal = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    class State(TypedDict):
        steps: Annotated[List[str], lambda left, right: left + right]

    def first(state):
        with journal.open("a") as out:
            out.write("first\\n")
        return {"steps": ["first"]}

    def second(state):
        if os.environ.get("KILL_IN_SECOND"):
            os.kill(os.getpid(), signal.SIGKILL)
        with journal.open("a") as out:
            out.write("second\\n")
        return {"steps": ["second"]}

    builder = StateGraph(State)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    graph = builder.compile(checkpointer=StatehouseSaver(Statehouse(url=url), namespace=namespace))
    config = {"configurable": {"thread_id": "killed-1"}}
    # "sync": each checkpoint is stored before the next super-step starts (LangGraph's default, "async", stores it
    # while the next step runs, so a kill may lose the last one and that step runs again).
    result = graph.invoke({"steps": []} if sys.argv[4] == "start" else None, config, durability="sync")
    print(",".join(result["steps"]))
    """
)


def test_a_process_killed_between_two_super_steps_resumes(daemon, namespace: str, tmp_path: Path) -> None:
    script = tmp_path / "graph.py"
    script.write_text(_KILLED_GRAPH)
    journal = tmp_path / "journal"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    killed = subprocess.run(
        [sys.executable, str(script), daemon.url, namespace, str(journal), "start"],
        env={**env, "KILL_IN_SECOND": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -9, killed.stderr
    assert journal.read_text() == "first\n"
    resumed = subprocess.run(
        [sys.executable, str(script), daemon.url, namespace, str(journal), "resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == "first,second"
    # The first super-step was checkpointed before the kill and is not run again.
    assert journal.read_text() == "first\nsecond\n"


def test_checkpoints_survive_a_daemon_killed_mid_run(make_daemon) -> None:
    """SIGKILL the daemon while a graph runs: every checkpoint it acknowledged is there after a restart, and the
    graph resumes from the last one."""
    daemon = make_daemon()
    journal: List[str] = []

    class State(TypedDict):
        steps: Annotated[List[str], lambda left, right: left + right]

    def step(name: str):
        def run(state: State) -> dict:
            journal.append(name)
            if name == "b" and journal.count("b") == 1:
                daemon.kill()  # the checkpoint after "a" was acknowledged (durability="sync")
            return {"steps": [name]}

        return run

    builder = StateGraph(State)
    for name in ("a", "b", "c"):
        builder.add_node(name, step(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    config = {"configurable": {"thread_id": "daemon-killed"}}
    with Statehouse(url=daemon.url, timeout=5.0, commit_retry_timeout=1.0) as client:
        graph = builder.compile(checkpointer=StatehouseSaver(client))
        with pytest.raises(StatehouseError):  # the checkpoint after "b" cannot be stored: the daemon is gone
            graph.invoke({"steps": []}, config, durability="sync")
    daemon.start()
    with Statehouse(url=daemon.url) as client:
        graph = builder.compile(checkpointer=StatehouseSaver(client))
        assert graph.get_state(config).next == ("b",)
        assert graph.invoke(None, config, durability="sync")["steps"] == ["a", "b", "c"]
        assert journal == ["a", "b", "b", "c"]  # "a" ran once; "b" again, since its run was lost with the daemon
        assert client.verify("langgraph").ok
