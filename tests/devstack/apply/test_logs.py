"""A CloudWatch log group applied to the emulator: its retention read back, its ARN as the
provider gives it."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from devstack.apply import apply_function
from tests.support.local_apply import account_of


def test_log_group_retention(factory: Callable, unique: str) -> None:
    def program() -> None:
        group = aws.cloudwatch.LogGroup("logs", name=f"/pets/{unique}", retention_in_days=7)
        pulumi.export("arn", group.arn)

    result = apply_function(program, factory)
    groups = factory("logs").describe_log_groups(logGroupNamePrefix=f"/pets/{unique}")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(f"/pets/{unique}", 7)]
    # The provider's arn has no `:*` suffix.
    assert (
        result.outputs["arn"]
        == f"arn:aws:logs:us-east-1:{account_of(factory)}:log-group:/pets/{unique}"
    )
