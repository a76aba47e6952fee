import pytest

from harness_core.recorder import ProgramRun, record_program

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
