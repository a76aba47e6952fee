"""Handlers run as they do in Lambda (their folder flat on sys.path, put there by
tests/support/handler_calls.py), against moto tables shaped like the program's: `wired` sets
a function's environment to them, as the program does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


_AWS_ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def _tables() -> Iterator[tuple[Any, Any]]:
    """The moto tables, made once per module (making them and their boto3 resources was two
    thirds of each test's time); `table` empties them before every test."""
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name, value in _AWS_ENV.items():
            env.setenv(name, value)
        resource = boto3.resource("dynamodb")
        pets_table = resource.create_table(
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
        # As the program declares it (components/table.py).
        idempotency_records = resource.create_table(
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
        yield pets_table, idempotency_records


def _empty(table: Any) -> None:
    keys = [k["AttributeName"] for k in table.key_schema]
    items = table.scan(ConsistentRead=True, ProjectionExpression=", ".join(keys))["Items"]
    with table.batch_writer() as batch:
        for item in items:
            batch.delete_item(Key=item)
    assert table.scan(ConsistentRead=True, Select="COUNT")["Count"] == 0, table.name


@pytest.fixture
def table(_tables) -> Any:
    """A moto DynamoDB table shaped like the program's (one item per pet, the list index),
    empty, as is the idempotency table beside it (the AWS_* variables are `_tables`')."""
    for each in _tables:
        _empty(each)
    return _tables[0]


@pytest.fixture
def idempotency_table(table, _tables) -> Any:
    """The idempotency table as the program declares it (components/table.py), in the same
    moto account as `table`, empty."""
    return _tables[1]


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
