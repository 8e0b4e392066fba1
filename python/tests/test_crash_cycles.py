"""The short crash cycle of the suite: 5 rounds of load, SIGKILL and restart, with every invariant checked."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import crash_cycles  # noqa: E402


def test_five_crash_cycles_lose_nothing_acknowledged() -> None:
    assert crash_cycles.main(["--cycles", "5", "--seed", "20261122", "--writers", "6"]) == 0
