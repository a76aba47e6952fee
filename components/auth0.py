"""The Auth0 tenant as code: the site's application, the staff connection, grants, the Action.

On when the stack names a tenant (`pets:auth0Tenant`). Everything the operator used to type into
the Auth0 dashboard after a deploy derives from one ClientRegistration (the site's URL) and from
the class grants of access.py, so the tenant cannot drift from what the IAM roles expect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_auth0 as auth0

import access
from components.component import Component, Outputs
from components.config import auth0_issuer
from components.oidc_client import ClientRegistration

POST_LOGIN_ACTION = Path(__file__).resolve().parent.parent / "auth0" / "post-login.js"
# The name of the Action secret auth0/post-login.js reads its grants from (not a secret value).
GRANTS_SECRET = "CLASS_GRANTS"  # noqa: S105
TRIGGER = "post-login"
TRIGGER_VERSION = "v3"
ACTION_RUNTIME = "node22"
# Two tabs renewing at once present the same refresh token; within this many seconds the second
# use is not treated as theft (which would revoke the whole token family and log the user out).
REFRESH_REUSE_LEEWAY_SECONDS = 10


def idle_refresh_lifetime(registration: ClientRegistration) -> int:
    """The site renews before every ID token expiry, so a refresh token unused for two ID token
    lifetimes belongs to a closed tab: expiring it shortens what a stolen copy is worth."""
    return min(2 * registration.id_token_lifetime_seconds,
               registration.refresh_token_lifetime_seconds)


@dataclass
class Auth0TenantArgs:
    name_prefix: str
    tenant: str  # the tenant's domain, e.g. pets-example.eu.auth0.com (pets:auth0Tenant)
    # An Output because the redirect URIs derive from the site's URL, itself an output.
    registration: pulumi.Input[ClientRegistration]
    # components.oidc_client.class_grants: {Auth0 role name: session tags it grants}.
    class_grants: Mapping[str, Mapping[str, str]]
    action_source: Path = POST_LOGIN_ACTION


class Auth0Tenant(Component[Auth0TenantArgs]):
    """The tenant's part of the shop. Owns its own Auth0 Provider (the tenant's domain), the
    single-page application (Client, with ClientCredentials: no secret), the staff
    Connection and its ConnectionClients, one Role per class grant, the post-login Action
    and the TriggerActions binding it."""

    provider: auth0.Provider
    client: auth0.Client
    connection: auth0.Connection
    roles: dict[str, auth0.Role]  # by role name (the keys of class_grants)
    action: auth0.Action
    issuer: str
    client_id: pulumi.Output[str]

    def declare(self, name: str, args: Auth0TenantArgs) -> Outputs:
        prefix = args.name_prefix
        # Only the domain is set: the plugin reads AUTH0_CLIENT_ID/AUTH0_CLIENT_SECRET from its
        # environment, so the Management API credentials never enter config or state.
        self.provider = auth0.Provider(
            f"{name}-provider", domain=args.tenant, opts=self.child()
        )
        # Every child names the provider: a default provider would manage whatever tenant
        # AUTH0_DOMAIN happens to name.
        in_tenant = self.child(provider=self.provider)
        registration = pulumi.Output.from_input(args.registration)

        self.client = auth0.Client(
            f"{name}-spa",
            name=prefix,
            description=f"{prefix}: the pets site (managed by Pulumi)",
            app_type="spa",
            oidc_conformant=True,
            # Embedded (cross-origin) login would take passwords on our page; only the hosted
            # login page may.
            cross_origin_auth=False,
            grant_types=registration.apply(lambda r: list(r.grant_types)),
            callbacks=registration.apply(lambda r: list(r.redirect_uris)),
            allowed_logout_urls=registration.apply(lambda r: list(r.post_logout_redirect_uris)),
            web_origins=registration.apply(lambda r: list(r.web_origins)),
            allowed_origins=registration.apply(lambda r: list(r.web_origins)),
            jwt_configuration=auth0.ClientJwtConfigurationArgs(
                # Asymmetric: IAM and the purchase handler verify with the tenant's JWKS.
                alg="RS256",
                lifetime_in_seconds=registration.apply(lambda r: r.id_token_lifetime_seconds),
            ),
            refresh_token=auth0.ClientRefreshTokenArgs(
                # A browser cannot keep a refresh token safe: each use replaces it, and a reuse
                # (a stolen copy) revokes the family.
                rotation_type="rotating",
                expiration_type="expiring",
                token_lifetime=registration.apply(lambda r: r.refresh_token_lifetime_seconds),
                infinite_token_lifetime=False,
                idle_token_lifetime=registration.apply(idle_refresh_lifetime),
                infinite_idle_token_lifetime=False,
                leeway=REFRESH_REUSE_LEEWAY_SECONDS,
            ),
            opts=in_tenant,
        )
        # In this SDK the token endpoint's auth method is its own resource. A public client:
        # the SPA proves itself with PKCE, never with a secret.
        auth0.ClientCredentials(
            f"{name}-spa-credentials",
            client_id=self.client.client_id,
            authentication_method="none",
            opts=in_tenant,
        )

        # Auth0 gives every database user a sub of auth0|<id>; with sign-ups on, anyone could
        # be one. Staff accounts are created by an administrator.
        self.connection = auth0.Connection(
            f"{name}-staff",
            name=f"{prefix}-staff",
            strategy="auth0",
            options=auth0.ConnectionOptionsArgs(
                disable_signup=True,
                brute_force_protection=True,
                password_policy="good",  # noqa: S106 (Auth0's policy level, not a password)
            ),
            opts=in_tenant,
        )
        # Authoritative: no other application of the tenant can log in through this connection.
        auth0.ConnectionClients(
            f"{name}-staff-clients",
            connection_id=self.connection.id,
            enabled_clients=[self.client.client_id],
            opts=in_tenant,
        )

        self.roles = {
            role_name: auth0.Role(
                f"{name}-role-{role_name}",
                name=role_name,
                description=_describe(prefix, tags),
                opts=in_tenant,
            )
            for role_name, tags in sorted(args.class_grants.items())
        }

        grants = {role: dict(tags) for role, tags in args.class_grants.items()}
        self.action = auth0.Action(
            f"{name}-post-login",
            name=f"{prefix}-class-grants",
            runtime=ACTION_RUNTIME,
            supported_triggers=auth0.ActionSupportedTriggersArgs(
                id=TRIGGER, version=TRIGGER_VERSION
            ),
            code=Path(args.action_source).read_text(encoding="utf-8"),
            # Role names and tags are not confidential; a secret is simply how an Action gets
            # configuration without editing its code.
            secrets=[auth0.ActionSecretArgs(name=GRANTS_SECRET, value=json.dumps(grants))],
            # Undeployed, a bound Action does not run: admins would get no class.
            deploy=True,
            opts=in_tenant,
        )
        # Authoritative for the tenant's post-login flow: one stack per tenant.
        auth0.TriggerActions(
            f"{name}-post-login-binding",
            trigger=TRIGGER,
            actions=[auth0.TriggerActionsActionArgs(
                id=self.action.id, display_name=self.action.name
            )],
            opts=in_tenant,
        )

        self.issuer = auth0_issuer(args.tenant)  # what IAM must trust
        self.client_id = self.client.client_id
        return {"issuer": self.issuer, "clientId": self.client_id}


def _describe(prefix: str, tags: Mapping[str, str]) -> str:
    """Says in the dashboard what assigning the role does, so nobody assigns it idly."""
    listed = ", ".join(f"{key}={value}" for key, value in sorted(tags.items()))
    granted = tags.get(access.GRANT_TAG_KEY)
    what = f"the {granted} class" if granted else "session tags"
    return f"{prefix}: grants {what} ({listed}) through the post-login Action"
