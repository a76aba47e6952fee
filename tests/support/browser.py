"""A browser tab as the browser suites (tests/browser) see it: a Playwright page, what it
logged and what it was refused, and its screenshots. The fixtures that open tabs are in
tests/browser/conftest.py.

Every page may talk to loopback only: the identity provider's dev pages ask for a
web font from the internet, and a test must never depend on (or leak to) it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


@dataclass
class Tab:
    """One user's browser context and page, with what it logged and what it was refused."""

    page: Any
    artifacts: Path
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (page URL, text)
    blocked: list[str] = field(default_factory=list)
    _shots: int = 0

    def errors_on(self, origin: str, *, refusals_expected: bool = False) -> list[str]:
        """Console errors logged while a page of `origin` was open (not the IdP's pages).

        Chromium logs every 4xx/5xx answer as "Failed to load resource"; a test that
        provokes refusals on purpose leaves those out and keeps script errors.
        """
        return [text for url, text in self.console_errors if url.startswith(origin)
                and not (refusals_expected and text.startswith("Failed to load resource"))]

    def shot(self, step: str) -> Path:
        self._shots += 1
        path = self.artifacts / f"{self._shots:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"
        for _ in range(SHOT_TRIES - 1):
            try:
                self.page.screenshot(path=str(path), full_page=True)
                return path
            except Exception as err:  # Playwright's Error, whose module stays unimported here
                # Chromium gives no frame now and then when the machine is busy (seen once
                # in a `make test`, in a login's consent page): the page is fine, so the
                # artifact is taken again, and only a page that never gives one fails.
                if UNCAPTURED not in str(err):
                    raise
                self.page.wait_for_timeout(500)
        self.page.screenshot(path=str(path), full_page=True)
        return path


SHOT_TRIES = 3
UNCAPTURED = "Unable to capture screenshot"


def note_refused(tab: Tab) -> Any:
    """A `requestfailed` listener keeping, in tab.blocked, the requests that were not for
    loopback (the proxy they went to refused them)."""

    def note(request: Any) -> None:
        url = request.url
        if not url.startswith(("data:", "blob:")) and (
                urlsplit(url).hostname or "") not in LOOPBACK_HOSTS:
            tab.blocked.append(url)
    return note
