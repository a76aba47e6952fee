"""The production-protection rules: each refuses the insecure variant of what the program
declares.

The stack rules start from the program's own resources (so the passing case is the real
stack) and take one protection away; the resource rules get crafted inputs.
"""

from __future__ import annotations

import json

import pytest

import access
from harness_core.recorder import ProgramRun
from policy import rules
from tests.policy.harness import (
    mutate,
    policy_resources,
    resource_violations,
    stack_violations,
)

TABLE = "aws:dynamodb/table:Table"
STAGE = "aws:apigateway/stage:Stage"
FUNCTION = "aws:lambda/function:Function"
REST_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def table(**changes) -> dict:
    return {"name": "pets-unit-pets", "pointInTimeRecovery": {"enabled": True},
            "serverSideEncryption": {"enabled": True}, "deletionProtectionEnabled": True,
            **changes}


def stack_of(program: ProgramRun, without: set[str] = frozenset()):
    return policy_resources([d for d in program.declared
                             if d.type.startswith("aws:") and d.type not in without])


# --- dynamodb-deletion-protection ---------------------------------------------------------

def test_protected_table_passes():
    assert resource_violations(rules.DYNAMODB_DELETION_PROTECTION, TABLE, table(),
                               protect=True) == []


def test_table_without_deletion_protection_is_refused():
    messages = resource_violations(rules.DYNAMODB_DELETION_PROTECTION, TABLE,
                                   table(deletionProtectionEnabled=False), protect=True)
    assert len(messages) == 1
    assert messages[0].startswith("DynamoDB table 'pets-unit-pets': set "
                                  "deletion_protection_enabled=True")


def test_table_without_pulumi_protect_is_refused():
    messages = resource_violations(rules.DYNAMODB_DELETION_PROTECTION, TABLE, table(),
                                   protect=False)
    assert len(messages) == 1
    assert "protect=True" in messages[0]


def test_throwaway_table_says_so_and_passes():
    props = table(deletionProtectionEnabled=False, tags={"DataProtection": "off"})
    assert resource_violations(rules.DYNAMODB_DELETION_PROTECTION, TABLE, props) == []
    props = table(deletionProtectionEnabled=False, tags={"DataProtection": "on"})
    assert len(resource_violations(rules.DYNAMODB_DELETION_PROTECTION, TABLE, props)) == 2


def test_the_programs_throwaway_stack_passes(throwaway: ProgramRun):
    tables = throwaway.of_type(TABLE)
    assert len(tables) == 2  # the pets and the idempotency records
    for declared in tables:
        assert resource_violations(rules.DYNAMODB_DELETION_PROTECTION, TABLE, declared.inputs,
                                   protect=declared.protect) == [], declared.name


# --- tracing ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [False, None])
def test_stage_without_tracing_is_refused(value):
    props = {"stageName": "v1", "xrayTracingEnabled": value}
    assert resource_violations(rules.API_STAGE_XRAY_TRACING, STAGE, props) == [
        "API stage 'v1': set xray_tracing_enabled=True"]


def test_traced_stage_passes():
    assert resource_violations(rules.API_STAGE_XRAY_TRACING, STAGE,
                               {"stageName": "v1", "xrayTracingEnabled": True}) == []


@pytest.mark.parametrize("config", [None, {"mode": "PassThrough"}])
def test_function_without_active_tracing_is_refused(config):
    props = {"name": "pets-unit-list-pets", "tracingConfig": config}
    messages = resource_violations(rules.LAMBDA_ACTIVE_TRACING, FUNCTION, props)
    assert len(messages) == 1
    assert messages[0].startswith("Lambda function 'pets-unit-list-pets': set tracing_config")


def test_actively_traced_function_passes():
    props = {"name": "f", "tracingConfig": {"mode": "Active"}}
    assert resource_violations(rules.LAMBDA_ACTIVE_TRACING, FUNCTION, props) == []


# --- api-resource-policy -----------------------------------------------------------------

def test_programs_api_passes(program: ProgramRun):
    assert stack_violations(rules.API_RESOURCE_POLICY, stack_of(program)) == []


def test_api_without_resource_policy_is_refused(program: ProgramRun):
    violations = stack_violations(rules.API_RESOURCE_POLICY,
                                  stack_of(program, without={REST_API_POLICY}))
    assert len(violations) == 1
    message, urn = violations[0]
    assert message.startswith("REST API pets-unit-api has no resource policy")
    assert urn.endswith("::pets-unit-api")


