"""The programs the pack must accept: two app stacks that between them use every feature
(tests/support/programs.py: BASE_CONFIG, FULL_CONFIG) and the account baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import account_config
from harness_core.recorder import AUTH0_CLIENT_ID, ProgramRun, record_baseline
from harness_core.stack_files import stack_file_config
from tests.support.programs import BASE_CONFIG, FULL_CONFIG, recorded


@pytest.fixture(scope="package", params=["base", "full"])
def any_program(request: pytest.FixtureRequest) -> ProgramRun:
    return recorded(BASE_CONFIG if request.param == "base" else FULL_CONFIG)


@pytest.fixture(scope="package")
def baseline() -> ProgramRun:
    """The account baseline (account/Pulumi.example.yaml): the OIDC providers and API
    Gateway's CloudWatch role (a managed-policy attachment). `pulumi preview --policy-pack
    ../policy` from account/ runs the pack on it too."""
    config = stack_file_config(Path(__file__).resolve().parents[2] / "account" /
                               "Pulumi.example.yaml", account_config.NAMESPACE)
    return record_baseline(config, "example", stack_outputs={
        "organization/pets/prod": {"oidcClientId": AUTH0_CLIENT_ID}})


@pytest.fixture(scope="package", params=["base", "full", "baseline"])
def any_stack(request: pytest.FixtureRequest, baseline: ProgramRun) -> ProgramRun:
    """Every program the pack must accept: the app's two stacks and the account baseline."""
    if request.param == "baseline":
        return baseline
    return recorded(BASE_CONFIG if request.param == "base" else FULL_CONFIG)
