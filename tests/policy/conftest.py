"""The program as the pack sees it, for two stacks that between them use every feature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components import account_config
from components.config import stack_file_config
from harness_core.recorder import AUTH0_CLIENT_ID, ProgramRun, record_baseline, record_program

ISSUER = "https://pets-test.eu.auth0.com/"
CLIENT_ID = "test-client-id"
KEY = "pets-test.eu.auth0.com/"
BASE_CONFIG = {
    "pets:oidcIssuer": ISSUER,
    "pets:oidcClientId": CLIENT_ID,
    "pets:stage": "v1",
}
# Every kind of membership rule and the production options.
FULL_CONFIG = {
    **BASE_CONFIG,
    # Production options: the pack must pass the stack with every one of them on.
    "pets:alarmEmail": "oncall@example.com",
    "pets:waf": "true",
    "pets:reservedConcurrency": json.dumps({"list_pets": 20, "purchase_pet": 10}),
    "pets:userClasses": json.dumps({
        "admin": {"subjects": ["auth0|root"], "sessionTags": {"pets-class": "admin"}},
        "buyer": {"subPatterns": ["google-oauth2|*"], "sessionTags": {"pets-class": "buyer"}},
    }),
}


@pytest.fixture(scope="package")
def program() -> ProgramRun:
    return record_program(BASE_CONFIG)


@pytest.fixture(scope="package")
def program_full() -> ProgramRun:
    return record_program(FULL_CONFIG)


@pytest.fixture(scope="package")
def local_program() -> ProgramRun:
    """Without CloudFront, as on the emulator: the site bucket is public-read."""
    return record_program({**BASE_CONFIG, "pets:siteCdn": "false"})


@pytest.fixture(scope="package")
def throwaway() -> ProgramRun:
    """A throwaway stack: the table's protections switched off."""
    return record_program({**BASE_CONFIG, "pets:dataProtection": "false"})


@pytest.fixture(scope="package", params=["base", "full"])
def any_program(request, program, program_full) -> ProgramRun:
    return program if request.param == "base" else program_full


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
def any_stack(request, program, program_full, baseline) -> ProgramRun:
    """Every program the pack must accept: the app's two stacks and the account baseline."""
    return {"base": program, "full": program_full, "baseline": baseline}[request.param]
