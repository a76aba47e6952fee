"""The purchase handler verifies the ID token itself and records who bought.

IAM only knows the caller holds the buyer role; the token in X-Id-Token names
the user. Each bad token gets 401 and leaves the pet unsold.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest
from jwcrypto import jwk

from devstack.idp import idp_process
from tests.support.session_stack import Local, Session, add_pet, claims_of, purchase

pytestmark = pytest.mark.usefixtures("lambda_runs")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def alg_none(local: Local) -> str:
    claims = claims_of(local.mint(user="bob"))
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def hs256_with_public_key(local: Local) -> str:
    """The RSA public key (as served in the JWKS) used as an HMAC secret."""
    public_pem = idp_process.signing_key().export_to_pem()
    return local.mint(user="bob", key=jwk.JWK(kty="oct", k=b64(public_pem)),
                      header={"alg": "HS256"})


BAD_TOKENS: dict[str, Callable[[Local], str | None]] = {
    "no token": lambda local: None,
    "expired": lambda local: local.mint({"exp": int(time.time()) - 120}, user="bob"),
    "wrong audience": lambda local: local.mint({"aud": "another-client"}, user="bob"),
    "wrong issuer": lambda local: local.mint({"iss": "http://127.0.0.1:1"}, user="bob"),
    "alg none": alg_none,
    "another key": lambda local: local.mint(user="bob",
                                            key=jwk.JWK.generate(kty="RSA", size=2048)),
    "HS256 with the public key": hs256_with_public_key,
    "garbage": lambda local: "not-a-token",
}


@pytest.mark.parametrize("case", BAD_TOKENS, ids=str)
def test_bad_token_is_401_and_the_pet_stays_unsold(local: Local, admin: Session,
                                                   buyer: Session, case):
    pet = add_pet(admin)
    response = purchase(buyer, pet["petId"], BAD_TOKENS[case](local))
    assert response.status_code == 401, response.text
    assert "X-Id-Token" in response.json()["error"]
    assert "soldTo" not in local.table.get(pet["petId"])


def test_valid_token_buys_and_records_the_email(local: Local, admin: Session, buyer: Session):
    pet = add_pet(admin)
    response = purchase(buyer, pet["petId"], buyer.token)
    assert response.status_code == 200, response.text
    assert response.json()["soldTo"] == claims_of(buyer.token)["email"] == "bob@example.com"
    stored = local.table.get(pet["petId"])
    assert (stored["soldTo"], stored["buyerSub"]) == ("bob@example.com", "google-oauth2|bob")


def test_buyer_credentials_with_another_users_token_buy_in_that_users_name(
    local: Local, admin: Session, buyer: Session
):
    """Documented behaviour: the purchase is bound to the ID token, not to the SigV4 caller.

    IAM proves only "some buyer" signed the request (the session name is the
    caller's choice); the token is the one statement of which user buys. So bob's
    role with dave's valid token buys as dave: whoever holds a user's unexpired
    ID token acts as that user, exactly as with any bearer token. Short token
    lifetimes limit it; the access log records the caller's role session.
    """
    dave_token = local.token("dave")
    pet = add_pet(admin)
    response = purchase(buyer, pet["petId"], dave_token)
    assert response.status_code == 200, response.text
    assert response.json()["soldTo"] == "dave@example.com"
    assert local.table.get(pet["petId"])["buyerSub"] == "github|dave"
