"""An apply that fails names what failed: an unsupported type, AWS's refusal, a deployment of
an API without methods, an error in the program or an invoke the apply does not answer; and
a failure stops what depends on it without hanging the rest."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pytest

from devstack.apply import apply_function
from devstack.apply.errors import ApplyError, ResourceError
from harness_core.errors import ProgramRunError


def test_unsupported_type_fails_naming_type_and_name(factory: Callable, unique: str) -> None:
    def program() -> None:
        aws.cloudwatch.LogGroup("fine", name=f"/unsupported/{unique}")
        aws.sqs.Queue("jobs")

    with pytest.raises(ResourceError) as failure:
        apply_function(program, factory)
    assert str(failure.value).startswith("aws:sqs/queue:Queue 'jobs': resource type not supported")


def test_aws_error_names_type_name_and_aws_message(factory: Callable, unique: str) -> None:
    def program() -> None:
        aws.iam.RolePolicy(
            "orphan",
            name="orphan",
            role=f"no-such-role-{unique}",
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                    ],
                }
            ),
        )

    with pytest.raises(ResourceError) as failure:
        apply_function(program, factory)
    error = failure.value
    assert (error.type, error.name) == ("aws:iam/rolePolicy:RolePolicy", "orphan")
    assert str(error).startswith(
        "aws:iam/rolePolicy:RolePolicy 'orphan': PutRolePolicy failed: NoSuchEntity"
    )
    assert f"no-such-role-{unique}" in str(error)  # AWS's message


def test_a_failure_stops_dependents_without_hanging(factory: Callable, unique: str) -> None:
    def program() -> None:
        aws.cloudwatch.LogGroup("independent", name=f"/independent/{unique}")
        broken = aws.iam.Role("broken", name=f"broken-{unique}", assume_role_policy="not json")
        policy = aws.iam.RolePolicy("dependent", role=broken.id, policy="{}")
        aws.cloudwatch.LogGroup(
            "after-dependent",
            name=f"/after/{unique}",
            opts=pulumi.ResourceOptions(depends_on=[policy]),
        )
        pulumi.export("role", broken.arn)

    # Waiting for the dependents forever would end in the apply's own timeout instead.
    with pytest.raises(
        ResourceError, match=r"aws:iam/role:Role 'broken': MalformedPolicyDocument"
    ) as failure:
        apply_function(program, factory, timeout=30)
    created = {r.name for r in failure.value.resources}
    assert not created & {"broken", "dependent", "after-dependent"}
    groups = factory("logs").describe_log_groups(logGroupNamePrefix="/after/")["logGroups"]
    assert f"/after/{unique}" not in [g["logGroupName"] for g in groups]


def test_deployment_of_an_api_without_methods_fails_as_on_aws(
    factory: Callable, unique: str
) -> None:
    def program() -> None:
        api = aws.apigateway.RestApi("api", name=f"empty-{unique}")
        aws.apigateway.Deployment("deployment", rest_api=api.id)

    with pytest.raises(
        ResourceError, match=r"Deployment 'deployment'.*doesn't contain any methods"
    ):
        apply_function(program, factory)


def test_program_errors_and_unsupported_invokes_are_reported(factory: Callable) -> None:
    def raises() -> None:
        raise ValueError("bad setting pets:stage")

    with pytest.raises(ProgramRunError, match="the program failed: ValueError: bad setting"):
        apply_function(raises, factory)

    def asks_for_zones() -> None:
        aws.get_availability_zones()

    with pytest.raises(ApplyError, match=r"invoke .*getAvailabilityZones.* not supported"):
        apply_function(asks_for_zones, factory)
