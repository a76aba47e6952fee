"""A stack that manages its Auth0 tenant: the application's client id reaches every consumer.

With `pets:auth0Tenant` the client id is an output of the auth0.Client, not config: both trust
policies, every Lambda's OIDC_CLIENT_ID, the site's config.json and the stack outputs must all
carry that one value (the account baseline's OIDC provider reads it from the oidcClientId
output), and the application's registration must be the site's URL.
"""

from __future__ import annotations

import json

import pytest

import access
from harness_core.recorder import AUTH0_CLIENT_ID, CDN_DOMAIN, ProgramRun, record_program

TENANT = "pets-test.eu.auth0.com"
KEY = f"{TENANT}/"
SITE_URL = f"https://{CDN_DOMAIN}/index.html"


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return record_program({"pets:auth0Tenant": TENANT, "pets:stage": "v1",
                        "pets:idTokenLifetimeSeconds": "900"}, stack="managed")


def test_the_stack_exports_the_client_id_the_baseline_reads(run: ProgramRun):
    # components/account.py lists a `stacks:` entry's client id from this output.
    assert run.outputs["oidcClientId"] == AUTH0_CLIENT_ID
    assert run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []


@pytest.mark.parametrize("user_class", access.USER_CLASSES, ids=lambda c: c.name)
def test_every_trust_statement_requires_the_managed_client(run: ProgramRun, user_class):
    trust = run.named(f"pets-managed-{user_class.name}-role").json_input("assumeRolePolicy")
    for statement in trust["Statement"]:
        assert statement["Condition"]["StringEquals"][f"{KEY}:aud"] == AUTH0_CLIENT_ID, (
            f"pets-managed-{user_class.name}-role {statement['Sid']}")


def test_functions_verify_tokens_for_the_managed_client(run: ProgramRun):
    functions = run.of_type("aws:lambda/function:Function")
    assert len(functions) == len(access.ROUTES)
    for function in functions:
        variables = function.inputs["environment"]["variables"]
        assert variables["OIDC_CLIENT_ID"] == AUTH0_CLIENT_ID, function.name
        assert variables["OIDC_ISSUER"] == f"https://{TENANT}/", function.name


def test_the_site_logs_in_with_the_managed_client(run: ProgramRun):
    (config,) = [d for d in run.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                 if d.inputs["key"] == "config.json"]
    assert json.loads(config.inputs["content"])["clientId"] == AUTH0_CLIENT_ID


def test_the_application_registers_the_site_url(run: ProgramRun):
    (spa,) = run.of_type("auth0:index/client:Client")
    assert spa.inputs["callbacks"] == [SITE_URL], spa.name
    assert spa.inputs["allowedLogoutUrls"] == [SITE_URL], spa.name
    assert spa.inputs["jwtConfiguration"]["lifetimeInSeconds"] == 900, spa.name


def test_outputs_name_the_managed_client_and_its_registration(run: ProgramRun):
    assert run.outputs["oidcClientId"] == AUTH0_CLIENT_ID
    assert run.outputs["oidcIssuer"] == f"https://{TENANT}/"
    assert run.outputs["oidcClient"]["redirectUris"] == [SITE_URL]
    assert run.outputs["classGrants"] == {"pets-managed-admin": {"pets-class": "admin"}}


def test_the_tenant_grants_admin_with_the_role_the_action_maps(run: ProgramRun):
    roles = [d.inputs["name"] for d in run.of_type("auth0:index/role:Role")]
    assert roles == ["pets-managed-admin"]
    (action,) = run.of_type("auth0:index/action:Action")
    secrets = {s["name"]: s["value"] for s in action.inputs["secrets"]}
    assert json.loads(secrets["CLASS_GRANTS"]) == run.outputs["classGrants"]
