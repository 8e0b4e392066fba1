"""Readable one-line renderings of replayed operations, as ``replay_pretty`` and ``python -m statehouse.cli`` print
them.

The format (the original Statehouse's documented replay format)::

    <HH:MM:SSZ>  [ns=<namespace>  ]agent=<agent_id>  <OP>  key=<key>  v=<version>  <summary>

    12:31:04Z  agent=research-1  WRITE  key=context               v=3  {"topic":"distributed db","sources":2}
    12:31:06Z  agent=research-1  TOOL   key=tool/search           v=4  {"query":"raft vs paxos"}
    12:35:35Z  agent=research-1  DEL    key=draft                 v=5  reason="superseded"

Fields are separated by two spaces; the time is UTC; ``ns=`` appears only outside the ``default`` namespace. OP is
``WRITE``, ``DEL`` (a delete), or by key prefix ``TOOL`` (``tool/``), ``NOTE`` (``note/``, ``annotation/``) and
``FINAL`` (``final/``, ``answer/``). Agent ids longer than 20 characters are cut to 17 and ``...``; keys longer
than 48 are cut (a path-like key keeps its first and last part: ``first/.../last``). Summaries are compact and
deterministic: strings quoted, escaped and cut at 120 characters; small objects and lists as compact JSON, big ones
as ``{k1:..., k2:..., n_fields=N}`` and ``[a, b, ...] len=N``. Every function takes plain Python values only.
"""

from __future__ import annotations

import enum
import json
import math
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Union

from ._time import rfc3339

__all__ = [
    "format_ts",
    "format_key",
    "format_agent",
    "format_value_summary",
    "format_operation_type",
    "format_event_pretty",
    "format_event_verbose",
    "format_event_json",
]

Timestamp = Union[int, float, datetime, None]

SEPARATOR = "  "
AGENT_MAX_LEN = 20
KEY_MAX_LEN = 48
KEY_COLUMN = 20
OP_COLUMN = 5
SUMMARY_MAX_LEN = 120
# Objects and lists whose compact JSON is shorter than this are shown whole.
COMPACT_LIMIT = 80
ELLIPSIS = "..."

_KEY_PREFIX_OPS = (
    ("tool/", "TOOL"),
    ("note/", "NOTE"),
    ("annotation/", "NOTE"),
    ("final/", "FINAL"),
    ("answer/", "FINAL"),
)
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


# ---- fields ----------------------------------------------------------------------------------------------------------


def format_ts(ts: Timestamp) -> str:
    """``HH:MM:SSZ`` (UTC) of Unix seconds (an int or float; fractions dropped) or of a datetime (naive: UTC).

    >>> format_ts(1770488464)
    '18:21:04Z'
    """
    if ts is None:
        return "--:--:--Z"
    if isinstance(ts, datetime):
        moment = ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)
        return moment.strftime("%H:%M:%SZ")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise TypeError(f"format_ts takes Unix seconds or a datetime, not {ts!r}")
    seconds = math.floor(ts) % 86_400
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def _escape(text: str) -> str:
    """One-line text: newlines, tabs, quotes, backslashes and every unprintable character escaped."""
    return "".join(_escape_char(char) for char in text)


def _escape_char(char: str) -> str:
    escaped = _ESCAPES.get(char)
    if escaped is not None:
        return escaped
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _cut(text: str, max_len: int) -> str:
    """``text`` cut to at most ``max_len`` characters, the last three ``...`` when cut."""
    if len(text) <= max_len:
        return text
    if max_len <= len(ELLIPSIS):
        return text[:max_len]
    return text[: max_len - len(ELLIPSIS)] + ELLIPSIS


def format_key(key: str, max_len: int = KEY_MAX_LEN) -> str:
    """The key, escaped, cut to at most ``max_len`` characters.

    A path-like key keeps its first and last part, ``first/.../last``, when that fits; any other long key ends in
    ``...``.
    """
    text = _escape(str(key))
    if len(text) <= max_len:
        return text
    parts = text.split("/")
    if len(parts) >= 3 and parts[0] and parts[-1]:
        shortened = f"{parts[0]}/{ELLIPSIS}/{parts[-1]}"
        if len(shortened) <= max_len:
            return shortened
    return _cut(text, max_len)


