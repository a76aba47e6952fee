"""Who bought a pet, as each class reads it on the live stack (access.PET_FIELDS): after bob
buys, dave's listing carries no trace of bob; bob reads his own purchase with his ID token,
an admin reads every buyer."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.session_stack import Local, Session, add_pet, claims_of, purchase

pytestmark = pytest.mark.usefixtures("lambda_runs")


def every_pet(session: Session, token: str | None = None) -> list[dict[str, Any]]:
    """The whole shop, page by page, as `session` lists it (with `token` in X-Id-Token)."""
    headers = {"X-Id-Token": token} if token else {}
    pets, query = [], {"limit": "100"}
    while True:
        response = session.api.call("GET", f"/pets?{urlencode(query)}", headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pets += page["pets"]
        if not page.get("nextCursor"):
            return pets
        query["cursor"] = page["nextCursor"]


def traces(person: dict[str, Any], pets: list[dict[str, Any]]) -> list[str]:
    """Each field of each pet in which the person's e-mail, subject or name appears."""
    marks = {person["email"], person["sub"], person["email"].split("@")[0]}
    return [f"{pet['petId']}.{field}={value!r}" for pet in pets for field, value in pet.items()
            if any(mark in json.dumps(value) for mark in marks)]


@pytest.fixture(scope="module")
def bobs_pet(admin: Session, buyer: Session) -> dict[str, Any]:
    pet = add_pet(admin, "privacy-test", 5)
    response = purchase(buyer, pet["petId"], buyer.token)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def bob(buyer: Session) -> dict[str, Any]:
    claims = claims_of(buyer.token)
    return {"sub": claims["sub"], "email": claims["email"]}


def test_another_buyer_reads_it_sold_and_no_trace_of_bob(bobs_pet, bob, other_buyer: Session):
    for token in (None, other_buyer.token):
        pets = every_pet(other_buyer, token)
        (seen,) = [p for p in pets if p["petId"] == bobs_pet["petId"]]
        assert seen["sold"] is True and seen["soldAt"] == bobs_pet["soldAt"]
        assert traces(bob, pets) == [], "dave reads bob in his listing"


def test_bob_reads_his_own_purchase_with_his_token(bobs_pet, bob, buyer: Session):
    (mine,) = [p for p in every_pet(buyer, buyer.token) if p["petId"] == bobs_pet["petId"]]
    assert (mine["soldTo"], mine["buyerSub"]) == (bob["email"], bob["sub"])


def test_bob_without_his_token_is_only_a_buyer(bobs_pet, bob, buyer: Session):
    """His role session is named after him (it-bob): names are the client's, never read."""
    assert traces(bob, every_pet(buyer)) == []


def test_an_admin_reads_who_bought_it(bobs_pet, bob, admin: Session):
    (seen,) = [p for p in every_pet(admin) if p["petId"] == bobs_pet["petId"]]
    assert (seen["soldTo"], seen["buyerSub"]) == (bob["email"], bob["sub"])


def test_a_bad_token_on_a_listing_is_401(other_buyer: Session, local: Local):
    expired = local.mint({"exp": 1_000_000_000})
    response = other_buyer.api.call("GET", "/pets?limit=1", headers={"X-Id-Token": expired})
    assert response.status_code == 401, response.text
    assert "X-Id-Token" in response.json()["error"]
