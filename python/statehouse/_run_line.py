"""The run line of an audit bundle (``statehousectl audit export --run``), recomputed from proven state.

Written from docs/architecture.md ("Audit bundles of a run") independently of the Swift code that writes the line
(``AuditBundle.runLine``, with ``ProvenanceAdvisory`` and ``MutationReplayPlan``): the advisory's rules, points and
messages and the replay plan's order and findings are reproduced here byte for byte, so that a bundle whose advisory or
plan was changed fails in both verifiers, on the corpus in Tests/Fixtures/audit-bundles.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

RUNS_AGENT = "@runs"
PROVENANCE_AGENT = "@provenance"
KINDS = ("code", "config", "environment", "mutation", "model", "tool")

POINTS = {
    "code_commit_changed": 30,
    "dirty_tree": 20,
    "config_changed": 15,
    "model_changed": 25,
    "model_parameters_changed": 10,
    "runtime_changed": 10,
    "platform_changed": 10,
    "tool_changed": 5,
    "missing_capture": 10,
}


_BASELINE_COMMIT = "the baseline's commit"


class RunLineError(ValueError):
    """The run line cannot be recomputed from the state given."""


class Number(str):
    """A JSON number kept as the text it was written with (the Swift side compares numbers by their text)."""


class _Duplicate:
    """An object with a member name twice: equal to nothing."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


def parse_exact(text: Any) -> Any:
    """JSON with numbers as :class:`Number` text and duplicate member names made unequal to anything."""

    def pairs(items: List[Tuple[str, Any]]) -> Any:
        names = [name for name, _ in items]
        return _Duplicate() if len(set(names)) != len(names) else dict(items)

    return json.loads(text, parse_int=Number, parse_float=Number, object_pairs_hook=pairs)


def canonical(value: Any) -> Any:
    """A value tagged by JSON type, so that comparing two is comparing JSON texts up to member order."""
    if isinstance(value, _Duplicate):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, Number):
        return ("number", str(value))
    if isinstance(value, int):
        return ("number", str(value))
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, str):
        return ("string", value)
    if value is None:
        return ("null",)
    if isinstance(value, list):
        return ("array", [canonical(item) for item in value])
    if isinstance(value, dict):
        return ("object", {name: canonical(item) for name, item in value.items()})
    return ("other", repr(value))


def _same_structure(a: Any, b: Any) -> bool:
    """JSON equality as ParsedJSON's: numbers by exact decimal value, objects regardless of member order."""
    from decimal import Decimal, InvalidOperation

    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, Number) or isinstance(b, Number):
        if not (isinstance(a, Number) and isinstance(b, Number)):
            return False
        if str(a) == str(b):
            return True
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except InvalidOperation:
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_structure(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_structure(a[name], b[name]) for name in a)
    if isinstance(a, _Duplicate) or isinstance(b, _Duplicate):
        return False
    return type(a) is type(b) and a == b


class _Payload:
    def __init__(self, value: Any) -> None:
        self.value = value

    def member(self, name: str) -> Any:
        return self.value.get(name) if isinstance(self.value, dict) else None

    def string(self, name: str) -> Optional[str]:
        value = self.member(name)
        return str(value) if isinstance(value, str) else None  # a Number is a str too, as its text

    def flag(self, name: str) -> Optional[bool]:
        value = self.member(name)
        return value if isinstance(value, bool) else None

    def strings(self, name: str) -> Dict[str, str]:
        value = self.member(name)
        if not isinstance(value, dict):
            return {}
        return {key: item for key, item in value.items() if isinstance(item, str) and not isinstance(item, Number)}


