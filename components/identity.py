"""Who the users are: the OIDC provider IAM trusts and one role per user class.

The provider is the account's, one per issuer URL, owned by the account baseline (account/,
components/account.py): an app stack only looks it up, so any number of stacks can trust one
issuer and destroying one stack leaves the others' logins working.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from components import policies
from components.component import Component, Outputs
from components.naming import class_role_name

SESSION_SECONDS = 3600  # the browser refreshes credentials before they expire
# The baseline's config keys that list an issuer's client ids (components/account_config.py):
# by value, or by the app stacks whose oidcClientId output to read (a managed Auth0 tenant's).
BASELINE_CLIENT_IDS = "pets-account:issuers.<issuer>.clientIds"
BASELINE_STACKS = "pets-account:issuers.<issuer>.stacks"
# How pulumi-aws's data source says that no provider has the URL (terraform-provider-aws's
# NotFoundError); the mocked lookups of the harness answer the same.
_NOT_FOUND = "couldn't find resource"


class AccountBaselineError(RuntimeError):
    """The account lacks what the account baseline provides; the message says what to deploy."""


@dataclass(frozen=True)
class TrustedIssuer:
    """The account's IAM OIDC provider for an issuer, as looked up."""

    issuer: str
    provider_arn: str
    client_ids: tuple[str, ...]


def find_provider(issuer: str) -> TrustedIssuer:
    """The account's IAM OIDC provider for `issuer`, looked up before anything is registered.

    pulumi-aws's data source matches the ARN's `oidc-provider/<url without https://>`, which
    is how IAM stores the URL: so `issuer` is passed exactly as the tokens' `iss` says it (a
    trailing slash is part of the name; `https://x/` and `https://x` are two providers).
    """
    try:
        found = aws.iam.get_open_id_connect_provider(url=issuer)
    except Exception as error:  # the SDK raises a plain Exception for a failed invoke
        if _NOT_FOUND in str(error):
            raise AccountBaselineError(
                f"no IAM OIDC provider for {issuer} in this account: deploy the account "
                f"baseline (account/) with this issuer, listing this stack's client id under "
                f"{BASELINE_CLIENT_IDS} (or this stack under {BASELINE_STACKS} if it manages "
                f"its Auth0 tenant), then run this stack's `up` again (docs/deploying.md). "
                "The issuer must be exactly the one the baseline lists: a trailing slash counts"
            ) from None
        raise AccountBaselineError(
            f"looking up the IAM OIDC provider for {issuer} failed: {error}") from error
    return TrustedIssuer(issuer, found.arn, tuple(found.client_id_lists or ()))


def _not_listed(trusted: TrustedIssuer, client_id: str, where: str) -> str:
    return (f"the IAM OIDC provider for {trusted.issuer} does not list this stack's client id "
            f"{client_id!r}, so STS would refuse every login: {where} of the account baseline "
            f"(account/) and run the baseline's `up` (it lists {list(trusted.client_ids)})")


def require_listed_client_id(
    trusted: TrustedIssuer, client_id: pulumi.Input[str]
) -> pulumi.Input[str]:
    """The client id, checked against the provider's list: one known now (a plain string)
    fails now if it is not listed; a managed tenant's, known only once its application
    exists, is a warning then (on a first deploy the baseline lists it only after its next
    `up`, docs/deploying.md). Returned as given, the check attached to what uses it."""
    if isinstance(client_id, str):
        if client_id not in trusted.client_ids:
            raise AccountBaselineError(
                _not_listed(trusted, client_id, f"add it to {BASELINE_CLIENT_IDS}"))
        return client_id

    def warn(value: str) -> str:
        if value not in trusted.client_ids:
            pulumi.log.warn(_not_listed(
                trusted, value, f"list this stack under {BASELINE_STACKS} (it reads the "
                "stack's oidcClientId output)"))
        return value

    return pulumi.Output.from_input(client_id).apply(warn)


@dataclass
class UserClassRoleArgs:
    user_class: access.UserClass
    role_name: str
    provider_arn: pulumi.Input[str]
    issuer: str
    client_id: pulumi.Input[str]
    execution_arn: pulumi.Input[str]
    stage: str


class UserClassRole(Component[UserClassRoleArgs]):
    """A class's role: owns the IAM Role (assumable only with a matching ID token) and its
    RolePolicy (invokes only the class's routes)."""

    role: aws.iam.Role

    def declare(self, name: str, args: UserClassRoleArgs) -> Outputs:
        user_class = args.user_class
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=f"pets {user_class.name}: {user_class.description}",
            max_session_duration=SESSION_SECONDS,
            assume_role_policy=pulumi.Output.all(args.provider_arn, args.client_id).apply(
                lambda v: json.dumps(policies.trust_policy(
                    v[0], args.issuer, v[1], user_class.members
                ))
            ),
            tags={"pets:userClass": user_class.name},
            opts=self.child(),
        )
        if user_class.routes:  # a class without routes gets no grant at all
            aws.iam.RolePolicy(
                f"{name}-invoke",
                name="invoke-allowed-routes",
                role=self.role.id,
                policy=pulumi.Output.from_input(args.execution_arn).apply(
                    lambda arn: json.dumps(
                        policies.invoke_policy(arn, args.stage, user_class.routes)
                    )
                ),
                opts=self.child(),
            )
        self.arn = self.role.arn
        return {"roleArn": self.role.arn}


@dataclass
class UserIdentityArgs:
    name_prefix: str
    trusted: TrustedIssuer  # find_provider(issuer)
    client_id: pulumi.Input[str]  # an output of the Auth0 application when it is managed
    user_classes: Sequence[access.UserClass]
    execution_arn: pulumi.Input[str]
    stage: str


class UserIdentity(Component[UserIdentityArgs]):
    """Owns one UserClassRole per user class, each trusting the account's OIDC provider of
    the issuer (looked up, not owned: the account baseline's)."""

    roles: dict[str, UserClassRole]

    def declare(self, name: str, args: UserIdentityArgs) -> Outputs:
        self.provider_arn = args.trusted.provider_arn
        self.roles = {
            user_class.name: UserClassRole(
                f"{name}-{user_class.name}",
                UserClassRoleArgs(
                    user_class=user_class,
                    role_name=class_role_name(args.name_prefix, user_class),
                    provider_arn=args.trusted.provider_arn,
                    issuer=args.trusted.issuer,
                    client_id=args.client_id,
                    execution_arn=args.execution_arn,
                    stage=args.stage,
                ),
                opts=self.child(),
            )
            for user_class in args.user_classes
        }
        return {
            "providerArn": self.provider_arn,
            "roleArns": {name: role.arn for name, role in self.roles.items()},
        }
