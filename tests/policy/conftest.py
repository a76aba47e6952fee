"""The program as the pack sees it, for two stacks that between them use every feature."""

from __future__ import annotations

import json

import pytest

from harness_core.recorder import ProgramRun, record_program

ISSUER = "https://pets-test.eu.auth0.com/"
CLIENT_ID = "test-client-id"
KEY = "pets-test.eu.auth0.com/"
BASE_CONFIG = {
    "pets:oidcIssuer": ISSUER,
    "pets:oidcClientId": CLIENT_ID,
    "pets:stage": "v1",
}
# The account logging role (a managed-policy attachment) and every kind of membership rule.
FULL_CONFIG = {
    **BASE_CONFIG,
    "pets:manageApiGatewayAccount": "true",
    # Production options (issue 14).
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
