"""The site at a busy or failing API: in Chromium, against the real local identity provider
and tests/support/fake_aws.py made to throttle, fail and drop calls (FakeAws.inject).

What the site promises (site/retry.js): a list, a purchase, an add (with its
Idempotency-Key) or a removal is tried again on 429, 502, 503, 504 and on no answer, at
most 3 tries within 5 s, waiting at least what Retry-After says; the page says it is
retrying, then tells a busy API from a refusal; a refusal is never tried again. Small
Retry-After values keep the tests fast (a second at most per wait).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import flows
from tests.support.browser import Tab
from tests.support.fake_aws import (
    ANSWER_LOST,
    DROPPED,
    FakeShop,
    Fault,
    fake_shop,
    gateway_failure,
    throttled,
    unavailable,
)

LIST, ADD, REMOVE, BUY = "GET /pets", "POST /pets", "DELETE /pets/{petId}", "POST /pets/purchase"
BUSY = re.compile(r"Busy, retrying… \(try [23] of 3\)")


@pytest.fixture(scope="module")
def module_shop() -> Iterator[FakeShop]:
    with fake_shop("site-retries") as shop:
        yield shop


@pytest.fixture
def shop(module_shop: FakeShop) -> Iterator[FakeShop]:
    """The module's shop, emptied: no pets, no calls, no faults, the API same-origin."""
    fake = module_shop.fake
    for kept in (fake.pets, fake.added_by_key, fake.faults):
        kept.clear()
    for log in (fake.calls, fake.api_calls, fake.refused_preflights, fake.issued):
        log.clear()
    fake.session_seconds = 3600
    module_shop.site.config = module_shop.config()
    yield module_shop
    assert fake.faults == {} or all(not f for f in fake.faults.values()), (
        f"faults the test injected were never met: {fake.faults}")


def seed(shop: FakeShop, pet_type: str, price: float = 10) -> dict[str, Any]:
    created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    pet = {"petId": str(uuid.uuid4()), "type": pet_type, "price": price, "createdAt": created}
    shop.fake.pets[pet["petId"]] = pet
    return pet


def statuses(shop: FakeShop, route: str, class_name: str | None = None) -> list[str]:
    return [c.status for c in shop.fake.calls_of(route, class_name)]


@pytest.fixture(scope="module")
def logins() -> dict[str, dict[str, str]]:
    """Each user's login (flows.stored_login), kept from their first login in this module."""
    return {}


# A kept login is resumed only while its ID token has this long to live.
RESUMABLE_SECONDS = 600


@pytest.fixture
def log_in(open_tab: Callable[..., Tab], shop: FakeShop,
           logins: dict[str, dict[str, str]]) -> Callable[..., Tab]:
    """log_in(user) -> Tab: `user` logged in; with `listed`, once the first listing is shown
    (so faults injected next meet the user's next call, not that one). A user logs in
    through the identity provider's pages the first time in this module; later tabs resume
    that login (flows.resume), as a reload does. What is tested here starts after the login;
    the login itself is tested in test_site_offline.py, stack/ and in the first test below."""

    def log_in_(user: str, *, listed: bool = True) -> Tab:
        tab = open_tab(user)
        kept = logins.get(user)
        if kept and flows.id_token_seconds_left(kept) > RESUMABLE_SECONDS:
            flows.resume(tab, shop.site.url, kept)
        else:
            flows.login(tab, shop.site.url, user, shop.issuer)
            logins[user] = flows.stored_login(tab)
        if listed:
            flows.expect_status(tab, re.compile(r"^Logged in as \w+\. \d+ pets? listed\."))
        return tab

    return log_in_


def gaps(shop: FakeShop, route: str) -> list[float]:
    """Seconds between one try of the route and the next."""
    times = [c.at for c in shop.fake.calls_of(route)]
    return [b - a for a, b in pairwise(times)]


# --- recovering without the user doing anything -------------------------------------------


def test_a_throttled_list_recovers_without_the_user_doing_anything(open_tab, shop):
    seed(shop, "Parrot")
    shop.fake.inject(LIST, throttled("1"), throttled("1"))
    tab = open_tab("bob")
    flows.login(tab, shop.site.url, "bob", shop.issuer)
    flows.expect_status(tab, "Logged in as buyer. 1 pet listed.")
    expect(flows.pet_row(tab, "Parrot")).to_contain_text("Available")
    tab.shot("listed after two 429s")
    assert statuses(shop, LIST) == ["429", "429", "200"]
    # Retry-After (1 s) was waited for, and every try was signed anew (X-Amz-Date).
    assert all(gap >= 1.0 for gap in gaps(shop, LIST)), gaps(shop, LIST)
    assert len({c.amz_date for c in shop.fake.calls_of(LIST)}) == 3
    assert tab.errors_on(shop.site.origin, refusals_expected=True) == []


