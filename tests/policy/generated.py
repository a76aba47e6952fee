"""The check every generated, checked-in file gets: it is what its generator writes now."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def check_up_to_date(path: Path, expected: str, *, source: str, make: str) -> None:
    """Fails with the diff when the checked-in `path` is not `expected`: run `make`."""
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        name = path.relative_to(ROOT)
        diff = "".join(difflib.unified_diff(
            actual.splitlines(keepends=True), expected.splitlines(keepends=True),
            f"{name} (checked in)", f"{name} (from {source})", n=1))
        pytest.fail(f"{name} is out of date with {source}: run `{make}`, review the diff "
                    f"(`git diff {name}`) and commit it with the change.\n" + diff,
                    pytrace=False)
