"""Handlers run as they do in Lambda: their folder flat on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
if str(HANDLERS) not in sys.path:
    sys.path.insert(0, str(HANDLERS))

import idempotency  # noqa: E402 (handlers/ is on sys.path only from here)
import pages  # noqa: E402

TABLE = "pets-test-pets"
IDEMPOTENCY_TABLE = "pets-test-idempotency"


@pytest.fixture
def table(monkeypatch) -> Iterator:
    """A moto DynamoDB table shaped like the program's (one item per pet, the list index)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        resource = boto3.resource("dynamodb")
        created = resource.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "petId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                  for a in ("petId", *pages.INDEX_ATTRIBUTES)],
            GlobalSecondaryIndexes=[{
                "IndexName": pages.INDEX_NAME,
                "KeySchema": [{"AttributeName": pages.PARTITION_ATTRIBUTE, "KeyType": "HASH"},
                              {"AttributeName": pages.ORDER_ATTRIBUTE, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            BillingMode="PAY_PER_REQUEST",
        )
        yield created


@pytest.fixture
def idempotency_table(table) -> Iterator:
    """The idempotency table as the program declares it (components/table.py), in the same
    moto account as `table`."""
    resource = boto3.resource("dynamodb")
    created = resource.create_table(
        TableName=IDEMPOTENCY_TABLE,
        KeySchema=[{"AttributeName": idempotency.KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": idempotency.KEY_ATTRIBUTE,
                               "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    resource.meta.client.update_time_to_live(
        TableName=IDEMPOTENCY_TABLE,
        TimeToLiveSpecification={"AttributeName": idempotency.EXPIRY_ATTRIBUTE,
                                 "Enabled": True})
    yield created