def test_logging_out_while_the_list_is_retried_stays_logged_out(log_in, shop):
    """Log out is in the header, so it is enabled while the first listing waits out a
    Retry-After: whatever that listing meets afterwards, the page stays logged out, says so,
    and shows no pets."""
    seed(shop, "Parrot")
    shop.fake.inject(LIST, throttled("1"))
    tab = log_in("bob", listed=False)
    flows.expect_status(tab, BUSY)
    flows.logout(tab)
    tab.page.wait_for_timeout(2000)  # past the Retry-After: a retry has had its answer
    flows.expect_status(tab, "Logged out.")
    expect(tab.page.locator("#pets-section")).to_be_hidden()
    expect(flows.pet_rows(tab)).to_have_count(0)
    assert tab.errors_on(shop.site.origin, refusals_expected=True) == []


def test_the_page_says_it_is_retrying(log_in, shop):
    tab = log_in("bob")
    shop.fake.inject(LIST, unavailable("1"), unavailable("1"))
    tab.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(tab, "Busy, retrying… (try 2 of 3)")
    expect(tab.page.get_by_role("button", name="Refresh list")).to_be_disabled()
    tab.shot("busy, retrying")
    flows.expect_status(tab, "Busy, retrying… (try 3 of 3)")
    flows.expect_status(tab, "0 pets listed.")
    expect(tab.page.get_by_role("button", name="Refresh list")).to_be_enabled()


def test_a_throttled_purchase_recovers(log_in, shop):
    seed(shop, "Parrot", 12.5)
    tab = log_in("bob")
    shop.fake.inject(BUY, throttled(), unavailable("1"))
    flows.buy(tab, "Parrot")
    flows.expect_status(tab, BUSY)
    flows.expect_status(tab, "You bought Parrot for 12.50.")
    expect(flows.pet_row(tab, "Parrot")).to_contain_text("Sold to bob@example.com")
    tab.shot("bought after a 429 and a 503")
    assert statuses(shop, BUY) == ["429", "503", "200"]
    assert gaps(shop, BUY)[1] >= 1.0


def test_a_purchase_whose_answer_was_lost_is_the_same_sale_when_retried(log_in, shop):
    seed(shop, "Parrot", 12.5)
    tab = log_in("bob")
    shop.fake.inject(BUY, ANSWER_LOST)
    flows.buy(tab, "Parrot")
    flows.expect_status(tab, "You bought Parrot for 12.50.")
    # The first try sold it and its answer was lost; the retry got the same sale, not 409.
    assert statuses(shop, BUY) == ["200, dropped after it was carried out", "200"]


def test_an_add_whose_answer_was_lost_is_retried_with_its_key_and_adds_one_pet(log_in, shop):
    tab = log_in("alice")
    shop.fake.inject(ADD, ANSWER_LOST)
    flows.add_pet(tab, "Parrot", "12")
    flows.expect_status(tab, "Added Parrot for 12.00.")
    tab.shot("added once")
    adds = shop.fake.calls_of(ADD)
    assert [c.status for c in adds] == ["201, dropped after it was carried out", "201"]
    assert adds[0].idempotency_key and adds[0].idempotency_key == adds[1].idempotency_key
    assert adds[0].body == adds[1].body
    assert [p["type"] for p in shop.fake.pets.values()] == ["Parrot"]
    expect(flows.pet_rows(tab)).to_have_count(1)


def test_each_add_gets_a_key_of_its_own(log_in, shop):
    tab = log_in("alice")
    for n in (1, 2):
        flows.add_pet(tab, "Goldfish", "3")
        flows.expect_status(tab, "Added Goldfish for 3.00.")
        expect(flows.pet_rows(tab)).to_have_count(n)
    keys = [c.idempotency_key for c in shop.fake.calls_of(ADD)]
    assert len(keys) == 2 and len(set(keys)) == 2 and all(keys), keys
    assert all(re.fullmatch(r"[0-9a-f-]{36}", k) for k in keys), keys


def test_an_add_still_under_way_is_asked_again(log_in, shop):
    tab = log_in("alice")
    in_progress = Fault(409, "a request with this Idempotency-Key is in progress", "1")
    shop.fake.inject(ADD, in_progress)
    flows.add_pet(tab, "Parrot", "12")
    flows.expect_status(tab, "Added Parrot for 12.00.")
    assert statuses(shop, ADD) == ["409", "201"]
    assert len({c.idempotency_key for c in shop.fake.calls_of(ADD)}) == 1