class _Record:
    def __init__(self, key: str, commit_ts: int, value: str) -> None:
        try:
            parsed = parse_exact(value)
        except ValueError:
            parsed = None
        kind, _, _ = key.partition("/")
        if (
            kind not in KINDS
            or "/" not in key
            or not isinstance(parsed, dict)
            or not isinstance(parsed.get("agent_id"), str)
            or isinstance(parsed.get("agent_id"), Number)
            or not isinstance(parsed.get("captured_at"), Number)
            or not re.fullmatch(r"-?[0-9]+", parsed["captured_at"])
            or "payload" not in parsed
        ):
            raise RunLineError(f"provenance record '{key}' is malformed")
        run_id = parsed.get("run_id")
        self.key, self.kind, self.commit_ts = key, kind, commit_ts
        self.run_id = run_id if isinstance(run_id, str) and not isinstance(run_id, Number) else None
        self.payload = _Payload(parsed["payload"])


class _Run:
    def __init__(self, key: str, value: str) -> None:
        try:
            parsed = parse_exact(value)
        except ValueError:
            parsed = None
        ok = isinstance(parsed, dict)
        if ok:
            agent, status, started = parsed.get("agent_id"), parsed.get("status"), parsed.get("started_at")
            ok = (
                isinstance(agent, str)
                and not isinstance(agent, Number)
                and isinstance(status, str)
                and not isinstance(status, Number)
                and isinstance(started, Number)
                and re.fullmatch(r"-?[0-9]+", started) is not None
                and isinstance(parsed.get("provenance"), list)
            )
        if not ok:
            raise RunLineError(f"the record of run '{key}' is malformed")
        self.id, self.agent_id, self.status, self.started_at = key, parsed["agent_id"], parsed["status"], int(started)
        # Swift's decoder keeps the strings of the array and skips anything else.
        self.provenance = [
            item for item in parsed["provenance"] if isinstance(item, str) and not isinstance(item, Number)
        ]


def _sorted_records(records: List[_Record]) -> List[_Record]:
    return sorted(records, key=lambda r: (r.commit_ts, r.key.encode("utf-8")))


class _Side:
    """One side's payloads by kind, oldest first (by commit_ts, then key)."""

    def __init__(self, records: List[_Record]) -> None:
        self.records = _sorted_records(records)

    def of(self, kind: str) -> List[_Payload]:
        return [record.payload for record in self.records if record.kind == kind]

    def by_key(self, kind: str, member: str) -> Dict[str, _Payload]:
        result: Dict[str, _Payload] = {}
        for payload in self.of(kind):
            key = payload.string(member)
            if key is not None:
                result[key] = payload
        return result


def _utf8_sorted(items: Any) -> List[Any]:
    return sorted(items, key=lambda item: (item[0] if isinstance(item, tuple) else item).encode("utf-8"))


def _or(text: Optional[str], default: str) -> str:
    return text if text is not None else default


def _short(digest: Optional[str]) -> str:
    return digest[:12] if digest is not None else "?"


