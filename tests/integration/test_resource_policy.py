"""The REST API's resource policy, as the emulator enforces it: a second wall behind the
class roles' own invoke policies.

Each test widens an identity policy the way a mistake would (a new role in the account
allowed to invoke the API, a class role given another class's route) and calls with that
role's real session credentials: the identity policy alone would let the call through,
so a 403 here is the resource policy's doing. The deploy key only sets up.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

import access
from devstack import clients
from tests.support.session_stack import Local, Session

ROUTE_ARN_TEMPLATE = "{execution_arn}/{stage}/{suffix}"


def _execution_arn(local: Local) -> str:
    role_arn = local.outputs["roles"]["admin"]
    account = role_arn.split(":")[4]
    return f"arn:aws:execute-api:{local.outputs['region']}:{account}:{local.outputs['restApiId']}"


def _route_arns(local: Local, routes) -> list[str]:
    return [ROUTE_ARN_TEMPLATE.format(execution_arn=_execution_arn(local),
                                      stage=local.outputs["stage"], suffix=r.arn_suffix)
            for r in routes]


def _invoke_policy(arns: list[str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": arns}]})


@pytest.fixture
def outsider(local: Local, enforced: None) -> Iterator[dict]:
    """Session credentials of a role that is no user class, allowed by its own policy to
    invoke every route of the API exactly as the admin role may."""
    iam = clients.client("iam", target=local.target)
    name = f"pets-it-outsider-{uuid.uuid4().hex[:8]}"
    account = local.outputs["roles"]["admin"].split(":")[4]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    try:
        iam.put_role_policy(RoleName=name, PolicyName="invoke-everything",
                            PolicyDocument=_invoke_policy(_route_arns(local, access.ROUTES)))
        sts = clients.client("sts", target=local.target)
        yield sts.assume_role(RoleArn=role["Arn"], RoleSessionName="outsider")["Credentials"]
    finally:
        iam.delete_role_policy(RoleName=name, PolicyName="invoke-everything")
        iam.delete_role(RoleName=name)


def test_a_role_outside_the_classes_is_denied_whatever_its_policy(
    local: Local, buyer: Session, outsider: dict, lambda_runs: None
):
    assert buyer.api.call("GET", "/pets").status_code == 200  # the route works for a class
    response = local.api(outsider).call("GET", "/pets")
    assert response.status_code == 403, response.text


def test_a_widened_class_role_still_cannot_call_another_class_route(
    local: Local, admin: Session, enforced: None, lambda_runs: None
):
    """The admin role given POST /pets/purchase by an extra inline policy: the resource
    policy's per-class deny still refuses it."""
    iam = clients.client("iam", target=local.target)
    role_name = local.outputs["roles"]["admin"].rsplit("/", 1)[-1]
    iam.put_role_policy(RoleName=role_name, PolicyName="it-widened",
                        PolicyDocument=_invoke_policy(
                            _route_arns(local, [access.PURCHASE_PET])))
    try:
        response = admin.api.call("POST", "/pets/purchase", json={"petId": "none"},
                                  headers={"X-Id-Token": admin.token})
        assert response.status_code == 403, response.text
    finally:
        iam.delete_role_policy(RoleName=role_name, PolicyName="it-widened")
