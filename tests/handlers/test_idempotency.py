"""POST /pets with an Idempotency-Key, against moto's DynamoDB: Powertools' idempotency
utility on a table shaped as the program declares it (tests/handlers/conftest.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

import app
import idempotency
import shapes
from tests.support.handler_calls import ADMIN_ARN, Context, call, event, items
from tests.support.signed_tokens import RSA_KEY, sign

pytestmark = pytest.mark.usefixtures("wired")

DOG = {"type": "dog", "price": 100}


def add(body: Any = None, key: str | None = '"key-1"', token: str | None = None,
        access_key: str = "ASIAALICE", caller: str = ADMIN_ARN) -> tuple[int, Any, dict]:
    headers = {"Origin": "http://127.0.0.1:8000"}
    if key is not None:
        headers[idempotency.HEADER] = key
    if token is not None:
        headers["X-Id-Token"] = token
    return call("POST", "/pets", DOG if body is None else body, headers=headers,
                caller=caller, access_key=access_key)


def records(idempotency_table) -> list[dict[str, Any]]:
    return idempotency_table.scan(ConsistentRead=True)["Items"]


def test_the_same_key_and_body_give_the_first_answer_and_no_second_pet(table):
    first = add()
    again = add()
    assert first[0] == again[0] == 201
    assert again[1] == first[1]
    assert [i["petId"] for i in items(table)] == [first[1]["petId"]]


def test_the_same_request_written_otherwise_is_the_same_request(table):
    first = add({"type": "dog", "price": 100})
    again = add('{"price": 100.0, "type": " dog "}')
    assert (again[0], again[1]) == (201, first[1])
    assert len(items(table)) == 1


def test_the_same_key_with_another_body_is_422_and_adds_nothing(table):
    first = add()
    status, body, headers = add({"type": "cat", "price": 100})
    assert status == 422
    assert "Idempotency-Key 'key-1' was already used with another request body" in body["error"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert [i["petId"] for i in items(table)] == [first[1]["petId"]]


def test_a_key_still_in_progress_is_409_with_retry_after(table, monkeypatch):
    """The first add is still running (it has put its in-progress record) when its retry
    arrives: the retry is told to come back, and only one pet is added."""
    real_add = app.PetStore.add
    retried: list[tuple[int, Any, dict]] = []

    def add_while_retried(store: Any, new: Any) -> Any:
        retried.append(add())  # the client's retry, while this add runs
        return real_add(store, new)

    monkeypatch.setattr(app.PetStore, "add", add_while_retried)
    first = add()
    ((status, body, headers),) = retried
    assert status == 409 and "still in progress" in body["error"], body
    assert headers["Retry-After"] == str(idempotency.IN_PROGRESS_RETRY_AFTER_SECONDS)
    assert first[0] == 201 and len(items(table)) == 1
    monkeypatch.setattr(app.PetStore, "add", real_add)
    assert add()[1] == first[1]  # once done, the retry gets the first answer


def test_a_key_expires_after_the_stated_time(table, idempotency_table):
    before = time.time()
    first = add()
    (record,) = records(idempotency_table)
    expiry = int(record[idempotency.EXPIRY_ATTRIBUTE])
    assert before + idempotency.EXPIRES_AFTER_SECONDS - 5 <= expiry
    assert expiry <= time.time() + idempotency.EXPIRES_AFTER_SECONDS + 5
    # Time passes: the record's expiry is behind us (TTL may not have deleted it yet).
    idempotency_table.update_item(
        Key={idempotency.KEY_ATTRIBUTE: record[idempotency.KEY_ATTRIBUTE]},
        UpdateExpression="SET #e = :past", ExpressionAttributeNames={"#e": "expiration"},
        ExpressionAttributeValues={":past": int(time.time()) - 1})
    again = add()
    assert again[0] == 201 and again[1]["petId"] != first[1]["petId"]
    assert len(items(table)) == 2


def test_keys_are_kept_per_person(table):
    alice, carol = sign(RSA_KEY, sub="auth0|alice"), sign(RSA_KEY, sub="auth0|carol")
    first = add(token=alice, access_key="ASIAONE")
    # The same person with renewed credentials: the same request.
    assert add(token=alice, access_key="ASIATWO")[1] == first[1]
    # Another admin who happens to send the same key: another request.
    other = add(token=carol, access_key="ASIAONE")
    assert other[0] == 201 and other[1]["petId"] != first[1]["petId"]
    assert len(items(table)) == 2


def test_without_a_token_keys_are_kept_per_signed_session(table):
    first = add(access_key="ASIAONE")
    assert add(access_key="ASIAONE")[1] == first[1]
    assert add(access_key="ASIATWO")[1]["petId"] != first[1]["petId"]
    assert len(items(table)) == 2


def test_a_bad_token_with_a_key_is_401(table):
    status, body, _ = add(token="not-a-token")
    assert status == 401 and "X-Id-Token" in body["error"]
    assert items(table) == []


def test_without_a_key_every_add_is_a_new_pet(table, idempotency_table):
    assert add(key=None)[1]["petId"] != add(key=None)[1]["petId"]
    assert len(items(table)) == 2 and records(idempotency_table) == []


@pytest.mark.parametrize(("key", "stored"), [
    ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ('"with space and \\"quote\\""', 'with space and "quote"'),
    ('"' + "k" * 255 + '"', "k" * 255),
])
def test_keys_as_the_draft_writes_them(key, stored):
    assert idempotency.key_of([key]) == stored


@pytest.mark.parametrize("key", ['""', "", '"' + "k" * 256 + '"', "k" * 256, "two words",
                                 '"unterminated', '"bad \\x"', "clé", '"tab\there"'])
def test_a_malformed_key_is_400_naming_the_header(table, key):
    status, body, _ = add(key=key)
    assert status == 400 and body["error"].startswith("Idempotency-Key must be"), body
    assert items(table) == []


def test_a_key_sent_twice_is_400(table):
    request = event("POST", "/pets", DOG, headers={idempotency.HEADER: "a"}, caller=ADMIN_ARN)
    request["multiValueHeaders"][idempotency.HEADER] = ["a", "b"]
    response = app.handler(request, Context())
    assert response["statusCode"] == 400, response["body"]
    assert json.loads(response["body"]) == {"error": "Idempotency-Key must be sent once"}
    assert items(table) == []


def test_a_failed_add_frees_its_key_for_the_retry(table, monkeypatch):
    real_add = app.PetStore.add
    failures = [ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                       "Message": "injected"}}, "PutItem")]

    def flaky(store: Any, new: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_add(store, new)

    monkeypatch.setattr(app.PetStore, "add", flaky)
    status, _, headers = add()
    assert (status, headers["Retry-After"]) == (503, "1")
    assert items(table) == []
    status, pet, _ = add()
    assert status == 201 and [i["petId"] for i in items(table)] == [pet["petId"]]


def test_the_replayed_answer_is_the_first_even_after_a_sale(table):
    first = add()
    sold = call("POST", "/pets/purchase", {"petId": first[1]["petId"]},
                headers={"X-Id-Token": sign(RSA_KEY)})
    assert sold[0] == 200
    assert add()[1] == first[1]  # the answer to that add, not the pet as it is now


def test_the_records_live_in_the_idempotency_table_only(table, idempotency_table):
    add()
    (record,) = records(idempotency_table)
    assert record["status"] == "COMPLETED" and idempotency_table.name == "pets-test-idempotency"
    assert all("status" not in i for i in items(table))


def test_the_contract_states_the_utilitys_expiry_and_key_length():
    assert idempotency.EXPIRES_AFTER_SECONDS == shapes.IDEMPOTENCY_KEY_EXPIRES_HOURS * 3600
    assert shapes.IDEMPOTENCY_KEY.schema["maxLength"] == idempotency.MAX_KEY_LENGTH + 2  # quotes
