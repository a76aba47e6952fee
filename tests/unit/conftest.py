from collections.abc import Callable
from pathlib import Path

import pytest

from harness_core.recorder import ProgramRun, record_program
from harness_core.stack_files import stack_file_config

ROOT = Path(__file__).resolve().parents[2]

ISSUER = "https://pets-test.eu.auth0.com/"
CLIENT_ID = "test-client-id"
BASE_CONFIG = {
    "pets:oidcIssuer": ISSUER,
    "pets:oidcClientId": CLIENT_ID,
    "pets:stage": "v1",
}


@pytest.fixture(scope="package")
def program() -> ProgramRun:
    """The program as `pulumi up` would run it for a stack with BASE_CONFIG."""
    return record_program(BASE_CONFIG)


@pytest.fixture(scope="package")
def example_stack() -> Callable[[str], ProgramRun]:
    """The program recorded with an example stack file (Pulumi.<stack>.yaml), once per
    stack for the whole package."""
    runs: dict[str, ProgramRun] = {}

    def run(stack: str) -> ProgramRun:
        if stack not in runs:
            config = stack_file_config(ROOT / f"Pulumi.{stack}.yaml")
            runs[stack] = record_program(config, stack=stack)
        return runs[stack]

    return run
