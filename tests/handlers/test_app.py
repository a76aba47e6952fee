"""The routes end to end through the Lambda handler, against a moto table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest
from botocore.exceptions import ReadTimeoutError
from moto.core.models import botocore_stubber

import access
import app
import idempotency
from components.environment import pet_readers
from id_tokens import IdTokenVerifier, IssuerKeys
from tests.handlers.test_id_tokens import AUDIENCE, ISSUER, RSA_KEY, FakeIssuer, sign

ACCOUNT = "000000000000"
BUYER_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-buyer/bob"
ADMIN_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-admin/alice"


@dataclass
class Context:
    function_name: str = "pets-test-fn"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pets-test-fn"
    aws_request_id: str = "req-1"
    remaining_ms: int = 10_000  # the function's timeout, as Lambda starts it

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def event(method: str, path: str, body: Any = None, headers: dict | None = None,
          resource: str | None = None, path_parameters: dict | None = None,
          caller: str = BUYER_ARN, access_key: str = "ASIAEXAMPLEBOB") -> dict:
    """An API Gateway REST (v1) proxy event as AWS sends it."""
    path, _, query = path.partition("?")
    params = parse_qs(query, keep_blank_values=True)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": {k: v[-1] for k, v in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "pathParameters": path_parameters,
        "requestContext": {
            "requestId": "apigw-req-1", "stage": "v1", "httpMethod": method, "path": f"/v1{path}",
            "identity": {"userArn": caller, "caller": "AROAEXAMPLE:bob",
                         "accessKey": access_key},
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(method: str, path: str, body: Any = None, context: Context | None = None,
         **kwargs: Any) -> tuple[int, Any, dict]:
    response = app.handler(event(method, path, body, **kwargs), context or Context())
    headers = {k: ",".join(v) for k, v in response.get("multiValueHeaders", {}).items()}
    return response["statusCode"], json.loads(response["body"]), headers


@pytest.fixture(autouse=True)
def wired(table, idempotency_table, monkeypatch):
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


def add(kind: str = "dog", price: float = 100, **kwargs: Any) -> dict:
    status, pet, _ = call("POST", "/pets", {"type": kind, "price": price}, caller=ADMIN_ARN,
                          **kwargs)
    assert status == 201, pet
    return pet


def items(table) -> list[dict]:
    return table.scan(ConsistentRead=True)["Items"]


def purchase(pet_id: str, token: str | None) -> tuple[int, Any, dict]:
    headers = {"X-Id-Token": token} if token is not None else {}
    return call("POST", "/pets/purchase", {"petId": pet_id}, headers=headers)


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_every_model_route_has_its_route_function(route):
    assert callable(getattr(app, route.handler)), f"handlers/app.py lacks {route.handler}"
    path = route.path.replace("{petId}", "0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11")
    status, body, _ = call(route.method, path, "{}", resource=route.path)
    assert body != {"error": "no such route"}, f"{route.id} is not routed"
    assert status != 404 or "no pet" in body["error"]


def test_list_is_empty_at_first():
    assert call("GET", "/pets")[:2] == (200, {"pets": []})


def test_add_then_list_shows_the_pet():
    pet = add("cat", 49.5)
    assert pet["type"] == "cat" and pet["price"] == 49.5 and "soldTo" not in pet
    status, body, _ = call("GET", "/pets")
    assert status == 200 and body["pets"] == [pet]


@pytest.mark.parametrize(
    "body", ['{"type": "dog"}', '{"type": "", "price": 1}', "{oops", '{"type": "dog", "price": -1}']
)
def test_invalid_add_is_400_and_changes_nothing(table, body):
    status, response, _ = call("POST", "/pets", body)
    assert status == 400 and isinstance(response["error"], str) and response["error"]
    assert items(table) == []


def test_remove_deletes_the_pet(table):
    pet = add()
    status, body, _ = call("DELETE", f"/pets/{pet['petId']}", resource="/pets/{petId}",
                           path_parameters={"petId": pet["petId"]})
    assert (status, body["petId"]) == (200, pet["petId"])
    assert items(table) == []


def test_remove_unknown_pet_is_404():
    unknown = "0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"
    status, body, _ = call("DELETE", f"/pets/{unknown}")
    assert status == 404 and unknown in body["error"]


def test_remove_malformed_id_is_400():
    assert call("DELETE", "/pets/not-a-uuid")[0] == 400


def test_purchase_records_the_token_user(table):
    pet = add()
    status, body, _ = purchase(pet["petId"], sign(RSA_KEY))
    assert status == 200, body
    assert body["soldTo"] == "bob@example.com"
    assert body["buyerSub"] == "google-oauth2|bob"
    assert body["sold"] is True and body["soldAt"]
    assert items(table)[0]["soldTo"] == "bob@example.com"


DAVE = {"sub": "github|dave", "email": "dave@example.com"}


def test_second_purchase_by_another_buyer_is_409_and_keeps_the_first_buyer(table):
    pet = add()
    assert purchase(pet["petId"], sign(RSA_KEY))[0] == 200
    status, body, _ = purchase(pet["petId"], sign(RSA_KEY, **DAVE))
    assert (status, body) == (409, {"error": "pet already sold"})
    assert items(table)[0]["soldTo"] == "bob@example.com"


def test_the_buyer_who_buys_again_gets_the_same_sale(table):
    """A retried purchase (its answer was lost): 200 with the sale as it was, not 409."""
    pet = add()
    first = purchase(pet["petId"], sign(RSA_KEY))
    # A later token of the same user, whose e-mail has changed meanwhile.
    again = purchase(pet["petId"], sign(RSA_KEY, email="bob@new.example.com"))
    assert first[0] == again[0] == 200
    assert again[1] == first[1]  # same soldAt, same soldTo
    (item,) = items(table)
    assert (item["soldAt"], item["soldTo"]) == (first[1]["soldAt"], "bob@example.com")


def test_a_session_name_or_body_naming_the_buyer_does_not_make_one(table):
    """Only the verified token says who buys: dave, whose role session is named after bob
    and whose body names bob's sub, is refused."""
    pet = add()
    purchase(pet["petId"], sign(RSA_KEY))
    status, _, _ = call("POST", "/pets/purchase",
                        {"petId": pet["petId"], "buyerSub": "google-oauth2|bob"},
                        headers={"X-Id-Token": sign(RSA_KEY, **DAVE)},
                        caller=f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-buyer/"
                               "google-oauth2|bob")
    assert status == 400  # an unknown field: the body cannot even say it
    status, body, _ = call("POST", "/pets/purchase", {"petId": pet["petId"]},
                           headers={"X-Id-Token": sign(RSA_KEY, **DAVE)},
                           caller=f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-buyer/bob")
    assert (status, body) == (409, {"error": "pet already sold"})


def test_sold_pet_cannot_be_removed(table):
    pet = add()
    purchase(pet["petId"], sign(RSA_KEY))
    status, body, _ = call("DELETE", f"/pets/{pet['petId']}")
    assert status == 409 and "sold" in body["error"]
    assert len(items(table)) == 1


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_purchase_without_a_valid_token_is_401_and_unsold(table, token):
    pet = add()
    status, body, _ = purchase(pet["petId"], token)
    assert status == 401 and "X-Id-Token" in body["error"]
    assert "soldTo" not in items(table)[0]


def test_purchase_of_unknown_pet_is_404():
    assert purchase("0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11", sign(RSA_KEY))[0] == 404


def test_malformed_purchase_body_is_400():
    status, body, _ = call("POST", "/pets/purchase", "[]",
                           headers={"X-Id-Token": sign(RSA_KEY)})
    assert status == 400 and "JSON object" in body["error"]


def test_unknown_route_is_json_404():
    assert call("GET", "/owners")[:2] == (404, {"error": "no such route"})


def test_unexpected_failure_is_json_500(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    app.store.cache_clear()
    assert call("GET", "/pets")[:2] == (500, {"error": "internal error (request apigw-req-1)"})


def test_responses_carry_cors_headers_for_browsers():
    _, _, headers = call("GET", "/pets", headers={"Origin": "http://127.0.0.1:8000"})
    assert headers["Access-Control-Allow-Origin"] == "*"


class LoseAnswers:
    """botocore's before-send: the first `count` requests of `operation` reach the (moto)
    table, which carries them out, and their answers are lost (a read timeout), so boto3
    retries a request the table already executed."""

    def __init__(self, operation: str, count: int = 1):
        self.operation, self.count, self.lost = operation, count, 0

    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        if (request.headers["X-Amz-Target"].decode().endswith(f".{self.operation}")
                and self.lost < self.count):
            self.lost += 1
            botocore_stubber(event_name, request)  # the table does it
            raise ReadTimeoutError(endpoint_url=request.url)  # the answer never arrives


def lose_answers(operation: str) -> LoseAnswers:
    lose = LoseAnswers(operation)
    app.store()._table.meta.client.meta.events.register("before-send.dynamodb", lose)
    return lose


def test_an_add_whose_answer_was_lost_is_the_pet_added(table):
    """boto3's own retry of the put finds the item its first attempt stored."""
    lose = lose_answers("PutItem")
    pet = add()
    assert lose.lost == 1
    assert [i["petId"] for i in items(table)] == [pet["petId"]]


def test_a_purchase_whose_answer_was_lost_is_the_sale(table):
    pet = add()
    lose = lose_answers("UpdateItem")
    status, sale, _ = purchase(pet["petId"], sign(RSA_KEY))
    assert (status, lose.lost, sale["soldTo"]) == (200, 1, "bob@example.com")
