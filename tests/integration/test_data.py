"""What the API does to the data: adds, removes, single sales, races, bad input."""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from components.api_models import BAD_BODY_MESSAGE
from tests.integration.conftest import Local, Session, add_pet, purchase

pytestmark = pytest.mark.usefixtures("lambda_runs")


def patient(session: Session) -> Session:
    """Concurrent calls each start a Lambda worker on the emulator (cold starts queue up)."""
    return dataclasses.replace(session, api=dataclasses.replace(session.api, timeout=180))


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


def test_buying_a_sold_pet_is_409(admin: Session, buyer: Session, local: Local):
    pet = add_pet(admin)
    assert purchase(buyer, pet["petId"], buyer.token).status_code == 200
    again = purchase(buyer, pet["petId"], local.token("dave"))
    assert again.status_code == 409 and again.json() == {"error": "pet already sold"}
    assert local.table.get(pet["petId"])["soldTo"] == "bob@example.com"


def test_removing_a_sold_pet_is_409(admin: Session, buyer: Session, local: Local):
    pet = add_pet(admin)
    purchase(buyer, pet["petId"], buyer.token)
    assert admin.api.call("DELETE", f"/pets/{pet['petId']}").status_code == 409
    assert local.table.get(pet["petId"]) is not None


def warm_purchase_workers(buyer: Session, count: int) -> None:
    """`count` concurrent purchases of a pet that does not exist, answers ignored.

    The emulator starts one Lambda worker per concurrent call, and fifty cold starts on two
    cores can outlast the function's 10 s timeout (a 502 that says nothing about the sale).
    Warm workers (each with the issuer's keys fetched) leave the race to the conditional
    write it is about; the race itself stays fifty calls at once.
    """
    missing = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=count) as pool:
        list(pool.map(lambda _: purchase(buyer, missing, buyer.token), range(count)))


@pytest.mark.race
def test_fifty_concurrent_purchases_sell_once(admin: Session, buyer: Session, local: Local):
    pet, buyer = add_pet(admin), patient(buyer)
    warm_purchase_workers(buyer, 50)
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(
            lambda _: purchase(buyer, pet["petId"], buyer.token).status_code, range(50)))
    assert sorted(statuses) == [200] + [409] * 49, statuses
    assert local.table.get(pet["petId"])["soldTo"] == "bob@example.com"


@pytest.mark.race
def test_hundred_concurrent_adds_lose_nothing(admin: Session, local: Local):
    kind, admin = f"race-{uuid.uuid4().hex[:8]}", patient(admin)
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(
            lambda i: admin.api.call("POST", "/pets", json={"type": kind, "price": i + 1}),
            range(100)))
    assert [r.status_code for r in responses] == [201] * 100
    ids = {r.json()["petId"] for r in responses}
    stored = [i for i in local.table.items() if i["type"] == kind]
    assert len(ids) == 100 and {i["petId"] for i in stored} == ids
    assert sorted(int(i["price"]) for i in stored) == list(range(1, 101))


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
