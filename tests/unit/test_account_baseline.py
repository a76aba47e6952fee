"""The account baseline (account/, components/account.py) and how an app stack finds what it
owns (components/identity.py), under the mock runtime.

The recorder's synthetic account answers the app's lookup of its issuer's OIDC provider: by
default the baseline is deployed there, listing the stack's client id; the tests here give
it other accounts (none, another client id, the URL without its trailing slash).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.account_config import NAMESPACE
from components.identity import AccountBaselineError
from components.naming import ACCOUNT_PROJECT
from harness_core.mock_runtime import (
    OidcProvider,
    oidc_provider_arn,
    program_from_folder,
    run_under_mocks,
)
from harness_core.recorder import (
    ACCOUNT,
    AUTH0_CLIENT_ID,
    REGION,
    ProgramRun,
    RecordingMocks,
    record_baseline,
    record_program,
)
from harness_core.stack_files import stack_file_config
from tests.support.programs import BASE_CONFIG, CLIENT_ID, ISSUER

ROOT = Path(__file__).resolve().parents[2]
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
PROD = "organization/pets/prod"
MANAGED = {"pets:auth0Tenant": "pets-test.eu.auth0.com", "pets:stage": "v1"}


def account_with(*providers: tuple[str, tuple[str, ...]]) -> tuple[OidcProvider, ...]:
    return tuple(OidcProvider(oidc_provider_arn(url, account=ACCOUNT), url, ids)
                 for url, ids in providers)


def baseline(issuers: dict[str, Any], stack_outputs: dict[str, Any] | None = None,
             **raw: str) -> ProgramRun:
    return record_baseline({f"{NAMESPACE}:issuers": json.dumps(issuers), **raw},
                           stack_outputs=stack_outputs)


# --- the baseline -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> ProgramRun:
    config = stack_file_config(ROOT / "account" / "Pulumi.example.yaml", NAMESPACE)
    return record_baseline(config, "example",
                           stack_outputs={PROD: {"oidcClientId": AUTH0_CLIENT_ID}})


def test_one_provider_per_issuer_with_every_client_id(example: ProgramRun):
    providers = {p.inputs["url"]: p.inputs["clientIdLists"] for p in example.of_type(OIDC)}
    assert providers == {
        "https://pets-dev-example.eu.auth0.com/": ["REPLACE_WITH_YOUR_CLIENT_ID"],
        # Read from the prod stack's oidcClientId output (a managed tenant's application).
        "https://pets-prod-example.eu.auth0.com/": [AUTH0_CLIENT_ID],
    }
    assert set(example.outputs["oidcProviders"]) == set(providers)


def test_api_gateway_logging_role_says_its_region(example: ProgramRun):
    (role,) = example.of_type("aws:iam/role:Role")
    assert role.inputs["name"] == f"{ACCOUNT_PROJECT}-apigateway-logs-{REGION}"
    assert role.json_input("assumeRolePolicy")["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"}
    (attachment,) = example.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["role"] == role.inputs["name"]
    assert attachment.inputs["policyArn"].endswith("/AmazonAPIGatewayPushToCloudWatchLogs")
    (account,) = example.of_type("aws:apigateway/account:Account")
    assert account.inputs["cloudwatchRoleArn"] == role.outputs["arn"]


def test_every_resource_is_a_child_of_the_baseline(example: ProgramRun):
    components = {d.type for d in example.declared if d.type.startswith("pets:index:")}
    assert components == {"pets:index:AccountBaseline"}


def test_a_stack_never_deployed_adds_no_client_id_yet():
    """`pulumi stack init prod` then the baseline's first `up`: prod has no output yet."""
    run = baseline({ISSUER: {"clientIds": ["static"], "stacks": [PROD]}}, {PROD: {}})
    (provider,) = run.of_type(OIDC)
    assert provider.inputs["clientIdLists"] == ["static"]


def test_client_ids_of_stacks_and_by_hand_are_merged_once():
    run = baseline({ISSUER: {"clientIds": ["b", "a"], "stacks": [PROD]}},
                   {PROD: {"oidcClientId": "a"}})
    (provider,) = run.of_type(OIDC)
    assert provider.inputs["clientIdLists"] == ["a", "b"]