def test_a_removal_whose_answer_was_lost_is_done(log_in, shop):
    seed(shop, "Snake", 7)
    tab = log_in("alice")
    shop.fake.inject(REMOVE, ANSWER_LOST)
    tab.page.get_by_role("button", name="Remove Snake (7.00)").click()
    # The retry finds the pet gone (404): it was removed, as asked.
    flows.expect_status(tab, "Removed Snake.")
    assert statuses(shop, REMOVE) == ["200, dropped after it was carried out", "404"]
    expect(flows.pet_rows(tab)).to_have_count(0)


def test_answers_the_browser_cannot_read_are_retried(log_in, shop):
    """On AWS the API is another origin: a 502 without CORS headers (MiniStack's Lambda
    error) and a dropped connection both reach the page as a rejected fetch, no status."""
    shop.site.config = shop.config(cross_origin=True)
    seed(shop, "Parrot")
    shop.fake.inject(LIST, gateway_failure(502, cors=False), DROPPED)
    tab = log_in("bob", listed=False)
    flows.expect_status(tab, "Logged in as buyer. 1 pet listed.")
    assert statuses(shop, LIST) == ["502 without CORS", "dropped", "200"]
    # Three unreadable answers: the page could not tell it was a 502, and says so.
    shop.fake.inject(LIST, *[gateway_failure(502, cors=False)] * 3)
    tab.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(tab, re.compile(r"Could not list the pets: the API could not be reached "
                                        r"\(network error: .+\), still after 3 tries"), error=True)
    assert statuses(shop, LIST)[3:] == ["502 without CORS"] * 3
    assert shop.fake.refused_preflights == []
    assert [r for r in shop.api.requests if r.startswith("OPTIONS ")], "no preflight was made"


def test_gateway_failures_with_json_are_retried(log_in, shop):
    seed(shop, "Parrot")
    tab = log_in("bob")
    shop.fake.inject(BUY, gateway_failure(504), gateway_failure(502))
    flows.buy(tab, "Parrot")
    flows.expect_status(tab, "You bought Parrot for 10.00.")
    assert statuses(shop, BUY) == ["504", "502", "200"]


# --- when the retries run out --------------------------------------------------------


def test_when_the_retries_run_out_the_page_says_the_api_is_busy(log_in, shop):
    seed(shop, "Parrot")
    shop.fake.inject(LIST, *[unavailable("0")] * 3)
    tab = log_in("bob", listed=False)
    flows.expect_status(tab, "Could not list the pets: the API is busy (HTTP 503: the pets table "
                             "is busy; try again shortly), still after 3 tries; try again in a "
                             "moment.", error=True)
    tab.shot("gave up after 3 tries")
    assert statuses(shop, LIST) == ["503"] * 3
    # Once the API is well, the user's own retry lists.
    tab.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(tab, "1 pet listed.")


def test_an_unreachable_api_is_said_so_after_three_tries(log_in, shop):
    tab = log_in("bob")
    shop.fake.inject(LIST, DROPPED, DROPPED, DROPPED)
    tab.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(tab, re.compile(r"Could not list the pets: the API could not be reached "
                                        r"\(network error: .+\), still after 3 tries; try again "
                                        r"in a moment\."), error=True)
    assert statuses(shop, LIST) == ["200", "dropped", "dropped", "dropped"]


def test_a_retry_after_beyond_the_budget_is_not_waited_for(log_in, shop):
    tab = log_in("bob")
    shop.fake.inject(LIST, throttled("30"))
    tab.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(tab, "Could not list the pets: the API is busy (HTTP 429) and asks to "
                             "wait 30 s; try again then.", error=True)
    assert statuses(shop, LIST) == ["200", "429"]


def test_an_add_given_up_keeps_its_key_for_the_same_pet(log_in, shop):
    tab = log_in("alice")
    shop.fake.inject(ADD, ANSWER_LOST, DROPPED, DROPPED)
    flows.add_pet(tab, "Parrot", "12")
    flows.expect_status(tab, "Could not add the pet: the API could not be reached", error=True)
    flows.expect_status(tab, "It may have been added: adding the same pet again will not add it "
                             "twice.", error=True)
    tab.shot("add gave up")
    # It was added; the user adds it again: the same key, so the first answer, no second pet.
    tab.page.get_by_role("button", name="Add pet").click()
    flows.expect_status(tab, "Added Parrot for 12.00.")
    adds = shop.fake.calls_of(ADD)
    assert [c.status for c in adds][-1] == "201" and len(adds) == 4
    assert len({c.idempotency_key for c in adds}) == 1
    assert [p["type"] for p in shop.fake.pets.values()] == ["Parrot"]
    # A pet added after that is a new add, with a new key.
    flows.add_pet(tab, "Parrot", "13")
    flows.expect_status(tab, "Added Parrot for 13.00.")
    assert shop.fake.calls_of(ADD)[-1].idempotency_key != adds[0].idempotency_key


