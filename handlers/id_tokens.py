"""Verifies the user's OIDC ID token: signature by the issuer's keys, iss, aud, time.

IAM already checked that the SigV4 caller holds a role of the right class; the
purchase still needs to know WHICH user buys, and only a token signed by the
issuer says that. Keys come from the issuer's discovery document and are
cached for the life of the Lambda container.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jwcrypto import jwk, jwt
from jwcrypto.common import JWException

from errors import InvalidToken, IssuerUnavailable

__all__ = ["IdTokenVerifier", "InvalidToken", "IssuerKeys", "IssuerUnavailable", "TokenUser"]

# Asymmetric only: with HS256 anyone holding the (public) key could mint tokens.
ALLOWED_ALGS = ["RS256", "ES256"]
LEEWAY_SECONDS = 60
KEYS_TTL_SECONDS = 3600
# An unknown kid may mean the issuer rotated keys; refetch, but not on every bad token.
MIN_REFRESH_SECONDS = 30
MAX_DOCUMENT_BYTES = 256 * 1024

FetchJson = Callable[[str], Any]


@dataclass(frozen=True)
class TokenUser:
    sub: str
    email: str | None

    @property
    def label(self) -> str:
        """How a purchase records the buyer: the email, else the subject."""
        return self.email or self.sub


def fetch_json(url: str) -> Any:
    if urlsplit(url).scheme not in {"https", "http"}:
        raise ValueError(f"{url}: only http(s) URLs are fetched")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310 (scheme checked)
        body = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url}: document too large")
    return json.loads(body)


def _same_origin(url: str, issuer: str) -> bool:
    a, b = urlsplit(url), urlsplit(issuer)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


class IssuerKeys:
    """The issuer's signing keys, discovered once and refreshed on rotation."""

    def __init__(self, issuer: str, fetch: FetchJson = fetch_json, clock=time.monotonic):
        self._issuer = issuer
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: jwk.JWKSet | None = None
        self._fetched_at = float("-inf")

    def get(self, *, refresh: bool = False) -> jwk.JWKSet:
        with self._lock:
            age = self._clock() - self._fetched_at
            stale = self._keys is None or age > KEYS_TTL_SECONDS
            if stale or (refresh and age > MIN_REFRESH_SECONDS):
                try:
                    self._keys = self._load()
                except Exception as err:
                    raise IssuerUnavailable(f"cannot load the issuer's keys: {err}") from err
                self._fetched_at = self._clock()
            return self._keys

    def _load(self) -> jwk.JWKSet:
        url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
        discovery = self._fetch(url)
        if discovery.get("issuer") != self._issuer:
            raise RuntimeError(f"{url} names issuer {discovery.get('issuer')!r}, "
                               f"expected {self._issuer!r}")
        jwks_uri = discovery.get("jwks_uri")
        # Keys served from elsewhere would let a spoofed document pick the keys.
        if not isinstance(jwks_uri, str) or not (
            jwks_uri.startswith("https://") or _same_origin(jwks_uri, self._issuer)
        ):
            raise RuntimeError(f"{url}: unusable jwks_uri {jwks_uri!r}")
        return jwk.JWKSet.from_json(json.dumps(self._fetch(jwks_uri)))


class IdTokenVerifier:
    def __init__(self, issuer: str, audience: str, keys: IssuerKeys | None = None):
        self.issuer = issuer
        self.audience = audience
        self._keys = keys or IssuerKeys(issuer)

    def verify(self, token: str | None) -> TokenUser:
        if not token:
            raise InvalidToken("missing ID token")
        try:
            claims = self._claims(token, self._keys.get())
        except jwt.JWTMissingKey:
            # Signed with a key we have not seen: maybe rotated, so look once more.
            try:
                claims = self._claims(token, self._keys.get(refresh=True))
            except jwt.JWTMissingKey:
                raise InvalidToken("ID token is not signed by the issuer") from None
        sub, email = claims.get("sub"), claims.get("email")
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("ID token has no subject")
        return TokenUser(sub, email if isinstance(email, str) and email else None)

    def _claims(self, token: str, keys: jwk.JWKSet) -> dict[str, Any]:
        try:
            verified = jwt.JWT(
                jwt=token,
                key=keys,
                algs=ALLOWED_ALGS,
                expected_type="JWS",
                strict_serialization=True,
                check_claims={"iss": self.issuer, "aud": self.audience, "exp": None, "sub": None},
            )
            claims = json.loads(verified.claims)
        except jwt.JWTMissingKey:
            raise
        except jwt.JWTExpired:
            raise InvalidToken("ID token has expired") from None
        except (jwt.JWTInvalidClaimValue, jwt.JWTMissingClaim) as err:
            raise InvalidToken(f"ID token rejected: {_first_line(err)}") from None
        except (JWException, ValueError, TypeError, KeyError) as err:
            reason = type(err).__name__
            raise InvalidToken(f"ID token is not a valid signed JWT ({reason})") from None
        # jwcrypto checks nbf only when asked to require it; it is optional in OIDC.
        nbf = claims.get("nbf")
        if nbf is not None and (
            not isinstance(nbf, int | float) or nbf > time.time() + LEEWAY_SECONDS
        ):
            raise InvalidToken("ID token is not valid yet")
        return claims


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
