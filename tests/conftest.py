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
# Folders whose tests run emulators, the identity provider or Chromium. Under pytest-xdist
# with --dist loadgroup (not what `make test` runs: the races fail beside a second worker on
# two cores) they all go to one worker, so one stack serves them, one after another, while
# the other worker runs the CPU-bound tests (program runs under mocks, the policy pack, the
# offline IAM engine).
STACK_FOLDERS = ("integration", "e2e", "devstack", "localstack")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).relative_to(ROOT / "tests").parts[0] in STACK_FOLDERS:
            item.add_marker(pytest.mark.xdist_group("stack"))


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
