"""Shared by every test folder: the project on sys.path, and the local stack."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Use the stack `make up` started instead of a fresh one (faster when iterating).
USE_RUNNING_STACK = os.environ.get("PETS_USE_RUNNING_STACK") == "1"
# Folders whose tests run emulators, the identity provider or Chromium. `make test` runs
# two pytest-xdist workers: these all go to one worker (StackScheduling), so one stack
# serves them one after another, while the other worker runs the CPU-bound tests (program
# runs under mocks, the policy pack, the offline IAM engine). Within the group the browser
# tests come after the integration tests and the races last, when the CPU-bound tests are
# long done: a 50-way race or a 5 s browser wait beside a busy second worker on two cores
# times out (seen), and these tests must not be weakened to fit.
STACK_FOLDERS = ("devstack", "localstack", "integration", "e2e")


def pytest_configure(config: pytest.Config) -> None:
    """Every local apply of the session jitters its creates (devstack/apply/jitter.py), so
    a missing depends_on fails as an ordering error instead of hiding behind the usual
    order. One seed per session, chosen here unless given, and inherited by the xdist
    workers (started after this) and by `python -m devstack` subprocesses."""
    from devstack.apply.jitter import ENV

    os.environ.setdefault(ENV, str(random.SystemRandom().randrange(1, 10**6)))


def pytest_report_header(config: pytest.Config) -> str:
    from devstack.apply.jitter import ENV

    return f"local apply jitter: {ENV}={os.environ[ENV]} (set it to replay; off: no jitter)"


def _folder(nodeid: str) -> str:
    return nodeid.split("/")[1]


def _stack_order(item: pytest.Item) -> tuple[int, int]:
    return (item.get_closest_marker("race") is not None, STACK_FOLDERS.index(_folder(item.nodeid)))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Deterministic (every worker must collect the same order); sorted() is stable.
    stack = [i for i in items if _folder(i.nodeid) in STACK_FOLDERS]
    chosen = set(stack)
    items[:] = sorted(stack, key=_stack_order) + [i for i in items if i not in chosen]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """One work unit for every stack test, one per test for the rest.

    xdist's own `--dist loadgroup` would do, but its group suffix on the node id has no
    effect under pytest 9 (checked with pytest 9.2.0, xdist 3.8.0: grouped tests spread).
    LoadScopeScheduling hands the largest unit out first, so the stack starts at once.
    """
    from xdist.scheduler import LoadScopeScheduling

    class StackScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "stack" if _folder(nodeid) in STACK_FOLDERS else nodeid

    return StackScheduling(config, log)


@pytest.fixture(scope="session")
def running_stack(worker_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local stack (emulator + identity provider + the program), once per session.

    Names and ports are the session's own, so a `make up` stack is never touched.
    """
    from devstack import clients, stack
    from devstack.idp import idp_process
    from devstack.processes import procs

    if USE_RUNNING_STACK:
        idp = idp_process.running()
        assert idp is not None, "PETS_USE_RUNNING_STACK=1 but no identity provider runs"
        yield stack.Stack(clients.current_target(), idp, stack.load_outputs(), apply=None)
        return
    # Not tests/devstack's private_name("emulator") (test-emulator-<worker>): that fixture
    # stops its own emulator first, and under xdist the names would be the same.
    suffix = "" if worker_id == "master" else f"-{worker_id}"
    names = {"emulator_name": f"session-emulator{suffix}", "idp_name": f"session-idp{suffix}"}
    outputs_file = tmp_path_factory.mktemp("stack") / "outputs.json"
    local = stack.up(**names, idp_port=procs.free_port(), outputs_file=outputs_file)
    try:
        yield local
    finally:
        stack.down(**names, outputs_file=None)


@pytest.fixture(scope="session")
def local_stack(running_stack: Any) -> dict[str, Any]:
    """The running stack's outputs (apiUrl, roles, siteUrl, ...)."""
    return dict(running_stack.outputs)
