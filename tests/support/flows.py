"""What a user does in the pets app, as Playwright steps; shared by every browser test.

Locators are the ones a person uses: roles and accessible names, labels, the status
region. Each step waits for the page to say its outcome, so a failure names the step.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

from components.api_models import BAD_BODY_MESSAGE
from devstack.idp.tokens import unverified_claims
from tests.support.browser import Tab

PASSWORD = "unused"  # the local IdP's dev login form checks no password
# What "Refresh list" says once its listing is shown; the login's status ("Logged in as
# admin. 2 pets listed.") does not match, so a test waits for the refresh itself.
LISTED_AGAIN = re.compile(r"^\d+ pets? listed\.")


def status(tab: Tab) -> Any:
    return tab.page.locator("#status")


def expect_status(tab: Tab, text: str | re.Pattern[str], *, error: bool = False) -> None:
    expect(status(tab)).to_contain_text(text)
    if error:
        expect(status(tab)).to_have_class(re.compile(r"\berror\b"))
    else:
        expect(status(tab)).not_to_have_class(re.compile(r"\berror\b"))


def open_site(tab: Tab, site_url: str) -> None:
    tab.page.goto(site_url)
    expect(tab.page.get_by_role("button", name="Log in")).to_be_enabled()


def login(tab: Tab, site_url: str, user: str, issuer: str) -> None:
    """Logs `user` in at the local IdP (oidc-provider dev pages) and waits for the app."""
    page = tab.page
    open_site(tab, site_url)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{issuer}/**")
    page.locator("input[name=login]").fill(user)
    page.locator("input[name=password]").fill(PASSWORD)
    tab.shot(f"{user} at the login page")
    page.locator("button[type=submit]").click()
    # The IdP asks for consent the first time a user logs in to the client in this context.
    consent = page.get_by_role("button", name="Continue")
    logged_in = page.locator("#who", has_text="Logged in as")
    expect(consent.or_(logged_in)).to_be_visible()
    if consent.is_visible():
        tab.shot(f"{user} consents")
        consent.click()
    expect(page.locator("#who")).to_contain_text("Logged in as")
    # The callback's code and state are gone from the address bar.
    assert page.url == site_url, page.url


def pet_row(tab: Tab, pet_type: str) -> Any:
    return tab.page.locator("#pets tbody tr").filter(has_text=pet_type)


def pet_rows(tab: Tab) -> Any:
    return tab.page.locator("#pets tbody tr")


def listed_ids(tab: Tab) -> list[str]:
    """The petIds of the rows shown, top to bottom."""
    return pet_rows(tab).evaluate_all("(rows) => rows.map((row) => row.dataset.petId)")


def more_button(tab: Tab) -> Any:
    return tab.page.get_by_role("button", name="More pets")


def more_pets(tab: Tab, shown: int, *, last: bool) -> None:
    """Clicks "More pets" and waits for the next page: `shown` rows in all, the button gone
    on the last page and still offered before it."""
    more_button(tab).click()
    expect_status(tab, f"({shown} in all)")
    expect(pet_rows(tab)).to_have_count(shown)
    if last:
        expect_status(tab, "that is every pet.")
        expect(more_button(tab)).to_be_hidden()
    else:
        expect(more_button(tab)).to_be_visible()


def add_pet(tab: Tab, pet_type: str, price: str) -> None:
    page = tab.page
    page.get_by_label("Type").fill(pet_type)
    page.get_by_label("Price").fill(price)
    page.get_by_role("button", name="Add pet").click()


def buy(tab: Tab, pet_type: str) -> None:
    pet_row(tab, pet_type).get_by_role("button", name=re.compile(r"^Buy")).click()


def force_add_form(tab: Tab) -> None:
    """Shows the add form the user's class does not get, to send what the UI would not."""
    tab.page.evaluate("document.getElementById('add-section').hidden = false")


def logout(tab: Tab) -> None:
    tab.page.get_by_role("button", name="Log out").click()
    expect_status(tab, "Logged out.")
    expect(tab.page.get_by_role("button", name="Log in")).to_be_visible()


USER_STORE_PREFIX = "pets.oidc.user:"  # site/auth.js PREFIX + oidc-client-ts's user key


def stored_user(tab: Tab) -> dict[str, Any]:
    """The login oidc-client-ts keeps in sessionStorage (id_token, refresh_token, ...)."""
    raw = tab.page.evaluate(
        f"Object.entries(sessionStorage).filter(([k]) => k.startsWith('{USER_STORE_PREFIX}'))"
        ".map(([, v]) => v)")
    assert len(raw) == 1, f"expected one stored login, found {len(raw)}"
    return dict(json.loads(raw[0]))


def stored_login(tab: Tab) -> dict[str, str]:
    """Everything the site keeps of the tab's login (its sessionStorage), to resume elsewhere."""
    return dict(tab.page.evaluate("Object.fromEntries(Object.entries(sessionStorage))"))


def id_token_seconds_left(stored: dict[str, str]) -> float:
    """Seconds until the ID token of a stored_login expires."""
    (user,) = [json.loads(v) for k, v in stored.items() if k.startswith(USER_STORE_PREFIX)]
    return float(unverified_claims(user["id_token"])["exp"]) - time.time()


# Set once the stored login is written, so that a logout or a reload in the same tab finds
# what the site left, not the stored login again.
RESUMED_KEY = "pets.test.resumed"


