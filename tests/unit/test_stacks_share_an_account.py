"""Any number of stacks in one AWS account and region.

Every example stack file (Pulumi.*.yaml), a review stack copied from Pulumi.dev.yaml (same
issuer, same client id) and the account baseline (account/Pulumi.example.yaml) are synthesized
as if deployed into one account and region, the app stacks finding their OIDC providers in it
(the example baseline's for dev, review and prod). No two may claim a name AWS allows once
there (tests/support/physical_names.py says which, per type), and only the baseline may declare an
account-wide singleton. The last tests break the program on purpose and watch the checks fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

import components.pets_app
from components import account_config
from components.identity import UserIdentity
from components.table import PetsTable, PetsTableArgs
from harness_core.mock_runtime import OidcProvider
from harness_core.recorder import ProgramRun, record_baseline, record_program
from harness_core.stack_files import stack_file_config, stack_names
from tests.support.physical_names import (
    ACCOUNT,
    GLOBAL,
    REGION,
    TENANT,
    collisions,
    physical_names,
    singleton_owners,
    unknown_types,
)
from tests.support.programs import recorded

ROOT = Path(__file__).resolve().parents[2]
REVIEW = "review-42"  # a copy of Pulumi.dev.yaml under another stack name
BASELINE = "account-baseline"
PROD_REFERENCE = "organization/pets/prod"  # account/Pulumi.example.yaml's `stacks:` entry
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


def _baseline(prod_outputs: dict) -> ProgramRun:
    config = stack_file_config(ROOT / "account" / "Pulumi.example.yaml", account_config.NAMESPACE)
    return record_baseline(config, "example", stack_outputs={PROD_REFERENCE: prod_outputs})


def _account_of(baseline: ProgramRun) -> tuple[OidcProvider, ...]:
    """The providers the baseline's `up` left in the account."""
    return tuple(OidcProvider(p.outputs["arn"], p.inputs["url"], tuple(p.inputs["clientIdLists"]))
                 for p in baseline.of_type(OIDC))


def _config(stack: str) -> dict[str, str]:
    return stack_file_config(ROOT / f"Pulumi.{stack}.yaml")


def _record_all() -> dict[str, ProgramRun]:
    """The documented order: the baseline (prod initialised, never deployed), prod, the
    baseline again (now listing prod's client id), then the other stacks."""
    first = _baseline({})
    prod = recorded(_config("prod"), "prod", oidc_providers=_account_of(first))
    baseline = _baseline(dict(prod.outputs))
    account = _account_of(baseline)
    runs = {BASELINE: baseline,
            "prod": recorded(_config("prod"), "prod", oidc_providers=account)}
    for stack in stack_names(ROOT):
        if stack in runs:
            continue
        # The example baseline covers the example tenants; the emulator stacks' own issuer
        # (127.0.0.1) gets the provider their own baseline would make (record_program's default).
        shared = stack == "dev"
        runs[stack] = recorded(_config(stack), stack, oidc_providers=account if shared else None)
    runs[REVIEW] = recorded(_config("dev"), REVIEW, oidc_providers=account)
    return runs


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return _record_all()


def test_every_example_stack_and_the_review_copy_are_synthesized(runs):
    assert set(runs) == {*stack_names(ROOT), REVIEW, BASELINE}
    assert {"dev", "prod", "local", "localstack"} <= set(runs)


def test_every_recorded_type_has_a_row_in_the_name_table(runs):
    assert unknown_types(runs.values()) == [], (
        "resource types with no row in tests/support/physical_names.RULES: say where their "
        "names must be unique")


def test_no_two_stacks_claim_one_name(runs):
    assert collisions(runs) == []
    # Not vacuous: every stack claims names, in every scope the table knows of.
    claimed = {stack: {scope for _, scope, _ in physical_names(run)}
               for stack, run in runs.items()}
    assert claimed["dev"] == {ACCOUNT, REGION, GLOBAL}, claimed["dev"]
    assert claimed["prod"] == {ACCOUNT, REGION, GLOBAL, TENANT}, claimed["prod"]
    assert claimed[BASELINE] == {ACCOUNT, REGION}, claimed[BASELINE]


