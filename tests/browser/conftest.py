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

from tests.support.browser import LOOPBACK_HOSTS, Tab, only_loopback

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


# Where a tab that may not intercept requests sends everything but loopback: nowhere.
NO_PROXY_HERE = "http://127.0.0.1:9"


@pytest.fixture
def open_tab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """open_tab(name) -> Tab: a fresh, isolated context (no shared cookies or storage).

    open_tab(name, real_cors=True): while Playwright intercepts a context's requests, it
    answers every CORS preflight itself, allowing everything, so the server never sees one.
    A tab that tests CORS goes without interception; Chromium sends what is not loopback to
    a proxy that does not exist (loopback bypasses it), so it reaches nothing else.
    """
    test_dir = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(test_dir, ignore_errors=True)
    contexts = []

    def open_(name: str = "user", *, real_cors: bool = False) -> Tab:
        context = browser.new_context(viewport={"width": 1000, "height": 800},
                                      proxy={"server": NO_PROXY_HERE,
                                             "bypass": ",".join(sorted(LOOPBACK_HOSTS))}
                                      if real_cors else None)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        tab = Tab(page, test_dir / name)
        tab.artifacts.mkdir(parents=True, exist_ok=True)
        if not real_cors:
            context.route("**/*", only_loopback(tab))
        page.on("console", lambda m: tab.console_errors.append((page.url, m.text))
                if m.type == "error" else None)
        page.on("pageerror", lambda e: tab.console_errors.append((page.url, f"uncaught: {e}")))
        return tab

    yield open_
    for context in contexts:
        context.close()
