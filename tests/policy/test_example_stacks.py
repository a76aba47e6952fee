"""The example stacks (Pulumi.dev.yaml, Pulumi.prod.yaml) as `pulumi up` would run them:
each declares every production protection, and the whole pack accepts them."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_core.recorder import ProgramRun
from policy import rules
from tests.support.pack import policy_resources, resource_violations, stack_violations
from tests.support.programs import stack_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("dev", "prod")


@pytest.fixture(scope="module", params=EXAMPLES)
def example(request) -> tuple[str, ProgramRun]:
    stack = request.param
    return stack, stack_file(stack)


def test_every_rule_accepts_the_example(example):
    stack, run = example
    declared = [d for d in run.declared if d.type.startswith("aws:")]
    found = {(p.name, d.name): messages for p in rules.RESOURCE_POLICIES for d in declared
             if (messages := resource_violations(p, d.type, d.inputs, d.name,
                                                 protect=d.protect))}
    assert not found, f"Pulumi.{stack}.yaml: {found}"
    for policy in rules.STACK_POLICIES:
        assert stack_violations(policy, policy_resources(declared)) == [], policy.name


def test_example_declares_the_protections(example):
    stack, run = example
    prefix = f"pets-{stack}"
    for name in (f"{prefix}-table", f"{prefix}-idempotency-table"):
        table = run.named(name)
        assert table.protect and table.inputs["deletionProtectionEnabled"] is True, name
    assert run.named(f"{prefix}-resource-policy").json_input("policy")["Statement"]
    assert run.named(f"{prefix}-stage").inputs["xrayTracingEnabled"] is True
    functions = run.of_type("aws:lambda/function:Function")
    assert {f.inputs["tracingConfig"]["mode"] for f in functions} == {"Active"}
    assert all(f.inputs["reservedConcurrentExecutions"] > 0 for f in functions)
    tables = run.of_type("aws:dynamodb/table:Table")
    assert len(run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == 3 + 2 * len(
        functions) + len(tables)
    assert run.of_type("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert run.of_type("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")


def test_prod_turns_on_waf_and_the_alarm_email():
    run = stack_file("prod")
    assert len(run.of_type("aws:wafv2/webAcl:WebAcl")) == 1
    (subscription,) = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["protocol"] == "email"
    retention = {g.inputs["retentionInDays"] for g in
                 run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert retention == {365}
