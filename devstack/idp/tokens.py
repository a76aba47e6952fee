"""ID tokens signed directly with the local provider's key (negative tests only), and reading
a token's claims without checking it."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from jwcrypto import jwk, jws, jwt

from devstack.idp import demo_users, idp_process
from devstack.idp.idp_process import Idp


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims read WITHOUT checking its signature: only to know what a token says
    that our own login or our own tests produced, never to trust one."""
    signed = jws.JWS()
    signed.deserialize(token)
    return dict(json.loads(signed.objects["payload"]))


def mint_token(
    overrides: Mapping[str, Any] | None = None,
    *,
    user: str = "alice",
    idp: Idp | None = None,
    key: jwk.JWK | None = None,
    header: Mapping[str, Any] | None = None,
) -> str:
    """FOR NEGATIVE TESTS ONLY: sign an ID token directly, bypassing the login flow.

    Starts from the claims a real login of `user` carries (iss, aud, sub, email,
    email_verified, name, iat, exp in 5 minutes; no nonce) and applies `overrides`; an
    override of None removes that claim. Signed RS256 with the provider's own key unless
    `key` is given (a bad signature under our kid); the header is the provider's ({alg, kid})
    updated by `header` (None removes). A token a test expects to be ACCEPTED must come
    from login_client.id_token() instead.
    """
    idp = idp_process.require(idp)
    who = demo_users.users()[user]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.issuer,
        "aud": idp.client_id,
        "sub": who.sub,
        "email": who.email,
        "email_verified": who.email_verified,
        "name": who.name,
        "iat": now,
        "exp": now + 300,
    }
    for claim, value in (overrides or {}).items():
        if value is None:
            claims.pop(claim, None)
        else:
            claims[claim] = value
    own = idp_process.signing_key()
    head = {"alg": "RS256", "kid": own.kid, **(header or {})}
    token = jwt.JWT(header={k: v for k, v in head.items() if v is not None}, claims=claims)
    token.make_signed_token(key or own)
    return str(token.serialize())