def _policy(program: ProgramRun) -> dict:
    return program.named("pets-unit-resource-policy").json_input("policy")


def test_resource_policy_allowing_everyone_is_refused(program: ProgramRun):
    document = _policy(program)
    role_allow = next(s for s in document["Statement"] if s["Effect"] == "Allow"
                      and s["Principal"] != "*")
    document["Statement"].append({**role_allow, "Sid": "Everyone", "Principal": "*"})
    resources = stack_of(program)
    mutate(resources, "pets-unit-resource-policy", policy=json.dumps(document))
    violations = stack_violations(rules.API_RESOURCE_POLICY, resources)
    assert [m for m, _ in violations] == [
        f"REST API pets-unit-api: resource policy statement {len(document['Statement']) - 1} "
        "(Everyone) allows everyone (Principal '*' or NotPrincipal): allow the class roles by "
        "ARN; only the model's OPTIONS preflights may be open to everyone"]
    # The invoke-grant rule refuses the same statement on the resource alone.
    messages = resource_violations(rules.IAM_NO_BROAD_INVOKE, REST_API_POLICY,
                                   {"restApiId": "a", "policy": json.dumps(document)})
    assert any("allows everyone" in m for m in messages), messages


def test_resource_policy_without_explicit_deny_is_refused(program: ProgramRun):
    document = _policy(program)
    document["Statement"] = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    resources = stack_of(program)
    mutate(resources, "pets-unit-resource-policy", policy=json.dumps(document))
    violations = stack_violations(rules.API_RESOURCE_POLICY, resources)
    assert len(violations) == 1
    assert "has no explicit Deny of execute-api:Invoke for Principal '*'" in violations[0][0]


def test_preflight_allow_for_everyone_passes_only_on_options():
    document = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
        "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abc/v1/GET/pets"]}]}
    messages = resource_violations(rules.IAM_NO_BROAD_INVOKE, REST_API_POLICY,
                                   {"restApiId": "a", "policy": json.dumps(document)})
    assert any("allows everyone" in m for m in messages), messages
    document["Statement"][0]["Resource"] = [
        "arn:aws:execute-api:eu-west-1:123456789012:abc/v1/OPTIONS/pets"]
    assert resource_violations(rules.IAM_NO_BROAD_INVOKE, REST_API_POLICY,
                               {"restApiId": "a", "policy": json.dumps(document)}) == []


# --- stack-has-alarms ---------------------------------------------------------------------

def test_programs_alarms_pass(program: ProgramRun):
    assert stack_violations(rules.STACK_HAS_ALARMS, stack_of(program)) == []
    assert stack_violations(rules.STACK_HAS_ALARMS,
                            policy_resources([d for d in program.declared
                                              if d.type.startswith("aws:")],
                                             preview=True)) == []


def test_stack_without_alarms_is_refused(program: ProgramRun):
    violations = stack_violations(rules.STACK_HAS_ALARMS, stack_of(program, without={ALARM}))
    functions = len(access.ROUTES)
    # 3 for the stage, 2 per function, 1 per table (the pets, the idempotency records).
    assert len(violations) == 3 + 2 * functions + 2, violations
    assert {m.split(" has no ")[0] for m, _ in violations} == {
        "API stage pets-unit-stage", "DynamoDB table pets-unit-table",
        "DynamoDB table pets-unit-idempotency-table",
        *(f"Lambda function pets-unit-{r.handler.replace('_', '-')}-function"
          for r in access.ROUTES)}


def test_function_without_its_errors_alarm_is_refused(program: ProgramRun):
    declared = [d for d in program.declared if d.type.startswith("aws:")
                and d.name != "pets-unit-list-pets-errors"]
    violations = stack_violations(rules.STACK_HAS_ALARMS, policy_resources(declared))
    assert [m for m, _ in violations] == [
        "Lambda function pets-unit-list-pets-function has no Errors alarm (AWS/Lambda Errors "
        "with its FunctionName): add one notifying the alarm topic"]