def test_only_the_baseline_owns_account_singletons(runs):
    assert singleton_owners(runs, BASELINE) == []
    # ... and it does own them: the check is not vacuous.
    assert runs[BASELINE].of_type(OIDC) and runs[BASELINE].of_type(
        "aws:apigateway/account:Account")


def test_examples_follow_one_tenant_per_environment(runs):
    issuers = {stack: runs[stack].outputs["oidcIssuer"] for stack in ("dev", "prod")}
    assert issuers["dev"] != issuers["prod"], issuers


def test_the_review_copy_shares_dev_s_provider_and_client(runs):
    assert runs[REVIEW].outputs["oidcClientId"] == runs["dev"].outputs["oidcClientId"]
    trust = {s["Principal"]["Federated"]
             for stack in ("dev", REVIEW)
             for s in runs[stack].named(f"pets-{stack}-buyer-role").json_input(
                 "assumeRolePolicy")["Statement"]}
    assert len(trust) == 1, trust


def test_the_managed_prod_client_reaches_the_provider_on_the_baselines_second_up(runs):
    first = _baseline({})
    prod_url = "https://pets-prod-example.eu.auth0.com/"
    listed = {p.inputs["url"]: p.inputs["clientIdLists"] for p in first.of_type(OIDC)}
    assert listed[prod_url] == []  # prod's application does not exist yet
    again = {p.inputs["url"]: p.inputs["clientIdLists"] for p in runs[BASELINE].of_type(OIDC)}
    assert again[prod_url] == [runs["prod"].outputs["oidcClientId"]]


# --- the checks can fail --------------------------------------------------------------------


@pytest.fixture
def two_dev_stacks() -> Callable[[], dict[str, ProgramRun]]:
    """Records dev and its review copy, with whatever the test patched into the program."""
    return lambda: {stack: record_program(_config("dev"), stack) for stack in ("dev", REVIEW)}


def test_a_table_named_without_the_stack_prefix_is_caught(monkeypatch, two_dev_stacks):
    class UnprefixedTable(PetsTable):
        def __init__(self, name: str, args: PetsTableArgs, opts=None) -> None:
            super().__init__(name, PetsTableArgs(table_name="pets",
                                                 deletion_protection=args.deletion_protection),
                             opts)

    monkeypatch.setattr(components.pets_app, "PetsTable", UnprefixedTable)
    found = collisions(two_dev_stacks())
    assert found == [f"dev (pets-dev-table) and {REVIEW} (pets-{REVIEW}-table) both claim "
                     "aws:dynamodb/table:Table 'pets', unique in the account's region"]


def test_the_app_declaring_the_provider_again_is_caught(monkeypatch, two_dev_stacks):
    class IdentityWithProvider(UserIdentity):
        def __init__(self, name, args, opts=None) -> None:
            super().__init__(name, args, opts)
            aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=args.trusted.issuer,
                                          client_id_lists=[args.client_id],
                                          opts=pulumi.ResourceOptions(parent=self))

    monkeypatch.setattr(components.pets_app, "UserIdentity", IdentityWithProvider)
    runs = two_dev_stacks()
    assert singleton_owners(runs, BASELINE) == [
        f"{OIDC} declared by dev (pets-dev-oidc), {REVIEW} (pets-{REVIEW}-oidc): only the "
        "account baseline may own it"]
    assert [c.split(" both claim ")[1] for c in collisions(runs)] == [
        f"{OIDC} 'pets-dev-example.eu.auth0.com/', unique in the account"]


def test_a_type_missing_from_the_table_is_caught(monkeypatch, two_dev_stacks):
    class IdentityWithQueue(UserIdentity):
        def __init__(self, name, args, opts=None) -> None:
            super().__init__(name, args, opts)
            aws.sqs.Queue(f"{name}-queue", name="pets-logins",
                          opts=pulumi.ResourceOptions(parent=self))

    monkeypatch.setattr(components.pets_app, "UserIdentity", IdentityWithQueue)
    assert unknown_types(two_dev_stacks().values()) == ["aws:sqs/queue:Queue"]
