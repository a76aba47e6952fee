"""The browser app served from site/ on loopback, before (and without) the local stack.

- The page itself: loads cleanly, says so when config.json or a module is missing, is
  usable with the keyboard alone.
- Its modules, run in Chromium: class inference, STS answers, error wording.
- Logging in and out, sessions and pages against the real local identity provider
  (devstack/idp) and tests/support/fake_aws.py standing in for STS and the API (which checks
  every SigV4 signature with botocore). The whole flow (flows.admin_and_buyers) runs under
  the site's CSP in test_site_csp.py, and against the real stack in stack/test_site.py.
"""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import flows
from tests.support.browser import Tab
from tests.support.fake_aws import REGION, FakeAws, fake_config, fake_shop
from tests.support.flows import listed_ids, more_button, more_pets, pet_rows
from tests.support.site_server import SiteServer, serving

ISSUER_UNUSED = "http://127.0.0.1:9"  # a config whose IdP is never contacted


@pytest.fixture
def static_site() -> Iterator[SiteServer]:
    with serving(SiteServer()) as server:
        server.config = fake_config(server.origin, ISSUER_UNUSED)
        yield server


# --- the page ------------------------------------------------------------------------


def test_page_loads_without_console_errors(open_tab, static_site: SiteServer):
    tab = open_tab()
    flows.open_site(tab, static_site.url)
    flows.expect_status(tab, "Log in to see the pets.")
    expect(tab.page.locator("#who")).to_have_text("Not logged in.")
    # Nothing a logged-out user cannot use is shown.
    expect(tab.page.locator("#add-section")).to_be_hidden()
    expect(tab.page.locator("#pets-section")).to_be_hidden()
    tab.shot("logged out")
    assert tab.errors_on(static_site.origin) == []
    assert tab.blocked == []
    assert f"GET /{'vendor/oidc-client-ts.js'}" in static_site.requests


def _network_address() -> str:
    """This machine's address on its first network (a UDP socket's connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError as err:
            pytest.skip(f"no network address to try a leak to: {err}")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no network address besides loopback")
    return address


def test_a_tab_reaches_loopback_only(open_tab, static_site: SiteServer):
    """What is not loopback goes to a proxy that does not exist (conftest.open_tab): the
    request fails in the browser and is kept in tab.blocked; loopback is reached."""
    tab = open_tab()
    flows.open_site(tab, static_site.url)
    # A server on this machine's own network address: a tab that went anywhere would reach
    # it (these machines have no internet to try).
    with serving(SiteServer(host=_network_address())) as elsewhere:
        leak = f"{elsewhere.origin}/leak"
        reached = tab.page.evaluate("""async urls => Promise.all(urls.map(url =>
            fetch(url, {mode: "no-cors"}).then(() => "reached", () => "refused")))""",
            [leak, f"{static_site.origin}/config.json"])
    assert reached == ["refused", "reached"]
    assert tab.blocked == [leak]


def test_missing_config_is_a_visible_error(open_tab, static_site: SiteServer):
    static_site.config = None
    tab = open_tab()
    tab.page.goto(static_site.url)
    flows.expect_status(tab, "cannot load config.json: HTTP 404", error=True)
    expect(tab.page.get_by_role("button", name="Log in")).to_be_disabled()
    tab.shot("no config")


def test_incomplete_config_is_a_visible_error(open_tab, static_site: SiteServer):
    static_site.config = {"region": REGION}
    tab = open_tab()
    tab.page.goto(static_site.url)
    flows.expect_status(tab, re.compile(r"config\.json lacks apiUrl, issuer, clientId"), error=True)


def test_a_scope_without_openid_is_a_visible_error(open_tab, static_site: SiteServer):
    static_site.config = {**static_site.config, "scope": "email offline_access"}
    tab = open_tab()
    tab.page.goto(static_site.url)
    flows.expect_status(tab, 'config.json: scope "email offline_access" lacks openid', error=True)


def test_a_module_that_fails_to_load_is_a_visible_error(open_tab, static_site: SiteServer):
    static_site.hidden = frozenset({"vendor/aws4fetch.js"})
    tab = open_tab()
    tab.page.goto(static_site.url)
    flows.expect_status(tab, "The app failed to start", error=True)
    tab.shot("module missing")


def test_unreachable_identity_provider_is_a_visible_error(open_tab, static_site: SiteServer):
    tab = open_tab()
    flows.open_site(tab, static_site.url)
    tab.page.get_by_role("button", name="Log in").click()
    flows.expect_status(tab, f"Cannot start the login at {ISSUER_UNUSED}", error=True)


def test_login_button_works_from_the_keyboard(open_tab, static_site: SiteServer):
    tab = open_tab()
    flows.open_site(tab, static_site.url)
    tab.page.keyboard.press("Tab")
    expect(tab.page.get_by_role("button", name="Log in")).to_be_focused()
    tab.page.keyboard.press("Enter")
    # The login starts (and fails here: this config's IdP does not exist).
    flows.expect_status(tab, "Cannot start the login", error=True)


# --- the modules, in the browser -------------------------------------------------------


def run_module(tab: Tab, script: str) -> Any:
    """Evaluates `script` (an async function body) with the site's modules imported."""
    return tab.page.evaluate(f"""async () => {{
        const classes = await import('./classes.js');
        const sts = await import('./sts.js');
        const api = await import('./api.js');
        {script}
    }}""")


