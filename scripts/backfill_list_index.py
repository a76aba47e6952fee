"""Gives pets written before GET /pets had pages their list-index attributes.

GET /pets reads the `by-created` index (handlers/pages.py), which holds only items with
`listPartition` and `listOrder`. A table deployed before the index has pets without them:
run this once after deploying, with credentials that may Scan and UpdateItem the table.

    python scripts/backfill_list_index.py <table name> [--region us-east-1]

Conditional per item (only where listOrder is still missing), so it is safe to run twice or
while the API adds pets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "handlers"))
import pages


def backfill(table: Any) -> int:
    """Adds the index attributes to every pet lacking them; returns how many were updated."""
    updated, kwargs = 0, {"ConsistentRead": True,
                          "ProjectionExpression": "petId, createdAt, #order",
                          "ExpressionAttributeNames": {"#order": pages.ORDER_ATTRIBUTE}}
    while True:
        page = table.scan(**kwargs)
        for item in page.get("Items", []):
            if pages.ORDER_ATTRIBUTE in item or "createdAt" not in item:
                continue
            try:
                table.update_item(
                    Key={"petId": item["petId"]},
                    UpdateExpression="SET #partition = :partition, #order = :order",
                    ConditionExpression="attribute_exists(petId) AND attribute_not_exists(#order)",
                    ExpressionAttributeNames={"#partition": pages.PARTITION_ATTRIBUTE,
                                              "#order": pages.ORDER_ATTRIBUTE},
                    ExpressionAttributeValues={
                        ":partition": pages.PARTITION_VALUE,
                        ":order": pages.order_key(item["createdAt"], item["petId"])},
                )
                updated += 1
            except ClientError as err:
                # Removed meanwhile, or another run got there first: nothing to do.
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        if "LastEvaluatedKey" not in page:
            return updated
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table")
    parser.add_argument("--region")
    args = parser.parse_args()
    table = boto3.resource("dynamodb", region_name=args.region).Table(args.table)
    print(f"{backfill(table)} pet(s) given their list-index attributes")


if __name__ == "__main__":
    main()
