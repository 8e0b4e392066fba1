"""A small research agent that keeps all of its working state in Statehouse.

It stores its task, every step (thought, tool call and result) and its final answer, each step in one atomic
transaction. Killed at any moment, it resumes from the last committed step without redoing finished ones; its whole
run can be replayed from the namespace's event log. Each invocation is a run with its provenance (the code's git
commit, this machine's environment, the agent's config file, the mock model and the tools' digests), and every
commit it makes carries the run's id, so `statehousectl advisory` can say what differed between two runs and
`statehousectl audit export --run` can bundle a run with its provenance for an auditor.

    python agent.py --task "What is 42 * 137?"            # run (or resume) the task
    python agent.py --task "What is 42 * 137?" --crash-after 2   # die (SIGKILL) in the middle of step 3
    python agent.py --task "What is 42 * 137?" --replay   # the step-by-step timeline from the log
    python agent.py --task "..." --config my-config.json  # another config (default: config.json beside this file)

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

from statehouse import Metadata, ProvenanceDraft, Statehouse
from statehouse.exceptions import InvalidArgumentError
from statehouse.provenance import capture_config, capture_env, capture_git, capture_model, capture_tool

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "config.json")

Step = Dict[str, Any]


def agent_id_for(task: str) -> str:
    """A stable agent id per task, so that running the same task again resumes it."""
    return "research-" + hashlib.sha256(task.encode()).hexdigest()[:12]


def step_key(index: int) -> str:
    return f"steps/{index:04d}"


class ResearchAgent:
    def __init__(self, client: Statehouse, agent_id: str, task: str, config: Dict[str, Any]) -> None:
        self.client = client
        self.agent_id = agent_id
        self.task = task
        self.max_steps = int(config.get("max_steps", 12))
        self.run_metadata: Any = None  # the run's tag, set by main() once the run has started

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
            raise SystemExit(
                f"inconsistent state: {len(steps)} steps stored, progress says "
                f"{progress.value['completed_steps']} (transactions should make this impossible)"
            )
        answer = self.client.get_state(self.agent_id, "answer").value
        return steps, progress.version, answer

    def start(self) -> int:
        """Stores the task; fails with ConflictError if another run stored it first."""
        with self.client.begin_transaction() as tx:
            tx.write(self.agent_id, "task", {"question": self.task}, expected_version=0)
            tx.write(self.agent_id, "progress", {"completed_steps": 0, "status": "running"}, expected_version=0)
            tx.commit(metadata=self.tagged(Metadata(actor="agent_research", reason="task received")))
        return 1

    def record(self, step: Step, steps: List[Step], progress_version: int) -> int:
        """Stores one finished step and the new progress in one transaction; returns the progress version."""
        index = len(steps) + 1
        status = "done" if step["kind"] == "answer" else "running"
        with self.client.begin_transaction() as tx:
            tx.write(self.agent_id, step_key(index), step, expected_version=0)
            tx.write(
                self.agent_id,
                "progress",
                {"completed_steps": index, "status": status},
                expected_version=progress_version,
            )
            if step["kind"] == "answer":
                tx.write(self.agent_id, "answer", {"text": step["answer"], "steps": index})
            reason = f"step {index}: {step['kind']}" + (f" {step['tool']}" if step.get("tool") else "")
            tx.commit(metadata=self.tagged(Metadata(actor="agent_research", reason=reason)))
        print(f"  step {index} [{describe(step)}] (commit_ts {tx.result.commit_ts})")
        return progress_version + 1

    def tagged(self, metadata: Metadata) -> Metadata:
        """The commit's metadata with the run's ``run_id`` tag (when a run is open)."""
        return self.run_metadata.tag(metadata) if self.run_metadata is not None else metadata

    def run(self, crash_after: Optional[int], steps: List[Step], progress_version: int) -> str:
        if progress_version == 0:
            progress_version = self.start()
            print(f"started agent {self.agent_id}: {self.task}")
        else:
            print(f"resuming agent {self.agent_id} after {len(steps)} finished steps")
        while True:
            if len(steps) >= self.max_steps:
                raise RuntimeError(f"no answer after max_steps={self.max_steps} steps (see the config file)")
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
    print(
        f"hash chain: {'verified' if report.ok else 'BROKEN at ' + str(report.first_bad_commit_ts)} "
        f"({report.events_checked} events)"
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", required=True, help="the question to research")
    parser.add_argument("--url", default=os.environ.get("STATEHOUSE_URL", "127.0.0.1:50051"), help="daemon address")
    parser.add_argument("--namespace", default="agent-research")
    parser.add_argument("--agent-id", help="default: derived from the task, so a rerun resumes it")
    parser.add_argument("--crash-after", type=int, metavar="N", help="SIGKILL the agent during step N+1")
    parser.add_argument("--replay", action="store_true", help="print the stored timeline instead of running")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the agent's JSON config (default: %(default)s)")
    args = parser.parse_args(argv)

    agent_id = args.agent_id or agent_id_for(args.task)
    with open(args.config, encoding="utf-8") as file:
        config = json.load(file)
    with Statehouse(url=args.url, namespace=args.namespace) as client:
        if args.replay:
            print_timeline(client, agent_id)
            return 0
        agent = ResearchAgent(client, agent_id, args.task, config)
        steps, progress_version, answer = agent.load()
        if answer is not None:
            print(f"already answered after {len(steps)} steps")
        else:
            # One run per invocation: it ends "succeeded", or "failed" if the agent raises; a killed agent leaves it
            # "running", and the run that resumes the work is the next one.
            with client.run(agent_id, provenance=provenance(args.config)) as run:
                print(f"run {run.id} started")
                agent.run_metadata = run
                answer = {"text": agent.run(args.crash_after, steps, progress_version)}
        print(f"answer: {answer['text']}")
    return 0


def provenance(config_file: str) -> List[ProvenanceDraft]:
    """What this run depends on: code, environment, config, model and tools."""
    drafts = []
    try:
        drafts.append(ProvenanceDraft("code", capture_git(HERE)))
    except InvalidArgumentError:
        pass  # not in a git checkout (a copied example): the advisory will name the missing capture
    drafts.append(ProvenanceDraft("environment", capture_env()))
    drafts += [ProvenanceDraft("config", payload) for payload in capture_config(config_file)]
    model_file = os.path.join(HERE, "mock_llm.py")
    with open(model_file, "rb") as file:
        model_version = hashlib.sha256(file.read()).hexdigest()[:12]
    drafts.append(ProvenanceDraft("model", capture_model("statehouse-example", "mock_llm", version=model_version)))
    for tool in ("calculator", "search"):
        drafts.append(ProvenanceDraft("tool", capture_tool(tool, file=os.path.join(HERE, "tools.py"))))
    return drafts


if __name__ == "__main__":
    sys.exit(main())
