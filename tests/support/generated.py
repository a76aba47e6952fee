"""Files generated from a declaration and checked in (ACCESS.md, openapi.json, ...), so that a
review reads their diff: a test fails with the diff and the command when one is stale."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest


def assert_up_to_date(path: Path, expected: str, *, source: str, command: str) -> None:
    """Fails, showing the diff, unless `path` holds exactly `expected` (what `command`
    writes from `source`)."""
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            actual.splitlines(keepends=True), expected.splitlines(keepends=True),
            f"{path.name} (checked in)", f"{path.name} (from {source})", n=1))
        pytest.fail(f"{path.name} is out of date with {source}: run `{command}`, review the "
                    f"diff (`git diff {path.name}`) and commit it with the change.\n{diff}",
                    pytrace=False)