def test_a_reference_to_a_missing_stack_fails():
    with pytest.raises(LookupError, match=f"StackReference '{PROD}'"):
        baseline({ISSUER: {"stacks": [PROD]}})


def test_a_second_region_owns_only_its_api_gateway_settings():
    run = record_baseline({f"{NAMESPACE}:apiGatewayLogging": "true"})
    assert run.of_type(OIDC) == []
    assert len(run.of_type("aws:apigateway/account:Account")) == 1


def test_a_bad_baseline_setting_fails_before_any_resource():
    mocks = RecordingMocks()
    with pytest.raises(Exception, match="pets-account:issuers"):
        run_under_mocks(program_from_folder(ROOT / "account"), mocks, project=ACCOUNT_PROJECT,
                        stack="x", config={f"{NAMESPACE}:issuers": '{"http://x.example/": {}}'},
                        program_dir=ROOT / "account")
    assert mocks.declared == []


# --- the app finds the provider -----------------------------------------------------------


def _app_under_mocks(mocks: RecordingMocks, config: dict[str, str]) -> None:
    """The app (__main__.py's build) against the account `mocks` simulates."""
    from components.config import load_settings
    from components.pets_app import build

    run_under_mocks(lambda: build(load_settings()), mocks, project="pets", stack="unit",
                    config=config)


def test_without_the_baseline_the_app_says_what_to_deploy_before_registering_anything():
    mocks = RecordingMocks(())
    with pytest.raises(AccountBaselineError, match=(
            rf"no IAM OIDC provider for {ISSUER} in this account: deploy the account baseline "
            r"\(account/\) with this issuer.*pets-account:issuers\.<issuer>\.clientIds")):
        _app_under_mocks(mocks, BASE_CONFIG)
    assert mocks.declared == []


def test_the_lookup_is_by_the_exact_url_a_trailing_slash_included():
    """IAM names the provider after the URL as registered: `https://x` is another provider
    than `https://x/` (pulumi-aws's data source compares the ARN's name exactly)."""
    without_slash = account_with((ISSUER.rstrip("/"), (CLIENT_ID,)))
    with pytest.raises(AccountBaselineError, match=r"no IAM OIDC provider.*trailing slash"):
        record_program(BASE_CONFIG, oidc_providers=without_slash)


def test_a_client_id_the_provider_does_not_list_fails_naming_the_baseline_key():
    mocks = RecordingMocks(account_with((ISSUER, ("someone-else",))))
    with pytest.raises(AccountBaselineError, match=(
            rf"does not list this stack's client id '{CLIENT_ID}'.*add it to "
            r"pets-account:issuers\.<issuer>\.clientIds.*\['someone-else'\]")):
        _app_under_mocks(mocks, BASE_CONFIG)
    assert mocks.declared == []


def test_the_roles_trust_the_provider_found(program: ProgramRun):
    arn = oidc_provider_arn(ISSUER, account=ACCOUNT)
    trusts = {s["Principal"]["Federated"] for r in program.of_type("aws:iam/role:Role")
              if "Federated" in str(r.inputs["assumeRolePolicy"])
              for s in r.json_input("assumeRolePolicy")["Statement"]}
    assert trusts == {arn}


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    found: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: found.append(message))
    return found


def test_a_managed_client_id_not_listed_yet_is_a_warning(warnings: list[str]):
    """Its client id exists only once the application does: on a first deploy the baseline
    lists it only after its next `up`, so the app's `up` goes on and says so."""
    issuer = "https://pets-test.eu.auth0.com/"
    run = record_program(MANAGED, oidc_providers=account_with((issuer, ("other",))))
    assert run.of_type("aws:iam/role:Role")
    assert len(warnings) == 1, warnings
    assert AUTH0_CLIENT_ID in warnings[0]
    assert "pets-account:issuers.<issuer>.stacks" in warnings[0]


def test_a_managed_client_id_listed_is_no_warning(warnings: list[str]):
    record_program(MANAGED)  # the default account lists the stack's client id
    assert warnings == []


def test_an_unmocked_invoke_still_fails_loudly():
    def asks_for_zones() -> None:
        import pulumi_aws as aws

        aws.get_availability_zones()

    with pytest.raises(NotImplementedError, match="unmocked invoke aws:index/getAvailabilityZ"):
        run_under_mocks(asks_for_zones, RecordingMocks(), project="pets", stack="unit",
                        config={})
