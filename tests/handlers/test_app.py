"""The routes end to end through the Lambda handler, against a moto table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

import access
import app
from id_tokens import IdTokenVerifier, IssuerKeys
from tests.handlers.test_id_tokens import AUDIENCE, ISSUER, RSA_KEY, FakeIssuer, sign

BUYER_ARN = "arn:aws:sts::000000000000:assumed-role/pets-test-buyer/bob"


@dataclass
class Context:
    function_name: str = "pets-test-fn"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:pets-test-fn"
    aws_request_id: str = "req-1"


def event(method: str, path: str, body: Any = None, headers: dict | None = None,
          resource: str | None = None, path_parameters: dict | None = None) -> dict:
    """An API Gateway REST (v1) proxy event as AWS sends it."""
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": None,
        "pathParameters": path_parameters,
        "requestContext": {
            "requestId": "req-1", "stage": "v1", "httpMethod": method, "path": f"/v1{path}",
            "identity": {"userArn": BUYER_ARN, "caller": "AROAEXAMPLE:bob"},
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any, dict]:
    response = app.handler(event(method, path, body, **kwargs), Context())
    headers = {k: ",".join(v) for k, v in response.get("multiValueHeaders", {}).items()}
    return response["statusCode"], json.loads(response["body"]), headers


@pytest.fixture(autouse=True)
def wired(table, monkeypatch):
    monkeypatch.setenv("TABLE_NAME", table.name)
    app.store.cache_clear()
    fake = FakeIssuer(RSA_KEY)
    monkeypatch.setattr(app, "verifier", lambda: IdTokenVerifier(
        ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=fake)))
    yield
    app.store.cache_clear()


def add(kind: str = "dog", price: float = 100) -> dict:
    status, pet, _ = call("POST", "/pets", {"type": kind, "price": price})
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
    assert items(table)[0]["soldTo"] == "bob@example.com"


def test_second_purchase_is_409_and_keeps_the_first_buyer(table):
    pet = add()
    assert purchase(pet["petId"], sign(RSA_KEY))[0] == 200
    status, body, _ = purchase(pet["petId"], sign(RSA_KEY, sub="github|dave",
                                                   email="dave@example.com"))
    assert (status, body) == (409, {"error": "pet already sold"})
    assert items(table)[0]["soldTo"] == "bob@example.com"


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
    assert call("GET", "/pets")[:2] == (500, {"error": "internal error"})


def test_responses_carry_cors_headers_for_browsers():
    _, _, headers = call("GET", "/pets", headers={"Origin": "http://127.0.0.1:8000"})
    assert headers["Access-Control-Allow-Origin"] == "*"
