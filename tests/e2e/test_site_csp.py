"""The Content-Security-Policy CloudFront adds (components/site.py), applied by Chromium to the
real app: the whole login, add and buy flow runs under it, with the real local identity
provider and tests/e2e/fake_aws.py as STS and the API. A policy without the import map's hash
breaks the page, so the test can tell a policy that admits the app from one that does not.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import access
from components import oidc_client
from components import site_content as site
from tests.e2e import flows
from tests.e2e.fake_aws import FakeAws, fake_config
from tests.e2e.site_server import SiteServer, serving

pytestmark = pytest.mark.browser


def csp_for(server: SiteServer, issuer: str, *, with_hashes: bool = True) -> str:
    html = (site.SITE_DIR / site.INDEX).read_text()
    return site.content_security_policy(
        api_origin=server.origin, sts_origin=server.origin,
        issuer_origin=oidc_client.origin_of(issuer),
        script_hashes=site.inline_script_hashes(html) if with_hashes else ())


@pytest.fixture(scope="module")
def csp_stack() -> Iterator[tuple[SiteServer, FakeAws, str]]:
    idp_process = pytest.importorskip("devstack.idp.idp_process")
    from devstack.errors import DevstackError
    from devstack.processes import procs

    name = f"idp-site-csp-{os.getpid()}"
    fake = FakeAws()
    with serving(SiteServer(backend=fake)) as server:
        try:
            # Registered as the program declares the site's client (refresh tokens included,
            # so renewal and revocation run under the policy too).
            registration = oidc_client.registration_for(
                server.url, id_token_lifetime_seconds=3600,
                refresh_token_lifetime_seconds=8 * 3600).to_output()
            idp = idp_process.start(
                procs.free_port(), registration=registration,
                class_grants=oidc_client.class_grants("pets-local", access.USER_CLASSES),
                name=name)
        except DevstackError as err:  # no node, no npm packages: the flow cannot run here
            pytest.skip(f"local identity provider unavailable: {err}")
        try:
            server.config = fake_config(server.origin, idp.issuer)
            yield server, fake, idp.issuer
        finally:
            idp_process.stop(name)


def test_the_whole_flow_runs_under_the_sites_csp(open_tab, csp_stack):
    server, fake, issuer = csp_stack
    server.headers = {"Content-Security-Policy": csp_for(server, issuer)}
    try:
        run = flows.admin_and_buyers(open_tab, server.url, issuer, "csp")
    finally:
        server.headers = {}
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
