"""What each class may read of a pet (access.PET_FIELDS): admins and the buyer themself
read who bought it, nobody else, and nothing the client chooses makes someone either."""

from __future__ import annotations

import json
from typing import Any

import pytest

import access
import readers
from components.environment import pet_readers
from tests.support.handler_calls import ACCOUNT, ADMIN_ARN, BUYER_ARN, DAVE, add, call, purchase
from tests.support.signed_tokens import RSA_KEY, sign

pytestmark = pytest.mark.usefixtures("wired")

BOB = {"sub": "google-oauth2|bob", "email": "bob@example.com"}
DAVE_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-buyer/dave"
BUYER_FIELDS = {"petId", "type", "price", "createdAt", "sold", "soldAt"}


def listing(caller: str, token: str | None = None, query: str = "") -> list[dict[str, Any]]:
    headers = {"X-Id-Token": token} if token else {}
    status, body, _ = call("GET", f"/pets{query}", headers=headers, caller=caller)
    assert status == 200, body
    return body["pets"]


def traces_of(person: dict[str, str], value: Any) -> list[str]:
    """Every place `person`'s e-mail, subject or name shows up in an answer, at any depth."""
    text = json.dumps(value)
    name = person["email"].split("@")[0]
    return [t for t in (person["email"], person["sub"], name) if t in text]


@pytest.fixture
def sold() -> dict[str, Any]:
    """A pet bob bought, and one nobody bought."""
    pet, other = add("dog"), add("cat")
    status, sale, _ = purchase(pet["petId"], sign(RSA_KEY, **BOB))
    assert status == 200, sale
    return {"pet": pet, "sale": sale, "unsold": other}


def test_another_buyer_sees_it_sold_and_nothing_of_the_buyer(sold):
    for token in (None, sign(RSA_KEY, **DAVE)):
        pets = {p["petId"]: p for p in listing(DAVE_ARN, token)}
        assert pets[sold["pet"]["petId"]] == {
            **{k: sold["pet"][k] for k in ("petId", "type", "price", "createdAt")},
            "sold": True, "soldAt": sold["sale"]["soldAt"]}
        assert pets[sold["unsold"]["petId"]]["sold"] is False
        assert traces_of(BOB, pets) == []


def test_the_buyer_reads_their_own_purchase_with_their_token(sold):
    mine = {p["petId"]: p for p in listing(BUYER_ARN, sign(RSA_KEY, **BOB))}
    assert mine[sold["pet"]["petId"]]["soldTo"] == "bob@example.com"
    assert mine[sold["pet"]["petId"]]["buyerSub"] == "google-oauth2|bob"
    assert set(mine[sold["unsold"]["petId"]]) == BUYER_FIELDS - {"soldAt"}


def test_the_buyer_without_a_token_is_only_a_buyer(sold):
    """The role's session name says `bob`: nothing the client chooses names the buyer."""
    pets = listing(BUYER_ARN)
    assert traces_of(BOB, pets) == []


def test_an_admin_reads_who_bought_each_pet(sold):
    pets = {p["petId"]: p for p in listing(ADMIN_ARN)}
    assert pets[sold["pet"]["petId"]]["soldTo"] == "bob@example.com"
    assert pets[sold["pet"]["petId"]]["buyerSub"] == "google-oauth2|bob"


@pytest.mark.parametrize("caller", [
    # The admin role's name as the session name of the buyer role.
    f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-buyer/pets-test-admin",
    # The admin role's name in another account.
    "arn:aws:sts::111122223333:assumed-role/pets-test-admin/alice",
    # Not an assumed-role session; a malformed ARN; none.
    f"arn:aws:iam::{ACCOUNT}:user/pets-test-admin",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-admin",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-admin/a/b",
    "pets-test-admin",
    "",
])
def test_only_the_admin_role_itself_reads_as_an_admin(sold, caller):
    assert traces_of(BOB, listing(caller)) == []


def test_a_query_parameter_naming_the_buyer_reveals_nothing(sold):
    query = "?buyerSub=google-oauth2%7Cbob&soldTo=bob%40example.com"
    status, body, _ = call("GET", f"/pets{query}", caller=DAVE_ARN)
    assert traces_of(BOB, body) == [] and status in (200, 400)


def test_a_bad_token_on_a_listing_is_401(sold):
    for token in ("garbage", sign(RSA_KEY, aud="another-client", **BOB)):
        status, body, _ = call("GET", "/pets", headers={"X-Id-Token": token},
                               caller=BUYER_ARN)
        assert status == 401 and "X-Id-Token" in body["error"], body
        assert traces_of(BOB, body) == []


def test_another_buyers_token_does_not_read_bobs_purchase(sold):
    pets = listing(BUYER_ARN, sign(RSA_KEY, **DAVE))
    assert traces_of(BOB, pets) == []


def test_the_purchase_answer_shows_the_buyer_their_own_sale(sold):
    assert sold["sale"]["soldTo"] == "bob@example.com"


@pytest.mark.parametrize(("user_arn", "account", "role"), [
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-admin/alice", ACCOUNT, "pets-test-admin"),
    (f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/r/s", ACCOUNT, "r"),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", "111122223333", None),
    (f"arn:aws:sts::{ACCOUNT}:federated-user/r", ACCOUNT, None),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role//s", ACCOUNT, None),
    (None, ACCOUNT, None),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", None, None),
])
def test_the_role_is_read_from_the_arns_role_part_only(user_arn, account, role):
    assert readers.role_of(user_arn, account) == role


def test_the_rules_the_program_hands_over_are_the_models():
    rules = readers.Rules.parse(pet_readers("pets-x", access.USER_CLASSES))
    assert rules.roles["pets-x-admin"] == set(access.readable_fields("admin"))
    assert rules.roles["pets-x-buyer"] == BUYER_FIELDS
    assert rules.anyone == BUYER_FIELDS
    assert rules.own_purchase == {"soldTo", "buyerSub"}


def test_rules_that_are_not_the_programs_fail_loudly():
    with pytest.raises(RuntimeError, match="PET_READERS is not the program's read rules"):
        readers.Rules.parse('{"roles": {}}')
