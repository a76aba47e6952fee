"""The session stack as the integration and browser suites use it: calls made the way users
make them. An ID token from the identity provider's code + PKCE login, STS
AssumeRoleWithWebIdentity (unsigned), SigV4-signed calls with the role's session credentials.
The emulator's root key is used only to set up and to read the table back, never for a call
meant to be denied. The fixtures that hand these out are in tests/integration/conftest.py.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

import access
from components.naming import function_name
from devstack import calls, clients
from devstack.clients import Target
from devstack.idp import idp_process, login_client, tokens

USERS_BY_CLASS = {"admin": "alice", "buyer": "bob"}


@dataclass
class Local:
    """The session stack: its outputs, its emulator and its identity provider."""

    outputs: dict[str, Any]
    target: Target
    idp: idp_process.Idp

    @classmethod
    def of(cls, running_stack: Any) -> Local:
        """From tests/conftest.py's `running_stack` (a devstack.stack.Stack)."""
        return cls(dict(running_stack.outputs), running_stack.target, running_stack.idp)

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

    def login(self, user: str, user_class: str) -> Session:
        """`user` logged in and holding `user_class`'s role (a session named after them)."""
        token = self.token(user)
        credentials = self.assume(user_class, token, session_name=f"it-{user}")
        return Session(user, token, credentials, self.api(credentials))

    @functools.cached_property
    def table(self) -> Any:
        """The pets table read with the deploy key: to check state, never to be denied."""
        dynamodb = clients.client("dynamodb", target=self.target)
        return Table(dynamodb, self.outputs["tableName"])


class Table:
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


@dataclass
class Session:
    user: str
    token: str
    credentials: dict[str, Any]
    api: calls.Api


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


def keyed_add(admin: Session, body: dict, key: str) -> requests.Response:
    """An add carrying an Idempotency-Key (quoted, as the site sends it)."""
    return admin.api.call("POST", "/pets", json=body, headers={"Idempotency-Key": f'"{key}"'})


def stored_of_type(local: Local, kind: str) -> list[dict]:
    """The table's pets of one type (tests name their type uniquely)."""
    return [i for i in local.table.items() if i["type"] == kind]


def prefix_of(local: Local) -> str:
    """`pets-<stack>`: the table's name is `<prefix>-pets` (components/naming.py)."""
    return local.outputs["tableName"].removesuffix("-pets")


@contextmanager
def reconfigured(local: Local, route: access.Route, *, environment: dict[str, str] | None = None,
                 **changes: Any) -> Iterator[None]:
    """The route's function with `changes` (and environment variables added) until the
    block ends, then as it was."""
    lam = clients.client("lambda", target=local.target)
    name = function_name(prefix_of(local), route)
    before = lam.get_function_configuration(FunctionName=name)
    variables = before["Environment"]["Variables"]
    try:
        _update(lam, name, Environment={"Variables": {**variables, **(environment or {})}},
                **changes)
        yield
    finally:
        _update(lam, name, Environment={"Variables": variables}, Handler=before["Handler"],
                Timeout=before["Timeout"])


def _update(lam: Any, name: str, **changes: Any) -> None:
    """The change, once the function says it is in effect. The emulator has dropped the
    function's warm workers by the time UpdateFunctionConfiguration answers (the next call
    starts one with the new configuration), and reports the update done half a second on."""
    lam.update_function_configuration(FunctionName=name, **changes)
    deadline = time.monotonic() + 30
    while lam.get_function_configuration(FunctionName=name).get(
            "LastUpdateStatus", "Successful") != "Successful":
        assert time.monotonic() < deadline, f"{name} still updating after 30 s"
        time.sleep(0.1)
