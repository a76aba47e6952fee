"""What the API does to the data: adds, removes, single sales, races, bad input."""

from __future__ import annotations

import dataclasses
import uuid
from urllib.parse import urlencode

import pytest

from components.api_models import BAD_BODY_MESSAGE
from tests.support.session_stack import Local, Session, add_pet, keyed_add, purchase, stored_of_type

pytestmark = pytest.mark.usefixtures("lambda_runs")


def listed(session: Session) -> dict[str, dict]:
    """Every pet, page by page (GET /pets answers at most 100 at a time)."""
    pets, query = {}, {"limit": "100"}
    while True:
        response = session.api.call("GET", f"/pets?{urlencode(query)}")
        assert response.status_code == 200, response.text
        page = response.json()
        pets |= {p["petId"]: p for p in page["pets"]}
        if not page.get("nextCursor"):
            return pets
        query = {"limit": "100", "cursor": page["nextCursor"]}


def test_added_pet_is_listed(admin: Session, buyer: Session):
    pet = add_pet(admin, "parrot", 35.5)
    assert listed(buyer)[pet["petId"]] == pet
    assert (pet["type"], pet["price"]) == ("parrot", 35.5)


def test_removed_pet_is_gone(admin: Session, local: Local):
    pet = add_pet(admin)
    response = admin.api.call("DELETE", f"/pets/{pet['petId']}")
    assert response.status_code == 200, response.text
    assert pet["petId"] not in listed(admin)
    assert local.table.get(pet["petId"]) is None


def test_removing_an_unknown_pet_is_404(admin: Session):
    response = admin.api.call("DELETE", f"/pets/{uuid.uuid4()}")
    assert response.status_code == 404
    assert "no pet" in response.json()["error"]


def test_buying_a_sold_pet_is_409(admin: Session, buyer: Session, other_buyer: Session,
                                  local: Local):
    pet = add_pet(admin)
    assert purchase(buyer, pet["petId"], buyer.token).status_code == 200
    again = purchase(other_buyer, pet["petId"], other_buyer.token)
    assert again.status_code == 409 and again.json() == {"error": "pet already sold"}
    assert local.table.get(pet["petId"])["soldTo"] == "bob@example.com"


def test_a_retried_purchase_by_its_buyer_is_the_same_sale(admin: Session, buyer: Session,
                                                         other_buyer: Session, local: Local):
    """bob's answer was lost and he buys again: 200 with the sale as it was (same soldAt),
    also with a fresh token; dave is still refused."""
    pet = add_pet(admin)
    first = purchase(buyer, pet["petId"], buyer.token)
    assert first.status_code == 200, first.text
    again = purchase(buyer, pet["petId"], local.token("bob"))
    assert again.status_code == 200, again.text
    assert again.json() == first.json() and again.json()["soldAt"] == first.json()["soldAt"]
    refused = purchase(other_buyer, pet["petId"], other_buyer.token)
    assert (refused.status_code, refused.json()) == (409, {"error": "pet already sold"})
    stored = local.table.get(pet["petId"])
    assert (stored["soldTo"], stored["soldAt"]) == ("bob@example.com", first.json()["soldAt"])


def test_a_purchase_in_bobs_name_without_his_token_is_refused(
        admin: Session, buyer: Session, other_buyer: Session, local: Local):
    """dave signs with a role session he named after bob: the token decides, not the name."""
    pet = add_pet(admin)
    purchase(buyer, pet["petId"], buyer.token)
    bob_named = local.assume("buyer", other_buyer.token, session_name="bob")
    response = purchase(dataclasses.replace(other_buyer, api=local.api(bob_named)),
                        pet["petId"], other_buyer.token)
    assert (response.status_code, response.json()) == (409, {"error": "pet already sold"})


def test_removing_a_sold_pet_is_409(admin: Session, buyer: Session, local: Local):
    pet = add_pet(admin)
    purchase(buyer, pet["petId"], buyer.token)
    assert admin.api.call("DELETE", f"/pets/{pet['petId']}").status_code == 409
    assert local.table.get(pet["petId"]) is not None


@pytest.mark.parametrize(("body", "message"), [
    ('{"type": "dog"}', "price is required"),
    ('{"type": "dog", "price": -5}', "greater than 0"),
    ('{"type": "", "price": 5}', "type is required"),
    ('{"type": "dog", "price": "5"}', "must be a number"),
    ('{"type": "dog", "price": 5', "not valid JSON"),
    ('["dog", 5]', "JSON object"),
    ('{"type": "' + "d" * 20000 + '", "price": 5}', "larger than"),
])
def test_invalid_add_is_400_with_a_message_and_changes_nothing(
    admin: Session, local: Local, gateway_validates: bool, body, message
):
    before = local.table.items()
    response = admin.api.call("POST", "/pets", data=body)
    assert response.status_code == 400, response.text
    # Each body breaks the schema, so a validating gateway refuses it before the function.
    assert (BAD_BODY_MESSAGE if gateway_validates else message) in response.json()["error"]
    assert local.table.items() == before


@pytest.mark.parametrize("body", ['{}', '{"petId": 42}', "nope", '{"petId": "x", "more": 1}'])
def test_invalid_purchase_is_400_and_changes_nothing(buyer: Session, local: Local, body):
    before = local.table.items()
    response = buyer.api.call("POST", "/pets/purchase", data=body,
                              headers={"X-Id-Token": buyer.token})
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert local.table.items() == before


def test_a_replayed_add_creates_no_second_pet(admin: Session, local: Local):
    kind, key = f"replay-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    first = keyed_add(admin, {"type": kind, "price": 12.5}, key)
    again = keyed_add(admin, {"type": kind, "price": 12.5}, key)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert [i["petId"] for i in stored_of_type(local, kind)] == [first.json()["petId"]]


def test_the_same_key_with_another_body_is_422(admin: Session, local: Local):
    kind, key = f"replay-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    assert keyed_add(admin, {"type": kind, "price": 1}, key).status_code == 201
    other = keyed_add(admin, {"type": kind, "price": 2}, key)
    assert other.status_code == 422, other.text
    assert "Idempotency-Key" in other.json()["error"]
    assert len(stored_of_type(local, kind)) == 1
