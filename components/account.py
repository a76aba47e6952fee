"""The account baseline: what AWS allows once per account (or per account and region), owned
by one small stack so that any number of app stacks can share the account.

- one IAM OIDC provider per issuer URL (IAM refuses a second one for the same URL), listing
  the client id of every app stack that trusts the issuer (STS checks a token's `aud`
  against that list);
- API Gateway's account settings for this region: the CloudWatch role stages need for
  access logs (`aws.apigateway.Account` is one per account and region, and pulumi-aws resets
  it when the resource is destroyed, so no app stack may own it).

The app stacks look the provider up (components/identity.py) and never declare either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import policies
from components.account_config import IssuerTrust
from components.component import Component, Outputs
from components.naming import api_gateway_logs_role_name

API_GATEWAY_LOGS_POLICY = (
    "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
)
# The output every app stack exports with its client id (components/pets_app.PetsApp.outputs).
CLIENT_ID_OUTPUT = "oidcClientId"


def issuer_slug(url: str) -> str:
    """A logical name part for an issuer URL: stable as long as the URL is, so the provider
    is never replaced by a rename (`https://x.eu.auth0.com/` -> `x.eu.auth0.com`)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", url.split("://", 1)[-1]).strip("-")


def _stack_client_id(stack: str) -> pulumi.Output[str | None]:
    """An app stack's client id, from its `oidcClientId` output.

    None while the stack has never been deployed (`pulumi stack init` made it, so the
    reference resolves): the provider then lists it only after the baseline's next `up`.
    """
    reference = pulumi.StackReference(stack)
    return reference.get_output(CLIENT_ID_OUTPUT)


def _client_ids(trust: IssuerTrust) -> pulumi.Output[list[str]]:
    referenced = [_stack_client_id(stack) for stack in trust.stacks]
    return pulumi.Output.all(*referenced).apply(
        lambda ids: sorted({*trust.client_ids, *(i for i in ids if i)})
    )


@dataclass
class AccountBaselineArgs:
    # This region's name, for the account-wide IAM name of API Gateway's role.
    region: pulumi.Input[str]
    issuers: Sequence[IssuerTrust] = ()
    api_gateway_logging: bool = True


class AccountBaseline(Component[AccountBaselineArgs]):
    """Owns one IAM OpenIdConnectProvider per issuer and, with api_gateway_logging, this
    region's API Gateway Account settings with their CloudWatch Role and its
    RolePolicyAttachment (AmazonAPIGatewayPushToCloudWatchLogs)."""

    providers: dict[str, aws.iam.OpenIdConnectProvider]  # by issuer URL
    api_gateway_account: aws.apigateway.Account | None

    def declare(self, name: str, args: AccountBaselineArgs) -> Outputs:
        self.providers = {
            trust.url: aws.iam.OpenIdConnectProvider(
                f"{name}-oidc-{issuer_slug(trust.url)}",
                url=trust.url,
                client_id_lists=_client_ids(trust),
                # Empty: IAM then trusts the issuer's certificate through its own CA store.
                thumbprint_lists=list(trust.thumbprints) or None,
                opts=self.child(),
            )
            for trust in args.issuers
        }
        self.api_gateway_account = None
        if args.api_gateway_logging:
            role = aws.iam.Role(
                f"{name}-apigateway-logs",
                name=pulumi.Output.from_input(args.region).apply(api_gateway_logs_role_name),
                description="API Gateway writes the stages' access and execution logs "
                            "(account setting of this region, owned by the account baseline)",
                assume_role_policy=json.dumps(
                    policies.service_trust_policy("apigateway.amazonaws.com")),
                opts=self.child(),
            )
            attachment = aws.iam.RolePolicyAttachment(
                f"{name}-apigateway-logs-policy",
                role=role.name,
                policy_arn=API_GATEWAY_LOGS_POLICY,
                opts=self.child(),
            )
            self.api_gateway_account = aws.apigateway.Account(
                f"{name}-apigateway-account",
                cloudwatch_role_arn=role.arn,
                opts=self.child(depends_on=[attachment]),
            )
        return {
            "oidcProviders": {url: p.arn for url, p in self.providers.items()},
            "apiGatewayLogsRole": (self.api_gateway_account.cloudwatch_role_arn
                                   if self.api_gateway_account else None),
        }
