"""A pytest plugin that points the original Statehouse SDK's own integration tests at a daemon of our choosing.

The original SDK (statehouse 0.1.1 on PyPI) ships tests/test_client.py, whose module-level `daemon_url` fixture
returns "localhost:50051". A fixture defined in the test module wins over any fixture a plugin defines, so this
plugin answers the fixture's setup itself (the `pytest_fixture_setup` hook) with $STATEHOUSE_ORIGINAL_TESTS_URL,
and the test file runs unchanged. test_original_sdk.py loads it with `-p original_sdk_plugin --noconftest`.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

import pytest

URL_VARIABLE = "STATEHOUSE_ORIGINAL_TESTS_URL"
SDK_REPORT_VARIABLE = "STATEHOUSE_ORIGINAL_TESTS_SDK_REPORT"  # optional: a file to write the SDK's location to
FIXTURE = "daemon_url"


def _url() -> str:
    url = os.environ.get(URL_VARIABLE, "")
    if not url:
        raise pytest.UsageError(f"original_sdk_plugin: set {URL_VARIABLE} to the daemon's HOST:PORT")
    return url


def pytest_configure(config: pytest.Config) -> None:
    _url()  # fail at start, not in the first test, when the address is missing


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Optional[object]:
    if fixturedef.argname != FIXTURE:
        return None
    url = _url()
    cache_key = fixturedef.cache_key(request) if hasattr(fixturedef, "cache_key") else None
    # What pytest's own implementation stores: (value, cache key, no exception); later requests read it.
    fixturedef.cached_result = (url, cache_key, None)
    return url


def pytest_report_header(config: pytest.Config) -> str:
    return f"original_sdk_plugin: fixture {FIXTURE!r} -> {_url()}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Records which `statehouse` package the tests imported, so the caller can check it tested the SDK it meant."""
    report = os.environ.get(SDK_REPORT_VARIABLE)
    if report:
        module = sys.modules.get("statehouse")
        with open(report, "w") as out:
            out.write(getattr(module, "__file__", None) or "")
