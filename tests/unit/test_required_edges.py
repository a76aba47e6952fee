"""Edges the real engine needs, asserted on the graph the program gives it.

`pulumi up` creates whatever it is not told to wait for in parallel, in any order. The
table below says, for each kind of resource, what must exist before it and why; each row
is checked on the example stack files that declare that kind (recorded once per file for
the session, tests/support/programs.py). "Waits for" is ProgramRun.waits_for: through
depends_on, input references and parents, as the engine receives them
(harness_core/graph.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from devstack.apply.ordering import DEPLOYED_PARTS, DEPLOYMENT
from harness_core.recorder import Declared, ProgramRun
from tests.support.programs import stack_file

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INTEGRATION = "aws:apigateway/integration:Integration"
METHOD_RESPONSE = "aws:apigateway/methodResponse:MethodResponse"
INTEGRATION_RESPONSE = "aws:apigateway/integrationResponse:IntegrationResponse"
STAGE = "aws:apigateway/stage:Stage"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
PERMISSION = "aws:lambda/permission:Permission"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

Finder = Callable[[ProgramRun, Declared], list[Declared]]


def _one(found: list[Declared], what: str, of: Declared) -> list[Declared]:
    """Exactly one match: a finder that matches nothing would check nothing."""
    assert len(found) == 1, f"{of.type} '{of.name}': expected one {what}, found {len(found)}"
    return found


def _same(resource: Declared, other: Declared, *keys: str) -> bool:
    return all(resource.inputs.get(k) == other.inputs.get(k) for k in keys)


def deployed_parts(run: ProgramRun, deployment: Declared) -> list[Declared]:
    parts = [p for p in run.declared if p.type in DEPLOYED_PARTS
             and p.inputs.get(DEPLOYED_PARTS[p.type]) == deployment.inputs["restApi"]]
    kinds = {p.type for p in parts}
    assert kinds == set(DEPLOYED_PARTS), (
        f"{deployment.name}: no part of kind(s) {sorted(set(DEPLOYED_PARTS) - kinds)} found "
        "in its API: the row would not check them")
    return parts


def public_access_block(run: ProgramRun, policy: Declared) -> list[Declared]:
    blocks = [b for b in run.of_type(PUBLIC_ACCESS_BLOCK) if _same(b, policy, "bucket")]
    return _one(blocks, "public access block of its bucket", policy)


def role_policies_and_log_group(run: ProgramRun, function: Declared) -> list[Declared]:
    role = _one([r for r in run.of_type(ROLE) if r.outputs["arn"] == function.inputs["role"]],
                "execution role", function)[0]
    policies = [p for p in run.declared if p.type in (ROLE_POLICY, ROLE_POLICY_ATTACHMENT)
                and p.inputs["role"] == role.outputs["id"]]
    assert policies, f"{function.name}: its role {role.name} has no policy"
    logs = [g for g in run.of_type(LOG_GROUP)
            if g.inputs["name"] == f"/aws/lambda/{function.inputs['name']}"]
    return [role, *policies, *_one(logs, "log group /aws/lambda/<name>", function)]


def integration_and_method_response(run: ProgramRun, response: Declared) -> list[Declared]:
    where = ("restApi", "resourceId", "httpMethod")
    integration = [i for i in run.of_type(INTEGRATION) if _same(i, response, *where)]
    method_response = [m for m in run.of_type(METHOD_RESPONSE)
                       if _same(m, response, *where, "statusCode")]
    return (_one(integration, "integration of its method", response)
            + _one(method_response, "method response of its status", response))


def associated_stage(run: ProgramRun, association: Declared) -> list[Declared]:
    arn = association.inputs["resourceArn"]
    stages = [s for s in run.of_type(STAGE) if s.outputs["arn"] == arn]
    return _one(stages, "stage it protects", association)


def permitted_function(run: ProgramRun, permission: Declared) -> list[Declared]:
    name = permission.inputs["function"]
    functions = [f for f in run.of_type(FUNCTION) if f.outputs["name"] == name]
    return _one(functions, "function it opens", permission)


def notified_topic(run: ProgramRun, alarm: Declared) -> list[Declared]:
    topics = [t for t in run.of_type(TOPIC) if t.outputs["arn"] in alarm.inputs["alarmActions"]]
    return _one(topics, "topic of its actions", alarm)


def subscribed_topic(run: ProgramRun, subscription: Declared) -> list[Declared]:
    topics = [t for t in run.of_type(TOPIC) if t.outputs["arn"] == subscription.inputs["topic"]]
    return _one(topics, "topic it subscribes to", subscription)


@dataclass(frozen=True)
class Row:
    dependent: str  # type token
    waits_for: str
    why: str
    stacks: tuple[str, ...]  # example stack files declaring the dependent kind
    find: Finder | None  # the dependencies of one dependent; None: not checkable here

    def __str__(self) -> str:
        return self.dependent.rsplit(":", 1)[-1]


EDGES = (
    Row(DEPLOYMENT, "every part of its API: resources, methods, integrations, method and "
        "integration responses, gateway responses, models, request validators, the REST API "
        "policy",
        "a deployment is a snapshot of the API when it is created: a part created after it "
        "is not served until the next deployment",
        ("dev", "prod", "local"), deployed_parts),
    Row(BUCKET_POLICY, "the bucket's public access block",
        "S3 refuses a public bucket policy while the block blocks public policies (the site "
        "without CDN relaxes the block first); with the CDN the block is in force before any "
        "policy exists",
        ("dev", "local"), public_access_block),
    Row(FUNCTION, "its execution role, the role's policies and its log group",
        "IAM changes propagate slowly: a function invoked before its role's policies exist "
        "fails its first calls; a function that logs before its log group exists makes "
        "Lambda create the group itself, with no retention, and the program's log group then "
        "fails with ResourceAlreadyExistsException",
        ("dev", "local"), role_policies_and_log_group),
    Row(INTEGRATION_RESPONSE, "its integration and the method response of its status",
        "API Gateway refuses an integration response before the integration exists, and "
        "one whose status the method does not declare",
        ("dev", "local"), integration_and_method_response),
    Row(WEB_ACL_ASSOCIATION, "the stage it protects",
        "WAF can only associate an existing stage's ARN",
        ("prod",), associated_stage),
    Row(PERMISSION, "the function it opens to API Gateway",
        "Lambda's AddPermission fails on a function that does not exist yet; nothing else "
        "needs the permission at deploy time (API Gateway checks it per call), and it needs "
        "nothing of the API (the source ARN is only a condition)",
        ("dev", "local"), permitted_function),
    Row(ALARM, "the SNS topic it notifies",
        "an alarm firing before its topic exists notifies no one; the alarms need nothing "
        "of the API: CloudWatch takes alarms on metrics with no data yet (see "
        "test_alarms_wait_for_nothing_of_the_api)",
        ("dev", "prod"), notified_topic),
    Row(TOPIC_SUBSCRIPTION, "its topic", "SNS subscribes only to an existing topic",
        ("prod",), subscribed_topic),
    Row(STAGE, "API Gateway's account settings (the CloudWatch role for its access logs)",
        "cross-project: the account baseline is deployed first, checked by the deploy "
        "preflight", (), None),
)
CHECKED = [(row, stack) for row in EDGES if row.find is not None for stack in row.stacks]


@pytest.mark.parametrize(("row", "stack"), CHECKED, ids=[f"{r}-{s}" for r, s in CHECKED])
def test_required_edge(row: Row, stack: str) -> None:
    run = stack_file(stack)
    dependents = run.of_type(row.dependent)
    assert dependents, f"Pulumi.{stack}.yaml declares no {row.dependent}: the row checks nothing"
    assert row.find is not None
    missing = [
        f"{dependent.type} '{dependent.name}' does not wait for {dependency.type} "
        f"'{dependency.name}'"
        for dependent in dependents
        for dependency in row.find(run, dependent)
        if not run.waits_for(dependent, dependency)
    ]
    assert not missing, (
        f"Pulumi.{stack}.yaml: each {row.dependent} must wait for {row.waits_for}: "
        f"{row.why}.\n  " + "\n  ".join(missing))


def test_alarms_wait_for_nothing_of_the_api() -> None:
    """An alarm names its metric by plain dimensions (ApiName, Stage) that need not exist:
    waiting for the stage would only queue every alarm behind the API's deployment."""
    run = stack_file("dev")
    stage = run.of_type(STAGE)[0]
    alarms = run.of_type(ALARM)
    assert alarms, "no alarm declared"
    waiting = [" -> ".join(path) for alarm in alarms if (path := run.wait_path(alarm, stage))]
    assert not waiting, (
        f"{len(waiting)} of {len(alarms)} alarms wait for {stage.name}, e.g. {waiting[0]}")
