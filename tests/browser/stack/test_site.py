"""The browser app on the session stack (tests/conftest.py `running_stack`): MiniStack serves
the site, STS and the API; the local identity provider logs the demo users in. Nothing is
faked. Screenshots of every step: test-artifacts/<test>/<user>/.
"""

from __future__ import annotations

import math
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import expect

from devstack import calls
from tests.support import flows
from tests.support.session_stack import Local


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_site_is_served_by_the_stack(open_tab, local_stack: dict[str, Any]):
    tab = open_tab()
    flows.open_site(tab, local_stack["siteUrl"])
    flows.expect_status(tab, "Log in to see the pets.")
    tab.shot("site served by the stack")
    assert tab.errors_on(origin(local_stack["siteUrl"])) == []
    assert tab.blocked == []


def test_admin_adds_buyer_buys_and_roles_are_enforced(open_tab, local_stack: dict[str, Any]):
    site_url, issuer = local_stack["siteUrl"], local_stack["oidcIssuer"]
    run = flows.admin_and_buyers(open_tab, site_url, issuer, uuid.uuid4().hex[:6])
    for tab in (run.alice, run.bob, run.dave):
        assert tab.errors_on(origin(site_url), refusals_expected=True) == [], tab.artifacts.name
        assert tab.blocked == [] or all("fonts.googleapis.com" in u for u in tab.blocked)


def test_logout_forgets_the_login(open_tab, local_stack: dict[str, Any]):
    tab = open_tab("alice")
    flows.login(tab, local_stack["siteUrl"], "alice", local_stack["oidcIssuer"])
    flows.logout(tab)
    assert flows.oidc_storage_keys(tab) == []
    expect(tab.page.locator("#pets-section")).to_be_hidden()
    tab.shot("logged out")


def test_user_without_a_class_gets_no_role(open_tab, local_stack: dict[str, Any]):
    tab = open_tab("mallory")
    flows.login(tab, local_stack["siteUrl"], "mallory", local_stack["oidcIssuer"])
    flows.expect_status(tab, "belongs to no user class", error=True)
    tab.shot("mallory has no class")


SITE_PAGE = 50  # site/api.js PAGE_SIZE


def _every_pet(api: calls.Api) -> list[dict[str, Any]]:
    """GET /pets followed to the last page, as the API lists it (newest first)."""
    pets, query = [], {"limit": "100"}
    while True:
        response = api.call("GET", f"/pets?{urlencode(query)}")
        assert response.status_code == 200, response.text
        pets += response.json()["pets"]
        if "nextCursor" not in response.json():
            return pets
        query["cursor"] = response.json()["nextCursor"]


def test_more_pets_pages_through_the_shop(open_tab, running_stack: Any,
                                          local_stack: dict[str, Any]):
    """More than a page of pets: the site shows one page (the newest: the ones just added),
    "More pets" appends the next until the last, where it is gone; a pet of an appended
    page can be bought."""
    suffix = uuid.uuid4().hex[:6]
    admin = Local.of(running_stack).login("alice", "admin").api
    seeded = []
    for i in range(SITE_PAGE + 10):
        response = admin.call("POST", "/pets", json={"type": f"Hamster {suffix} {i:02d}",
                                                     "price": i + 1})
        assert response.status_code == 201, response.text
        seeded.append(response.json()["petId"])
    every = [p["petId"] for p in _every_pet(admin)]
    assert every[:SITE_PAGE + 10] == seeded[::-1], "the API does not list newest first"

    tab = open_tab("bob")
    flows.login(tab, local_stack["siteUrl"], "bob", local_stack["oidcIssuer"])
    flows.expect_status(tab, f"{SITE_PAGE} pets listed. Older ones follow")
    expect(flows.pet_rows(tab)).to_have_count(SITE_PAGE)
    assert flows.listed_ids(tab) == seeded[::-1][:SITE_PAGE]
    expect(flows.more_button(tab)).to_be_visible()
    tab.shot("one page")

    pages = math.ceil(len(every) / SITE_PAGE)
    for n in range(2, pages + 1):
        flows.more_pets(tab, min(n * SITE_PAGE, len(every)), last=n == pages)
        shown = flows.listed_ids(tab)
        assert len(shown) == len(set(shown)), f"a pet came twice after {n} pages"
        assert shown == every[:n * SITE_PAGE]
    tab.shot("every page")

    # The oldest of the seeded pets came with the second page.
    oldest = f"Hamster {suffix} 00"
    flows.buy(tab, oldest)
    flows.expect_status(tab, f"You bought {oldest} for 1.00.")
    expect(flows.pet_row(tab, oldest)).to_contain_text("Sold to bob@example.com")
    sold = next(p for p in _every_pet(admin) if p["petId"] == seeded[0])
    assert sold["soldTo"] == "bob@example.com"
    assert tab.errors_on(origin(local_stack["siteUrl"])) == []
