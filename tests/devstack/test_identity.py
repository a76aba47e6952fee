"""The local identity provider: the program's registration, real code + PKCE logins, grants,
refresh tokens that rotate, revocation, refusals, minted tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import certifi
import pytest
import requests
import trustme
from jwcrypto import jwk, jws, jwt

import access
from access import TAGS_CLAIM
from components import oidc_client
from devstack import paths
from devstack.errors import DevstackError
from devstack.idp import demo_users, idp_process, login_client, tokens
from devstack.idp.tokens import unverified_claims as claims_of
from devstack.processes import procs
from devstack.processes.procs import PortInUseError, StartupError
from harness_core.node import NodeUnavailable
from tests.support.private import private_name
from tests.support.processes import alive, family_pids, listeners, served_jwks

TEST_CLIENT_ID = "pets-test"
TEST_REDIRECT_URIS = ("http://127.0.0.1:8000/callback", "http://127.0.0.1:8000/other-callback")

# The program's declaration (components/oidc_client.py), for the test's redirect URIs.
REGISTRATION = oidc_client.ClientRegistration(
    redirect_uris=TEST_REDIRECT_URIS,
    post_logout_redirect_uris=TEST_REDIRECT_URIS[:1],
    web_origins=(oidc_client.origin_of(TEST_REDIRECT_URIS[0]),),
    id_token_lifetime_seconds=600,
    refresh_token_lifetime_seconds=3600,
).to_output()
GRANTS = oidc_client.class_grants("pets-local", access.USER_CLASSES)


@pytest.fixture(scope="module")
def idp() -> Iterator[idp_process.Idp]:
    name = private_name("idp")
    idp_process.stop(name)
    provider = idp_process.start(procs.free_port(), name=name, client_id=TEST_CLIENT_ID,
                              registration=REGISTRATION, class_grants=GRANTS)
    yield provider
    idp_process.stop(name)




def verify(token: str, idp: idp_process.Idp, **expected: Any) -> dict[str, Any]:
    """Verify signature (against the JWKS the provider SERVES), iss, aud and exp; return claims."""
    keys = jwk.JWKSet.from_json(json.dumps(served_jwks(idp)))
    checks = {"iss": idp.issuer, "aud": idp.client_id, "exp": None, **expected}
    verified = jwt.JWT(jwt=token, key=keys, algs=["RS256"], check_claims=checks)
    return dict(json.loads(verified.claims))


def test_discovery_names_the_exact_issuer(idp: idp_process.Idp) -> None:
    meta = idp.discovery()
    assert idp.issuer == f"http://127.0.0.1:{idp.port}"
    assert meta["issuer"] == idp.issuer  # no trailing slash: IAM condition keys derive from it
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert meta["jwks_uri"].startswith(idp.issuer + "/")


def test_served_jwks_is_the_public_half_of_our_signing_key(idp: idp_process.Idp) -> None:
    served = served_jwks(idp)["keys"]
    ours = idp_process.signing_key()
    assert [k["kid"] for k in served] == [ours.kid]
    assert served[0]["n"] == json.loads(ours.export_public())["n"]
    assert "d" not in served[0]  # never the private exponent


def test_idp_listens_on_loopback_only(idp: idp_process.Idp) -> None:
    assert idp.pid is not None
    sockets = listeners(family_pids(idp.pid))
    assert sockets == {("tcp", "127.0.0.1", idp.port)}


def test_headless_login_returns_a_verifiable_id_token_for_alice(idp: idp_process.Idp) -> None:
    token = login_client.id_token("alice", idp=idp)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "RS256", "kid": idp_process.signing_key().kid}
    claims = verify(token, idp)
    assert claims["sub"] == "auth0|alice"
    assert claims["aud"] == TEST_CLIENT_ID
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Alice Admin"
    assert claims["exp"] > time.time()


@pytest.mark.parametrize(
    ("user", "sub"),
    [("bob", "google-oauth2|bob"), ("dave", "github|dave"), ("mallory", "samlp|mallory"),
     ("eve", "auth0|eve")],
)
def test_each_demo_user_logs_in_with_their_fixed_sub(
    idp: idp_process.Idp, user: str, sub: str
) -> None:
    claims = verify(login_client.id_token(user, idp=idp), idp)
    assert claims["sub"] == sub
    assert claims["email"] == f"{user}@example.com"
    assert demo_users.users()[user].sub == sub  # the table both sides read agrees


def test_login_works_for_every_registered_redirect_uri(idp: idp_process.Idp) -> None:
    tokens = login_client.login("bob", idp=idp, redirect_uri=TEST_REDIRECT_URIS[1])
    assert verify(tokens["id_token"], idp)["sub"] == "google-oauth2|bob"


@pytest.mark.parametrize("user", ["nobody", "auth0|alice", "Alice", "__proto__"])
def test_unknown_user_is_refused(idp: idp_process.Idp, user: str) -> None:
    with pytest.raises(login_client.LoginRefused, match="Unknown demo user"):
        login_client.id_token(user, idp=idp)


def test_unregistered_redirect_uri_is_refused(idp: idp_process.Idp) -> None:
    with pytest.raises(login_client.LoginRefused, match="redirect_uri"):
        login_client.id_token("alice", idp=idp, redirect_uri="http://127.0.0.1:8000/evil")


def test_unknown_client_is_refused(idp: idp_process.Idp) -> None:
    with pytest.raises(login_client.LoginRefused, match="client"):
        login_client.id_token("alice", idp=idp, client_id="someone-else")


def _authorize(idp: idp_process.Idp, **pkce: str) -> str:
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


def test_pkce_is_required_and_only_s256(idp: idp_process.Idp) -> None:
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


def test_minted_token_verifies_against_the_served_jwks(idp: idp_process.Idp) -> None:
    claims = verify(tokens.mint_token(user="dave", idp=idp), idp)
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
    idp: idp_process.Idp, overrides: dict[str, Any], error: type[Exception]
) -> None:
    bad = tokens.mint_token(overrides, idp=idp)
    with pytest.raises(error):
        verify(bad, idp)


def test_token_signed_by_another_key_fails_verification(idp: idp_process.Idp) -> None:
    stranger = jwk.JWK.generate(kty="RSA", size=2048)
    bad = tokens.mint_token(idp=idp, key=stranger)  # carries our kid, wrong signature
    # Against the key set jwcrypto reports "no working key" (JWTMissingKey) ...
    with pytest.raises(jwt.JWTMissingKey):
        verify(bad, idp)
    # ... and against the one served key, a bad signature.
    served = jwk.JWK(**served_jwks(idp)["keys"][0])
    with pytest.raises(jws.InvalidJWSSignature):
        jws.JWS.from_jose_token(bad).verify(served)


def test_start_refuses_while_one_runs_under_the_name(idp: idp_process.Idp) -> None:
    with pytest.raises(DevstackError, match="already runs"):
        idp_process.start(name=private_name("idp"), client_id=TEST_CLIENT_ID,
                          registration=REGISTRATION, class_grants=GRANTS)
    assert idp_process.running(private_name("idp")) == idp  # left as it was


@pytest.mark.parametrize(("broken", "message"), [
    ({k: v for k, v in REGISTRATION.items() if k != "scope"}, "scope must be"),
    ({**REGISTRATION, "redirectUris": []}, "redirectUris is empty"),
    ({**REGISTRATION, "idTokenLifetimeSeconds": 0}, "idTokenLifetimeSeconds must be a positive"),
    ({**REGISTRATION, "grantTypes": "authorization_code"}, "grantTypes must be a list"),
    ({**REGISTRATION, "scope": "email profile"}, "scope must be"),
], ids=["no-scope", "no-redirect-uri", "zero-lifetime", "grant-types-not-a-list", "no-openid"])
def test_a_broken_registration_fails_the_start_with_the_servers_reason(
    broken: dict[str, Any], message: str,
) -> None:
    name = private_name("idp-broken")
    with pytest.raises(StartupError, match=f"(?s)exited with code 2.*IDP_CLIENT.{message}"):
        idp_process.start(procs.free_port(), name=name, registration=broken)
    assert procs.running(name) is None


def test_server_refuses_a_registration_it_is_not_given(tmp_path: Any) -> None:
    """server.mjs never falls back to defaults: without IDP_CLIENT it does not start; nor
    with grants that would give a user two values of one tag (no class is guessed)."""
    env = {"PATH": os.environ["PATH"], "IDP_PORT": str(procs.free_port()),
           "IDP_JWKS_FILE": str(paths.IDP_PRIVATE_JWKS)}
    idp_process.signing_key()
    text_lifetime = json.dumps({**REGISTRATION, "refreshTokenLifetimeSeconds": "8h"})
    torn = tmp_path / "users.json"
    torn.write_text(json.dumps({"users": {"zed": {
        "sub": "auth0|zed", "email": "z@example.com", "email_verified": True, "name": "Zed",
        "roles": ["r-admin", "r-buyer"]}}}))
    conflicting = {"r-admin": {"pets-class": "admin"}, "r-buyer": {"pets-class": "buyer"}}
    for extra, message in [
        ({}, "IDP_CLIENT is required"),
        ({"IDP_CLIENT": text_lifetime},
         "IDP_CLIENT.refreshTokenLifetimeSeconds must be a positive integer"),
        ({"IDP_CLIENT": json.dumps(REGISTRATION), "IDP_CLASS_GRANTS": "[]"},
         "must map role names to tags"),
        ({"IDP_CLIENT": json.dumps(REGISTRATION), "IDP_CLASS_GRANTS": json.dumps(conflicting),
          "IDP_USERS_FILE": str(torn)},
         "users.json zed: roles grant both pets-class=admin and pets-class=buyer"),
    ]:
        done = subprocess.run(["node", "server.mjs"], cwd=paths.IDP_SOURCE, env=env | extra,
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr


def test_port_in_use_error_names_the_port(idp: idp_process.Idp) -> None:
    with pytest.raises(PortInUseError, match=rf"port {idp.port} on 127\.0\.0\.1"):
        idp_process.start(idp.port, name=private_name("idp-busy"), registration=REGISTRATION)
    assert procs.running(private_name("idp-busy")) is None


def test_stop_leaves_no_process() -> None:
    name = private_name("idp-stop")
    idp_process.stop(name)
    started = idp_process.start(procs.free_port(), name=name, registration=REGISTRATION)
    assert started.pid is not None and alive(started.pid)
    assert idp_process.stop(name) is True
    assert not alive(started.pid)
    assert procs.running(name) is None
    procs.check_port_free(started.port, "after stop")
    assert idp_process.stop(name) is False


def test_missing_node_gives_an_actionable_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node, no npm
    name = private_name("idp-no-node")
    with pytest.raises(NodeUnavailable, match=r"Install Node\.js >= 20"):
        idp_process.start(procs.free_port(), name=name, client_id=TEST_CLIENT_ID,
                          registration=REGISTRATION, class_grants=GRANTS)
    assert procs.running(name) is None


# --- https (what LocalStack and AWS require of an OIDC provider URL) -----------------------


@pytest.fixture(scope="module")
def tls_idp() -> Iterator[idp_process.Idp]:
    name = private_name("idp-tls")
    idp_process.stop(name)
    provider = idp_process.start(procs.free_port(), name=name, client_id=TEST_CLIENT_ID,
                              registration=REGISTRATION, class_grants=GRANTS,
                              tls=True)
    yield provider
    idp_process.stop(name)


def test_https_provider_names_an_https_issuer_and_logs_in(tls_idp: idp_process.Idp) -> None:
    assert tls_idp.issuer.startswith("https://127.0.0.1:")
    assert tls_idp.discovery()["issuer"] == tls_idp.issuer
    claims = verify(login_client.id_token("bob", idp=tls_idp), tls_idp)  # iss is the https one
    assert claims["sub"] == "google-oauth2|bob"


def test_https_provider_is_trusted_only_through_its_own_certificate(
    tls_idp: idp_process.Idp, tmp_path: Any,
) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_idp.discovery_url, timeout=5, verify=True)  # the system's CAs only
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(tls_idp.discovery_url.replace("https:", "http:"), timeout=5)
    other = tmp_path / "other-ca.pem"  # a CA that did not issue the provider's certificate
    trustme.CA().cert_pem.write_to_path(str(other))
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_idp.discovery_url, timeout=5, verify=str(other))
    # The certificate names the IP address 127.0.0.1 only.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_idp.discovery_url.replace("127.0.0.1", "localhost"), timeout=5,
                     verify=tls_idp.verify)


def test_https_clients_trust_the_provider_whatever_requests_ca_bundle_says(
    tls_idp: idp_process.Idp, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """requests lets REQUESTS_CA_BUNDLE beat a Session's own `verify`: the login client's
    sessions must ignore the environment, or a machine's CA bundle breaks every login."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    tokens = login_client.login("alice", idp=tls_idp)
    renewed = login_client.refresh(tokens["refresh_token"], idp=tls_idp)
    login_client.revoke(renewed["refresh_token"], idp=tls_idp)
    with pytest.raises(login_client.TokenRefused, match="invalid_grant"):
        login_client.refresh(renewed["refresh_token"], idp=tls_idp)