def resume(tab: Tab, site_url: str, stored: dict[str, str]) -> None:
    """Opens the site in `tab` with a stored_login in its sessionStorage: the site starts
    from the stored login (site/main.js start: auth.user(), then begin), as when the tab
    that logged in is reloaded, without the identity provider's pages. Playwright carries
    no session storage between contexts; its documented way is an init script that writes
    it before the page's own scripts run."""
    origin, marker = json.dumps("{0.scheme}://{0.netloc}".format(urlsplit(site_url))), \
        json.dumps(RESUMED_KEY)
    tab.page.context.add_init_script(script=(
        f"if (location.origin === {origin} && !sessionStorage.getItem({marker})) {{"
        f"  for (const [k, v] of Object.entries({json.dumps(stored)})) {{"
        "    sessionStorage.setItem(k, v);"
        "  }"
        f"  sessionStorage.setItem({marker}, '1');"
        "}"))
    tab.page.goto(site_url)
    expect(tab.page.locator("#who")).to_contain_text("Logged in as")


def oidc_storage_keys(tab: Tab) -> list[str]:
    return tab.page.evaluate(
        "Object.keys(sessionStorage).concat(Object.keys(localStorage))"
        ".filter((k) => k.includes('oidc'))"
    )


def keyboard_add_pet(tab: Tab, pet_type: str, price: str) -> None:
    """Adds a pet with the keyboard alone: Tab to the form, type, Enter submits."""
    page = tab.page
    page.locator("body").focus()
    type_field = page.get_by_label("Type")
    for _ in range(10):
        page.keyboard.press("Tab")
        if type_field.evaluate("(e) => e === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the Type field")
    page.keyboard.type(pet_type)
    page.keyboard.press("Tab")
    page.keyboard.type(price)
    page.keyboard.press("Enter")


def keyboard_press_button(tab: Tab, name: str) -> None:
    """Tabs to the button with this accessible name and presses Enter."""
    page = tab.page
    target = page.get_by_role("button", name=name)
    page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if target.evaluate("(e) => e === document.activeElement"):
            page.keyboard.press("Enter")
            return
    raise AssertionError(f"Tab never reached the button {name!r}")


@dataclass
class ShopRun:
    alice: Tab
    bob: Tab
    dave: Tab


def admin_and_buyers(open_tab: Callable[[str], Tab], site_url: str, issuer: str,
                     suffix: str) -> ShopRun:
    """The shop end to end; pet names end in `suffix` so a shared table is no problem.

    alice (admin) adds and removes with the keyboard and is refused a bad price; bob
    (buyer) has no admin controls, buys, is refused a forced add (403); dave (buyer)
    buys from a list that bob's purchase made stale (409).
    """
    parrot, snake = f"Parrot {suffix}", f"Snake {suffix}"
    alice = open_tab("alice")
    login(alice, site_url, "alice", issuer)
    expect(alice.page.locator("#who")).to_contain_text(
        "Alice Admin (alice@example.com), user class admin")
    expect_status(alice, "Logged in as admin.")
    alice.shot("alice logged in")

    keyboard_add_pet(alice, parrot, "12.5")
    expect_status(alice, f"Added {parrot} for 12.50.")
    row = pet_row(alice, parrot)
    expect(row).to_contain_text("Available")
    expect(row.get_by_role("button", name=f"Remove {parrot} (12.50)")).to_be_visible()
    expect(row.get_by_role("button", name=re.compile("^Buy"))).to_have_count(0)
    alice.shot("alice added a parrot")

    add_pet(alice, snake, "-1")
    # Refused by API Gateway's request validator (the fake answers as it does).
    expect_status(alice, f"Could not add the pet: {BAD_BODY_MESSAGE}.", error=True)
    alice.shot("alice refused a negative price")
    add_pet(alice, snake, "7")
    expect_status(alice, f"Added {snake} for 7.00.")
    keyboard_press_button(alice, f"Remove {snake} (7.00)")
    expect_status(alice, f"Removed {snake}.")
    expect(pet_row(alice, snake)).to_have_count(0)
    alice.shot("alice removed the snake")

    bob = open_tab("bob")
    login(bob, site_url, "bob", issuer)
    expect(bob.page.locator("#who")).to_contain_text(
        "Bob Buyer (bob@example.com), user class buyer")
    expect(bob.page.locator("#add-section")).to_be_hidden()
    expect(bob.page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    bob.shot("bob logged in")

    # Dave, another buyer, lists the pets while the parrot is still for sale.
    dave = open_tab("dave")
    login(dave, site_url, "dave", issuer)
    expect(pet_row(dave, parrot)).to_contain_text("Available")
    dave.shot("dave sees the parrot for sale")

    buy(bob, parrot)
    expect_status(bob, f"You bought {parrot} for 12.50.")
    expect(pet_row(bob, parrot)).to_contain_text("Sold to bob@example.com")
    expect(pet_row(bob, parrot).get_by_role("button")).to_have_count(0)
    bob.shot("bob bought the parrot")

    force_add_form(bob)
    add_pet(bob, f"Goldfish {suffix}", "3")
    expect_status(bob, "Could not add the pet: not allowed for your role (buyer).", error=True)
    bob.shot("bob refused an add")

    # Dave's list is stale: his is the second purchase. Listed again, the parrot is sold,
    # and who bought it is bob's business and the shop's, not dave's.
    buy(dave, parrot)
    expect_status(dave, f"Could not buy the {parrot}: pet already sold.", error=True)
    expect(pet_row(dave, parrot)).to_contain_text("Sold")
    expect(dave.page.locator("#pets")).not_to_contain_text("bob")
    expect(pet_row(dave, parrot).get_by_role("button")).to_have_count(0)
    dave.shot("dave refused a sold parrot")
    # alice, an admin, is told who bought it.
    alice.page.get_by_role("button", name="Refresh list").click()
    expect(pet_row(alice, parrot)).to_contain_text("Sold to bob@example.com")
    return ShopRun(alice, bob, dave)
