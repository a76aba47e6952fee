"""deploy/preflight.py: each check passes on a fitting account and names the key otherwise.

Lambda's account settings and ACM answer through botocore's Stubber (moto has no
GetAccountSettings, and its certificates cannot be made ISSUED or expired at will); IAM and
API Gateway through moto. Nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from components.config import Settings, parse_settings
from deploy import preflight
from deploy.preflight import (
    BASELINE,
    Problem,
    api_gateway_logging,
    covers,
    oidc_provider,
    placeholders,
    reserved_concurrency,
    run_preflight,
    site_certificate,
)
from tests.support.deploy_fakes import (
    CERTIFICATE_ARN,
    NOW,
    REGION,
    REVIEW_CLIENT_ID,
    REVIEW_ISSUER,
    FakeAccount,
    example_config,
    passing_account,
    review_config,
)


def _settings(raw: dict[str, str], stack: str = "review") -> Settings:
    return parse_settings(stack, raw)


def _keys(problems: list[Problem]) -> list[str]:
    return [p.key for p in problems]


# --- placeholders ------------------------------------------------------------------------

def test_the_examples_parse_but_their_placeholders_are_refused_by_key() -> None:
    prod, dev = example_config("prod"), example_config("dev")
    _settings(prod, "prod"), _settings(dev, "dev")  # the parser accepts them: tests synthesize them
    found = {p.key: p.message for p in placeholders(prod, "prod")}
    assert sorted(found) == ["pets:alarmEmail", "pets:auth0Tenant", "pets:siteCertificateArn",
                             "pets:siteDomain"]
    assert "123456789012" in found["pets:siteCertificateArn"]
    assert "'example.com'" in found["pets:alarmEmail"]
    assert "'pets-prod-example.eu.auth0.com'" in found["pets:auth0Tenant"]
    assert "Pulumi.prod.yaml" in found["pets:siteDomain"]
    dev_found = {p.key: p.message for p in placeholders(dev, "dev")}
    assert sorted(dev_found) == ["pets:oidcClientId", "pets:oidcIssuer"]
    assert "'REPLACE_WITH_YOUR_CLIENT_ID'" in dev_found["pets:oidcClientId"]


def test_real_values_are_no_placeholders() -> None:
    assert placeholders(review_config(), "review") == []
    lookalikes = {
        "pets:alarmEmail": "ops@counterexample.com",
        "pets:siteDomain": "examples.shop.io",
        "pets:siteCertificateArn": CERTIFICATE_ARN,
        "pets:corsAllowOrigin": "https://example-free.io",  # `example` is a whole word here...
    }
    assert _keys(placeholders(lookalikes, "review")) == ["pets:corsAllowOrigin"]
    del lookalikes["pets:corsAllowOrigin"]
    assert placeholders(lookalikes, "review") == []  # ...and nowhere in these


def test_placeholders_inside_structured_values_are_named_by_path() -> None:
    raw = {**review_config(),
           "pets:userClasses": '{"admin": {"subjects": ["auth0|1", "REPLACE_WITH_ADMIN_SUB"]}}',
           "pets:corsAllowOrigin": "https://shop.example.org",
           "aws:assumeRole": '{"roleArn": "arn:aws:iam::123456789012:role/deployer"}'}
    assert _keys(placeholders(raw, "review")) == [
        "aws:assumeRole.roleArn", "pets:corsAllowOrigin", "pets:userClasses.admin.subjects[1]"]


# --- reserved concurrency ----------------------------------------------------------------

def test_reservations_that_fit_pass() -> None:
    settings = _settings(review_config())  # reserves 20 + 5 + 5 + 20 = 50
    account = FakeAccount()
    account.lambda_limits(1000, 150)  # others reserve 850: 50 left above the 100 kept
    account.functions_reserve("review", {})
    assert reserved_concurrency(settings, account.clients.lambda_, REGION) == []
    account.verify()


def test_an_update_counts_what_the_stack_already_reserves() -> None:
    settings = _settings(review_config())
    account = FakeAccount()
    # Others reserve 850 and this stack 30: 120 unreserved - 100 kept = 20 free, plus the 30
    # the stack gives back = exactly the 50 it asks for.
    account.lambda_limits(1000, 120)
    account.functions_reserve("review", {"list_pets": 20, "add_pet": 5, "remove_pet": 5,
                                         "purchase_pet": None})
    assert reserved_concurrency(settings, account.clients.lambda_, REGION) == []
    account.verify()


def _reservation_refused(limit: int, unreserved: int) -> Problem:
    """The review stack's reservations in an account with these Lambda limits and nothing
    reserved yet: the one problem found."""
    account = FakeAccount()
    account.lambda_limits(limit, unreserved)
    account.functions_reserve("review", {})
    (problem,) = reserved_concurrency(_settings(review_config()), account.clients.lambda_, REGION)
    assert problem.key == "pets:reservedConcurrency"
    return problem


def test_a_new_accounts_limit_of_ten_fits_no_reservation() -> None:
    problem = _reservation_refused(10, 10)
    assert "limit in eu-west-1 is 10" in problem.message
    assert "quota increase" in problem.message
    assert "remove pets:reservedConcurrency from Pulumi.review.yaml" in problem.message


def test_more_than_the_limit_allows() -> None:
    problem = _reservation_refused(120, 120)
    assert "reserves 50 executions" in problem.message and "at most 20" in problem.message


def test_other_functions_leave_too_little() -> None:
    account = FakeAccount()
    account.lambda_limits(1000, 140)  # others reserve 860: 40 left for the 50 asked
    account.functions_reserve("review", {"list_pets": None})
    (problem,) = reserved_concurrency(_settings(review_config()), account.clients.lambda_, REGION)
    assert problem.key == "pets:reservedConcurrency"
    assert "already reserve 860" in problem.message and "leaves 40" in problem.message


def test_no_reservation_asks_nothing() -> None:
    settings = _settings(example_config("dev", oidcIssuer=REVIEW_ISSUER,
                                        oidcClientId=REVIEW_CLIENT_ID, reservedConcurrency=None))
    account = FakeAccount()  # nothing queued: any call would fail
    assert reserved_concurrency(settings, account.clients.lambda_, REGION) == []


# --- the site's certificate --------------------------------------------------------------

def _site(domain: str = "pets.shop.test") -> Settings:
    return _settings({**review_config(), "pets:siteDomain": domain,
                      "pets:siteCertificateArn": CERTIFICATE_ARN})


def test_an_issued_certificate_for_the_domain_passes() -> None:
    account = FakeAccount()
    account.certificate()
    account.certificate(DomainName="shop.test", SubjectAlternativeNames=["*.shop.test"])
    assert site_certificate(_site(), account.clients.acm, NOW) == []
    assert site_certificate(_site(), account.clients.acm, NOW) == []
    account.verify()


def test_a_missing_certificate() -> None:
    account = FakeAccount()
    account.no_certificate()
    (problem,) = site_certificate(_site(), account.clients.acm, NOW)
    assert problem.key == "pets:siteCertificateArn"
    assert "no certificate" in problem.message and "us-east-1" in problem.message


def test_a_certificate_not_yet_issued() -> None:
    account = FakeAccount()
    account.certificate(Status="PENDING_VALIDATION")
    (problem,) = site_certificate(_site(), account.clients.acm, NOW)
    assert problem.key == "pets:siteCertificateArn"
    assert "PENDING_VALIDATION" in problem.message and "DNS validation" in problem.message


def test_an_expired_certificate() -> None:
    account = FakeAccount()
    account.certificate(NotAfter=NOW - timedelta(days=1))  # ACM may still say ISSUED
    (problem,) = site_certificate(_site(), account.clients.acm, NOW)
    assert problem.key == "pets:siteCertificateArn"
    assert "expired on 2026-12-03" in problem.message


def test_a_certificate_for_another_domain() -> None:
    account = FakeAccount()
    account.certificate(DomainName="shop.test", SubjectAlternativeNames=["*.shop.test"])
    (problem,) = site_certificate(_site("a.pets.shop.test"), account.clients.acm, NOW)
    assert problem.key == "pets:siteDomain"
    assert "a.pets.shop.test is not covered by pets:siteCertificateArn" in problem.message
    assert "*.shop.test" in problem.message


def test_a_wildcard_covers_exactly_one_label() -> None:
    assert covers("*.shop.test", "pets.shop.test")
    assert covers("PETS.shop.test.", "pets.shop.test")
    assert not covers("*.shop.test", "shop.test")
    assert not covers("*.shop.test", "a.pets.shop.test")
    assert not covers("*.shop.test", ".shop.test")
    assert not covers("pets.shop.test", "www.pets.shop.test")


def test_no_site_domain_asks_nothing() -> None:
    assert site_certificate(_settings(review_config()), FakeAccount().clients.acm, NOW) == []


# --- the account baseline (moto) ---------------------------------------------------------

@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def _provider(url: str, client_ids: list[str]) -> None:
    boto3.client("iam").create_open_id_connect_provider(
        Url=url, ClientIDList=client_ids, ThumbprintList=["a" * 40])


def test_the_issuers_provider_listing_the_client_passes(aws: None) -> None:
    _provider(REVIEW_ISSUER, ["another-stacks-client", REVIEW_CLIENT_ID])
    _provider("https://other-tenant.eu.auth0.com/", ["x"])
    assert oidc_provider(_settings(review_config()), boto3.client("iam")) == []


def test_no_provider_for_the_issuer(aws: None) -> None:
    _provider("https://other-tenant.eu.auth0.com/", [REVIEW_CLIENT_ID])
    (problem,) = oidc_provider(_settings(review_config()), boto3.client("iam"))
    assert problem.key == "pets:oidcIssuer"
    assert "no IAM OIDC provider for pets-shop-dev.eu.auth0.com/" in problem.message
    assert BASELINE in problem.message


def test_a_provider_for_the_issuer_without_its_slash_is_another_issuer(aws: None) -> None:
    _provider(REVIEW_ISSUER.rstrip("/"), [REVIEW_CLIENT_ID])
    (problem,) = oidc_provider(_settings(review_config()), boto3.client("iam"))
    assert problem.key == "pets:oidcIssuer"
    assert "there is one for pets-shop-dev.eu.auth0.com," in problem.message


def test_a_provider_without_the_stacks_client_id(aws: None) -> None:
    _provider(REVIEW_ISSUER, ["another-stacks-client"])
    (problem,) = oidc_provider(_settings(review_config()), boto3.client("iam"))
    assert problem.key == "pets:oidcClientId"
    assert repr(REVIEW_CLIENT_ID) in problem.message and BASELINE in problem.message


def test_a_managed_tenant_needs_the_provider_and_gets_a_note(aws: None) -> None:
    settings = _settings(example_config("prod", auth0Tenant="pets-shop.eu.auth0.com"), "prod")
    (problem,) = oidc_provider(settings, boto3.client("iam"))
    assert problem.key == "pets:auth0Tenant" and BASELINE in problem.message
    _provider("https://pets-shop.eu.auth0.com/", ["created-by-the-first-up"])
    assert oidc_provider(settings, boto3.client("iam")) == []
    (note,) = preflight.notes(settings)
    assert "pulumi stack output oidcClientId --stack prod" in note and BASELINE in note
    assert preflight.notes(_settings(review_config())) == []


def test_api_gateway_logging_needs_the_accounts_cloudwatch_role(aws: None) -> None:
    apigateway = boto3.client("apigateway")
    (problem,) = api_gateway_logging(apigateway, REGION)
    assert problem.key == "aws:region"
    assert "no CloudWatch role ARN" in problem.message and BASELINE in problem.message
    apigateway.update_account(patchOperations=[{
        "op": "replace", "path": "/cloudwatchRoleArn",
        "value": "arn:aws:iam::210987654321:role/account-apigateway-logs"}])
    assert api_gateway_logging(apigateway, REGION) == []


# --- all of it ---------------------------------------------------------------------------

def test_a_passing_account_passes_every_check() -> None:
    raw = {**review_config(), "pets:siteDomain": "pets.shop.test",
           "pets:siteCertificateArn": CERTIFICATE_ARN}
    settings = _settings(raw)
    account = passing_account(settings)
    assert run_preflight(settings, raw, account.clients, NOW) == []
    account.verify()  # every check asked the account


def test_a_placeholder_skips_the_checks_that_read_it() -> None:
    raw = example_config("prod")
    settings = _settings(raw, "prod")
    account = FakeAccount()  # only Lambda and API Gateway are asked: ACM and IAM have nothing
    account.lambda_limits(1000, 1000)
    account.functions_reserve("prod", {})
    account.api_gateway_account()
    problems = run_preflight(settings, raw, account.clients, NOW)
    assert sorted(_keys(problems)) == ["pets:alarmEmail", "pets:auth0Tenant",
                                       "pets:siteCertificateArn", "pets:siteDomain"]
    account.verify()


def test_a_check_the_credentials_cannot_run_is_a_problem() -> None:
    raw = review_config()
    settings = _settings(raw)
    account = passing_account(settings, without_api_gateway=True)
    account.stubs["apigateway"].add_client_error("get_account", "AccessDeniedException",
                                                 http_status_code=403)
    (problem,) = run_preflight(settings, raw, account.clients, NOW)
    assert problem.key == "aws:region"
    assert "AccessDeniedException" in problem.message
    assert "apigateway:GET on /account" in problem.message
    account.verify()