# --- the registration the program declares ---------------------------------------------------


def test_discovery_offers_what_the_registration_declares(idp: idp_process.Idp) -> None:
    meta = idp.discovery()
    assert set(REGISTRATION["grantTypes"]) <= set(meta["grant_types_supported"])
    assert set(REGISTRATION["scope"].split()) <= set(meta["scopes_supported"])
    assert meta["revocation_endpoint"] == idp.issuer + "/token/revocation"
    assert TAGS_CLAIM in meta["claims_supported"]
    assert idp.registration == REGISTRATION and idp.class_grants == GRANTS
    recorded = idp_process.running(private_name("idp"))  # the record keeps both
    assert recorded is not None
    assert (recorded.registration, recorded.class_grants) == (REGISTRATION, GRANTS)


def test_id_token_lives_as_long_as_the_registration_says(idp: idp_process.Idp) -> None:
    tokens = login_client.login("dave", idp=idp)
    claims = claims_of(tokens["id_token"])
    assert claims["exp"] - claims["iat"] == REGISTRATION["idTokenLifetimeSeconds"]
    assert set(tokens["scope"].split()) == set(REGISTRATION["scope"].split())
    assert tokens["refresh_token"]  # offline_access with the refresh_token grant type


def test_the_token_endpoint_answers_only_the_registered_web_origins(idp: idp_process.Idp) -> None:
    token_endpoint = idp.discovery()["token_endpoint"]

    def refresh_from(origin: str) -> requests.Response:
        refresh_token = login_client.login("bob", idp=idp)["refresh_token"]
        return requests.post(token_endpoint, headers={"Origin": origin}, timeout=5, data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": idp.client_id})

    ours = refresh_from(REGISTRATION["webOrigins"][0])
    assert ours.status_code == 200, ours.text
    assert ours.headers["Access-Control-Allow-Origin"] == REGISTRATION["webOrigins"][0]
    other = refresh_from("http://127.0.0.1:8001")
    assert other.status_code == 400 and "not allowed for client" in other.text
    assert "Access-Control-Allow-Origin" not in other.headers


# --- grants: the session tags claim, as the Auth0 Action asserts it ---------------------------


def class_tags_of_the_action(roles: list[str], grants: dict[str, Any]) -> Any:
    """auth0/post-login.js's own classTags, run by Node."""
    script = ("const { classTags } = require(process.argv[1]);"
              "console.log(JSON.stringify(classTags(JSON.parse(process.argv[2]),"
              " JSON.parse(process.argv[3]))));")
    done = subprocess.run(
        ["node", "-e", script, str(paths.REPO / "auth0" / "post-login.js"), json.dumps(roles),
         json.dumps(grants)], capture_output=True, text=True, check=True, timeout=20)
    return json.loads(done.stdout)


def test_demo_users_roles_are_the_programs_grant_names() -> None:
    users = demo_users.users()
    assert users["alice"].roles == (oidc_client.grant_role_name("pets-local", access.ADMIN),)
    assert set(users["alice"].roles) <= set(GRANTS)
    for nobody in ("bob", "dave", "mallory", "eve"):
        assert not set(users[nobody].roles) & set(GRANTS), nobody
    assert users["eve"].sub == "auth0|eve"  # a database user, as anyone who signs up is


def test_alices_id_token_carries_her_grant_as_session_tags(idp: idp_process.Idp) -> None:
    claims = verify(login_client.id_token("alice", idp=idp), idp)
    expected = {"principal_tags": {access.GRANT_TAG_KEY: ["admin"]}}
    assert claims[TAGS_CLAIM] == expected
    assert class_tags_of_the_action(list(demo_users.users()["alice"].roles), GRANTS) == expected


@pytest.mark.parametrize("user", ["eve", "bob", "mallory"])
def test_users_without_a_grant_get_no_tags_claim(idp: idp_process.Idp, user: str) -> None:
    assert TAGS_CLAIM not in verify(login_client.id_token(user, idp=idp), idp)


# --- refresh tokens: rotation, reuse, revocation ---------------------------------------------


def test_refresh_grant_renews_the_id_token_and_rotates(idp: idp_process.Idp) -> None:
    first = login_client.login("alice", idp=idp)
    time.sleep(1.1)  # a later iat, so the renewed token is told apart by more than its jti
    renewed = login_client.refresh(first["refresh_token"], idp=idp)
    old, new = claims_of(first["id_token"]), verify(renewed["id_token"], idp)
    assert new["sub"] == old["sub"] and new["iat"] > old["iat"] and new["exp"] > old["exp"]
    assert new[TAGS_CLAIM] == old[TAGS_CLAIM]  # the grant is asserted in every ID token
    assert renewed["refresh_token"] != first["refresh_token"]
    # The old one is spent; the new one works (once).
    with pytest.raises(login_client.TokenRefused) as refused:
        login_client.refresh(first["refresh_token"], idp=idp)
    assert refused.value.error == "invalid_grant"


def test_reusing_a_spent_refresh_token_revokes_its_successor(idp: idp_process.Idp) -> None:
    """A spent token presented again means it leaked: the provider ends the whole grant."""
    first = login_client.login("bob", idp=idp)
    second = login_client.refresh(first["refresh_token"], idp=idp)
    with pytest.raises(login_client.TokenRefused, match="invalid_grant"):
        login_client.refresh(first["refresh_token"], idp=idp)
    with pytest.raises(login_client.TokenRefused, match="invalid_grant"):
        login_client.refresh(second["refresh_token"], idp=idp)


def test_a_revoked_refresh_token_is_refused(idp: idp_process.Idp) -> None:
    tokens = login_client.login("bob", idp=idp)
    kept = login_client.login("bob", idp=idp)  # another login's token: not touched
    login_client.revoke(tokens["refresh_token"], idp=idp)
    with pytest.raises(login_client.TokenRefused) as refused:
        login_client.refresh(tokens["refresh_token"], idp=idp)
    assert refused.value.error == "invalid_grant"
    assert login_client.refresh(kept["refresh_token"], idp=idp)["id_token"]


def _authorize_in(session: requests.Session, idp: idp_process.Idp, **params: str) -> tuple[
        requests.Response, str]:
    """Starts a code + PKCE authorization in `session`; returns the answer and the verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    response = session.get(idp.discovery()["authorization_endpoint"], allow_redirects=False,
                           timeout=5, params={
        "client_id": idp.client_id, "redirect_uri": idp.redirect_uris[0], "response_type": "code",
        "scope": REGISTRATION["scope"], "state": "s1", "code_challenge": challenge.decode(),
        "code_challenge_method": "S256", **params})
    return response, verifier


def _redeem(session: requests.Session, idp: idp_process.Idp, code: str,
            verifier: str) -> dict[str, Any]:
    return dict(session.post(idp.discovery()["token_endpoint"], timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": idp.redirect_uris[0],
        "client_id": idp.client_id, "code_verifier": verifier}).json())


def test_the_login_after_a_logout_still_gets_a_refresh_token(idp: idp_process.Idp) -> None:
    """The site asks prompt=login after a logout; oidc-provider alone would then drop
    offline_access (OIDC Core 11), Auth0 does not."""
    session = requests.Session()
    response, verifier = _authorize_in(session, idp, prompt="login")
    callback = login_client.follow_to_callback(session, response, "bob", idp.redirect_uris[0])
    tokens = _redeem(session, idp, parse_qs(urlsplit(callback).query)["code"][0], verifier)
    assert "offline_access" in tokens["scope"].split()
    assert tokens["refresh_token"]


def test_a_second_login_in_the_same_idp_session_shows_no_page(idp: idp_process.Idp) -> None:
    """Single sign-on: the grant covers the registered scope, so no consent page again."""
    session = requests.Session()
    response, _ = _authorize_in(session, idp)
    login_client.follow_to_callback(session, response, "dave", idp.redirect_uris[0])
    response, verifier = _authorize_in(session, idp)
    for _ in range(6):
        assert response.is_redirect, f"a page at {response.url}: {response.text[:200]}"
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(idp.redirect_uris[0]):
            break
        response = session.get(location, allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = _redeem(session, idp, code, verifier)
    assert claims_of(tokens["id_token"])["sub"] == "github|dave" and tokens["refresh_token"]


# --- other registrations: nothing is a harness default ----------------------------------------


@pytest.fixture(scope="module")
def bare_idp() -> Iterator[idp_process.Idp]:
    """A client registered without the refresh_token grant, another ID token lifetime and no
    grants: what it issues follows that registration, not the one above."""
    name = private_name("idp-bare")
    idp_process.stop(name)
    registration = {**REGISTRATION, "grantTypes": ["authorization_code"],
                    "scope": "openid email profile", "idTokenLifetimeSeconds": 1234}
    provider = idp_process.start(procs.free_port(), name=name, client_id=TEST_CLIENT_ID,
                              registration=registration, class_grants={})
    yield provider
    idp_process.stop(name)


def test_another_registration_gets_its_own_lifetime_no_refresh_token_and_no_grant(
    bare_idp: idp_process.Idp,
) -> None:
    tokens = login_client.login("alice", idp=bare_idp, scope=REGISTRATION["scope"])
    claims = verify(tokens["id_token"], bare_idp)
    assert claims["exp"] - claims["iat"] == 1234
    assert "refresh_token" not in tokens  # offline_access asked for, not registered
    assert TAGS_CLAIM not in claims  # alice's role grants nothing where no grant is declared


@pytest.fixture(scope="module")
def short_idp() -> Iterator[idp_process.Idp]:
    name = private_name("idp-short")
    idp_process.stop(name)
    registration = {**REGISTRATION, "idTokenLifetimeSeconds": 2, "refreshTokenLifetimeSeconds": 3}
    provider = idp_process.start(procs.free_port(), name=name, client_id=TEST_CLIENT_ID,
                              registration=registration, class_grants=GRANTS)
    yield provider
    idp_process.stop(name)


def test_refresh_token_lifetime_is_absolute_rotation_does_not_extend_it(
    short_idp: idp_process.Idp,
) -> None:
    start = time.monotonic()
    first = login_client.login("bob", idp=short_idp)
    time.sleep(1.5)
    renewed = login_client.refresh(first["refresh_token"], idp=short_idp)  # ~1.5 s left, not 3
    assert claims_of(renewed["id_token"])["exp"] - claims_of(renewed["id_token"])["iat"] == 2
    time.sleep(max(0.0, 3.6 - (time.monotonic() - start)))
    with pytest.raises(login_client.TokenRefused) as refused:
        login_client.refresh(renewed["refresh_token"], idp=short_idp)
    assert refused.value.error == "invalid_grant"


@pytest.mark.parametrize(("uri", "registered"), [
    (REGISTRATION["postLogoutRedirectUris"][0], True),
    (TEST_REDIRECT_URIS[1], False),  # a redirect URI, but not registered for logout
])
def test_only_registered_post_logout_redirect_uris_are_accepted(
    idp: idp_process.Idp, uri: str, registered: bool,
) -> None:
    response = requests.get(idp.discovery()["end_session_endpoint"], timeout=5, params={
        "client_id": idp.client_id, "post_logout_redirect_uri": uri})
    if registered:
        assert response.status_code == 200 and "logout" in response.text.lower()
    else:
        assert response.status_code == 400
        assert "post_logout_redirect_uri not registered" in response.text