def test_alarm_notifying_nobody_is_refused(program: ProgramRun):
    resources = stack_of(program)
    mutate(resources, "pets-unit-api-5xx-rate", alarmActions=[])
    violations = stack_violations(rules.STACK_HAS_ALARMS, resources)
    assert [m for m, _ in violations] == [
        "alarm pets-unit-api-5xx-rate notifies no SNS topic: set alarm_actions=[topic.arn]"]


# --- s3-private-buckets, cloudfront-origin-access-control ---------------------------------

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


def test_programs_site_passes(program: ProgramRun):
    for name, rule in (("pets-unit-site-policy", rules.S3_PRIVATE_BUCKETS),
                       ("pets-unit-site-public-access", rules.S3_PRIVATE_BUCKETS),
                       ("pets-unit-site-cdn", rules.CLOUDFRONT_ORIGIN_ACCESS_CONTROL)):
        declared = program.named(name)
        assert resource_violations(rule, declared.type, declared.inputs) == [], name


def test_public_bucket_policy_is_refused(local_program: ProgramRun):
    """The emulator stack's public-read policy (no CloudFront there) is what AWS must not get."""
    declared = local_program.named("pets-unit-site-policy")
    messages = resource_violations(rules.S3_PRIVATE_BUCKETS, BUCKET_POLICY, declared.inputs)
    assert messages == [
        "bucket policy statement 0 (PublicReadSiteFiles) allows everyone (Principal '*' or "
        "NotPrincipal): grant s3:GetObject to cloudfront.amazonaws.com with AWS:SourceArn = the "
        "distribution (components/policies.cloudfront_read_policy)"]
    block = local_program.named("pets-unit-site-public-access")
    messages = resource_violations(rules.S3_PRIVATE_BUCKETS, PUBLIC_ACCESS_BLOCK, block.inputs)
    assert messages == ["BucketPublicAccessBlock: set block_public_policy=True, "
                        "restrict_public_buckets=True: the site bucket is private, CloudFront "
                        "reads it through its Origin Access Control"]


def _distribution(program: ProgramRun, **changes) -> dict:
    return {**program.named("pets-unit-site-cdn").inputs, **changes}


def test_distribution_without_oac_is_refused(program: ProgramRun):
    props = _distribution(program)
    origin = {k: v for k, v in props["origins"][0].items() if k != "originAccessControlId"}
    messages = resource_violations(rules.CLOUDFRONT_ORIGIN_ACCESS_CONTROL, DISTRIBUTION,
                                   {**props, "origins": [origin]})
    assert len(messages) == 1
    assert "has no origin_access_control_id" in messages[0]


def test_distribution_on_a_website_endpoint_is_refused(program: ProgramRun):
    props = _distribution(program)
    origin = {"originId": "site-website",
              "domainName": "pets-unit-site-1.s3-website-eu-west-1.amazonaws.com",
              "customOriginConfig": {"originProtocolPolicy": "http-only"}}
    messages = resource_violations(rules.CLOUDFRONT_ORIGIN_ACCESS_CONTROL, DISTRIBUTION,
                                   {**props, "origins": [origin]})
    assert len(messages) == 1 and "S3 website endpoint" in messages[0]


def test_distribution_without_root_object_or_headers_is_refused(program: ProgramRun):
    props = _distribution(program, defaultRootObject="")
    behavior = {**props["defaultCacheBehavior"], "viewerProtocolPolicy": "allow-all",
                "responseHeadersPolicyId": None}
    messages = resource_violations(rules.CLOUDFRONT_ORIGIN_ACCESS_CONTROL, DISTRIBUTION,
                                   {**props, "defaultCacheBehavior": behavior})
    assert len(messages) == 3
    assert any("default_root_object" in m for m in messages)
    assert any("allow-all" in m for m in messages)
    assert any("response headers policy" in m for m in messages)


def test_distribution_with_old_tls_is_refused(program: ProgramRun):
    certificate = {"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x",
                   "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1_2016"}
    messages = resource_violations(rules.CLOUDFRONT_ORIGIN_ACCESS_CONTROL, DISTRIBUTION,
                                   _distribution(program, viewerCertificate=certificate))
    assert len(messages) == 1 and "TLSv1.2_2021" in messages[0]
    certificate["minimumProtocolVersion"] = "TLSv1.2_2021"
    assert resource_violations(rules.CLOUDFRONT_ORIGIN_ACCESS_CONTROL, DISTRIBUTION,
                               _distribution(program, viewerCertificate=certificate)) == []
