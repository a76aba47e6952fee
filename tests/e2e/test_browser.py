"""The browser app against the running local stack: MiniStack serves the site, STS and the
API; the local identity provider logs the demo users in. Nothing is faked.

Needs `make up` (python -m devstack up), which writes .devstack/outputs.json and must
register the stack's siteUrl as the identity provider's redirect URI. Screenshots of
every step: test-artifacts/<test>/<user>/.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = [pytest.mark.browser, pytest.mark.integration]


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
