"""ID token verification with keys made here: only the valid token passes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from jwcrypto import jwk

from id_tokens import IdTokenVerifier, InvalidToken, IssuerKeys, IssuerUnavailable
from tests.support.signed_tokens import (
    AUDIENCE,
    EC_KEY,
    ISSUER,
    OTHER_KEY,
    RSA_KEY,
    FakeIssuer,
    b64,
    claims,
    sign,
)


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer(RSA_KEY, EC_KEY)


@pytest.fixture
def verifier(issuer: FakeIssuer) -> IdTokenVerifier:
    return IdTokenVerifier(ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=issuer))


def test_valid_rs256_token_names_the_user(verifier):
    user = verifier.verify(sign(RSA_KEY))
    assert (user.sub, user.email, user.label) == (
        "google-oauth2|bob", "bob@example.com", "bob@example.com")


def test_valid_es256_token_is_accepted(verifier):
    assert verifier.verify(sign(EC_KEY, alg="ES256")).sub == "google-oauth2|bob"


def test_label_falls_back_to_subject_without_email(verifier):
    assert verifier.verify(sign(RSA_KEY, email=None)).label == "google-oauth2|bob"


def alg_none_token() -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims()).encode())}."


def hs256_with_public_key_token() -> str:
    """The classic confusion attack: the RSA public key used as an HMAC secret."""
    public_pem = RSA_KEY.export_to_pem()
    secret = jwk.JWK(kty="oct", k=b64(public_pem))
    return sign(secret, alg="HS256", kid="rsa-1")


def tampered_token() -> str:
    header, _, signature = sign(RSA_KEY).split(".")
    forged = b64(json.dumps(claims(sub="auth0|mallory")).encode())
    return f"{header}.{forged}.{signature}"


REJECTED = {
    "expired": lambda: sign(RSA_KEY, exp=int(time.time()) - 3600),
    "wrong audience": lambda: sign(RSA_KEY, aud="someone-else"),
    "wrong issuer": lambda: sign(RSA_KEY, iss="https://evil.example.com/"),
    "alg none": alg_none_token,
    "signed by another key": lambda: sign(OTHER_KEY),
    "another key posing as ours": lambda: sign(OTHER_KEY, kid="rsa-1"),
    "HS256 with the public key": hs256_with_public_key_token,
    "tampered payload": tampered_token,
    "not yet valid": lambda: sign(RSA_KEY, nbf=int(time.time()) + 3600),
    "no expiry": lambda: sign(RSA_KEY, exp=None),
    "no subject": lambda: sign(RSA_KEY, sub=None),
    "garbage": lambda: "not.a.jwt",
    "empty segments": lambda: "..",
    "json serialization": lambda: json.dumps({"payload": "x", "signature": "y"}),
}


@pytest.mark.parametrize("case", REJECTED, ids=str)
def test_bad_token_is_rejected(verifier, case):
    with pytest.raises(InvalidToken):
        verifier.verify(REJECTED[case]())


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_rejected(verifier, token):
    with pytest.raises(InvalidToken, match="missing"):
        verifier.verify(token)


def test_keys_are_fetched_once_per_container(verifier, issuer):
    verifier.verify(sign(RSA_KEY))
    verifier.verify(sign(EC_KEY, alg="ES256"))
    assert len(issuer.fetches) == 2  # discovery + JWKS, once


def test_rotated_key_is_picked_up(issuer):
    clock = [1000.0]
    verifier = IdTokenVerifier(
        ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=issuer, clock=lambda: clock[0]))
    verifier.verify(sign(RSA_KEY))
    rotated = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-2")
    issuer.keys.append(rotated)
    clock[0] += 60  # past the refresh interval
    assert verifier.verify(sign(rotated)).sub == "google-oauth2|bob"


def test_unknown_kids_do_not_hammer_the_issuer(verifier, issuer):
    for _ in range(5):
        with pytest.raises(InvalidToken):
            verifier.verify(sign(OTHER_KEY))
    assert len(issuer.fetches) == 2


def test_discovery_naming_another_issuer_is_not_trusted():
    spoofed = FakeIssuer(RSA_KEY, issuer="https://evil.example.com/")
    verifier = IdTokenVerifier(ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=spoofed))
    with pytest.raises(IssuerUnavailable, match="names issuer"):
        verifier.verify(sign(RSA_KEY))


def test_unreachable_issuer_is_reported_as_unavailable():
    def down(url: str) -> Any:
        raise OSError("connection refused")

    verifier = IdTokenVerifier(ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=down))
    with pytest.raises(IssuerUnavailable, match="connection refused"):
        verifier.verify(sign(RSA_KEY))
