"""A deterministic stand-in for an LLM: the next action is a pure function of the task and the steps so far.

Real agents call a model here. Keeping it deterministic (no network, no keys, no randomness) is what lets the demo
show that a resumed run ends exactly like an uninterrupted one.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

import tools

Step = Dict[str, Any]

_PRODUCT = re.compile(r"(-?\d+)\s*\*\s*(-?\d+)")
_ARITHMETIC = re.compile(r"[-+*/%().\d\s]*\d[-+*/%().\d\s]*[-+*/%][-+*/%().\d\s]*\d[-+*/%().\d\s]*")


def next_action(question: str, steps: List[Step]) -> Step:
    """The next step: a thought, a tool call (tool + input), or the final answer (kind "answer")."""
    product = _PRODUCT.search(question)
    if product and abs(int(product.group(2))) >= 10:
        return _long_multiplication(int(product.group(1)), int(product.group(2)), steps)
    arithmetic = _ARITHMETIC.search(question)
    if arithmetic:
        return _calculate(arithmetic.group(0).strip(), steps)
    return _research(question, steps)


def _long_multiplication(a: int, b: int, steps: List[Step]) -> Step:
    high, low = b - b % 100 if abs(b) >= 100 else b - b % 10, b % 100 if abs(b) >= 100 else b % 10
    plan: List[Step] = [
        {"kind": "thought", "thought": f"{a} * {b}: split {b} into {high} + {low} and multiply each part by {a}."},
        {"kind": "tool", "thought": f"First {a} * {high}.", "tool": "calculator", "input": f"{a} * {high}"},
        {"kind": "tool", "thought": f"Then {a} * {low}.", "tool": "calculator", "input": f"{a} * {low}"},
    ]
    if len(steps) < len(plan):
        return plan[len(steps)]
    if len(steps) == 3:
        return {"kind": "tool", "thought": "Add the two partial products.", "tool": "calculator",
                "input": f"{steps[1]['result']} + {steps[2]['result']}"}
    if len(steps) == 4:
        return {"kind": "tool", "thought": "Check the sum by multiplying directly.", "tool": "calculator",
                "input": f"{a} * {b}"}
    total, check = steps[3]["result"], steps[4]["result"]
    verdict = "both ways agree" if total == check else f"the direct product is {check}"
    return {"kind": "answer", "thought": f"The partial products sum to {total}; {verdict}.",
            "answer": f"{a} * {b} = {check}"}


def _calculate(expression: str, steps: List[Step]) -> Step:
    if not steps:
        return {"kind": "tool", "thought": "This is arithmetic; use the calculator.", "tool": "calculator",
                "input": expression}
    return {"kind": "answer", "thought": "The calculator answered.", "answer": f"{expression} = {steps[0]['result']}"}


def _research(question: str, steps: List[Step]) -> Step:
    words = tools.keywords(question)
    if not steps:
        return {"kind": "thought", "thought": f"Look up {', '.join(words) or 'the question'} in the local corpus."}
    if len(steps) == 1:
        return {"kind": "tool", "thought": "Search the corpus.", "tool": "search", "input": " ".join(words)}
    hits = steps[1]["result"]
    if not hits:
        return {"kind": "answer", "thought": "Nothing in the corpus matches.",
                "answer": "I could not find anything about that in my corpus."}
    if len(steps) == 2:
        return {"kind": "tool", "thought": f"Read the best match, {hits[0]['document']}.", "tool": "read",
                "input": hits[0]["document"]}
    text = steps[2]["result"]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.split("\n", 2)[-1].replace("\n", " ")) if s.strip()]
    wanted = set(words)
    best = max(sentences, key=lambda s: (len(wanted & set(tools.keywords(s))), -sentences.index(s)))
    return {"kind": "answer", "thought": "The best sentence of the best document answers it.",
            "answer": f"{best} (source: {hits[0]['document']})"}


def run_tool(name: str, argument: str) -> Any:
    """Runs one tool call of a step."""
    if name == "calculator":
        return tools.calculator(argument)
    if name == "search":
        return tools.search(argument)
    if name == "read":
        return tools.read(argument)
    raise ValueError(f"unknown tool {name}")
