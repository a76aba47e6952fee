"""Many calls at once against the session stack: a pet sells once however many purchases race
for it, concurrent adds lose nothing, concurrent replays of one add create one pet. Run after
every other stack test (tests/conftest.py orders them), when the other test workers are
finishing. Cold, twenty calls at once beside busy workers take seconds to start, so each race
first warms the function's Lambda workers (warm): the calls then reach the table within
milliseconds of one another.

Their sizes are what catches a broken write, not more: a purchase that reads the pet and then
writes it unconditionally (the check-then-act bug the conditional write prevents) fails the
purchase race at five, ten and twenty-five requests a buyer alike (the winner's racing
requests each sell the pet again). Each racing call beyond what the emulator runs at once is
one more cold Lambda worker, 0.6 CPU-seconds of a two-core run (docs/testing.md).

While they run, the purchase and add functions may take 30 s instead of 10 (patient_functions):
MiniStack counts a worker's start (its imports) in the function's timeout, which AWS does
not, and fifty starting at once on two cores took more than 10 s now and then; the worker was
killed and started again, a round of calls repeated. The races test the writes, not
the timeout (tests/integration/test_failures.py does)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import access
from tests.support.session_stack import (
    Local,
    Session,
    add_pet,
    keyed_add,
    purchase,
    reconfigured,
    stored_of_type,
)

pytestmark = pytest.mark.usefixtures("lambda_runs", "patient_functions")
PATIENT_TIMEOUT_SECONDS = 30


@pytest.fixture(scope="module")
def patient_functions(local: Local) -> Iterator[None]:
    with reconfigured(local, access.PURCHASE_PET, Timeout=PATIENT_TIMEOUT_SECONDS), \
            reconfigured(local, access.ADD_PET, Timeout=PATIENT_TIMEOUT_SECONDS):
        yield


def patient(session: Session) -> Session:
    """Concurrent calls each start a Lambda worker on the emulator (cold starts queue up)."""
    return dataclasses.replace(session, api=dataclasses.replace(session.api, timeout=180))


WARM_ROUNDS = 3
RAMP_GROUP, RAMP_SECONDS = 5, 0.5  # the first round's calls: five more every half second


def warm(count: int, call: Callable[[], requests.Response], answers: set[int]) -> None:
    """`count` calls started five at a time (the ramp), then `count` at once, repeated until
    a round's answers are all in `answers`.

    The emulator starts one Lambda worker per call that finds every worker busy, and cold
    starts on two cores can outlast the function's timeout (a 502 that says nothing about
    the race), more so beside the other test workers. A round at once without such failures
    leaves enough warm workers (with the issuer's keys fetched) that the race is about the
    conditional writes it tests, all its calls at once.

    The ramp first grows the pool a few workers at a time: the emulator unpacks the package
    of every new worker on a thread of one interpreter, and fifty threads unpacking at once
    spend most of their CPU handing its lock to each other. Measured alone, for the purchase
    function: 47 CPU-seconds (emulator and workers) for fifty at once from no worker, 31 for
    the ramp and then fifty at once (45 workers in the end instead of 50); the add function
    39 and 24.
    """
    with ThreadPoolExecutor(max_workers=count) as pool:
        ramp = []
        for started in range(0, count, RAMP_GROUP):
            if started:
                time.sleep(RAMP_SECONDS)
            ramp += [pool.submit(call) for _ in range(min(RAMP_GROUP, count - started))]
        for answer in ramp:  # not judged: a cold start that ran out of time is a 502
            answer.result()  # that the rounds at once below repeat
    for _ in range(WARM_ROUNDS):
        with ThreadPoolExecutor(max_workers=count) as pool:
            statuses = sorted(r.status_code for r in pool.map(lambda _: call(), range(count)))
        if set(statuses) <= answers:
            return
    pytest.fail(f"{count} Lambda workers not warm after {WARM_ROUNDS} rounds: {statuses}")


def warm_purchase_workers(buyer: Session, count: int) -> None:
    """Purchases of a pet that does not exist: 404 each, once warm."""
    missing = str(uuid.uuid4())
    warm(count, lambda: purchase(buyer, missing, buyer.token), {404})


AT_ONCE = 20  # calls racing at once, in each race (the module's docstring says why)
RACERS = AT_ONCE // 2  # requests per buyer


def test_two_buyers_racing_sell_once_to_one_of_them(admin: Session, buyer: Session,
                                                    other_buyer: Session, local: Local):
    """bob and dave each send many purchases of one pet at once (their retries): one of them
    wins, every answer he gets is 200 with the same sale, and the other gets only 409."""
    pet = add_pet(admin)
    racers = {"bob@example.com": patient(buyer), "dave@example.com": patient(other_buyer)}
    warm_purchase_workers(racers["bob@example.com"], AT_ONCE)
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
    """Copies of one add with one Idempotency-Key (one pet in all): each gets that pet, or
    409 while the first still runs."""
    key = str(uuid.uuid4())
    warm(count, lambda: keyed_add(admin, {"type": "warm-up", "price": 1}, key), {201, 409})


ADDS = 100


def test_a_hundred_adds_twenty_at_a_time_lose_nothing(admin: Session, local: Local):
    kind, admin = f"race-{uuid.uuid4().hex[:8]}", patient(admin)
    warm_add_workers(admin, AT_ONCE)
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        responses = list(pool.map(
            lambda i: admin.api.call("POST", "/pets", json={"type": kind, "price": i + 1}),
            range(ADDS)))
    assert [r.status_code for r in responses] == [201] * ADDS, [
        r.text for r in responses if r.status_code != 201]
    ids = {r.json()["petId"] for r in responses}
    stored = [i for i in local.table.items() if i["type"] == kind]
    assert len(ids) == ADDS and {i["petId"] for i in stored} == ids
    assert sorted(int(i["price"]) for i in stored) == list(range(1, ADDS + 1))


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
