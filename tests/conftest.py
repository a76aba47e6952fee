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
