"""What the API does to the data: adds, removes, single sales, races, bad input."""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests

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


RACERS = 25  # requests per buyer: fifty at once in all, as the emulator's two cores bear


@pytest.mark.race
def test_two_buyers_racing_sell_once_to_one_of_them(admin: Session, buyer: Session,
                                                    other_buyer: Session, local: Local):
    """bob and dave each send many purchases of one pet at once (their retries): one of them
    wins, every answer he gets is 200 with the same sale, and the other gets only 409."""
    pet = add_pet(admin)
    racers = {"bob@example.com": patient(buyer), "dave@example.com": patient(other_buyer)}
    warm_purchase_workers(racers["bob@example.com"], 2 * RACERS)
    calls = [email for email in racers for _ in range(RACERS)]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = list(pool.map(lambda email: (email, purchase(
            racers[email], pet["petId"], racers[email].token)), calls))
    statuses = {email: sorted(r.status_code for e, r in answers if e == email) for email in racers}
    winner = local.table.get(pet["petId"])["soldTo"]
    loser = next(email for email in racers if email != winner)
    assert statuses[winner] == [200] * RACERS, statuses
    assert statuses[loser] == [409] * RACERS, statuses
    sales = {(r.json()["soldTo"], r.json()["soldAt"]) for e, r in answers if e == winner}
    assert len(sales) == 1 and next(iter(sales))[0] == winner, sales


def warm_add_workers(admin: Session, count: int) -> None:
    """`count` concurrent copies of one add with one Idempotency-Key (one pet in all): one
    warm worker each, as warm_purchase_workers does for the purchase. Cold, fifty workers
    starting at once on two cores make the emulator's table answer in seconds, and the
    functions rightly answer 503 (their deadline) rather than what this race is about."""
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=count) as pool:
        list(pool.map(lambda _: admin.api.call(
            "POST", "/pets", json={"type": "warm-up", "price": 1},
            headers={"Idempotency-Key": key}), range(count)))


@pytest.mark.race
def test_hundred_concurrent_adds_lose_nothing(admin: Session, local: Local):
    kind, admin = f"race-{uuid.uuid4().hex[:8]}", patient(admin)
    warm_add_workers(admin, 50)
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(
            lambda i: admin.api.call("POST", "/pets", json={"type": kind, "price": i + 1}),
            range(100)))
    assert [r.status_code for r in responses] == [201] * 100, [
        r.text for r in responses if r.status_code != 201]
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


def keyed_add(admin: Session, body: dict, key: str) -> requests.Response:
    return admin.api.call("POST", "/pets", json=body, headers={"Idempotency-Key": f'"{key}"'})


def stored_of_type(local: Local, kind: str) -> list[dict]:
    return [i for i in local.table.items() if i["type"] == kind]


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


@pytest.mark.race
def test_concurrent_replays_of_one_add_create_one_pet(admin: Session, local: Local):
    """Ten copies of one add at once (a client retrying too eagerly): one pet; each copy
    gets that pet, or 409 with Retry-After while the first still runs."""
    kind, key, admin = f"replay-{uuid.uuid4().hex[:8]}", str(uuid.uuid4()), patient(admin)
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: keyed_add(admin, {"type": kind, "price": 3}, key),
                                range(10)))
    (stored,) = stored_of_type(local, kind)
    for answer in answers:
        assert answer.status_code in (201, 409), answer.text
        if answer.status_code == 201:
            assert answer.json()["petId"] == stored["petId"]
        else:
            assert answer.headers["Retry-After"] == "1"
    assert any(a.status_code == 201 for a in answers)