def format_agent(agent_id: str, max_len: int = AGENT_MAX_LEN) -> str:
    """The agent id, escaped; longer than ``max_len`` (20) it is cut to 17 characters and ``...``."""
    return _cut(_escape(str(agent_id)), max_len)


def _quoted(text: str, max_len: int) -> str:
    """``"text"`` escaped, at most ``max_len`` characters in all: a longer one is cut and closed with ``..."``
    (an escape sequence is never split)."""
    escaped = _escape(text)
    if len(escaped) + 2 <= max_len:
        return f'"{escaped}"'
    budget = max_len - 2 - len(ELLIPSIS)
    pieces: List[str] = []
    used = 0
    for char in text:
        piece = _escape_char(char)
        if used + len(piece) > budget:
            break
        pieces.append(piece)
        used += len(piece)
    return '"' + "".join(pieces) + ELLIPSIS + '"'


def _compact_json(value: Any) -> Optional[str]:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None


def _scalar(value: Any, max_len: int) -> Optional[str]:
    """The summary of a JSON scalar, None for anything else."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _cut(str(value), max_len)
    if isinstance(value, float):
        return _cut(json.dumps(value), max_len)
    if isinstance(value, str):
        return _quoted(value, max_len)
    if isinstance(value, enum.Enum):
        return _scalar(value.value, max_len)
    return None


def _element(value: Any) -> str:
    """A short preview of a list element: a scalar (strings cut at 24 characters), ``{...}`` or ``[...]``."""
    scalar = _scalar(value, 24)
    if scalar is not None:
        return scalar
    if isinstance(value, Mapping):
        return "{}" if not value else "{...}"
    if isinstance(value, (list, tuple)):
        return "[]" if not value else "[...]"
    return _cut(_escape(repr(value)), 24)


def format_value_summary(value: Any, max_len: int = SUMMARY_MAX_LEN) -> str:
    """A one-line summary of a JSON value, deterministic for a given value.

    - ``null``, ``true``, ``false`` and numbers as they are;
    - strings quoted and escaped (``"line1\\nline2"``), at most ``max_len`` characters with the quotes: a longer
      one is cut and ends ``..."``;
    - objects and lists whose compact JSON is shorter than 80 characters (and ``max_len``) as that JSON
      (``{"a":1,"b":2}``, ``[1,2,3]``);
    - bigger objects as ``{k1:..., k2:..., n_fields=N}`` (the first keys that fit, at most three) and bigger
      lists as ``[a, b, ...] len=N`` (the first two elements, nested ones collapsed to ``{...}`` / ``[...]``).
    """
    scalar = _scalar(value, max_len)
    if scalar is not None:
        return scalar
    if isinstance(value, Mapping):
        compact = _compact_json(value)
        if compact is not None and len(compact) < COMPACT_LIMIT and len(compact) <= max_len:
            return compact
        tail = f"n_fields={len(value)}}}"
        fields: List[str] = []
        for name in list(value)[:3]:
            field = f"{format_key(str(name), 24)}:{ELLIPSIS}"
            if len("{" + ", ".join([*fields, field, tail])) > max_len:
                break
            fields.append(field)
        return "{" + ", ".join([*fields, tail])
    if isinstance(value, (list, tuple)):
        compact = _compact_json(list(value))
        if compact is not None and len(compact) < COMPACT_LIMIT and len(compact) <= max_len:
            return compact
        shown = [_element(item) for item in value[:2]]
        while True:
            more = [ELLIPSIS] if len(value) > len(shown) else []
            text = "[" + ", ".join(shown + more) + f"] len={len(value)}"
            if len(text) <= max_len or not shown:
                return text
            shown.pop()
    return _cut(_escape(repr(value)), max_len)


def format_operation_type(operation: Any, key: str) -> str:
    """The OP column: ``DEL`` for a delete (``"delete"``, ``"del"`` or ``OperationType.DELETE``), else by key
    prefix ``TOOL``, ``NOTE`` or ``FINAL``, else ``WRITE``."""
    kind = operation.value if isinstance(operation, enum.Enum) else operation
    if str(kind).lower() in ("delete", "del"):
        return "DEL"
    for prefix, name in _KEY_PREFIX_OPS:
        if str(key).startswith(prefix):
            return name
    return "WRITE"


# ---- lines -----------------------------------------------------------------------------------------------------------


def _head(timestamp: Timestamp, agent_id: str, op: str, namespace: Optional[str]) -> List[str]:
    fields = [format_ts(timestamp)]
    if namespace and namespace != "default":
        fields.append(f"ns={_escape(str(namespace))}")
    fields.append(f"agent={format_agent(agent_id)}")
    fields.append(op.ljust(OP_COLUMN))
    return fields


# What a put whose value the retention policy removed shows instead of its value (as statehousectl prints it).
REMOVED_VALUE = "(value removed by retention)"


def format_event_pretty(
    timestamp: Timestamp,
    agent_id: str,
    operation: Any,
    key: str,
    version: int,
    value: Any = None,
    namespace: str = "default",
    *,
    reason: Optional[str] = None,
    value_removed: bool = False,
) -> str:
    """One line for one operation::

        12:31:04Z  agent=research-1  WRITE  key=context               v=3  {"topic":"databases"}

    Args:
        timestamp: the commit time: Unix seconds or a datetime (shown as ``HH:MM:SSZ``, UTC).
        agent_id: the agent owning the key.
        operation: ``"write"`` or ``"delete"`` (or an ``OperationType``).
        key: the key.
        version: the key's version after the operation.
        value: the value written (summarised); ignored for a delete.
        namespace: shown as ``ns=<namespace>`` after the time unless it is ``"default"``.
        reason: for a delete, the commit's reason, shown as ``reason="..."`` (else ``tombstone``).
        value_removed: the put's value was removed by the retention policy; shown as ``(value removed by retention)``.
    """
    op = format_operation_type(operation, key)
    if op == "DEL":
        summary = f"reason={_quoted(reason, SUMMARY_MAX_LEN)}" if reason else "tombstone"
    elif value_removed:
        summary = REMOVED_VALUE
    else:
        summary = format_value_summary(value)
    fields = _head(timestamp, agent_id, op, namespace)
    fields.append(f"key={format_key(key).ljust(KEY_COLUMN)}")
    fields.append(f"v={version}")
    fields.append(summary)
    return SEPARATOR.join(fields)


def format_event_verbose(
    timestamp: Timestamp,
    agent_id: str,
    operation: Any,
    key: str,
    version: int,
    txn_id: str,
    event_id: Any,
    value: Any = None,
    namespace: str = "default",
    *,
    reason: Optional[str] = None,
    value_removed: bool = False,
) -> str:
    """Two lines for one operation: the header with ``txn=`` (the first 12 characters of the transaction id) and
    ``event=``, then the whole value as compact JSON (``null`` for a delete)::

        12:31:04Z  agent=research-1  WRITE  key=context  v=3  txn=a3f7b2d1-4c8  event=42
          payload: {"topic":"distributed databases","sources":["paper1","paper2"]}

    A delete's reason, if given, ends the header as ``reason="..."``; a value the retention policy removed shows as
    ``(value removed by retention)``.
    """
    op = format_operation_type(operation, key)
    fields = _head(timestamp, agent_id, op, namespace)
    fields.append(f"key={format_key(key)}")
    fields.append(f"v={version}")
    fields.append(f"txn={_escape(str(txn_id))[:12]}")
    fields.append(f"event={event_id}")
    if op == "DEL" and reason:
        fields.append(f"reason={_quoted(reason, SUMMARY_MAX_LEN)}")
    payload = "null" if op == "DEL" else REMOVED_VALUE if value_removed else _compact_json(value)
    if payload is None:
        try:  # a number beyond the double range: JSON with Infinity, as the Swift CLI prints it
            payload = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            payload = _escape(repr(value))
    return SEPARATOR.join(fields) + "\n  payload: " + payload


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def format_event_json(event_data: Mapping[str, Any]) -> str:
    """The event as one line of JSON (datetimes as RFC 3339 text, enums as their value).

    When it cannot be serialised (a value that is not JSON, NaN, a cycle) the line is
    ``{"error":"serialization_failed","message":...,"event_id":...}`` instead of an exception.
    """
    try:
        return json.dumps(event_data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)
    except (TypeError, ValueError, RecursionError) as problem:
        failure: Dict[str, Any] = {"error": "serialization_failed", "message": str(problem)}
        if isinstance(event_data, Mapping):
            event_id = event_data.get("event_id")
            if isinstance(event_id, (int, str)) and not isinstance(event_id, bool):
                failure["event_id"] = event_id
        return json.dumps(failure, ensure_ascii=False, separators=(",", ":"))
