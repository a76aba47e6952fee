"""aws:dynamodb/table:Table."""

from __future__ import annotations

import time
from typing import Any

from devstack.apply.kinds import Created, CreateRequest, ResourceKind, To, tag_list

_ACTIVE_WAIT_SECONDS = 30.0
_KEY_FIELDS = {"attributeName": "AttributeName", "keyType": "KeyType"}


def _index(index: dict[str, Any]) -> dict[str, Any]:
    """A global secondary index, its key schema and projection in AWS's shape."""
    return {
        **index,
        "KeySchema": [{_KEY_FIELDS[k]: v for k, v in key.items()} for key in index["KeySchema"]],
        "Projection": {"ProjectionType": index["Projection"]},
    }


def _encryption(sse: dict[str, Any]) -> dict[str, Any] | None:
    # enabled=true means a KMS key (the AWS managed one); enabled=false is DynamoDB's
    # default AWS-owned key, so nothing is sent.
    return {"Enabled": True, "SSEType": "KMS"} if sse.get("Enabled") else None


def create_table(req: CreateRequest) -> Created:
    if req.get("billingMode") != "PAY_PER_REQUEST":
        raise req.fail(
            "billingMode PROVISIONED (the provider's default) needs readCapacity and "
            "writeCapacity, which the local apply does not map: declare billingMode "
            "PAY_PER_REQUEST, or add them to the Table kind in devstack/apply/services"
        )
    name = req.require("name")
    table = req.call()["TableDescription"]
    _wait_active(req, name, table.get("TableStatus"))
    if req.params("UpdateContinuousBackups"):
        req.call("UpdateContinuousBackups", TableName=name)
    if req.params("UpdateTimeToLive"):
        req.call("UpdateTimeToLive", TableName=name)
    return Created(name, {"name": name, "arn": table["TableArn"]})


def _wait_active(req: CreateRequest, name: str, status: str | None) -> None:
    deadline = time.monotonic() + _ACTIVE_WAIT_SECONDS
    while status != "ACTIVE":
        if time.monotonic() > deadline:
            raise req.fail(f"table {name} not ACTIVE after {_ACTIVE_WAIT_SECONDS:.0f} s ({status})")
        time.sleep(0.1)
        status = req.client().describe_table(TableName=name)["Table"]["TableStatus"]


KINDS = [
    ResourceKind(
        "aws:dynamodb/table:Table",
        "dynamodb",
        "CreateTable",
        {
            "name": "TableName",
            "billingMode": "BillingMode",
            "hashKey": To("KeySchema", convert=lambda key: [
                {"AttributeName": key, "KeyType": "HASH"}]),
            "attributes": To(
                "AttributeDefinitions", fields={"name": "AttributeName", "type": "AttributeType"}
            ),
            "globalSecondaryIndexes": To(
                "GlobalSecondaryIndexes",
                fields={"name": "IndexName", "keySchemas": "KeySchema",
                        "projectionType": "Projection"},
                convert=lambda indexes: [_index(i) for i in indexes],
            ),
            "serverSideEncryption": To(
                "SSESpecification", fields={"enabled": "Enabled"}, convert=_encryption
            ),
            "deletionProtectionEnabled": "DeletionProtectionEnabled",
            "tags": To("Tags", convert=tag_list),
            "pointInTimeRecovery": To(
                "PointInTimeRecoverySpecification",
                op="UpdateContinuousBackups",
                fields={"enabled": "PointInTimeRecoveryEnabled"},
            ),
            "ttl": To(
                "TimeToLiveSpecification",
                op="UpdateTimeToLive",
                fields={"attributeName": "AttributeName", "enabled": "Enabled"},
            ),
        },
        create_table,
    ),
]
