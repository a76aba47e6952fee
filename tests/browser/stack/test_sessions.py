"""Sessions that last, on the session stack: the app renews the login with its refresh token
before the ID token expires and gets new AWS credentials with each new ID token; a login whose
renewal the identity provider refuses ends when its ID token expires; a tab that slept past
the expiry renews on load; logout revokes the refresh token.

Time. The page's timers run on Playwright's clock (page.clock): a renewal due in an hour is
reached by running them an hour forward (run_for). The page's wall clock (Date) stays with the
real one (set_fixed_time, moved to the real time before each step), because the servers'
clocks are real: the identity provider stamps each ID token's iat and exp, STS each
credential's expiry, and the page must agree with them, or a token issued a second ago would
look an hour old. So what the site's timers decide is driven, and everything the servers
judge runs for real: the refresh grant, the rotated and revoked refresh tokens, STS with the
new ID token, the purchase's token check. One renewal in real time, nothing driven:
tests/browser/test_renewal_in_real_time.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from devstack.idp import login_client
from devstack.idp.tokens import unverified_claims as claims_of
from tests.support import flows
from tests.support.browser import Tab
from tests.support.session_stack import Local

RENEW_MARGIN_SECONDS = 60  # site/auth.js RENEW_MARGIN_MS: renew this long before expiry
SLACK_SECONDS = 10  # page time around the due moment: never renewed before, always after


@pytest.fixture(scope="module")
def local(running_stack: Any) -> Local:
    return Local.of(running_stack)


@dataclass
class Watched:
    """A tab whose page timers the test drives, and what it sent to the identity provider
    (refresh grants) and to STS (the ID token of each AssumeRoleWithWebIdentity)."""

    tab: Tab
    sts_url: str
    refreshes: list[str] = field(default_factory=list)  # the refresh tokens presented
    sts_tokens: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # every page the tab showed
    pinned_at: float = 0.0  # the page's wall clock (Date), set last
    scheduled_at: float = 0.0  # real time when the site scheduled the stored login's renewal

    def on_request(self, request: Any) -> None:
        if request.method != "POST":
            return
        form = {k: v[0] for k, v in parse_qs(request.post_data or "").items()}
        if form.get("grant_type") == "refresh_token":
            self.refreshes.append(form["refresh_token"])
        elif request.url == self.sts_url and form.get("Action") == "AssumeRoleWithWebIdentity":
            self.sts_tokens.append(form["WebIdentityToken"])

    def keep_wall_clock_real(self) -> None:
        self.pinned_at = time.time()
        self.tab.page.clock.set_fixed_time(self.pinned_at)

    def run_timers(self, seconds: float) -> None:
        """The page's timers run `seconds` forward; its wall clock stays the real one."""
        self.keep_wall_clock_real()
        self.tab.page.clock.run_for(int(seconds * 1000))

    def due_in(self) -> float:
        """Page-timer seconds until the stored login's renewal is due: the site's timer was
        set to (exp - margin - the page's Date) when it stored the login, and the page's
        timers have run in real time since (scheduled_at is a moment late: SLACK covers it)."""
        claims = claims_of(flows.stored_user(self.tab)["id_token"])
        margin = min(RENEW_MARGIN_SECONDS, (claims["exp"] - claims["iat"]) / 4)
        return claims["exp"] - margin - self.pinned_at - (time.time() - self.scheduled_at)

    def expires_in(self) -> float:
        """Page-timer seconds until the stored ID token expires, as due_in() counts."""
        exp = claims_of(flows.stored_user(self.tab)["id_token"])["exp"]
        return exp - self.pinned_at - (time.time() - self.scheduled_at)

    def until(self, condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
        """Waits (real time) for what the page does once its timers fired."""
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
            self.tab.page.wait_for_timeout(100)


def logged_in(open_tab: Callable[..., Tab], local: Local, user: str, user_class: str
              ) -> Watched:
    """`user` logged in through the site, in a tab whose page clock the test drives."""
    tab = open_tab(user)
    watched = Watched(tab, local.target.endpoint_url.rstrip("/") + "/")
    tab.page.on("request", watched.on_request)
    tab.page.on("framenavigated", lambda frame: watched.pages.append(frame.url)
                if frame == tab.page.main_frame else None)
    tab.page.clock.install()
    watched.keep_wall_clock_real()
    flows.login(tab, local.outputs["siteUrl"], user, local.idp.issuer)
    flows.expect_status(tab, f"Logged in as {user_class}.")
    watched.scheduled_at = time.time()
    watched.pages.clear()
    return watched


def renewed(watched: Watched) -> dict[str, Any]:
    """Runs the page's timers to just before the stored login's renewal (nothing is sent),
    then past it; returns the renewed login."""
    before = flows.stored_user(watched.tab)
    due = watched.due_in()
    watched.run_timers(due - SLACK_SECONDS)
    watched.tab.page.wait_for_timeout(500)  # a renewal, had it fired, would be under way
    assert watched.refreshes == [], f"renewed {SLACK_SECONDS} s before it was due"
    # The identity provider stamps iat in whole seconds and RS256 signs deterministically: a
    # renewal within the second the stored token was issued would get the very same token.
    issued = claims_of(before["id_token"])["iat"]
    time.sleep(max(0.0, issued + 1 - time.time()))
    watched.run_timers(2 * SLACK_SECONDS)
    watched.until(lambda: flows.stored_user(watched.tab)["id_token"] != before["id_token"],
                  "the renewed login stored")
    new = flows.stored_user(watched.tab)
    watched.until(lambda: new["id_token"] in watched.sts_tokens, "STS asked with the new token")
    assert watched.refreshes == [before["refresh_token"]]
    watched.refreshes.clear()
    watched.scheduled_at = time.time()  # the next renewal was scheduled a moment ago
    return new


def test_the_login_is_renewed_before_each_expiry_and_buys_with_the_new_token(
    open_tab: Callable[..., Tab], local: Local,
) -> None:
    """bob's login is renewed twice, each time RENEW_MARGIN before its ID token's expiry and
    not before, with the rotated refresh token; STS gets each new ID token; the tab never
    goes back to the login page; a purchase after the renewals carries the last ID token,
    and the function accepts it."""
    pet = f"Hamster {uuid.uuid4().hex[:6]}"
    admin = local.login("alice", "admin")
    assert admin.api.call("POST", "/pets", json={"type": pet, "price": 5}).status_code == 201
    bob = logged_in(open_tab, local, "bob", "buyer")
    first = flows.stored_user(bob.tab)
    assert first["refresh_token"], "the login brought no refresh token (scope offline_access?)"

    second = renewed(bob)
    third = renewed(bob)
    tokens = [first["id_token"], second["id_token"], third["id_token"]]
    assert len(set(tokens)) == 3
    assert {claims_of(t)["sub"] for t in tokens} == {"google-oauth2|bob"}
    assert len({first["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3
    assert bob.pages == [], f"the tab went to {bob.pages}"
    expect(bob.tab.page.locator("#who")).to_contain_text("Bob Buyer (bob@example.com)")
    bob.tab.shot("bob renewed twice")

    purchases: list[str] = []
    bob.tab.page.on("request", lambda r: purchases.append(r.headers.get("x-id-token", ""))
                    if r.url.endswith("/pets/purchase") else None)
    bob.keep_wall_clock_real()
    bob.tab.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(bob.tab, flows.LISTED_AGAIN)
    flows.buy(bob.tab, pet)
    flows.expect_status(bob.tab, f"You bought {pet} for 5.00.")
    assert purchases == [third["id_token"]]
    site = urlsplit(local.outputs["siteUrl"])
    assert bob.tab.errors_on(f"{site.scheme}://{site.netloc}") == []


def test_a_login_whose_renewal_is_refused_ends_when_its_id_token_expires(
    open_tab: Callable[..., Tab], local: Local,
) -> None:
    """dave's refresh token is revoked at the identity provider (leaked, staff leaving): the
    renewal is refused and he is told; he stays logged in until his ID token expires, and
    then he is logged out."""
    dave = logged_in(open_tab, local, "dave", "buyer")
    warnings: list[str] = []
    dave.tab.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning"
                     else None)
    login_client.revoke(flows.stored_user(dave.tab)["refresh_token"], idp=local.idp)

    dave.run_timers(dave.due_in() + SLACK_SECONDS)
    flows.expect_status(dave.tab, "Could not renew your login", error=True)
    assert any(w.startswith("Could not renew your login") for w in warnings), warnings
    # The refusal's expiry timer counts from the page's Date then: the last pin.
    dave.scheduled_at = time.time()
    dave.run_timers(dave.expires_in() - SLACK_SECONDS)
    dave.tab.page.wait_for_timeout(500)
    expect(dave.tab.page.locator("#pets-section")).to_be_visible()  # not over yet
    dave.run_timers(2 * SLACK_SECONDS)
    flows.expect_status(dave.tab, "Could not stay logged in: your login has expired; log in "
                        "again.", error=True)
    expect(dave.tab.page.get_by_role("button", name="Log in")).to_be_visible()
    expect(dave.tab.page.locator("#pets-section")).to_be_hidden()
    dave.tab.shot("revoked login ended")


def test_a_tab_that_slept_past_the_expiry_renews_on_load(
    open_tab: Callable[..., Tab], local: Local,
) -> None:
    """The stored login says its ID token expired (the tab slept): on load the site renews
    it with its refresh token instead of asking to log in."""
    bob = logged_in(open_tab, local, "bob", "buyer")
    slept = flows.stored_user(bob.tab)
    bob.tab.page.evaluate("""(prefix) => {
        const [key, value] = Object.entries(sessionStorage).find(([k]) => k.startsWith(prefix));
        const user = JSON.parse(value);
        user.profile.exp = Math.floor(Date.now() / 1000) - 5;
        sessionStorage.setItem(key, JSON.stringify(user));
    }""", flows.USER_STORE_PREFIX)
    bob.keep_wall_clock_real()
    bob.tab.page.reload()
    flows.expect_status(bob.tab, "Logged in as buyer.")
    assert bob.refreshes == [slept["refresh_token"]]
    assert flows.stored_user(bob.tab)["refresh_token"] != slept["refresh_token"]
    assert all(not url.startswith(local.idp.issuer) for url in bob.pages), bob.pages


def test_logout_revokes_the_refresh_token(open_tab: Callable[..., Tab], local: Local) -> None:
    bob = logged_in(open_tab, local, "bob", "buyer")
    refresh_token = flows.stored_user(bob.tab)["refresh_token"]
    flows.logout(bob.tab)
    assert flows.oidc_storage_keys(bob.tab) == []
    with pytest.raises(login_client.TokenRefused) as refused:
        login_client.refresh(refresh_token, idp=local.idp)
    assert refused.value.error == "invalid_grant"
