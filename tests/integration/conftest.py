"""The integration suite's view of the local stack.

Credentials are obtained the way users obtain them: an ID token from the
identity provider, STS AssumeRoleWithWebIdentity (unsigned), SigV4-signed
calls with the role's session credentials. The emulator's root key is used
only to set up and to read the table back, never for a call meant to be denied.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from devstack import calls, clients, probes
from devstack.clients import Target
from devstack.idp import idp_process, login_client, tokens

USERS_BY_CLASS = {"admin": "alice", "buyer": "bob"}


@dataclass
class Local:
    outputs: dict[str, Any]
    target: Target
    idp: idp_process.Idp

    def token(self, user: str) -> str:
        """A real ID token from the identity provider's code + PKCE login."""
        return login_client.id_token(user, idp=self.idp)

    def mint(self, overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        """A deliberately bad token (negative tests only), signed with the provider's key."""
        return tokens.mint_token(overrides, idp=self.idp, **kwargs)

    def assume(self, user_class: str, token: str, **kwargs: Any) -> dict[str, Any]:
        return calls.assume_role(self.outputs["roles"][user_class], token,
                                 target=self.target, **kwargs)

    def api(self, credentials: Mapping[str, Any] | None = None) -> calls.Api:
        return calls.Api(self.outputs["apiUrl"], self.outputs["region"], credentials)

    @functools.cached_property
    def table(self) -> Any:
        """The pets table read with the deploy key: to check state, never to be denied."""
        dynamodb = clients.client("dynamodb", target=self.target)
        return _Table(dynamodb, self.outputs["tableName"])


class _Table:
    def __init__(self, dynamodb: Any, name: str):
        self._ddb, self._name = dynamodb, name

    def items(self) -> list[dict[str, Any]]:
        items, kwargs = [], {"TableName": self._name, "ConsistentRead": True}
        while True:
            page = self._ddb.scan(**kwargs)
            items += [{k: next(iter(v.values())) for k, v in i.items()} for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, pet_id: str) -> dict[str, Any] | None:
        item = self._ddb.get_item(TableName=self._name, Key={"petId": {"S": pet_id}},
                                  ConsistentRead=True).get("Item")
        return {k: next(iter(v.values())) for k, v in item.items()} if item else None


@pytest.fixture(scope="session")
def local(running_stack: Any) -> Local:
    return Local(dict(running_stack.outputs), running_stack.target, running_stack.idp)


@dataclass
class Session:
    user: str
    token: str
    credentials: dict[str, Any]
    api: calls.Api


@pytest.fixture(scope="session")
def sessions(local: Local) -> dict[str, Session]:
    """One logged-in user per class, holding that class's role: {class: Session}."""
    result = {}
    for user_class, user in USERS_BY_CLASS.items():
        token = local.token(user)
        credentials = local.assume(user_class, token, session_name=f"it-{user}")
        result[user_class] = Session(user, token, credentials, local.api(credentials))
    return result


@pytest.fixture(scope="session")
def admin(sessions: dict[str, Session]) -> Session:
    return sessions["admin"]


@pytest.fixture(scope="session")
def buyer(sessions: dict[str, Session]) -> Session:
    return sessions["buyer"]


@pytest.fixture(scope="session")
def other_buyer(local: Local) -> Session:
    """dave: a second buyer, with a social login and a role session of his own."""
    token = local.token("dave")
    credentials = local.assume("buyer", token, session_name="it-dave")
    return Session("dave", token, credentials, local.api(credentials))


@pytest.fixture(scope="session")
def enforced(local: Local) -> None:
    """Skips a test when the target does not enforce AWS_IAM (e.g. LocalStack community).

    An unsigned call to an AWS_IAM method must be refused; if it is not, no
    denial measured on this target means anything.
    """
    reason = probes.sigv4_enforced(local.outputs)
    if reason:
        pytest.skip(f"the target does not enforce AWS_IAM ({reason}): use MiniStack "
                    "(the default) or LocalStack Pro with ENFORCE_IAM=1")


@pytest.fixture(scope="session")
def lambda_runs(local: Local) -> None:
    """Skips a test that needs a function to run when the target cannot run Lambdas
    (LocalStack community without Docker stores them in state Failed)."""
    reason = probes.lambda_runs(local.outputs)
    if reason:
        pytest.skip(f"the target does not run Lambda functions ({reason}): use MiniStack "
                    "(the default) or LocalStack with Docker")


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


def add_pet(admin: Session, kind: str = "dog", price: float = 100) -> dict[str, Any]:
    response = admin.api.call("POST", "/pets", json={"type": kind, "price": price})
    assert response.status_code == 201, response.text
    return response.json()


def purchase(session: Session, pet_id: str, token: str | None) -> requests.Response:
    headers = {} if token is None else {"X-Id-Token": token}
    return session.api.call("POST", "/pets/purchase", json={"petId": pet_id}, headers=headers)


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (to know what the test sent)."""
    return tokens.unverified_claims(token)


@pytest.fixture(scope="session")
def gateway_validates(admin: Session) -> bool:
    """Whether the target's API Gateway refuses a malformed body itself (request validator
    and model), found by trying: a body that is no JSON object, sent as the admin."""
    from components.api_models import BAD_BODY_MESSAGE

    response = admin.api.call("POST", "/pets", data="[]")
    return response.status_code == 400 and response.json() == {"error": BAD_BODY_MESSAGE}
