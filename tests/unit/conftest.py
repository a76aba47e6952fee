"""The program recorded once for the whole session (tests/support/programs.py)."""

import pytest

from harness_core.recorder import ProgramRun
from tests.support.programs import BASE_CONFIG, recorded


@pytest.fixture(scope="package")
def program() -> ProgramRun:
    """The program as `pulumi up` would run it for a stack with BASE_CONFIG."""
    return recorded(BASE_CONFIG)
