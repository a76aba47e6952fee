"""`devstack up` outputs and the `token` command, against the session's local stack."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import requests
from jwcrypto import jwk, jwt

from devstack import stack
from tests.support.processes import served_jwks

ROOT = stack.paths.REPO


def test_up_writes_every_output_key(running_stack: Any):
    written = stack.load_outputs(running_stack.outputs_file)
    assert set(written) == set(stack.OUTPUT_KEYS)
    assert written["endpoint"] == running_stack.target.endpoint_url
    assert written["apiUrl"].startswith(f"{written['endpoint']}/_aws/execute-api/")
    assert written["oidcIssuer"] == running_stack.idp.issuer
    assert set(written["roles"]) == {"admin", "buyer"}


def test_up_applies_the_account_baseline_the_app_trusts(running_stack: Any):
    """The baseline's OIDC provider lists the local stack's client id for the running
    identity provider, the class roles trust it, and API Gateway's account settings name the
    baseline's CloudWatch role."""
    if running_stack.baseline is None:
        pytest.skip("a reused stack (PETS_USE_RUNNING_STACK=1) has no apply record")
    from devstack import clients

    by_type = {r.type: r for r in running_stack.baseline.resources}
    provider = by_type["aws:iam/openIdConnectProvider:OpenIdConnectProvider"]
    iam = clients.client("iam", target=running_stack.target)  # reading back: the deploy key
    live = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider.id)
    outputs = running_stack.outputs
    assert live["ClientIDList"] == [outputs["oidcClientId"]]
    assert live["Url"].split("://")[-1] == outputs["oidcIssuer"].split("://")[-1]
    trust = iam.get_role(RoleName=outputs["roles"]["buyer"].split("/")[-1])["Role"]
    assert {s["Principal"]["Federated"] for s in trust["AssumeRolePolicyDocument"][
        "Statement"]} == {provider.id}
    account = clients.client("apigateway", target=running_stack.target).get_account()
    assert account["cloudwatchRoleArn"] == by_type["aws:iam/role:Role"].outputs["arn"]


def test_site_url_serves_the_app_and_its_config(running_stack: Any):
    written = stack.load_outputs(running_stack.outputs_file)
    page = requests.get(written["siteUrl"], timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()
    config = requests.get(written["siteUrl"].replace("index.html", "config.json"), timeout=10)
    assert config.json()["apiUrl"] == written["apiUrl"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devstack", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("user", "sub", "email"), [
    ("bob", "google-oauth2|bob", "bob@example.com"),
    ("eve", "auth0|eve", "eve@example.com"),  # self-registered: a token, but no class
])
def test_token_command_prints_a_verifiable_id_token(running_stack: Any, user: str, sub: str,
                                                    email: str):
    result = run_cli("token", user, "--idp-name", running_stack.idp_name)
    assert result.returncode == 0, result.stderr
    keys = jwk.JWKSet.from_json(json.dumps(served_jwks(running_stack.idp)))
    token = jwt.JWT(jwt=result.stdout.strip(), key=keys, algs=["RS256"],
                    check_claims={"iss": running_stack.idp.issuer, "aud": "pets-local",
                                  "exp": None})
    claims = json.loads(token.claims)
    assert (claims["sub"], claims["email"]) == (sub, email)


def test_token_command_refuses_unknown_users():
    result = run_cli("token", "zed")
    assert result.returncode != 0 and "invalid choice" in result.stderr
