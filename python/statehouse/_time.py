"""Times as the SDK takes and shows them: RFC 3339 text and datetimes to microseconds since the epoch, and back.

Python 3.9's ``datetime.fromisoformat`` reads neither ``Z`` nor more than six fractional digits, so RFC 3339 is
parsed here once for every Python version the SDK supports.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from . import exceptions as errors

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# date "T" (or "t", or a space, as RFC 3339 section 5.6 allows) time [fraction] offset; the offset may be left out
# (read as UTC, like a naive datetime).
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def micros_from_datetime(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def datetime_from_micros(micros: int) -> datetime:
    """The timezone-aware UTC datetime of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def parse_rfc3339(name: str, text: str) -> int:
    """Microseconds since the epoch of an RFC 3339 time such as ``2026-02-07T10:00:00Z``,
    ``2026-02-07T12:00:00.25+02:00`` or (read as UTC) ``2026-02-07T10:00:00``.

    Digits beyond microseconds are ignored (commit times are kept in microseconds). A leap second (``:60``) is
    read as the next minute's second 0.

    Raises:
        InvalidArgumentError: the text is not such a time; the message names ``name``.
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise errors.InvalidArgumentError(f"{name} must be an RFC 3339 time such as 2026-02-07T10:00:00Z, not {text!r}")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    fraction, offset = match.group(7) or "", match.group(8)
    leap = second == 60
    try:
        if hour > 23 or minute > 59 or second > 60:
            raise ValueError("hour, minute or second out of range")
        moment = datetime(year, month, day, hour, minute, 59 if leap else second, tzinfo=timezone.utc)
        if offset and offset not in ("Z", "z"):
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            shift = timedelta(hours=hours, minutes=minutes)
            moment = moment - shift if offset[0] == "+" else moment + shift
    except ValueError as problem:
        raise errors.InvalidArgumentError(f"{name} is not a valid time: {text!r} ({problem})") from None
    micros = micros_from_datetime(moment) + (1_000_000 if leap else 0)
    return micros + int((fraction + "000000")[:6])


def time_bound(name: str, value: Any) -> Optional[int]:
    """Microseconds since the epoch of a time bound given as RFC 3339 text or a datetime (naive: UTC); None
    stays None.

    Raises:
        InvalidArgumentError: anything else, or text that is not an RFC 3339 time.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return micros_from_datetime(value)
    if isinstance(value, str):
        return parse_rfc3339(name, value)
    raise errors.InvalidArgumentError(f"{name} must be an RFC 3339 string or a datetime, not {type(value).__name__}")


def rfc3339(moment: Optional[datetime]) -> Optional[str]:
    """``2026-02-07T12:31:04.123456Z`` (microseconds only when not zero) for a datetime, in UTC; None for None.

    The text read back by :func:`parse_rfc3339` is the same instant, so it can bound a replay exactly.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


_INT64_MAX = (1 << 63) - 1


def _seconds(name: str, value: Any) -> float:
    """A duration in seconds: an int, a float or a timedelta (not a bool, not NaN or infinite)."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise errors.InvalidArgumentError(f"{name} must be a number of seconds or a timedelta, not {value!r}")
    return float(value)


def expiry_micros(ttl: Any, expires_at: Any, *, now_micros: Optional[int] = None) -> Optional[int]:
    """The expiry of a put in microseconds since the epoch, from ``ttl=`` (seconds from now: an int, a float or a
    timedelta) or ``expires_at=`` (a datetime, naive meaning UTC; RFC 3339 text; or microseconds since the epoch as an
    int); None when neither is given. Whether it is still in the future is the daemon's to say, at the commit.

    Raises:
        InvalidArgumentError: both are given, a ttl that is not positive, or a value of another type.
    """
    if ttl is not None and expires_at is not None:
        raise errors.InvalidArgumentError("give at most one of ttl= (a duration) and expires_at= (a time)")
    if ttl is not None:
        seconds = _seconds("ttl", ttl)
        if seconds <= 0:
            raise errors.InvalidArgumentError(f"ttl must be positive, not {ttl!r}")
        if isinstance(ttl, timedelta):
            micros = (ttl.days * 86_400 + ttl.seconds) * 1_000_000 + ttl.microseconds
        else:
            micros = max(1, round(seconds * 1_000_000))
        now = time.time_ns() // 1_000 if now_micros is None else now_micros
        return min(now + micros, _INT64_MAX)  # a ttl of centuries is "never" in practice; keep it an i64
    if expires_at is None:
        return None
    if isinstance(expires_at, datetime):
        return micros_from_datetime(expires_at)
    if isinstance(expires_at, str):
        return parse_rfc3339("expires_at", expires_at)
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        raise errors.InvalidArgumentError(
            "expires_at must be a datetime, RFC 3339 text or microseconds since the epoch (an int), "
            f"not {type(expires_at).__name__}"
        )
    if not -_INT64_MAX - 1 <= expires_at <= _INT64_MAX:
        raise errors.InvalidArgumentError(f"expires_at {expires_at} is out of range (microseconds since the epoch)")
    return expires_at