def test_class_inference_follows_the_models_patterns(open_tab, static_site: SiteServer):
    tab = open_tab()
    flows.open_site(tab, static_site.url)
    result = run_module(tab, """
        const config = await (await fetch('config.json')).json();
        const tags = (value) => (
          { [classes.TAGS_CLAIM]: { principal_tags: { 'pets-class': value } } });
        const tokens = {
          'alice granted': { sub: 'auth0|alice', ...tags(['admin']) },
          'alice without her grant': { sub: 'auth0|alice' },
          'eve self-registered': { sub: 'auth0|eve' },
          'a tag for another value': { sub: 'auth0|eve', ...tags(['buyer']) },
          'a tag as a bare string': { sub: 'auth0|x', ...tags('admin') },
          'bob': { sub: 'google-oauth2|bob' }, 'dave': { sub: 'github|dave' },
          'mallory': { sub: 'samlp|mallory' }, 'no sub': {}, 'AUTH0|alice': { sub: 'AUTH0|alice' },
        };
        return Object.fromEntries(Object.entries(tokens)
          .map(([label, claims]) => [label, classes.classFor(claims, config.classes)]));
    """)
    assert result == {"alice granted": "admin", "alice without her grant": None,
                      "eve self-registered": None, "a tag for another value": None,
                      "a tag as a bare string": "admin", "bob": "buyer", "dave": "buyer",
                      "mallory": None, "no sub": None, "AUTH0|alice": None}
    assert run_module(tab, """
        return [classes.stringLike('a?c*', 'abcdef'), classes.stringLike('a.c', 'abc'),
                classes.stringLike('x|*', 'x|'), classes.classFor({ sub: 'auth0|42' },
                  {admin: {subjects: ['auth0|42'], subPatterns: []}}),
                classes.classFor({ sub: 'auth0|42' }, {admin: {sessionTags: {}}})];
    """) == [True, False, True, "admin", None]


def test_sts_answers_are_parsed(open_tab, static_site: SiteServer):
    tab = open_tab()
    flows.open_site(tab, static_site.url)
    ok = run_module(tab, """
        const xml = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAX</AccessKeyId>
          <SecretAccessKey>s3cr3t</SecretAccessKey><SessionToken>tok</SessionToken>
          <Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>
          </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`;
        const c = sts.parseStsResponse(200, xml);
        return [c.accessKeyId, c.secretAccessKey, c.sessionToken, c.expiration.toISOString()];
    """)
    assert ok == ["ASIAX", "s3cr3t", "tok", "2030-01-01T00:00:00.000Z"]
    refused = run_module(tab, """
        const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>
          <Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized</Message>
          </Error></ErrorResponse>`;
        try { sts.parseStsResponse(403, xml); return 'parsed'; }
        catch (e) { return [e.code, e.message, sts.describeStsError(e, 'buyer')]; }
    """)
    assert refused == ["AccessDenied", "Not authorized",
                       "your login is not accepted for the buyer role (Not authorized)"]
    assert run_module(tab, "return [sts.sessionName('auth0|alice'), sts.sessionName('x')];") == [
        "auth0-alice", "pets-x"]


