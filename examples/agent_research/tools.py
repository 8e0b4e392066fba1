"""The research agent's tools: a calculator and a keyword search over the small corpus shipped in corpus/.

Both are pure functions of their input, so re-running an unfinished step after a crash gives the same result.
"""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path
from typing import Dict, List, Union

CORPUS = Path(__file__).resolve().parent / "corpus"

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}

Number = Union[int, float]


def calculator(expression: str) -> Number:
    """Evaluates + - * / // % ** and parentheses over numbers; anything else is refused (no eval)."""

    def evaluate(node: ast.AST) -> Number:
        if isinstance(node, ast.Expression):
            return evaluate(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = evaluate(node.left), evaluate(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 1000:
                raise ValueError("exponent too large")
            return _OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = evaluate(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        raise ValueError(f"unsupported expression: {ast.dump(node)[:60]}")

    return evaluate(ast.parse(expression, mode="eval"))


_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = {
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "in", "is", "it", "of",
    "on", "or", "so", "that", "the", "this", "to", "what", "when", "which", "who", "why", "with", "you",
}


def keywords(text: str) -> List[str]:
    """The words of a question that carry meaning, in order, without repeats."""
    seen: List[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in _STOPWORDS and word not in seen:
            seen.append(word)
    return seen


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def search(query: str, limit: int = 3) -> List[Dict[str, object]]:
    """The corpus documents that share the most words with the query, best first (ties by name)."""
    wanted = {_stem(word) for word in keywords(query)}
    scored = []
    for path in sorted(CORPUS.glob("*.md")):
        words = {_stem(word) for word in _WORD.findall(path.read_text().lower())}
        score = len(wanted & words)
        if score:
            scored.append({"document": path.name, "score": score})
    scored.sort(key=lambda item: (-int(item["score"]), str(item["document"])))
    return scored[:limit]


def read(document: str) -> str:
    """The text of one corpus document (only names inside the corpus)."""
    path = (CORPUS / document).resolve()
    if path.parent != CORPUS or not path.exists():
        raise ValueError(f"no such document: {document}")
    return path.read_text()
