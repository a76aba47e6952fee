"""Who the users are: the OIDC provider IAM trusts and one role per user class."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from components import policies
from components.naming import class_role_name

SESSION_SECONDS = 3600  # the browser refreshes credentials before they expire


@dataclass
class UserClassRoleArgs:
    user_class: access.UserClass
    role_name: str
    provider_arn: pulumi.Input[str]
    issuer: str
    client_id: pulumi.Input[str]
    execution_arn: pulumi.Input[str]
    stage: str


class UserClassRole(pulumi.ComponentResource):
    """A class's role: assumable only with a matching ID token, invokes only its routes."""

    role: aws.iam.Role

    def __init__(
        self, name: str, args: UserClassRoleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pets:index:UserClassRole", name, None, opts)
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
            opts=pulumi.ResourceOptions(parent=self),
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
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.arn = self.role.arn
        self.register_outputs({"roleArn": self.role.arn})


@dataclass
class UserIdentityArgs:
    name_prefix: str
    issuer: str
    client_id: pulumi.Input[str]  # an output of the Auth0 application when it is managed
    user_classes: Sequence[access.UserClass]
    execution_arn: pulumi.Input[str]
    stage: str
    thumbprints: Sequence[str] = ()


class UserIdentity(pulumi.ComponentResource):
    """The issuer as an IAM OIDC provider, and the role of every user class."""

    provider: aws.iam.OpenIdConnectProvider
    roles: dict[str, UserClassRole]

    def __init__(
        self, name: str, args: UserIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pets:index:UserIdentity", name, None, opts)
        self.provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=args.issuer,
            client_id_lists=[args.client_id],
            # Empty: IAM then trusts the IdP's certificate through its own CA store.
            thumbprint_lists=list(args.thumbprints) or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.roles = {
            user_class.name: UserClassRole(
                f"{name}-{user_class.name}",
                UserClassRoleArgs(
                    user_class=user_class,
                    role_name=class_role_name(args.name_prefix, user_class),
                    provider_arn=self.provider.arn,
                    issuer=args.issuer,
                    client_id=args.client_id,
                    execution_arn=args.execution_arn,
                    stage=args.stage,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for user_class in args.user_classes
        }
        self.register_outputs({
            "providerArn": self.provider.arn,
            "roleArns": {name: role.arn for name, role in self.roles.items()},
        })
