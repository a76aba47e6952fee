"""The integration suite's fixtures: the session stack (tests/conftest.py `running_stack`)
seen through tests/support/session_stack.py, one logged-in user per class, and what the
target can evaluate (a test skips, saying why, where it cannot)."""

from __future__ import annotations

from typing import Any

import pytest

from devstack import calls, probes
from tests.support.session_stack import USERS_BY_CLASS, Local, Session


@pytest.fixture(scope="session")
def local(running_stack: Any) -> Local:
    return Local.of(running_stack)


@pytest.fixture(scope="session")
def sessions(local: Local) -> dict[str, Session]:
    """One logged-in user per class, holding that class's role: {class: Session}."""
    return {user_class: local.login(user, user_class)
            for user_class, user in USERS_BY_CLASS.items()}


@pytest.fixture(scope="session")
def admin(sessions: dict[str, Session]) -> Session:
    return sessions["admin"]


@pytest.fixture(scope="session")
def buyer(sessions: dict[str, Session]) -> Session:
    return sessions["buyer"]


@pytest.fixture(scope="session")
def other_buyer(local: Local) -> Session:
    """dave: a second buyer, with a social login and a role session of his own."""
    return local.login("dave", "buyer")


def _skip_unless_able(reason: str | None, cannot: str, instead: str) -> None:
    """Skips the test when a probe found a reason the target cannot do what it needs."""
    if reason:
        pytest.skip(f"the target does not {cannot} ({reason}): use MiniStack (the default) "
                    f"or {instead}")


@pytest.fixture(scope="session")
def enforced(local: Local) -> None:
    """Skips a test when the target does not enforce AWS_IAM (e.g. LocalStack community).

    An unsigned call to an AWS_IAM method must be refused; if it is not, no
    denial measured on this target means anything.
    """
    _skip_unless_able(probes.sigv4_enforced(local.outputs), "enforce AWS_IAM",
                      "LocalStack Pro with ENFORCE_IAM=1")


@pytest.fixture(scope="session")
def lambda_runs(local: Local) -> None:
    """Skips a test that needs a function to run when the target cannot run Lambdas
    (LocalStack community without Docker stores them in state Failed)."""
    _skip_unless_able(probes.lambda_runs(local.outputs), "run Lambda functions",
                      "LocalStack with Docker")


@pytest.fixture(scope="session")
def trust_enforced(local: Local) -> None:
    """Skips a test about role selection when STS does not evaluate trust policies
    (LocalStack community gives any role to any token)."""
    outsider = local.token("mallory")  # a real login of a user in no class
    role = local.outputs["roles"]["buyer"]
    if calls.assume_role_unless_refused(role, outsider, target=local.target,
                                        session_name="probe-trust") is not None:
        pytest.skip(f"STS AssumeRoleWithWebIdentity gave {role} to a user its trust policy "
                    "does not admit: the target does not evaluate trust policies: use MiniStack "
                    "(the default) or LocalStack Pro")


@pytest.fixture(scope="session")
def gateway_validates(admin: Session) -> bool:
    """Whether the target's API Gateway refuses a malformed body itself (request validator
    and model), found by trying: a body that is no JSON object, sent as the admin."""
    from components.api_models import BAD_BODY_MESSAGE

    response = admin.api.call("POST", "/pets", data="[]")
    return response.status_code == 400 and response.json() == {"error": BAD_BODY_MESSAGE}
