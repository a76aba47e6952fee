"""Shared by every test folder: the project on sys.path, and the local stack."""

from __future__ import annotations

import os
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
# two pytest-xdist workers with --dist loadgroup: these all go to one worker, so one stack
# serves them one after another, while the other worker runs the CPU-bound tests (program
# runs under mocks, the policy pack, the offline IAM engine). Within the group the browser
# tests come after the integration tests and the races last, when the CPU-bound tests are
# long done: a 50-way race or a 5 s browser wait beside a busy second worker on two cores
# times out (seen), and these tests must not be weakened to fit.
STACK_FOLDERS = ("devstack", "localstack", "integration", "e2e")


def _stack_order(item: pytest.Item) -> tuple[int, int]:
    folder = Path(item.path).relative_to(ROOT / "tests").parts[0]
    return (item.get_closest_marker("race") is not None, STACK_FOLDERS.index(folder))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    stack = [i for i in items if Path(i.path).relative_to(ROOT / "tests").parts[0]
             in STACK_FOLDERS]
    for item in stack:
        item.add_marker(pytest.mark.xdist_group("stack"))
    # Deterministic (every worker must collect the same order): the CPU-bound tests
    # first, then the stack group in _stack_order; sorted() is stable within a key.
    chosen = set(stack)
    items[:] = [i for i in items if i not in chosen] + sorted(stack, key=_stack_order)


@pytest.fixture(scope="session")
def running_stack(worker_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local stack (emulator + identity provider + the program), once per session.

    Names and ports are the session's own, so a `make up` stack is never touched.
    """
    from devstack import clients, idp_process, procs, stack

    if USE_RUNNING_STACK:
        idp = idp_process.running()
        assert idp is not None, "PETS_USE_RUNNING_STACK=1 but no identity provider runs"
        yield stack.Stack(clients.current_target(), idp, stack.load_outputs(), apply=None)
        return
    suffix = "" if worker_id == "master" else f"-{worker_id}"
    names = {"emulator_name": f"test-emulator{suffix}", "idp_name": f"test-idp{suffix}"}
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
