"""Handlers run as they do in Lambda (their folder flat on sys.path, put there by
tests/support/handler_calls.py), against moto tables shaped like the program's: `wired` sets
a function's environment to them, as the program does."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.support.handler_calls import app  # first: it puts handlers/ on sys.path

# isort: split
import access
import idempotency
import pages
from components.environment import pet_readers
from id_tokens import IdTokenVerifier, IssuerKeys
from tests.support.signed_tokens import AUDIENCE, ISSUER, RSA_KEY, FakeIssuer

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


@pytest.fixture
def wired(table, idempotency_table, monkeypatch) -> Iterator[None]:
    """The routes' environment: the moto tables, the stack's readers, a fake issuer."""
    monkeypatch.setenv("TABLE_NAME", table.name)
    monkeypatch.setenv(idempotency.TABLE_ENV, idempotency_table.name)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "pets-test-add-pet")
    # What the program tells the functions (components/environment.py), for stack `test`.
    monkeypatch.setenv("PET_READERS", pet_readers("pets-test", access.USER_CLASSES))
    for cached in (app.store, app.read_rules, idempotency.utility):
        cached.cache_clear()
    fake = FakeIssuer(RSA_KEY)
    monkeypatch.setattr(app, "verifier", lambda: IdTokenVerifier(
        ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=fake)))
    yield
    for cached in (app.store, app.read_rules, idempotency.utility):
        cached.cache_clear()