# --- refusals are not retried --------------------------------------------------------


def test_refusals_are_tried_once(log_in, shop):
    seed(shop, "Parrot")
    dave = log_in("dave")  # dave lists the parrot while it is for sale
    bob = log_in("bob")
    flows.buy(bob, "Parrot")
    flows.expect_status(bob, "You bought Parrot")
    # 403: a buyer may not add.
    flows.force_add_form(bob)
    flows.add_pet(bob, "Goldfish", "3")
    flows.expect_status(bob, "Could not add the pet: not allowed for your role (buyer).",
                        error=True)
    assert statuses(shop, ADD) == ["403"]
    # 409: dave's list is stale, the parrot is bob's.
    flows.buy(dave, "Parrot")
    flows.expect_status(dave, "Could not buy the Parrot: pet already sold.", error=True)
    assert statuses(shop, BUY) == ["200", "409"]
    # 409 without Retry-After on an add is a refusal too.
    alice = log_in("alice")
    shop.fake.inject(ADD, Fault(409, "conflict"))
    flows.add_pet(alice, "Snake", "7")
    flows.expect_status(alice, "Could not add the pet: conflict (already sold).", error=True)
    assert statuses(shop, ADD, "admin") == ["409"]


# --- credentials and headers --------------------------------------------------------


def test_a_retry_is_signed_with_credentials_renewed_meanwhile(log_in, shop):
    """Credentials living 304 s are renewed 300 s before they expire: fresh for the first
    try (their expiry has whole seconds: up to 1 s less), due by the retry 4 s later, which
    must be signed with the new ones."""
    shop.fake.session_seconds = 304
    seed(shop, "Parrot")
    shop.fake.inject(LIST, throttled("4"))
    tab = log_in("bob", listed=False)
    flows.expect_status(tab, "Logged in as buyer. 1 pet listed.")
    first, retry = shop.fake.calls_of(LIST)
    bobs = [akid for sub, akid in shop.fake.issued if sub == "google-oauth2|bob"]
    assert (first.status, retry.status) == ("429", "200")
    assert [first.akid, retry.akid] == bobs, "the retry was not signed with renewed credentials"


def test_the_site_passes_the_apis_cors_preflights(log_in, shop):
    """Cross-origin, as on AWS: every header the site sends (X-Id-Token on the list,
    Idempotency-Key on the add) must be allowed by the API's CORS settings."""
    shop.site.config = shop.config(cross_origin=True)
    alice = log_in("alice")
    flows.add_pet(alice, "Parrot", "12")
    expect(flows.status(alice)).to_contain_text(re.compile(r"^(Added|Could not)"))
    assert shop.fake.refused_preflights == [], (
        "the API's CORS settings (components/api.py CORS_ALLOW_HEADERS) refuse what the site "
        f"sends: {shop.fake.refused_preflights}")
    flows.expect_status(alice, "Added Parrot for 12.00.")
    bob = log_in("bob")
    flows.buy(bob, "Parrot")
    flows.expect_status(bob, "You bought Parrot for 12.00.")
    assert shop.fake.refused_preflights == []
    preflights = {r.split("?")[0] for r in shop.api.requests if r.startswith("OPTIONS ")}
    assert preflights == {"OPTIONS /api/pets", "OPTIONS /api/pets/purchase"}, preflights


# --- who bought a pet --------------------------------------------------------------


def test_a_pet_sold_to_someone_else_is_listed_as_sold_without_their_email(log_in, shop):
    seed(shop, "Parrot", 12.5)
    bob = log_in("bob")
    flows.buy(bob, "Parrot")
    flows.expect_status(bob, "You bought Parrot for 12.50.")
    dave = log_in("dave")
    row = flows.pet_row(dave, "Parrot")
    expect(row).to_contain_text("Sold")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(dave.page.locator("main")).not_to_contain_text("bob")
    dave.shot("sold, buyer not shown")
    # The buyer, listing again, is told it is his (the listing carries his ID token).
    bob.page.get_by_role("button", name="Refresh list").click()
    flows.expect_status(bob, "1 pet listed.")
    expect(flows.pet_row(bob, "Parrot")).to_contain_text("Sold to bob@example.com")
    # An admin is told who bought it.
    alice = log_in("alice")
    expect(flows.pet_row(alice, "Parrot")).to_contain_text("Sold to bob@example.com")
