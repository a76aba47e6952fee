"""The pack accepts what the program declares, in `up` and in preview of a new stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from harness_core.recorder import Declared, ProgramRun
from policy import rules
from tests.policy.harness import (
    policy_resources,
    preview_inputs,
    resource_violations,
    stack_violations,
)

ROOT = Path(__file__).resolve().parents[2]
CUSTOM = "aws:"  # component resources (pets:index:...) are not provider resources


def _provider_resources(run: ProgramRun) -> list[Declared]:
    return [d for d in run.declared if d.type.startswith(CUSTOM)]


def test_every_policy_is_mandatory_and_named_once():
    names = [p.name for p in rules.POLICIES]
    assert len(names) == len(set(names)), names
    lax = [p.name for p in rules.POLICIES if p.enforcement_level != EnforcementLevel.MANDATORY]
    assert not lax, f"policies not MANDATORY: {lax}"
    assert len(rules.POLICIES) == len(rules.RESOURCE_POLICIES) + len(rules.STACK_POLICIES)


def test_program_declares_what_the_rules_check(any_program: ProgramRun):
    """So 'passes on the program' is not vacuous: each rule's resource kinds are there."""
    types = {d.type for d in any_program.declared}
    expected = {
        "aws:apigateway/method:Method", "aws:apigateway/resource:Resource",
        "aws:apigateway/integration:Integration", "aws:apigateway/stage:Stage",
        "aws:apigateway/restApi:RestApi", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
        "aws:dynamodb/table:Table",
        # what the production-protection rules check
        "aws:apigateway/restApiPolicy:RestApiPolicy", "aws:lambda/function:Function",
        "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:sns/topic:Topic",
    }
    assert expected <= types, f"missing: {sorted(expected - types)}"
    if (ROOT / "components" / "site.py").exists():
        site = {"aws:s3/bucket:Bucket", "aws:s3/bucketPolicy:BucketPolicy",
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "aws:s3/bucketObjectv2:BucketObjectv2"}
        assert site <= types, (
            "components/site.py exists but the program run declares no "
            f"{sorted(site - types)}: wire the site into components/pets_app.build so the "
            "pack is tested on it")


def test_the_baseline_has_the_managed_policy_attachment(baseline: ProgramRun):
    """So iam-managed-policies-allowlisted is tried on a real attachment (API Gateway's
    CloudWatch role, the baseline's) and the pack on an OIDC provider the roles trust."""
    assert baseline.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert baseline.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")


def test_full_stack_has_every_membership_kind(program_full: ProgramRun):
    sids = {s["Sid"] for role in program_full.of_type("aws:iam/role:Role")
            for s in role.json_input("assumeRolePolicy")["Statement"] if "Sid" in s}
    assert {"MembersBySubPattern", "MembersBySubject", "MembersBySessionTag"} <= sids, sids


@pytest.mark.parametrize("policy", rules.RESOURCE_POLICIES, ids=lambda p: p.name)
def test_resource_policy_passes_program(policy, any_stack: ProgramRun):
    found = {
        d.name: messages for d in _provider_resources(any_stack)
        if (messages := resource_violations(policy, d.type, d.inputs, d.name,
                                            protect=d.protect))
    }
    assert not found, f"{policy.name} refuses the program's own resources: {found}"


@pytest.mark.parametrize("policy", rules.STACK_POLICIES, ids=lambda p: p.name)
@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_stack_policy_passes_program(policy, preview, any_stack: ProgramRun):
    """In preview every id and ARN is unknown: the policy must neither refuse nor give up."""
    violations = stack_violations(policy, policy_resources(any_stack.declared, preview=preview))
    assert not violations, f"{policy.name} refuses the program's own stack: {violations}"


# Rules that read only literal inputs must decide in preview too; the others may
# defer a document that waits for an ARN (the engine then re-runs them at `up`).
_DECIDE_IN_PREVIEW = {
    rules.API_METHODS_USE_AWS_IAM.name, rules.API_STAGE_ACCESS_LOGGING.name,
    rules.DYNAMODB_PITR_AND_SSE.name, rules.S3_NO_PUBLIC_ACLS.name,
    rules.DYNAMODB_DELETION_PROTECTION.name, rules.API_STAGE_XRAY_TRACING.name,
    rules.LAMBDA_ACTIVE_TRACING.name,
}


@pytest.mark.parametrize(
    "policy", [p for p in rules.RESOURCE_POLICIES if p.name in _DECIDE_IN_PREVIEW],
    ids=lambda p: p.name,
)
def test_literal_rules_decide_in_preview(policy, any_program: ProgramRun):
    declared = _provider_resources(any_program)
    previewed = preview_inputs(declared)
    assert any(UNKNOWN_STRING_VALUE in json.dumps(p, default=repr) for p in previewed.values()), (
        "the preview emulation left every input known")
    for d in declared:
        try:
            messages = resource_violations(policy, d.type, previewed[d.name], d.name,
                                           protect=d.protect)
        except UnknownValueError as err:
            pytest.fail(f"{policy.name} cannot decide {d.name} in preview: {err.message}")
        assert not messages, (d.name, messages)
