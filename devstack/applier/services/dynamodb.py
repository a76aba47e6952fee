"""aws:dynamodb/table:Table."""

from __future__ import annotations

import time
from typing import Any

from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none, tag_list

_ACTIVE_WAIT_SECONDS = 30.0


def _key_schema(hash_key: str | None, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}] if hash_key else []
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _projection(index: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "ProjectionType": index.get("projectionType"),
            "NonKeyAttributes": index.get("nonKeyAttributes") or None,
        }
    )


def _gsi(req: CreateRequest, index: dict[str, Any], billing: str) -> dict[str, Any]:
    if index.get("keySchemas"):
        schema = [
            {"AttributeName": k["attributeName"], "KeyType": k["keyType"]}
            for k in index["keySchemas"]
        ]
    else:
        schema = _key_schema(index.get("hashKey"), index.get("rangeKey"))
    gsi: dict[str, Any] = {
        "IndexName": index["name"],
        "KeySchema": schema,
        "Projection": _projection(index),
    }
    if billing == "PROVISIONED":
        gsi["ProvisionedThroughput"] = {
            "ReadCapacityUnits": index.get("readCapacity") or 0,
            "WriteCapacityUnits": index.get("writeCapacity") or 0,
        }
    on_demand = index.get("onDemandThroughput")
    if on_demand:
        gsi["OnDemandThroughput"] = drop_none(
            {
                "MaxReadRequestUnits": on_demand.get("maxReadRequestUnits"),
                "MaxWriteRequestUnits": on_demand.get("maxWriteRequestUnits"),
            }
        )
    return gsi


def create_table(req: CreateRequest) -> Created:
    ddb = req.client("dynamodb")
    name = req.physical_name(prefix_key=None)
    billing = req.get("billingMode", "PROVISIONED")  # the provider's default
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]}
            for a in req.get("attributes", [])
        ],
        "KeySchema": _key_schema(req.get("hashKey"), req.get("rangeKey")),
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        if req.get("readCapacity") is None or req.get("writeCapacity") is None:
            raise req.fail("billingMode PROVISIONED needs readCapacity and writeCapacity")
        params["ProvisionedThroughput"] = {
            "ReadCapacityUnits": req.get("readCapacity"),
            "WriteCapacityUnits": req.get("writeCapacity"),
        }
    if req.get("globalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = [
            _gsi(req, i, billing) for i in req.get("globalSecondaryIndexes")
        ]
    if req.get("localSecondaryIndexes"):
        params["LocalSecondaryIndexes"] = [
            {
                "IndexName": i["name"],
                "KeySchema": _key_schema(req.get("hashKey"), i["rangeKey"]),
                "Projection": _projection(i),
            }
            for i in req.get("localSecondaryIndexes")
        ]
    if req.get("streamEnabled"):
        params["StreamSpecification"] = drop_none(
            {
                "StreamEnabled": True,
                "StreamViewType": req.get("streamViewType"),
            }
        )
    sse = req.get("serverSideEncryption")
    if sse and sse.get("enabled"):
        # enabled=true means a KMS key (the AWS managed one unless kmsKeyArn is given);
        # enabled=false is DynamoDB's default AWS-owned key, so nothing is sent.
        params["SSESpecification"] = drop_none(
            {
                "Enabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": sse.get("kmsKeyArn"),
            }
        )
    on_demand = req.get("onDemandThroughput")
    if on_demand:
        params["OnDemandThroughput"] = drop_none(
            {
                "MaxReadRequestUnits": on_demand.get("maxReadRequestUnits"),
                "MaxWriteRequestUnits": on_demand.get("maxWriteRequestUnits"),
            }
        )
    params.update(
        drop_none(
            {
                "TableClass": req.get("tableClass"),
                "DeletionProtectionEnabled": req.get("deletionProtectionEnabled"),
                "Tags": tag_list(req.get("tags")),
            }
        )
    )
    table = ddb.create_table(**params)["TableDescription"]
    _wait_active(req, name, table.get("TableStatus"))

    pitr = req.get("pointInTimeRecovery")
    if pitr and pitr.get("enabled"):
        ddb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification=drop_none(
                {
                    "PointInTimeRecoveryEnabled": True,
                    "RecoveryPeriodInDays": pitr.get("recoveryPeriodInDays"),
                }
            ),
        )
    ttl = req.get("ttl")
    if ttl and ttl.get("enabled"):
        ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]},
        )
    return Created(
        name,
        drop_none(
            {
                "name": name,
                "arn": table["TableArn"],
                "billingMode": billing,
                "streamArn": table.get("LatestStreamArn"),
                "streamLabel": table.get("LatestStreamLabel"),
                "tagsAll": req.get("tags", {}),
            }
        ),
    )


def _wait_active(req: CreateRequest, name: str, status: str | None) -> None:
    deadline = time.monotonic() + _ACTIVE_WAIT_SECONDS
    while status != "ACTIVE":
        if time.monotonic() > deadline:
            raise req.fail(f"table {name} not ACTIVE after {_ACTIVE_WAIT_SECONDS:.0f} s ({status})")
        time.sleep(0.1)
        status = req.client("dynamodb").describe_table(TableName=name)["Table"]["TableStatus"]


KINDS = [
    ResourceKind(
        resource_type="aws:dynamodb/table:Table",
        create=create_table,
        inputs=frozenset(
            {
                "name",
                "attributes",
                "hashKey",
                "rangeKey",
                "billingMode",
                "readCapacity",
                "writeCapacity",
                "globalSecondaryIndexes",
                "localSecondaryIndexes",
                "streamEnabled",
                "streamViewType",
                "serverSideEncryption",
                "pointInTimeRecovery",
                "ttl",
                "onDemandThroughput",
                "tableClass",
                "deletionProtectionEnabled",
                "tags",
            }
        ),
        refused={
            "replicas": "global tables need other regions",
            "importTable": "S3 import is not applied locally",
            "restoreSourceName": "restores are not applied locally",
            "restoreSourceTableArn": "restores are not applied locally",
            "restoreDateTime": "restores are not applied locally",
            "restoreToLatestTime": "restores are not applied locally",
            "restoreBackupArn": "restores are not applied locally",
        },
        note="SSE reads back ENABLED/KMS but is only a label in MiniStack",
    ),
]
