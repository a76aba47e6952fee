"""Fixtures for the dev-stack harness tests: a private emulator and identity provider.

They run under their own record names (and free ports), so they never touch a stack that
`make up` started, and several pytest-xdist workers never collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.clients import EXTERNAL_ENDPOINT_ENV, Target
from devstack.processes import emulator, procs

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEST_CLIENT_ID = "pets-test"
TEST_REDIRECT_URIS = ("http://127.0.0.1:8000/callback", "http://127.0.0.1:8000/other-callback")


def private_name(kind: str) -> str:
    """A record name private to this pytest worker."""
    return f"test-{kind}-{WORKER}"


@pytest.fixture(scope="session")
def emulator_target() -> Iterator[Target]:
    name = private_name("emulator")
    emulator.stop(name)  # a leftover of an interrupted run
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)  # these tests are about our own process
        target = emulator.start(procs.free_port(), name=name)
    yield target
    emulator.stop(name)
