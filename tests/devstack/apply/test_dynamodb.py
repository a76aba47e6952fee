"""A DynamoDB table applied to the emulator and read back: billing, keys, tags, encryption,
point-in-time recovery and TTL as declared; its ARN exported."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from devstack.apply import apply_function


def test_table_has_pitr_sse_billing_and_keys(factory: Callable, unique: str) -> None:
    def program() -> None:
        table = aws.dynamodb.Table(
            "table",
            name=f"pets-{unique}",
            billing_mode="PAY_PER_REQUEST",
            hash_key="petId",
            attributes=[aws.dynamodb.TableAttributeArgs(name="petId", type="S")],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expiration", enabled=True),
            tags={"app": "pets"},
        )
        pulumi.export("arn", table.arn)

    result = apply_function(program, factory)
    ddb = factory("dynamodb")
    table = ddb.describe_table(TableName=f"pets-{unique}")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "petId", "KeyType": "HASH"}]
    assert {"Key": "app", "Value": "pets"} in ddb.list_tags_of_resource(
        ResourceArn=table["TableArn"])["Tags"]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert result.outputs["arn"] == table["TableArn"]
    backups = ddb.describe_continuous_backups(TableName=f"pets-{unique}")[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ddb.describe_time_to_live(TableName=f"pets-{unique}")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
