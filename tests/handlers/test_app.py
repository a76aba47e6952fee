"""The routes end to end through the Lambda handler, against a moto table."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from moto.core.models import botocore_stubber

import access
import app
from tests.support.handler_calls import (
    ACCOUNT,
    DAVE,
    add,
    call,
    items,
    purchase,
)
from tests.support.signed_tokens import RSA_KEY, sign

pytestmark = pytest.mark.usefixtures("wired")

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