def advisory(baseline: List[_Record], candidate: List[_Record]) -> Dict[str, Any]:
    findings: List[Dict[str, Any]] = []

    def add(rule: str, message: str, recommendation: str) -> None:
        findings.append({"message": message, "points": POINTS[rule], "recommendation": recommendation, "rule": rule})

    before, after = _Side(baseline), _Side(candidate)
    for kind in ("code", "config", "environment", "model"):
        side = "baseline" if not before.of(kind) else "candidate" if not after.of(kind) else None
        if side is not None:
            add(
                "missing_capture",
                f"the {side} has no {kind} provenance",
                f"capture {kind} at the start of every run (statehousectl capture, or run start --capture)",
            )
    old_code = before.by_key("code", "repository")
    for repository, code in _utf8_sorted(after.by_key("code", "repository").items()):
        old = old_code.get(repository)
        if code.flag("dirty") is True:
            add(
                "dirty_tree",
                f"the candidate's work tree of {repository} had uncommitted changes",
                "commit (or stash) changes before a run, so that its commit names the code exactly",
            )
        elif old is not None and old.flag("dirty") is True:
            add(
                "dirty_tree",
                f"the baseline's work tree of {repository} had uncommitted changes",
                "the baseline cannot be checked out again; compare against a run from a clean tree",
            )
        if old is not None and old.string("commit") != code.string("commit"):
            was, now = old.string("commit"), code.string("commit")
            add(
                "code_commit_changed",
                f"{repository} moved from commit {_or(was, '?')} to {_or(now, '?')}",
                f"check out {_or(was, _BASELINE_COMMIT)} to reproduce the baseline",
            )
    old_config = before.by_key("config", "source")
    for source, config in _utf8_sorted(after.by_key("config", "source").items()):
        old = old_config.get(source)
        if old is not None and old.string("sha256") != config.string("sha256"):
            add(
                "config_changed",
                f"config {source} changed (SHA-256 {_short(old.string('sha256'))} → {_short(config.string('sha256'))})",
                f"restore {source} with SHA-256 {_short(old.string('sha256'))} (store configs as artifacts to keep "
                "their content)",
            )
    old_models, new_models = before.of("model"), after.of("model")
    if old_models and new_models:
        old, new = old_models[0], new_models[0]

        def identity(model: _Payload) -> List[str]:
            return [model.string(name) or "" for name in ("provider", "name", "version")]

        if identity(old) != identity(new):
            add(
                "model_changed",
                "the model changed from "
                + " ".join(part for part in identity(old) if part)
                + " to "
                + " ".join(part for part in identity(new) if part),
                "pin the model's provider, name and version",
            )
        elif not _same_optional(old.member("parameters"), new.member("parameters")) or old.string(
            "prompt_template_sha256"
        ) != new.string("prompt_template_sha256"):
            add(
                "model_parameters_changed",
                "the model's parameters or prompt template changed",
                "record and reuse the baseline's parameters and prompt template",
            )
    old_envs, new_envs = before.of("environment"), after.of("environment")
    if old_envs and new_envs:
        old, new = old_envs[0], new_envs[0]
        if old.string("os") != new.string("os") or old.string("arch") != new.string("arch"):
            add(
                "platform_changed",
                f"the platform changed from {_or(old.string('os'), '?')}/{_or(old.string('arch'), '?')} to "
                f"{_or(new.string('os'), '?')}/{_or(new.string('arch'), '?')}",
                "run on the baseline's operating system and architecture",
            )
        was, now = old.strings("runtime"), new.strings("runtime")
        changed = [name for name in _utf8_sorted(set(was) | set(now)) if was.get(name) != now.get(name)]
        if changed:
            add(
                "runtime_changed",
                "runtime versions differ: "
                + ", ".join(f"{name} {was.get(name, 'none')} → {now.get(name, 'none')}" for name in changed),
                "use the baseline's runtime versions (pin them in the lock file or the image)",
            )
    old_tools = before.by_key("tool", "name")
    for name, tool in _utf8_sorted(after.by_key("tool", "name").items()):
        old = old_tools.get(name)
        if old is not None and (
            old.string("version") != tool.string("version") or old.string("sha256") != tool.string("sha256")
        ):
            add(
                "tool_changed",
                f"tool {name} changed ({_or(old.string('version'), '?')} → {_or(tool.string('version'), '?')})",
                f"use the baseline's version of {name}",
            )
    return {"findings": findings, "score": min(100, sum(finding["points"] for finding in findings))}