@pytest.mark.parametrize(("status", "message", "expected"), [
    (403, "User: arn:aws:sts::0:assumed-role/r/s is not authorized",
     "Could not add the pet: not allowed for your role (buyer)."),
    (403, "The security token included in the request is expired",
     "Could not add the pet: your credentials have expired; try again."),
    (409, "pet already sold", "Could not add the pet: pet already sold."),
    (409, "a sold pet cannot be removed",
     "Could not add the pet: a sold pet cannot be removed (already sold)."),
    (400, "price must be greater than 0", "Could not add the pet: price must be greater than 0."),
    (0, "Failed to fetch",
     "Could not add the pet: the API could not be reached (network error: Failed to fetch)."),
    (502, "Internal server error",
     "Could not add the pet: the API failed with HTTP 502: Internal server error."),
])
def test_api_errors_are_worded(open_tab, static_site: SiteServer, status, message, expected):
    tab = open_tab()
    flows.open_site(tab, static_site.url)
    error = f"new api.ApiError({status}, {message!r})"
    worded = run_module(tab, f"return api.describeApiError({error}, 'add the pet', 'buyer');")
    assert worded == expected


# --- the whole flow, with the real local IdP and a fake STS + API -----------------------------


@pytest.fixture(scope="module")
def fake_stack() -> Iterator[tuple[SiteServer, FakeAws, str]]:
    with fake_shop("site-e2e") as shop:
        yield shop.site, shop.fake, shop.issuer


def test_logout_forgets_the_login_and_the_next_login_asks_again(open_tab, fake_stack):
    server, _, issuer = fake_stack
    tab = open_tab("alice")
    flows.login(tab, server.url, "alice", issuer)
    assert flows.oidc_storage_keys(tab) != []
    flows.logout(tab)
    assert flows.oidc_storage_keys(tab) == []
    expect(tab.page.locator("#pets-section")).to_be_hidden()
    tab.shot("logged out")
    # The IdP still has alice's session; the app asks it to show the login form anyway.
    tab.page.get_by_role("button", name="Log in").click()
    expect(tab.page.locator("input[name=login]")).to_be_visible()
    tab.shot("login form again")


def test_user_without_a_class_is_told_so(open_tab, fake_stack):
    server, _, issuer = fake_stack
    tab = open_tab("mallory")
    flows.login(tab, server.url, "mallory", issuer)
    flows.expect_status(tab, "belongs to no user class", error=True)
    expect(tab.page.locator("#pets-section")).to_be_hidden()
    expect(tab.page.get_by_role("button", name="Log out")).to_be_visible()
    tab.shot("mallory has no class")


def test_credentials_are_renewed_before_they_expire(open_tab, fake_stack):
    """The page's clock runs fast: the app renews 5 minutes before expiry, and stops at the
    ID token's expiry (STS would refuse it), asking the user to log in again."""
    server, fake, issuer = fake_stack
    tab = open_tab("alice")
    tab.page.clock.install()  # the page's timers and Date, advanced by the test
    flows.login(tab, server.url, "alice", issuer)
    flows.expect_status(tab, "Logged in as admin.")
    first = [akid for sub, akid in fake.issued if sub == "auth0|alice"]
    try:
        fake.clock_offset = timedelta(minutes=56)
        tab.page.clock.run_for("56:00")  # credentials (1 h) are now 4 minutes from expiry
        tab.page.get_by_role("button", name="Refresh list").click()
        # The refresh's own outcome, not the login's "Logged in as admin. 0 pets listed."
        flows.expect_status(tab, flows.LISTED_AGAIN)
        renewed = [akid for sub, akid in fake.issued if sub == "auth0|alice"]
        assert len(renewed) == len(first) + 1, "credentials were not renewed exactly once"
        assert fake.signers[-1] == renewed[-1], "the API call was not signed with new credentials"
        tab.shot("credentials renewed")

        fake.clock_offset = timedelta(minutes=116)
        tab.page.clock.run_for("01:00:00")  # the ID token (1 h) has expired: no more renewals
        flows.expect_status(tab, "your login has expired; log in again", error=True)
        expect(tab.page.get_by_role("button", name="Log in")).to_be_visible()
        tab.shot("login expired")
    finally:
        fake.clock_offset = timedelta()


