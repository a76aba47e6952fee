"""Every user class calls every route: 2xx exactly where the model allows, else 403.

The expected table comes from access.py; the measured one is printed on
failure. A third, test-only class with no routes gets 403 everywhere, and the
measured matrix must also equal ACCESS.md and the offline IAM engine's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import access
from components import policies
from devstack import calls, clients, live_matrix
from tests.support.session_stack import Local

AUDITOR = access.UserClass(
    "auditor", routes=(), members=access.Membership(sub_patterns=("samlp|*",)),
    description="test-only: a class with no routes",
)


def create_test_only_role(local: Local) -> str:
    """The role the program would create for AUDITOR (same trust policy function, no grant)."""
    iam = clients.client("iam", target=local.target)
    issuer_key = policies.oidc_key_prefix(local.outputs["oidcIssuer"])
    (provider,) = [p["Arn"] for p in iam.list_open_id_connect_providers()[
        "OpenIDConnectProviderList"] if p["Arn"].endswith(f"oidc-provider/{issuer_key}")]
    trust = policies.trust_policy(provider, local.outputs["oidcIssuer"],
                                  local.outputs["oidcClientId"], AUDITOR.members)
    name = f"pets-{local.outputs['stage']}-test-{AUDITOR.name}"
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"]["Arn"]


@pytest.fixture(scope="session")
def measured(local: Local, enforced: None, lambda_runs: None) -> dict[str, dict[str, int]]:
    callers = [live_matrix.caller_for(c, local.outputs, local.target, local.idp)
               for c in access.USER_CLASSES]
    token = local.token("mallory")
    role_arn = create_test_only_role(local)
    try:
        credentials = calls.assume_role(role_arn, token, session_name="it-mallory",
                                        target=local.target)
        callers.append(live_matrix.Caller(AUDITOR.name, local.api(credentials), token))
        return live_matrix.measure(local.outputs, callers, target=local.target)
    finally:
        # The stack is shared: a role the program does not declare, left behind, is a role
        # the access proof of the deployed stack rightly refutes (tests/integration/
        # test_prove_deployed.py: "no other role admits any web-identity token").
        clients.client("iam", target=local.target).delete_role(
            RoleName=role_arn.rsplit("/", 1)[1])


def expected_allowed() -> dict[str, dict[str, bool]]:
    expected = access.access_matrix((*access.USER_CLASSES, AUDITOR))
    expected[live_matrix.UNSIGNED] = {r.id: r.public for r in access.ROUTES}
    return expected


def test_each_class_reaches_exactly_its_routes(measured: dict[str, dict[str, int]]):
    table = live_matrix.render(measured)
    assert live_matrix.allowed(measured) == expected_allowed(), (
        f"measured (HTTP status per signed call):\n{table}")


def test_denials_are_403_not_other_errors(measured: dict[str, dict[str, int]]):
    denied = [status for label, row in measured.items() for route, status in row.items()
              if not expected_allowed()[label][route]]
    assert denied and set(denied) == {403}, live_matrix.render(measured)


def test_measured_matrix_equals_access_md(measured: dict[str, dict[str, int]]):
    from policy.access_doc import access_matrix_from_doc

    documented = access_matrix_from_doc(access.__file__.replace("access.py", "ACCESS.md"))
    live = {c.name: live_matrix.allowed(measured)[c.name] for c in access.USER_CLASSES}
    assert live == documented, f"ACCESS.md vs measured:\n{live_matrix.render(measured)}"


def test_emulator_and_offline_engine_agree(measured: dict[str, dict[str, int]]):
    """Two independent IAM engines (MiniStack's, iam-simulate's) must say the same."""
    from iamsim.offline_matrix import offline_matrices
    from iamsim.report import compare_matrices

    offline = offline_matrices("local").invoke
    live = {c.name: live_matrix.allowed(measured)[c.name] for c in access.USER_CLASSES}
    report = compare_matrices(offline, live, engines=("offline (iam-simulate)", "emulator"))
    assert report is None, report


def test_path_parameter_grant_does_not_reach_other_methods(
    local: Local, sessions: dict[str, Any], enforced: None
):
    """Admin's DELETE /pets/* must not open DELETE on the purchase resource."""
    response = sessions["admin"].api.call("DELETE", "/pets/purchase")
    assert response.status_code in {403, 404}, response.text


def test_roles_are_refused_on_another_stage(local: Local, sessions: dict[str, Any],
                                            enforced: None):
    """The invoke grants name this stage only."""
    other = calls.Api(local.outputs["apiUrl"].rsplit("/", 1)[0] + "/other",
                      local.outputs["region"], sessions["buyer"].credentials)
    assert other.call("GET", "/pets").status_code in {403, 404}