def _same_optional(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _same_structure(a, b)


def _sequence(text: Optional[str]) -> Optional[int]:
    if text is None or not re.fullmatch(r"\+?[0-9]+", text):
        return None
    value = int(text)
    return value if value < 2**64 else None


def replay_plan(records: List[_Record]) -> Dict[str, Any]:
    by_source: Dict[str, List[Tuple[Dict[str, Any], Optional[str], Optional[str]]]] = {}
    for record in records:
        if record.kind != "mutation":
            continue
        source, sequence = record.payload.string("source"), _sequence(record.payload.string("sequence"))
        if source is None or sequence is None:
            continue
        step = {
            "hash": record.payload.string("hash"),
            "id": record.payload.string("id") or "",
            "record": record.key,
            "sequence": sequence,
            "type": record.payload.string("type") or "",
        }
        by_source.setdefault(source, []).append(
            (step, record.payload.string("namespace"), record.payload.string("config_sha256"))
        )
    digests = {
        digest
        for record in records
        if record.kind == "config" and (digest := record.payload.string("sha256")) is not None
    }
    sources: List[Dict[str, Any]] = []
    findings: List[Dict[str, Any]] = []
    for source in _utf8_sorted(by_source):
        entries = sorted(by_source[source], key=lambda e: (e[0]["sequence"], e[0]["record"].encode("utf-8")))
        steps: List[Dict[str, Any]] = []
        seen: set = set()
        for step, _, _ in entries:
            if steps and steps[-1]["sequence"] == step["sequence"]:
                findings.append(
                    {
                        "message": f"sequence {step['sequence']} appears twice ({steps[-1]['record']}, "
                        f"{step['record']})",
                        "rule": "duplicate",
                        "source": source,
                    }
                )
                continue
            if step["id"] in seen:
                findings.append(
                    {
                        "message": f"mutation id '{step['id']}' appears at two sequences",
                        "rule": "duplicate",
                        "source": source,
                    }
                )
                continue
            seen.add(step["id"])
            if steps and step["sequence"] > steps[-1]["sequence"] + 1:
                findings.append(
                    {
                        "message": f"sequences {steps[-1]['sequence'] + 1} to {step['sequence'] - 1} are missing",
                        "rule": "gap",
                        "source": source,
                    }
                )
            steps.append(step)
        namespaces = {namespace for _, namespace, _ in entries if namespace is not None}
        if len(namespaces) > 1:
            findings.append(
                {
                    "message": "mutations of one source name namespaces " + ", ".join(_utf8_sorted(namespaces)),
                    "rule": "mixed_namespaces",
                    "source": source,
                }
            )
        for step, _, config in entries:
            if config is not None and config not in digests:
                findings.append(
                    {
                        "message": f"{step['record']} was produced under config {config[:12]}, which no config "
                        "record in effect has",
                        "rule": "config_mismatch",
                        "source": source,
                    }
                )
        sources.append({"source": source, "steps": steps})
    return {"findings": findings, "sources": sources}


def run_line(run_id: str, baseline_run_id: Optional[str], state: Dict[Tuple[str, str], Tuple[int, str]]) -> Any:
    """The run line of ``run_id`` from proven state: ``{(agent_id, key): (commit_ts, value)}`` of the reserved agents.

    Raises :class:`RunLineError` when the run or the baseline has no record, or a record is malformed.
    """

    def run(run: str) -> _Run:
        entry = state.get((RUNS_AGENT, run))
        if entry is None:
            raise RunLineError(f"run '{run}' has no record in the bundle's state")
        return _Run(run, entry[1])

    own_run = run(run_id)
    records = [
        _Record(key, commit_ts, value)
        for (agent, key), (commit_ts, value) in state.items()
        if agent == PROVENANCE_AGENT
    ]
    # The records a run names (an ended run names all of its own) must be there: a dropped state line would otherwise
    # change the advisory or the plan unnoticed.
    present = {record.key for record in records}
    for named in [own_run] + ([run(baseline_run_id)] if baseline_run_id is not None else []):
        missing = next((key for key in named.provenance if key not in present), None)
        if missing is not None:
            raise RunLineError(f"provenance record '{missing}' of run '{named.id}' is not in the bundle's state")

    def of(run: str) -> List[_Record]:
        return sorted((r for r in records if r.run_id == run), key=lambda r: r.key.encode("utf-8"))

    own = of(run_id)
    result_advisory = None
    if baseline_run_id is not None:
        run(baseline_run_id)
        result_advisory = advisory(of(baseline_run_id), own)
    return {
        "advisory": result_advisory,
        "agent_id": own_run.agent_id,
        "baseline_run_id": baseline_run_id,
        "provenance": [record.key for record in own],
        "replay_plan": replay_plan(own),
        "run_id": run_id,
        "status": own_run.status,
    }
