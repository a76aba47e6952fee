"""ID tokens signed here, and an issuer that serves their keys, for the handlers' token checks
(handlers/id_tokens.py) and the routes that read the token (tests/handlers)."""

from __future__ import annotations

import base64
import time
from typing import Any

from jwcrypto import jwk, jwt

ISSUER = "https://pets-test.eu.auth0.com/"
AUDIENCE = "pets-client"
RSA_KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")
EC_KEY = jwk.JWK.generate(kty="EC", crv="P-256", kid="ec-1")
OTHER_KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-other")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "google-oauth2|bob",
            "email": "bob@example.com", "iat": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: jwk.JWK, alg: str = "RS256", kid: str | None = None, **overrides: Any) -> str:
    header = {"alg": alg, "kid": kid or key.get("kid"), "typ": "JWT"}
    token = jwt.JWT(header=header, claims=claims(**overrides))
    token.make_signed_token(key)
    return token.serialize()


class FakeIssuer:
    """Serves discovery and JWKS documents; counts fetches."""

    def __init__(self, *keys: jwk.JWK, issuer: str = ISSUER):
        self.keys = list(keys)
        self.issuer = issuer
        self.fetches: list[str] = []

    def __call__(self, url: str) -> Any:
        self.fetches.append(url)
        if url == ISSUER.rstrip("/") + "/.well-known/openid-configuration":
            return {"issuer": self.issuer, "jwks_uri": "https://pets-test.eu.auth0.com/jwks"}
        if url == "https://pets-test.eu.auth0.com/jwks":
            return {"keys": [k.export_public(as_dict=True) for k in self.keys]}
        raise AssertionError(f"unexpected fetch {url}")
