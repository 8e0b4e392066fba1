"""The web console in a real browser (Playwright driving Debian's chromium) against a real daemon with seeded data:
namespaces, an agent's keys and timeline, a new commit appearing live, a key's history and a diff, verify. Screenshots
go to .build/console-screenshots/ for people to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from daemon import Daemon
from http_client import HTTP
from statehouse import Delete, Put, Statehouse

SHOTS = Path(__file__).resolve().parents[2] / ".build" / "console-screenshots"


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("STATEHOUSE_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (scripts/test.sh installs Debian's package)")
        pytest.skip("chromium is not installed (scripts/test.sh installs Debian's package)")
    return path


@pytest.fixture
def console(make_daemon: Any) -> Iterator[tuple]:
    sync_api = pytest.importorskip("playwright.sync_api")
    daemon: Daemon = make_daemon()
    HTTP(daemon.http_url).wait_ready()
    with Statehouse(url=daemon.url, namespace="console") as client:
        client.apply(
            [Put("planner", "plan", {"goal": "ship", "steps": ["design", "build"]})],
            metadata={"actor": "alice", "reason": "first plan"},
        )
        client.apply(
            [Put("planner", "plan", {"goal": "ship", "steps": ["design", "build", "test"], "owner": "bob"})],
            metadata={"actor": "bob", "reason": "add testing"},
        )
        client.apply([Put("planner", "notes/big", {"text": "x" * 6000}), Put("planner", "scratch", 1)])
        client.apply([Delete("planner", "scratch")], metadata={"actor": "alice", "reason": "clean up"})
        client.apply([Put("researcher", "sources", ["a", "b"])])
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        errors: List[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield daemon, page, errors
        browser.close()


def test_console_walkthrough(console: tuple) -> None:
    daemon, page, errors = console
    page.goto(daemon.http_url + "/")
    page.get_by_role("link", name="console", exact=True).wait_for()
    page.screenshot(path=str(SHOTS / "1-namespaces.png"))

    # Without a mouse: focus the namespace link and press Enter.
    page.get_by_role("link", name="console", exact=True).focus()
    page.keyboard.press("Enter")
    page.get_by_role("link", name="planner").wait_for()
    rows = page.locator("tbody tr").all_inner_texts()
    assert any("planner" in row and "active" in row for row in rows)
    page.screenshot(path=str(SHOTS / "2-agents.png"))

    page.get_by_role("button", name="Verify").click()
    page.get_by_text("Verified: 5 events").wait_for()
    assert "signed tree head: size 5" in page.locator("#verify-result").inner_text()
    page.screenshot(path=str(SHOTS / "3-verified.png"))

    # Search (commit metadata is always indexed): by keyboard, from the namespace page.
    page.get_by_role("searchbox", name="Search this namespace").fill("testing")
    page.keyboard.press("Enter")
    page.locator(".card.hit").first.wait_for()
    assert (
        "add" in page.locator(".card.hit mark").first.inner_text()
        or "testing" in page.locator(".card.hit").first.inner_text()
    )
    page.screenshot(path=str(SHOTS / "3b-search.png"))
    page.go_back()
    page.get_by_role("link", name="planner").click()
    page.locator("#keys").get_by_role("link", name="plan", exact=True).wait_for()
    assert page.locator("#timeline .card").count() == 4
    assert "clean up" in page.locator("#timeline .card").first.inner_text()
    # A big value is cut, with a way to see all of it.
    show_all = page.locator("#keys").get_by_role("button", name="Show all")
    assert show_all.count() == 1
    show_all.click()
    assert page.locator("#keys").get_by_role("button", name="Show all").count() == 0
    page.locator("#live").get_by_text("live").wait_for()

    # A commit made elsewhere appears on the timeline without a reload.
    with Statehouse(url=daemon.url, namespace="console") as client:
        result = client.apply(
            [Put("planner", "plan", {"goal": "ship", "done": True})], metadata={"actor": "carol", "reason": "done"}
        )
    fresh = page.locator(f'#timeline .card[data-commit-ts="{result.commit_ts}"]')
    fresh.wait_for()
    assert "carol" in fresh.inner_text() and "done" in fresh.inner_text()
    assert page.locator("#timeline .card").first.get_attribute("data-commit-ts") == str(result.commit_ts)
    plan_card = page.locator('#keys .card[data-key="plan"]')
    assert "v3" in plan_card.inner_text() and '"done": true' in plan_card.inner_text()  # the key updated in place
    page.screenshot(path=str(SHOTS / "4-agent-live.png"), full_page=True)

    page.locator("#keys").get_by_role("link", name="plan", exact=True).click()
    page.locator('[data-version="3"]').wait_for()
    assert page.locator(".card[data-version]").count() == 3
    page.select_option("#diff-left", "1")
    page.select_option("#diff-right", "2")
    page.get_by_role("button", name="Diff").click()
    diff = page.locator("#diff")
    assert "version 1" in diff.inner_text() and "version 2" in diff.inner_text()
    added = diff.locator("pre.add").all_inner_texts()
    removed = diff.locator("pre.del").all_inner_texts()
    assert any('"test"' in line for line in added)
    assert any('"owner": "bob"' in line for line in added)
    assert any('"build"' in line for line in removed)  # the line lost its comma: changed, shown as - and +
    page.screenshot(path=str(SHOTS / "5-key-diff.png"), full_page=True)

    # A broken link shows a message, not a stack trace.
    page.goto(daemon.http_url + "/#/ns/console/agent/nobody")
    page.locator("#error").wait_for()
    assert "nobody" in page.locator("#error").inner_text()
    assert "at " not in page.locator("#error").inner_text()
    assert errors == []


def test_console_with_auth_asks_for_a_token_and_follows_live(make_daemon: Any) -> None:
    """With --auth required the console shows a sign-in form, keeps the token for the tab, sends it on every request
    and on the live stream (a fetch read as Server-Sent Events, since EventSource cannot send headers)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    daemon: Daemon = make_daemon("--auth", "required")
    admin = (daemon.data_dir / "admin.token").read_text().strip()
    HTTP(daemon.http_url).wait_ready()
    metadata = [("authorization", "Bearer " + admin)]
    with Statehouse(url=daemon.url, namespace="guarded", metadata=metadata) as client:
        client.apply([Put("planner", "plan", {"step": 1})])
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        errors: List[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(daemon.http_url + "/#/ns/guarded/agent/planner")
        page.get_by_role("heading", name="This daemon requires a token").wait_for()
        page.screenshot(path=str(SHOTS / "6-sign-in.png"))
        page.get_by_label("Token").fill(admin)
        page.get_by_role("button", name="Use token").click()
        page.locator("#live").get_by_text("live").wait_for()
        with Statehouse(url=daemon.url, namespace="guarded", metadata=metadata) as client:
            result = client.apply([Put("planner", "plan", {"step": 2})])
        page.locator(f'#timeline .card[data-commit-ts="{result.commit_ts}"]').wait_for()
        page.get_by_role("button", name="Forget token").click()
        page.get_by_role("heading", name="This daemon requires a token").wait_for()
        assert admin not in page.content()
        assert errors == []
        browser.close()