def test_cancelled_login_is_a_visible_error(open_tab, fake_stack):
    server, _, issuer = fake_stack
    tab = open_tab("cancel")
    flows.open_site(tab, server.url)
    tab.page.get_by_role("button", name="Log in").click()
    tab.page.wait_for_url(f"{issuer}/**")
    tab.page.get_by_role("link", name="[ Cancel ]").click()
    tab.page.wait_for_url(re.compile(rf"^{re.escape(server.url)}"))
    flows.expect_status(tab, "Login failed", error=True)
    expect(tab.page.get_by_role("button", name="Log in")).to_be_visible()
    assert tab.page.url == server.url, "the error response stays in the address bar"
    tab.shot("login cancelled")


@pytest.fixture
def many_pets(fake_stack) -> Iterator[list[dict[str, Any]]]:
    """The fake shop holds 120 pets (2 pages and 20 of the site's 50), one a second:
    newest first, "Seeded 119" to "Seeded 000"."""
    _, fake, _ = fake_stack
    start = datetime(2026, 1, 1, tzinfo=UTC)
    seeded = [{"petId": str(uuid.uuid4()), "type": f"Seeded {i:03d}", "price": i + 1,
               "createdAt": (start + timedelta(seconds=i)).isoformat(timespec="milliseconds")
               .replace("+00:00", "Z")} for i in range(120)]
    saved, fake.pets = fake.pets, {p["petId"]: p for p in seeded}
    try:
        yield seeded[::-1]
    finally:
        fake.pets = saved


def test_more_pets_appends_the_next_page_until_the_last(open_tab, fake_stack, many_pets):
    server, fake, issuer = fake_stack
    newest_first = [p["petId"] for p in many_pets]
    tab = open_tab("bob")
    fake.page_requests.clear()
    flows.login(tab, server.url, "bob", issuer)
    flows.expect_status(tab, 'Logged in as buyer. 50 pets listed. Older ones follow with '
                             '"More pets".')
    expect(pet_rows(tab)).to_have_count(50)
    assert listed_ids(tab) == newest_first[:50]
    expect(pet_rows(tab).first).to_contain_text("Seeded 119")
    tab.shot("the first page")

    more_pets(tab, 100, last=False)
    assert listed_ids(tab) == newest_first[:100]
    # From the keyboard too: a real button, focused again once its page is shown.
    expect(more_button(tab)).to_be_focused()
    tab.page.keyboard.press("Enter")
    flows.expect_status(tab, "Listed 20 more pets (120 in all); that is every pet.")
    expect(more_button(tab)).to_be_hidden()
    expect(tab.page.get_by_role("heading", name="Pets", level=2)).to_be_focused()
    assert listed_ids(tab) == newest_first
    tab.shot("every page")
    # One page at a time, each after the last one's nextCursor.
    assert [q.get("limit") for q in fake.page_requests] == [["50"]] * 3
    assert [bool(q.get("cursor")) for q in fake.page_requests] == [False, True, True]

    # A pet of the last page is bought where it is listed; the list keeps its pages.
    flows.buy(tab, "Seeded 005")
    flows.expect_status(tab, "You bought Seeded 005 for 6.00.")
    expect(flows.pet_row(tab, "Seeded 005")).to_contain_text("Sold to bob@example.com")
    expect(pet_rows(tab)).to_have_count(120)
    assert tab.errors_on(server.origin) == []


def test_adding_or_removing_lists_from_the_first_page_again(open_tab, fake_stack, many_pets):
    server, _, issuer = fake_stack
    tab = open_tab("alice")
    flows.login(tab, server.url, "alice", issuer)
    more_pets(tab, 100, last=False)
    flows.add_pet(tab, "Newest", "4")
    flows.expect_status(tab, "Added Newest for 4.00.")
    expect(pet_rows(tab)).to_have_count(50)
    expect(pet_rows(tab).first).to_contain_text("Newest")
    expect(more_button(tab)).to_be_visible()

    more_pets(tab, 100, last=False)
    more_pets(tab, 121, last=True)
    tab.page.get_by_role("button", name="Remove Seeded 000 (1.00)").click()
    flows.expect_status(tab, "Removed Seeded 000.")
    expect(pet_rows(tab)).to_have_count(50)
    assert listed_ids(tab)[1:] == [p["petId"] for p in many_pets[:49]]
    expect(more_button(tab)).to_be_visible()
    tab.shot("listed from the first page again")
