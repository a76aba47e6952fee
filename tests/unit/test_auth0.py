"""The Auth0 tenant component under the mock runtime: what it would ask Auth0 to create.

Expectations come from the client registration and the class grants the component is given
(both built the way the program builds them); inputs are compared parsed, never as substrings.
Each failure message names the resource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

import access
from components.auth0 import Auth0Tenant, Auth0TenantArgs
from components.oidc_client import ClientRegistration, class_grants, registration_for
from harness_core.recorder import CDN_DOMAIN, Declared, RecordingMocks

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "pets-unit"
NAME = f"{PREFIX}-auth0"
TENANT = "pets-test.eu.auth0.com"
SITE_URL = f"https://{CDN_DOMAIN}/"
# Not the stack defaults, so a value the component hard-codes cannot pass.
ID_TOKEN_SECONDS = 1200
REFRESH_TOKEN_SECONDS = 7200
REGISTRATION = registration_for(SITE_URL, id_token_lifetime_seconds=ID_TOKEN_SECONDS,
                                refresh_token_lifetime_seconds=REFRESH_TOKEN_SECONDS)
CLIENT = "auth0:index/client:Client"
PROVIDER = "pulumi:providers:auth0"


def _classes() -> tuple[access.UserClass, ...]:
    """The model's classes, with buyers granted too, so there is more than one grant."""
    return tuple(
        replace(c, members=access.Membership(session_tags={access.GRANT_TAG_KEY: c.name}))
        if c.name == "buyer" else c
        for c in access.USER_CLASSES
    )


GRANTS = class_grants(PREFIX, _classes())


class TenantMocks(RecordingMocks):
    """The shared recorder, plus what it lacks for Auth0: the generated clientId of a Client,
    and which provider each resource was registered with."""

    def __init__(self) -> None:
        super().__init__()
        self.providers: dict[str, str | None] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        resource_id, outputs = super().new_resource(args)
        self.providers[args.name] = args.provider
        if args.typ == CLIENT:
            outputs = {**outputs, "clientId": f"generated-{args.name}"}
            for declared in self.declared:
                if declared.type == CLIENT and declared.name == args.name:
                    declared.outputs = outputs
        return resource_id, outputs


@dataclass
class TenantRun:
    declared: list[Declared]
    providers: dict[str, str | None]  # resource name -> "<provider urn>::<provider id>"
    resolved: dict[str, Any]  # the component's outputs and URNs, resolved

    def named(self, name: str) -> Declared:
        matches = [d for d in self.declared if d.name == name]
        assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
        return matches[0]

    def of_type(self, typ: str) -> list[Declared]:
        return [d for d in self.declared if d.type == typ]


def run_tenant(registration: ClientRegistration, grants: dict[str, dict[str, str]]) -> TenantRun:
    mocks = TenantMocks()
    pulumi.runtime.set_mocks(mocks, project="pets", stack="unit", preview=False)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output:
        # As the program has it: the registration derives from the site's URL, an output.
        site_url = pulumi.Output.from_input(registration.redirect_uris[0])
        tenant = Auth0Tenant(NAME, Auth0TenantArgs(
            name_prefix=PREFIX,
            tenant=TENANT,
            registration=site_url.apply(lambda _: registration),
            class_grants=grants,
        ))
        return pulumi.Output.all(
            client_id=tenant.client_id,
            issuer=tenant.issuer,
            action_id=tenant.action.id,
            connection_id=tenant.connection.id,
            provider_urn=tenant.provider.urn,
        ).apply(resolved.update)

    with pytest.MonkeyPatch.context() as env:
        # What an operator's shell may hold: none of it may reach the inputs (and so the state).
        env.setenv("AUTH0_DOMAIN", "some-other-tenant.us.auth0.com")
        env.setenv("AUTH0_CLIENT_ID", "m2m-client-id")
        env.setenv("AUTH0_CLIENT_SECRET", "m2m-client-secret")
        program()
    return TenantRun(mocks.declared, mocks.providers, resolved)


@pytest.fixture(scope="module")
def run() -> TenantRun:
    return run_tenant(REGISTRATION, GRANTS)


@pytest.fixture(scope="module")
def spa(run: TenantRun) -> Declared:
    return run.named(f"{NAME}-spa")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("callbacks", REGISTRATION.redirect_uris),
        ("allowedLogoutUrls", REGISTRATION.post_logout_redirect_uris),
        ("webOrigins", REGISTRATION.web_origins),
        ("allowedOrigins", REGISTRATION.web_origins),
    ],
)
def test_spa_urls_come_from_the_registration(spa: Declared, key: str, expected: tuple[str, ...]):
    assert spa.inputs[key] == list(expected), f"{spa.name}.{key}: {spa.inputs.get(key)}"


def test_spa_is_an_oidc_single_page_app_with_the_registered_grants(spa: Declared):
    assert spa.inputs["appType"] == "spa", spa.name
    assert spa.inputs["oidcConformant"] is True, spa.name
    assert spa.inputs["grantTypes"] == list(REGISTRATION.grant_types), spa.name


def test_spa_is_a_public_client(run: TenantRun, spa: Declared):
    credentials = run.named(f"{NAME}-spa-credentials")
    assert credentials.inputs["authenticationMethod"] == "none", credentials.name
    assert credentials.inputs["clientId"] == spa.outputs["clientId"], (
        f"{credentials.name} configures {credentials.inputs['clientId']}, not {spa.name}"
    )


