"""Sessions that last: the browser app keeps a login alive across ID token expiries with its
refresh token, renews its AWS credentials with each new ID token, and logout revokes the
refresh token at the identity provider.

On a private local stack of its own (emulator + the program applied with a 20 s ID token +
an identity provider registering what that program declares), so the short lifetime never
reaches the shared stack's other tests. Nothing is faked.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from devstack import calls, clients, stack
from devstack.clients import Target
from devstack.idp import idp_process, login_client
from devstack.idp.tokens import unverified_claims as claims_of
from devstack.processes import procs
from tests.e2e import flows
from tests.e2e.conftest import Tab

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ID_TOKEN_SECONDS = 20  # the shortest the stack config accepts (components/config.py)
USER_STORE_PREFIX = "pets.oidc.user:"  # site/auth.js PREFIX + oidc-client-ts's user key


@dataclass(frozen=True)
class ShortStack:
    target: Target
    idp: idp_process.Idp
    outputs: dict[str, Any]


@pytest.fixture(scope="module")
def short_stack(worker_id: str) -> Iterator[ShortStack]:
    """The `local` stack applied with idTokenLifetimeSeconds=20 to an emulator of its own."""
    if os.environ.get(clients.EXTERNAL_ENDPOINT_ENV):
        pytest.skip("a private stack needs its own emulator; AWS_ENDPOINT_URL names another")
    suffix = "" if worker_id == "master" else f"-{worker_id}"
    names = {"emulator_name": f"test-emulator-sessions{suffix}",
             "idp_name": f"test-idp-sessions{suffix}"}
    local = stack.up(**names, idp_port=procs.free_port(), outputs_file=None, engine="ministack",
                     config={"idTokenLifetimeSeconds": str(ID_TOKEN_SECONDS)})
    try:
        # What the program declared with that config, registered as it says.
        assert local.outputs["oidcClient"]["idTokenLifetimeSeconds"] == ID_TOKEN_SECONDS
        yield ShortStack(local.target, local.idp, dict(local.outputs))
    finally:
        stack.down(**names, outputs_file=None)




def stored_user(tab: Tab) -> dict[str, Any]:
    """The login oidc-client-ts keeps in sessionStorage (id_token, refresh_token, ...)."""
    raw = tab.page.evaluate(
        f"Object.entries(sessionStorage).filter(([k]) => k.startsWith('{USER_STORE_PREFIX}'))"
        ".map(([, v]) => v)")
    assert len(raw) == 1, f"expected one stored login, found {len(raw)}"
    return dict(json.loads(raw[0]))


def add_pet_as_admin(stack: ShortStack, pet_type: str) -> None:
    token = login_client.id_token("alice", idp=stack.idp)
    credentials = calls.assume_role(stack.outputs["roles"]["admin"], token, target=stack.target)
    api = calls.Api(stack.outputs["apiUrl"], stack.outputs["region"], credentials)
    response = api.call("POST", "/pets", json={"type": pet_type, "price": 5})
    assert response.status_code == 201, response.text


def revoked_session(open_tab: Any, stack: ShortStack) -> tuple[Tab, list[str]]:
    """dave logs in, then his refresh token is revoked at the identity provider (a leaked
    token, staff leaving). Returns his tab and the warnings it logs from then on."""
    tab = open_tab("dave")
    flows.login(tab, stack.outputs["siteUrl"], "dave", stack.idp.issuer)
    flows.expect_status(tab, "Logged in as buyer.")
    warnings: list[str] = []
    tab.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    login_client.revoke(stored_user(tab)["refresh_token"], idp=stack.idp)
    return tab, warnings


def test_login_outlives_two_id_token_expiries_and_logout_revokes_it(
    open_tab: Any, short_stack: ShortStack,
) -> None:
    """bob stays logged in across two expiries; meanwhile (the waits overlap) dave, whose
    refresh token was revoked, is logged out when his ID token expires."""
    site_url, issuer = short_stack.outputs["siteUrl"], short_stack.idp.issuer
    dave, dave_warnings = revoked_session(open_tab, short_stack)
    dave_expires = claims_of(stored_user(dave)["id_token"])["exp"]
    sts_url = short_stack.target.endpoint_url.rstrip("/") + "/"
    pet = f"Hamster {uuid.uuid4().hex[:6]}"
    add_pet_as_admin(short_stack, pet)

    tab = open_tab("bob")
    # (time sent, ID token) of every STS call the page makes; every page the tab shows.
    # (time sent, ID token) of every purchase's X-Id-Token header.
    sts_calls: list[tuple[float, str]] = []
    purchases: list[tuple[float, str]] = []
    pages: list[str] = []

    def on_request(request: Any) -> None:
        body = request.post_data or ""
        if request.method == "POST" and request.url == sts_url and "AssumeRole" in body:
            form = dict(p.split("=", 1) for p in body.split("&"))
            sts_calls.append((time.time(), form["WebIdentityToken"]))
        elif request.method == "POST" and request.url.endswith("/pets/purchase"):
            purchases.append((time.time(), request.headers.get("x-id-token", "")))

    tab.page.on("request", on_request)
    tab.page.on("framenavigated",
                lambda frame: pages.append(frame.url) if frame == tab.page.main_frame else None)

    flows.login(tab, site_url, "bob", issuer)
    flows.expect_status(tab, "Logged in as buyer.")
    first = stored_user(tab)
    assert first["refresh_token"], "the login brought no refresh token (scope offline_access?)"
    assert claims_of(first["id_token"])["exp"] - claims_of(first["id_token"])["iat"] == (
        ID_TOKEN_SECONDS)
    pages_at_login = len(pages)
    tab.shot("bob logged in")

    # Two ID tokens expire: the login's own, and the one its first renewal brought.
    deadline = time.time() + 3 * ID_TOKEN_SECONDS + 15
    while time.time() < deadline:
        tokens = list(dict.fromkeys(token for _, token in sts_calls))
        if len(tokens) >= 3 and time.time() > claims_of(tokens[1])["exp"] + 1:
            break
        tab.page.wait_for_timeout(1000)
    else:
        raise AssertionError(f"{len(sts_calls)} STS calls in {3 * ID_TOKEN_SECONDS + 15} s: "
                             "the login was not renewed twice")

    # Never the login page again, and still logged in.
    assert pages[pages_at_login:] == [], f"the tab went to {pages[pages_at_login:]}"
    expect(tab.page.locator("#who")).to_contain_text("Bob Buyer (bob@example.com)")
    expect(tab.page.get_by_role("button", name="Log out")).to_be_visible()
    # Each renewal went to STS with the new ID token, unexpired when it was sent.
    tokens = list(dict.fromkeys(token for _, token in sts_calls))
    assert [claims_of(t)["sub"] for t in tokens] == ["google-oauth2|bob"] * len(tokens)
    for sent, token in sts_calls:
        assert claims_of(token)["exp"] > sent, "STS was sent an expired ID token"
    renewed = stored_user(tab)
    assert renewed["id_token"] == tokens[-1]
    assert renewed["refresh_token"] != first["refresh_token"]  # rotated on every use

    # dave's revoked login: the renewal was refused, he was told, and once his ID token
    # expired the session ended.
    assert time.time() > dave_expires + 1
    flows.expect_status(dave, "Could not stay logged in: your login has expired; log in again.",
                        error=True)
    expect(dave.page.get_by_role("button", name="Log in")).to_be_visible()
    expect(dave.page.locator("#pets-section")).to_be_hidden()
    assert any(w.startswith("Could not renew your login") for w in dave_warnings), dave_warnings
    dave.shot("revoked login ended")

    # Signed calls work after the second expiry, and the purchase names the buyer with the
    # renewed ID token (the handler's exp check allows a minute of clock skew: not enough
    # to tell a stale token from a fresh one here, so the header is checked as sent).
    tab.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(tab, "listed.")
    flows.buy(tab, pet)
    flows.expect_status(tab, f"You bought {pet} for 5.00.")
    tab.shot("bob bought after two expiries")
    [(sent, header)] = purchases
    assert header == stored_user(tab)["id_token"] and claims_of(header)["exp"] > sent

    # A tab that slept past its ID token's expiry: on load, the stored login is renewed with
    # its refresh token instead of asking to log in.
    slept = stored_user(tab)
    tab.page.evaluate("""(prefix) => {
        const [key, value] = Object.entries(sessionStorage).find(([k]) => k.startsWith(prefix));
        const user = JSON.parse(value);
        user.profile.exp = Math.floor(Date.now() / 1000) - 5;
        sessionStorage.setItem(key, JSON.stringify(user));
    }""", USER_STORE_PREFIX)
    pages_before_reload = len(pages)
    tab.page.reload()
    flows.expect_status(tab, "Logged in as buyer.")
    woke = stored_user(tab)
    assert woke["refresh_token"] != slept["refresh_token"], "the stored login was not renewed"
    assert all(not url.startswith(issuer) for url in pages[pages_before_reload:]), pages

    # Logout revokes the refresh token at the identity provider.
    last_refresh_token = stored_user(tab)["refresh_token"]
    flows.logout(tab)
    assert flows.oidc_storage_keys(tab) == []
    with pytest.raises(login_client.TokenRefused) as refused:
        login_client.refresh(last_refresh_token, idp=short_stack.idp)
    assert refused.value.error == "invalid_grant"
    site = urlsplit(site_url)
    assert tab.errors_on(f"{site.scheme}://{site.netloc}", refusals_expected=True) == []

