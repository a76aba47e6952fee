"""Fixtures for test_apply.py: a private emulator for the local-apply tests.

Its own record name (and a free port): the apply creates fixed-name resources for the
real program, which must land in an emulator no other test has used.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from devstack import clients
from devstack.apply import ClientFactory
from devstack.clients import EXTERNAL_ENDPOINT_ENV, Target
from devstack.processes import emulator, procs

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _start(kind: str) -> Target:
    name = f"test-{kind}-{WORKER}"
    emulator.stop(name)  # a leftover of an interrupted run
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)  # always our own, fresh emulator
        return emulator.start(procs.free_port(), name=name)


@pytest.fixture(scope="session")
def apply_target() -> Iterator[Target]:
    """Shared by the per-type tests; every test names its resources uniquely."""
    target = _start("apply")
    yield target
    emulator.stop(f"test-apply-{WORKER}")


@pytest.fixture(scope="session")
def factory(apply_target: Target) -> ClientFactory:
    """Root clients on the private emulator: what the apply uses, and what tests read with."""
    return lambda service: clients.client(service, target=apply_target)


@pytest.fixture
def fresh_target() -> Iterator[Target]:
    """An emulator of its own, for applying the real program (fixed resource names)."""
    target = _start("apply-real")
    yield target
    emulator.stop(f"test-apply-real-{WORKER}")


@pytest.fixture
def unique() -> str:
    """A suffix that keeps names apart between tests sharing one emulator."""
    return uuid.uuid4().hex[:8]
