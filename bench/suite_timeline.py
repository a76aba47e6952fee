"""A pytest plugin for bench/testsuite.py: where a test run's time goes, as data.

`pytest -p bench.suite_timeline` with PETS_SUITE_TIMELINE=<file> appends one JSON line per test
(its node id, which process ran it, when its setup began and its teardown ended, in seconds
since the epoch, and the CPU seconds the test process itself spent on it, its children's
not included) and one per pytest process (when it started and finished). Under
pytest-xdist every worker appends its own lines; the controller adds its session's. Without
the variable the plugin does nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

ENV = "PETS_SUITE_TIMELINE"


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get(ENV)
    if path:
        # One line per write, in append mode: the workers' lines never interleave.
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _process() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _write({"process": _process(), "session_start": session.config.stash[_STARTED],
            "session_end": time.time(), "target": os.environ.get("PETS_TARGET", "")})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    began, cpu = time.time(), time.process_time()
    try:
        return (yield)
    finally:
        _write({"process": _process(), "nodeid": item.nodeid, "start": began,
                "end": time.time(), "cpu": time.process_time() - cpu,
                "target": os.environ.get("PETS_TARGET", "")})


_STARTED = pytest.StashKey[float]()
