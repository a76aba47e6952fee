"""Many calls at once against the session stack: a pet sells once however many purchases race
for it, concurrent adds lose nothing, concurrent replays of one add create one pet. Run after
every other stack test (tests/conftest.py orders them), when nothing else loads the cores:
their sizes are requirements, and two busy workers beside fifty calls time them out."""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.session_stack import (
    Local,
    Session,
    add_pet,
    keyed_add,
    purchase,
    stored_of_type,
)

pytestmark = pytest.mark.usefixtures("lambda_runs")


def patient(session: Session) -> Session:
    """Concurrent calls each start a Lambda worker on the emulator (cold starts queue up)."""
    return dataclasses.replace(session, api=dataclasses.replace(session.api, timeout=180))


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
