"""The local apply against the harness tests' private emulator (tests/devstack/conftest.py):
every test names what it creates uniquely, so they share it with each other and with the
emulator tests."""

from __future__ import annotations

import uuid

import pytest

from devstack import clients
from devstack.apply import ClientFactory


@pytest.fixture(scope="session")
def factory(emulator_target: clients.Target) -> ClientFactory:
    """Root clients on the private emulator: what the apply uses, and what tests read with."""
    return lambda service: clients.client(service, target=emulator_target)


@pytest.fixture
def unique() -> str:
    """A suffix that keeps names apart between tests sharing one emulator."""
    return uuid.uuid4().hex[:8]


