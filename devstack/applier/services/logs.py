"""aws:cloudwatch/logGroup:LogGroup."""

from __future__ import annotations

from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none


def create_log_group(req: CreateRequest) -> Created:
    logs = req.client("logs")
    name = req.physical_name(max_length=512)
    logs.create_log_group(
        **drop_none(
            {
                "logGroupName": name,
                "kmsKeyId": req.get("kmsKeyId"),
                "logGroupClass": req.get("logGroupClass"),
                "tags": req.get("tags"),
                "deletionProtectionEnabled": req.get("deletionProtectionEnabled"),
            }
        )
    )
    retention = req.get("retentionInDays", 0)
    if retention:  # 0 is the provider's "never expire": no policy
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
    return Created(
        name,
        {
            "name": name,
            # The provider's arn has no trailing `:*` (DescribeLogGroups' `arn` does).
            "arn": req.target.arn("logs", f"log-group:{name}"),
            "tagsAll": req.get("tags", {}),
        },
    )


KINDS = [
    ResourceKind(
        resource_type="aws:cloudwatch/logGroup:LogGroup",
        create=create_log_group,
        inputs=frozenset(
            {
                "name",
                "namePrefix",
                "retentionInDays",
                "kmsKeyId",
                "logGroupClass",
                "tags",
                "deletionProtectionEnabled",
            }
        ),
        ignored=frozenset({"skipDestroy"}),
        note="retention reads back but MiniStack never expires events",
    ),
]
