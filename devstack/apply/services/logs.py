"""aws:cloudwatch/logGroup:LogGroup."""

from __future__ import annotations

from devstack.apply.kinds import Created, CreateRequest, ResourceKind, To


def create_log_group(req: CreateRequest) -> Created:
    name = req.require("name")
    req.call()
    if req.get("retentionInDays"):  # 0 is the provider's "never expire": no policy
        req.call("PutRetentionPolicy", logGroupName=name)
    # The provider's arn has no trailing `:*` (DescribeLogGroups' `arn` does).
    return Created(name, {"name": name, "arn": req.target.arn("logs", f"log-group:{name}")})


KINDS = [
    ResourceKind(
        "aws:cloudwatch/logGroup:LogGroup",
        "logs",
        "CreateLogGroup",
        {
            "name": "logGroupName",
            "retentionInDays": To("retentionInDays", op="PutRetentionPolicy"),
        },
        create_log_group,
    ),
]
