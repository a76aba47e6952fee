"""IAM applied to the emulator and read back: a role with its trust, inline and managed
policies; an OIDC provider; and the app's provider lookup finding what an earlier apply made."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pytest

from devstack.apply import apply_function
from harness_core.errors import ProgramRunError
from tests.support.private import service_trust


def test_roles_policies_and_oidc_provider(factory: Callable, unique: str) -> None:
    trust = service_trust("lambda.amazonaws.com")
    inline = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}
    # Its own path: never the issuer (127.0.0.1:9443) the real program's test needs absent.
    issuer = f"http://127.0.0.1:9443/roles-{unique}"

    def program() -> None:
        role = aws.iam.Role(
            "role",
            name=f"role-{unique}",
            assume_role_policy=json.dumps(trust),
            max_session_duration=7200,
            description="test role",
            tags={"pets:userClass": "admin"},
        )
        # A secret input reaches AWS as its plain value.
        aws.iam.RolePolicy(
            "inline", name="read", role=role.id, policy=pulumi.Output.secret(json.dumps(inline))
        )
        aws.iam.RolePolicyAttachment(
            "managed",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        )
        oidc = aws.iam.OpenIdConnectProvider("oidc", url=issuer, client_id_lists=["pets-test"])
        pulumi.export("roleArn", role.arn)
        pulumi.export("roleId", role.id)
        pulumi.export("oidcArn", oidc.arn)

    result = apply_function(program, factory)
    iam = factory("iam")
    role = iam.get_role(RoleName=f"role-{unique}")["Role"]
    assert role["Arn"] == result.outputs["roleArn"]
    assert result.outputs["roleId"] == f"role-{unique}"  # the provider's id: the role name
    assert role["AssumeRolePolicyDocument"] == trust
    assert role["MaxSessionDuration"] == 7200
    assert {"Key": "pets:userClass", "Value": "admin"} in role["Tags"]
    document = iam.get_role_policy(RoleName=f"role-{unique}", PolicyName="read")["PolicyDocument"]
    assert document == inline
    attached = iam.list_attached_role_policies(RoleName=f"role-{unique}")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSLambdaBasicExecutionRole"]
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=result.outputs["oidcArn"])
    assert provider["ClientIDList"] == ["pets-test"]
    assert provider["Url"].endswith(issuer.split("://")[1])


def test_the_oidc_provider_lookup_reads_the_target(factory: Callable, unique: str) -> None:
    """The app's lookup (aws.iam.get_open_id_connect_provider by URL) finds what an earlier
    apply (the account baseline) created, matching the URL exactly as IAM names it."""
    issuer = f"http://127.0.0.1:9443/{unique}/"

    def baseline() -> None:
        aws.iam.OpenIdConnectProvider("oidc", url=issuer, client_id_lists=["app", "review"])

    def lookup(url: str) -> Callable[[], None]:
        def program() -> None:
            found = aws.iam.get_open_id_connect_provider(url=url)
            pulumi.export("found", {"arn": found.arn, "clientIds": found.client_id_lists,
                                    "url": found.url})
        return program

    created = apply_function(baseline, factory).resources[0].id
    assert apply_function(lookup(issuer), factory).outputs["found"] == {
        # The URL as AWS answers it, without its scheme (MiniStack's own answer has it).
        "arn": created, "clientIds": ["app", "review"], "url": f"127.0.0.1:9443/{unique}/"}
    # Without the trailing slash it is another provider, which the account does not have.
    with pytest.raises(ProgramRunError, match=r"getOpenIdConnectProvider failed: reading IAM "
                                              r"OIDC Provider .*: couldn't find resource"):
        apply_function(lookup(issuer.rstrip("/")), factory)
