"""One renewal in real time, nothing driven: the real local identity provider issues ID tokens
that live LIFETIME seconds, and the site, on the page's own clock, renews the login with its
refresh token before the first token expires, asks STS with the new token, and once the first
token has expired its calls carry the new one. STS and the API are tests/support/fake_aws.py
(which checks every signature). The same on the session stack, with the page's timers driven
over hour-long tokens: tests/browser/stack/test_sessions.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from devstack.idp.tokens import unverified_claims as claims_of
from tests.support import flows
from tests.support.browser import Tab
from tests.support.fake_aws import FakeShop, fake_shop

LIFETIME = 12  # seconds; the site renews a quarter of it (3 s) before expiry (site/auth.js)


@pytest.fixture(scope="module")
def shop() -> Iterator[FakeShop]:
    with fake_shop("renewal", renewing=True, id_token_lifetime_seconds=LIFETIME) as shop:
        yield shop


def test_the_login_is_renewed_before_its_id_token_expires(
    open_tab: Callable[..., Tab], shop: FakeShop,
) -> None:
    pet = {"petId": str(uuid.uuid4()), "type": "Gecko", "price": 4,
           "createdAt": "2026-01-01T00:00:00.000Z"}
    shop.fake.pets[pet["petId"]] = pet
    tab = open_tab("bob")
    sent: list[tuple[float, str, str]] = []  # (when, what, the token) of each request we watch

    def watch(request: Any) -> None:
        form = {k: v[0] for k, v in parse_qs(request.post_data or "").items()}
        if form.get("grant_type") == "refresh_token":
            sent.append((time.time(), "refresh", form["refresh_token"]))
        elif form.get("Action") == "AssumeRoleWithWebIdentity":
            sent.append((time.time(), "sts", form["WebIdentityToken"]))
        elif request.url.endswith("/pets/purchase"):
            sent.append((time.time(), "purchase", request.headers.get("x-id-token", "")))

    tab.page.on("request", watch)
    flows.login(tab, shop.site.url, "bob", shop.issuer)
    flows.expect_status(tab, "Logged in as buyer.")
    first = flows.stored_user(tab)
    claims = claims_of(first["id_token"])
    assert claims["exp"] - claims["iat"] == LIFETIME

    tab.page.wait_for_timeout(max(0.0, claims["exp"] + 1 - time.time()) * 1000)
    renewed = flows.stored_user(tab)
    assert renewed["id_token"] != first["id_token"], "not renewed by the first token's expiry"
    refreshes = [(at, token) for at, what, token in sent if what == "refresh"]
    assert refreshes[0][1] == first["refresh_token"]
    assert refreshes[0][0] < claims["exp"], "renewed only after the ID token expired"
    assert renewed["id_token"] in [token for _, what, token in sent if what == "sts"]

    flows.buy(tab, "Gecko")
    flows.expect_status(tab, "You bought Gecko for 4.00.")
    assert [token for _, what, token in sent if what == "purchase"] == [renewed["id_token"]]