def test_refresh_tokens_rotate_and_expire(spa: Declared):
    refresh = spa.inputs["refreshToken"]
    assert refresh["rotationType"] == "rotating", f"{spa.name}.refreshToken: {refresh}"
    assert refresh["expirationType"] == "expiring", f"{spa.name}.refreshToken: {refresh}"
    assert refresh["tokenLifetime"] == REFRESH_TOKEN_SECONDS, f"{spa.name}.refreshToken: {refresh}"
    assert refresh["infiniteTokenLifetime"] is False, f"{spa.name}.refreshToken: {refresh}"


def test_idle_refresh_tokens_expire_before_the_absolute_lifetime(spa: Declared):
    refresh = spa.inputs["refreshToken"]
    assert refresh["infiniteIdleTokenLifetime"] is False, f"{spa.name}.refreshToken: {refresh}"
    # The site renews before each ID token expires: an idle lifetime shorter than that would
    # log active users out.
    assert ID_TOKEN_SECONDS < refresh["idleTokenLifetime"] <= REFRESH_TOKEN_SECONDS, (
        f"{spa.name}.refreshToken: {refresh}"
    )


def test_id_token_lifetime_and_algorithm(spa: Declared):
    jwt = spa.inputs["jwtConfiguration"]
    assert jwt["lifetimeInSeconds"] == ID_TOKEN_SECONDS, f"{spa.name}.jwtConfiguration: {jwt}"
    assert jwt["alg"] == "RS256", f"{spa.name}.jwtConfiguration: {jwt}"


def test_staff_connection_refuses_sign_ups(run: TenantRun):
    connection = run.named(f"{NAME}-staff")
    assert connection.inputs["strategy"] == "auth0", connection.name
    assert connection.inputs["options"]["disableSignup"] is True, (
        f"{connection.name}: anyone could sign up and become auth0|<id>"
    )


def test_staff_connection_is_enabled_for_the_spa_only(run: TenantRun, spa: Declared):
    enabled = run.named(f"{NAME}-staff-clients")
    assert enabled.inputs["connectionId"] == run.resolved["connection_id"], enabled.name
    assert enabled.inputs["enabledClients"] == [spa.outputs["clientId"]], (
        f"{enabled.name}: {enabled.inputs['enabledClients']}"
    )


def test_one_role_per_grant(run: TenantRun):
    roles = run.of_type("auth0:index/role:Role")
    names = sorted(role.inputs["name"] for role in roles)
    assert names == sorted(GRANTS), f"roles {[r.name for r in roles]} declare {names}"
    assert len(GRANTS) == 2, "the fixture should exercise more than one grant"


def test_action_runs_the_repo_file(run: TenantRun):
    action = run.named(f"{NAME}-post-login")
    code = (ROOT / "auth0" / "post-login.js").read_text(encoding="utf-8")
    assert action.inputs["code"] == code, f"{action.name}: code is not auth0/post-login.js"


def test_action_secret_holds_the_class_grants(run: TenantRun):
    action = run.named(f"{NAME}-post-login")
    secrets = {s["name"]: s["value"] for s in action.inputs["secrets"]}
    assert set(secrets) == {"CLASS_GRANTS"}, f"{action.name}: secrets {sorted(secrets)}"
    assert json.loads(secrets["CLASS_GRANTS"]) == GRANTS, action.name


def test_action_is_a_deployed_post_login_action(run: TenantRun):
    action = run.named(f"{NAME}-post-login")
    assert action.inputs["supportedTriggers"] == {"id": "post-login", "version": "v3"}, (
        f"{action.name}: {action.inputs['supportedTriggers']}"
    )
    assert action.inputs["deploy"] is True, f"{action.name}: an undeployed Action never runs"
    assert action.inputs["runtime"] == "node22", action.name


def test_post_login_trigger_runs_the_action(run: TenantRun):
    binding = run.named(f"{NAME}-post-login-binding")
    action = run.named(f"{NAME}-post-login")
    assert binding.inputs["trigger"] == "post-login", binding.name
    assert binding.inputs["actions"] == [
        {"id": run.resolved["action_id"], "displayName": action.inputs["name"]}
    ], f"{binding.name}: {binding.inputs['actions']}"


def test_client_id_output_is_the_spas(run: TenantRun, spa: Declared):
    assert spa.outputs["clientId"], f"{spa.name}: the mocks gave no clientId"
    assert run.resolved["client_id"] == spa.outputs["clientId"]


def test_issuer_is_the_tenant(run: TenantRun):
    assert run.resolved["issuer"] == f"https://{TENANT}/"


def test_provider_names_the_tenant_and_takes_credentials_from_its_environment(run: TenantRun):
    (provider,) = run.of_type(PROVIDER)
    assert provider.name == f"{NAME}-provider"
    assert provider.inputs["domain"] == TENANT, f"{provider.name}: {provider.inputs['domain']}"
    leaked = {"clientId", "clientSecret", "apiToken"} & set(provider.inputs)
    assert not leaked, f"{provider.name}: {sorted(leaked)} would be stored in the stack's state"


def test_every_auth0_resource_uses_the_explicit_provider(run: TenantRun):
    resources = [d for d in run.declared if d.type.startswith("auth0:")]
    assert len(resources) >= 7, [d.name for d in resources]
    # A default provider would manage whichever tenant AUTH0_DOMAIN names.
    elsewhere = {
        d.name: run.providers[d.name] for d in resources
        if (run.providers[d.name] or "").rsplit("::", 1)[0] != run.resolved["provider_urn"]
    }
    assert not elsewhere, f"not on {NAME}-provider: {elsewhere}"
