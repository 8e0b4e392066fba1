"""How long the web console takes to show an agent with a long history: seeds COMMITS one-key commits for one agent
through the async SDK, then opens the agent's page in chromium (Playwright) several times and reports the time from
navigation to the timeline's first page and the keys being on screen. A benchmark: it reports, never fails.

Usage: python console_load.py GRPC_ADDRESS HTTP_BASE_URL [COMMITS (default 10000)] [RUNS (default 5)]
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

from statehouse import AsyncStatehouse, Put


async def seed(address: str, commits: int) -> None:
    async with AsyncStatehouse(url=address, namespace="console-bench") as client:
        indexes = iter(range(commits))

        async def worker() -> None:
            for i in indexes:
                await client.apply([Put("long-agent", f"key-{i % 50}", {"step": i, "note": "x" * 80})])

        await asyncio.gather(*(worker() for _ in range(32)))


def main() -> None:
    address, base = sys.argv[1], sys.argv[2]
    commits = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    started = time.monotonic()
    asyncio.run(seed(address, commits))
    print(f"seeded {commits} commits in {time.monotonic() - started:.1f} s", file=sys.stderr)
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1366, "height": 800})
            begin = time.monotonic()
            page.goto(f"{base}/#/ns/console-bench/agent/long-agent")
            page.locator("#timeline .card").nth(49).wait_for()
            page.locator("#keys .card").nth(49).wait_for()
            times.append(time.monotonic() - begin)
            page.close()
        browser.close()
    print(
        f"console first load, agent with {commits} commits: median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {runs} loads"
    )


if __name__ == "__main__":
    main()
