"""The dev-stack harness tests' private emulator: one MiniStack per pytest worker, shared by
the emulator tests and the local-apply tests (tests/devstack/apply), which name everything
they create uniquely. Its record name is private_name("emulator"), never a `make up` one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.clients import Target
from tests.support.private import start_emulator, stop_emulator


@pytest.fixture(scope="session")
def emulator_target() -> Iterator[Target]:
    target = start_emulator("emulator")
    yield target
    stop_emulator("emulator")
