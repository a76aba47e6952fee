"""Chromium's headless shell (Debian's /usr/bin/chromium-headless-shell, what Playwright itself
runs headless) driven by Python Playwright, for every test below tests/browser: one browser per
pytest process, a fresh context per tab (the Tab is tests/support/browser.py's). Screenshots
of each step go to test-artifacts/<test>/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import LOOPBACK_HOSTS, Tab, note_refused

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("PETS_CHROMIUM", "/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="Python Playwright is not installed (requirements-dev.txt)"
    )
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs it (apt-get install -y "
                    "chromium-headless-shell)")
    with playwright_api.sync_playwright() as playwright:
        # Playwright gives each launch a fresh temporary profile (user-data dir).
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Where every tab sends what is not loopback: a proxy that does not exist (nothing listens on
# the discard port), so such a request fails in Chromium itself and reaches nothing.
NO_PROXY_HERE = "http://127.0.0.1:9"


@pytest.fixture
def open_tab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """open_tab(name) -> Tab: a fresh, isolated context (no shared cookies or storage) that
    reaches loopback only (NO_PROXY_HERE); what it was refused is in Tab.blocked.

    Not Playwright's request interception (context.route): every request then goes through
    the driver and this process, and Playwright answers CORS preflights itself, allowing
    everything, so the server never sees one. Without it the browser modules take 22% less
    CPU (test_site_retries and test_site_offline alone: 42 -> 33 CPU-seconds).
    """
    test_dir = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(test_dir, ignore_errors=True)
    contexts = []

    def open_(name: str = "user") -> Tab:
        context = browser.new_context(viewport={"width": 1000, "height": 800},
                                      proxy={"server": NO_PROXY_HERE,
                                             "bypass": ",".join(sorted(LOOPBACK_HOSTS))})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        tab = Tab(page, test_dir / name)
        tab.artifacts.mkdir(parents=True, exist_ok=True)
        page.on("requestfailed", note_refused(tab))
        page.on("console", lambda m: tab.console_errors.append((page.url, m.text))
                if m.type == "error" else None)
        page.on("pageerror", lambda e: tab.console_errors.append((page.url, f"uncaught: {e}")))
        return tab

    yield open_
    for context in contexts:
        context.close()
