"""The whole flow before the stack runs, under the Content-Security-Policy CloudFront adds
(components/site.py), applied by Chromium to the real app: login, add, remove and buy
(flows.admin_and_buyers), with the real local identity provider and tests/support/fake_aws.py
as STS and the API; each class reaches only its routes. A policy without the import map's
hash breaks the page, so the test can tell a policy that admits the app from one that does
not.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components import oidc_client
from components import site_content as site
from tests.support import flows
from tests.support.fake_aws import FakeAws, fake_shop
from tests.support.site_server import SiteServer


def csp_for(server: SiteServer, issuer: str, *, with_hashes: bool = True) -> str:
    html = (site.SITE_DIR / site.INDEX).read_text()
    return site.content_security_policy(
        api_origin=server.origin, sts_origin=server.origin,
        issuer_origin=oidc_client.origin_of(issuer),
        script_hashes=site.inline_script_hashes(html) if with_hashes else ())


@pytest.fixture(scope="module")
def csp_stack() -> Iterator[tuple[SiteServer, FakeAws, str]]:
    """Registered as the program declares the site's client, refresh tokens included, so
    renewal and revocation run under the policy too."""
    with fake_shop("site-csp", renewing=True) as shop:
        yield shop.site, shop.fake, shop.issuer


def test_admin_adds_buyer_buys_and_roles_are_enforced_under_the_sites_csp(open_tab, csp_stack):
    server, fake, issuer = csp_stack
    server.headers = {"Content-Security-Policy": csp_for(server, issuer)}
    try:
        run = flows.admin_and_buyers(open_tab, server.url, issuer, "csp")
    finally:
        server.headers = {}
    # The fake API saw what the page showed: IAM-style refusal, then the conflict.
    assert "buyer POST /pets -> 403" in fake.calls
    assert "buyer POST /pets/purchase -> 409" in fake.calls
    for tab in (run.alice, run.bob, run.dave):
        errors = tab.errors_on(server.origin, refusals_expected=True)
        assert not [e for e in errors if "Content Security Policy" in e], errors
        assert errors == [], tab.artifacts.name


def test_a_csp_without_the_import_map_hash_breaks_the_page(open_tab, csp_stack):
    server, _, issuer = csp_stack
    server.headers = {"Content-Security-Policy": csp_for(server, issuer, with_hashes=False)}
    try:
        tab = open_tab()
        tab.page.goto(server.url)
        tab.page.wait_for_timeout(1500)
        errors = tab.errors_on(server.origin, refusals_expected=True)
    finally:
        server.headers = {}
    assert any("Content Security Policy" in e for e in errors), errors
