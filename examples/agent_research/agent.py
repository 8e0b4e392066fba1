"""A small research agent that keeps all of its working state in Statehouse.

It stores its task, every step (thought, tool call and result) and its final answer, each step in one atomic
transaction. Killed at any moment, it resumes from the last committed step without redoing finished ones; its whole
run can be replayed from the namespace's event log.

    python agent.py --task "What is 42 * 137?"            # run (or resume) the task
    python agent.py --task "What is 42 * 137?" --crash-after 2   # die (SIGKILL) in the middle of step 3
    python agent.py --task "What is 42 * 137?" --replay   # the step-by-step timeline from the log

Usually started through run.sh, which also starts a daemon when none is reachable.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
from typing import Any, Dict, List, Optional

import mock_llm
from statehouse import Metadata, Statehouse

Step = Dict[str, Any]


def agent_id_for(task: str) -> str:
    """A stable agent id per task, so that running the same task again resumes it."""
    return "research-" + hashlib.sha256(task.encode()).hexdigest()[:12]


def step_key(index: int) -> str:
    return f"steps/{index:04d}"


class ResearchAgent:
    def __init__(self, client: Statehouse, agent_id: str, task: str) -> None:
        self.client = client
        self.agent_id = agent_id
        self.task = task

    def load(self) -> tuple:
        """The stored progress: (steps so far, the version of the progress record, the answer or None)."""
        progress = self.client.get_state(self.agent_id, "progress")
        if not progress.exists:
            return [], 0, None
        stored_task = self.client.get_state(self.agent_id, "task").value
        if stored_task["question"] != self.task:
            raise SystemExit(f"agent {self.agent_id} holds a different task: {stored_task['question']!r}")
        steps = [record.value for record in self.client.scan_prefix(self.agent_id, "steps/")]
        if len(steps) != progress.value["completed_steps"]:
            raise SystemExit(f"inconsistent state: {len(steps)} steps stored, progress says "
                             f"{progress.value['completed_steps']} (transactions should make this impossible)")
        answer = self.client.get_state(self.agent_id, "answer").value
        return steps, progress.version, answer

    def start(self) -> int:
        """Stores the task; fails with ConflictError if another run stored it first."""
        with self.client.begin_transaction() as tx:
            tx.write(self.agent_id, "task", {"question": self.task}, expected_version=0)
            tx.write(self.agent_id, "progress", {"completed_steps": 0, "status": "running"}, expected_version=0)
            tx.commit(metadata=Metadata(actor="agent_research", reason="task received"))
        return 1

    def record(self, step: Step, steps: List[Step], progress_version: int) -> int:
        """Stores one finished step and the new progress in one transaction; returns the progress version."""
        index = len(steps) + 1
        status = "done" if step["kind"] == "answer" else "running"
        with self.client.begin_transaction() as tx:
            tx.write(self.agent_id, step_key(index), step, expected_version=0)
            tx.write(self.agent_id, "progress", {"completed_steps": index, "status": status},
                     expected_version=progress_version)
            if step["kind"] == "answer":
                tx.write(self.agent_id, "answer", {"text": step["answer"], "steps": index})
            reason = f"step {index}: {step['kind']}" + (f" {step['tool']}" if step.get("tool") else "")
            tx.commit(metadata=Metadata(actor="agent_research", reason=reason))
        print(f"  step {index} [{describe(step)}] (commit_ts {tx.result.commit_ts})")
        return progress_version + 1

    def run(self, crash_after: Optional[int]) -> str:
        steps, progress_version, answer = self.load()
        if answer is not None:
            print(f"already answered after {len(steps)} steps")
            return answer["text"]
        if progress_version == 0:
            progress_version = self.start()
            print(f"started agent {self.agent_id}: {self.task}")
        else:
            print(f"resuming agent {self.agent_id} after {len(steps)} finished steps")
        while True:
            step = dict(mock_llm.next_action(self.task, steps))
            step["index"] = len(steps) + 1
            if step["kind"] == "tool":
                step["result"] = mock_llm.run_tool(step["tool"], step["input"])
            if crash_after is not None and len(steps) >= crash_after:
                # The step is computed (its tool ran) but not committed: a real crash at the worst moment.
                print(f"  simulated crash during step {step['index']} (SIGKILL)", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            progress_version = self.record(step, steps, progress_version)
            steps.append(step)
            if step["kind"] == "answer":
                return step["answer"]


def describe(step: Step) -> str:
    if step["kind"] == "tool":
        result = json.dumps(step["result"]) if not isinstance(step["result"], str) else f"{len(step['result'])} chars"
        return f"{step['tool']}({step['input']!r}) -> {result[:80]}"
    if step["kind"] == "answer":
        return f"answer: {step['answer']}"
    return f"thought: {step['thought']}"


def print_timeline(client: Statehouse, agent_id: str) -> None:
    """The run, step by step, from the event log: commit_ts, time, why, and what changed."""
    events = list(client.replay(agent_id))
    if not events:
        print(f"nothing recorded for agent {agent_id}")
        return
    for event in events:
        when = event.committed_at.isoformat(timespec="milliseconds") if event.committed_at else "-"
        reason = event.metadata.reason if event.metadata and event.metadata.reason else ""
        print(f"commit_ts {event.commit_ts:>4}  {when}  {reason}")
        for operation in event.operations:
            value = json.dumps(operation.value, ensure_ascii=False)
            if len(value) > 100:
                value = value[:97] + "..."
            change = "deleted" if operation.deleted else value
            print(f"      {operation.key} v{operation.version}: {change}")
    report = client.verify()
    print(f"hash chain: {'verified' if report.ok else 'BROKEN at ' + str(report.first_bad_commit_ts)} "
          f"({report.events_checked} events)")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", required=True, help="the question to research")
    parser.add_argument("--url", default=os.environ.get("STATEHOUSE_URL", "127.0.0.1:50051"), help="daemon address")
    parser.add_argument("--namespace", default="agent-research")
    parser.add_argument("--agent-id", help="default: derived from the task, so a rerun resumes it")
    parser.add_argument("--crash-after", type=int, metavar="N", help="SIGKILL the agent during step N+1")
    parser.add_argument("--replay", action="store_true", help="print the stored timeline instead of running")
    args = parser.parse_args(argv)

    agent_id = args.agent_id or agent_id_for(args.task)
    with Statehouse(url=args.url, namespace=args.namespace) as client:
        if args.replay:
            print_timeline(client, agent_id)
            return 0
        answer = ResearchAgent(client, agent_id, args.task).run(args.crash_after)
        print(f"answer: {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
