"""The local identity provider: discovery, real code + PKCE logins, refusals, minted tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from jwcrypto import jwk, jws, jwt

from devstack import identity, procs
from devstack.procs import DevstackError, PortInUseError
from tests.devstack.conftest import TEST_CLIENT_ID, TEST_REDIRECT_URIS, private_name

pytestmark = pytest.mark.integration


def verify(token: str, idp: identity.Idp, **expected: Any) -> dict[str, Any]:
    """Verify signature (against the JWKS the provider SERVES), iss, aud and exp; return claims."""
    keys = jwk.JWKSet.from_json(json.dumps(idp.jwks()))
    checks = {"iss": idp.issuer, "aud": idp.client_id, "exp": None, **expected}
    verified = jwt.JWT(jwt=token, key=keys, algs=["RS256"], check_claims=checks)
    return dict(json.loads(verified.claims))


def test_discovery_names_the_exact_issuer(idp: identity.Idp) -> None:
    meta = idp.discovery()
    assert idp.issuer == f"http://127.0.0.1:{idp.port}"
    assert meta["issuer"] == idp.issuer  # no trailing slash: IAM condition keys derive from it
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert meta["jwks_uri"].startswith(idp.issuer + "/")


def test_served_jwks_is_the_public_half_of_our_signing_key(idp: identity.Idp) -> None:
    served = idp.jwks()["keys"]
    ours = identity.signing_key()
    assert [k["kid"] for k in served] == [ours.kid]
    assert served[0]["n"] == json.loads(ours.export_public())["n"]
    assert "d" not in served[0]  # never the private exponent


def test_idp_listens_on_loopback_only(idp: identity.Idp) -> None:
    assert idp.pid is not None
    sockets = procs.listeners(procs.family_pids(idp.pid))
    assert sockets == {("tcp", "127.0.0.1", idp.port)}


def test_headless_login_returns_a_verifiable_id_token_for_alice(idp: identity.Idp) -> None:
    token = identity.id_token("alice", idp=idp)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "RS256", "kid": identity.signing_key().kid}
    claims = verify(token, idp)
    assert claims["sub"] == "auth0|alice"
    assert claims["aud"] == TEST_CLIENT_ID
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Alice Admin"
    assert claims["exp"] > time.time()


@pytest.mark.parametrize(
    ("user", "sub"),
    [("bob", "google-oauth2|bob"), ("dave", "github|dave"), ("mallory", "samlp|mallory")],
)
def test_each_demo_user_logs_in_with_their_fixed_sub(
    idp: identity.Idp, user: str, sub: str
) -> None:
    claims = verify(identity.id_token(user, idp=idp), idp)
    assert claims["sub"] == sub
    assert claims["email"] == f"{user}@example.com"
    assert identity.users()[user].sub == sub  # the table both sides read agrees


def test_login_works_for_every_registered_redirect_uri(idp: identity.Idp) -> None:
    tokens = identity.login("bob", idp=idp, redirect_uri=TEST_REDIRECT_URIS[1])
    assert verify(tokens["id_token"], idp)["sub"] == "google-oauth2|bob"


@pytest.mark.parametrize("user", ["eve", "auth0|alice", "Alice", "__proto__"])
def test_unknown_user_is_refused(idp: identity.Idp, user: str) -> None:
    with pytest.raises(identity.LoginRefused, match="Unknown demo user"):
        identity.id_token(user, idp=idp)


def test_unregistered_redirect_uri_is_refused(idp: identity.Idp) -> None:
    with pytest.raises(identity.LoginRefused, match="redirect_uri"):
        identity.id_token("alice", idp=idp, redirect_uri="http://127.0.0.1:8000/evil")


def test_unknown_client_is_refused(idp: identity.Idp) -> None:
    with pytest.raises(identity.LoginRefused, match="client"):
        identity.id_token("alice", idp=idp, client_id="someone-else")


def _authorize(idp: identity.Idp, **pkce: str) -> str:
    """Where the authorization endpoint sends the browser for this PKCE input."""
    response = requests.get(
        idp.discovery()["authorization_endpoint"],
        params={
            "client_id": idp.client_id,
            "redirect_uri": idp.redirect_uris[0],
            "response_type": "code",
            "scope": "openid",
            **pkce,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.is_redirect
    return str(response.headers["Location"])


def _error(location: str) -> str:
    return parse_qs(urlsplit(location).query).get("error", [""])[0]


def test_pkce_is_required_and_only_s256(idp: identity.Idp) -> None:
    callback = idp.redirect_uris[0]
    missing = _authorize(idp)
    assert missing.startswith(callback) and _error(missing) == "invalid_request"
    verifier = "v" * 43
    plain = _authorize(idp, code_challenge=verifier, code_challenge_method="plain")
    assert plain.startswith(callback) and _error(plain) == "invalid_request"
    # The control: the same request with an S256 challenge goes on to the login page.
    s256 = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    accepted = _authorize(idp, code_challenge=s256.decode(), code_challenge_method="S256")
    assert accepted.startswith("/interaction/")


def test_minted_token_verifies_against_the_served_jwks(idp: identity.Idp) -> None:
    claims = verify(identity.mint_token(user="dave", idp=idp), idp)
    assert claims["sub"] == "github|dave"
    assert claims["email"] == "dave@example.com"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"exp": int(time.time()) - 60}, jwt.JWTExpired),
        ({"aud": "someone-else"}, jwt.JWTInvalidClaimValue),
        ({"iss": "http://127.0.0.1:1"}, jwt.JWTInvalidClaimValue),
        ({"exp": None}, jwt.JWTMissingClaim),
    ],
)
def test_minted_bad_tokens_fail_verification(
    idp: identity.Idp, overrides: dict[str, Any], error: type[Exception]
) -> None:
    bad = identity.mint_token(overrides, idp=idp)
    with pytest.raises(error):
        verify(bad, idp)


def test_token_signed_by_another_key_fails_verification(idp: identity.Idp) -> None:
    stranger = jwk.JWK.generate(kty="RSA", size=2048)
    bad = identity.mint_token(idp=idp, key=stranger)  # carries our kid, wrong signature
    # Against the key set jwcrypto reports "no working key" (JWTMissingKey) ...
    with pytest.raises(jwt.JWTMissingKey):
        verify(bad, idp)
    # ... and against the one served key, a bad signature.
    served = jwk.JWK(**idp.jwks()["keys"][0])
    with pytest.raises(jws.InvalidJWSSignature):
        jws.JWS.from_jose_token(bad).verify(served)


def test_start_reuses_same_settings_and_refuses_others(idp: identity.Idp) -> None:
    name = private_name("idp")
    again = identity.start(name=name, client_id=TEST_CLIENT_ID, redirect_uris=TEST_REDIRECT_URIS)
    assert (again.issuer, again.pid, again.started) == (idp.issuer, idp.pid, False)
    with pytest.raises(DevstackError, match="already runs"):
        identity.start(name=name, client_id="other", redirect_uris=TEST_REDIRECT_URIS)


def test_port_in_use_error_names_the_port(idp: identity.Idp) -> None:
    with pytest.raises(PortInUseError, match=rf"port {idp.port} on 127\.0\.0\.1"):
        identity.start(idp.port, name=private_name("idp-busy"))
    assert procs.running(private_name("idp-busy")) is None


def test_stop_leaves_no_process() -> None:
    name = private_name("idp-stop")
    identity.stop(name)
    started = identity.start(procs.free_port(), name=name, reuse=False)
    assert started.pid is not None and procs.alive(started.pid)
    assert identity.stop(name) is True
    assert not procs.alive(started.pid)
    assert procs.running(name) is None
    procs.check_port_free(started.port, "after stop")
    assert identity.stop(name) is False


def test_missing_node_gives_an_actionable_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node, no npm
    with pytest.raises(DevstackError, match=r"needs Node\.js >= 20 with npm on PATH"):
        identity.ensure_node_modules()


# --- https (what LocalStack and AWS require of an OIDC provider URL) -----------------------


@pytest.fixture(scope="module")
def tls_idp() -> Iterator[identity.Idp]:
    name = private_name("idp-tls")
    identity.stop(name)
    provider = identity.start(procs.free_port(), name=name, client_id=TEST_CLIENT_ID,
                              redirect_uris=TEST_REDIRECT_URIS, reuse=False, tls=True)
    yield provider
    identity.stop(name)


def test_https_provider_names_an_https_issuer_and_logs_in(tls_idp: identity.Idp) -> None:
    assert tls_idp.issuer.startswith("https://127.0.0.1:")
    assert tls_idp.discovery()["issuer"] == tls_idp.issuer
    claims = verify(identity.id_token("bob", idp=tls_idp), tls_idp)  # iss is the https one
    assert claims["sub"] == "google-oauth2|bob"


def test_https_provider_is_trusted_only_through_its_own_certificate(
    tls_idp: identity.Idp,
) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_idp.discovery_url, timeout=5, verify=True)  # the system's CAs only
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(tls_idp.discovery_url.replace("https:", "http:"), timeout=5)
