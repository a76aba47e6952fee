"""The production protections as the program declares them (mock runtime, preview=False).

Every assertion reads parsed inputs: documents are json-parsed, the access log format is
parsed, alarms are compared by name, metric and dimension.
"""

from __future__ import annotations

import json

import pytest

import access
from components import alarms, policies
from components.api_stage import ACCESS_LOG_FORMAT
from harness_core.recorder import ACCOUNT, API_ID, REGION, ProgramRun, record_program
from tests.support.programs import BASE_CONFIG, THROWAWAY_CONFIG, recorded, unit_function_name

EXECUTION_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:pets-unit-alarms"
# One unsigned CORS preflight per path of the model (path parameters as `*`).
PREFLIGHTS = {f"{EXECUTION_ARN}/v1/OPTIONS/{r.arn_suffix.split('/', 1)[1]}"
              for r in access.ROUTES}


def role_arn(user_class: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/pets-unit-{user_class}"


# --- 2. data ---------------------------------------------------------------------------


TABLES = ["pets-unit-table", "pets-unit-idempotency-table"]


@pytest.mark.parametrize("name", TABLES)
def test_table_is_protected_by_default(program: ProgramRun, name):
    table = program.named(name)
    assert table.inputs["deletionProtectionEnabled"] is True
    assert table.protect is True, "the table must carry Pulumi's protect option"
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}


@pytest.mark.parametrize("name", TABLES)
def test_throwaway_stack_turns_both_protections_off(name):
    table = recorded(THROWAWAY_CONFIG).named(name)
    assert table.inputs["deletionProtectionEnabled"] is False
    assert table.protect is False
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}, "PITR stays"


def test_nothing_else_is_protected(program: ProgramRun):
    assert sorted(d.name for d in program.declared if d.protect) == sorted(TABLES)


# --- 3. API ------------------------------------------------------------------------------


def test_resource_policy_allows_each_class_exactly_its_routes(program: ProgramRun):
    policy = program.named("pets-unit-resource-policy")
    assert policy.inputs["restApiId"] == API_ID
    document = policy.json_input("policy")
    allows = {s["Principal"]["AWS"]: set(s["Resource"]) for s in document["Statement"]
              if s["Effect"] == "Allow" and s["Principal"] != "*"}
    assert allows == {
        role_arn(c.name): {f"{EXECUTION_ARN}/v1/{r.arn_suffix}" for r in c.routes}
        for c in access.USER_CLASSES
    }


def test_resource_policy_admits_everyone_only_to_preflights(program: ProgramRun):
    document = program.named("pets-unit-resource-policy").json_input("policy")
    public = [s for s in document["Statement"] if s["Effect"] == "Allow"
              and s["Principal"] == "*"]
    assert len(public) == 1
    assert set(public[0]["Resource"]) == PREFLIGHTS


def test_resource_policy_denies_every_other_principal(program: ProgramRun):
    document = program.named("pets-unit-resource-policy").json_input("policy")
    (deny,) = [s for s in document["Statement"] if s.get("Sid") == "DenyOtherPrincipals"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Action"] == "execute-api:Invoke"
    assert set(deny["NotResource"]) == PREFLIGHTS
    roles = {role_arn(c.name) for c in access.USER_CLASSES}
    sessions = {f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-unit-{c.name}/*"
                for c in access.USER_CLASSES}
    assert set(deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]) == roles | sessions


@pytest.mark.parametrize("user_class", access.USER_CLASSES, ids=lambda c: c.name)
def test_resource_policy_denies_a_class_the_routes_it_has_not(program: ProgramRun, user_class):
    document = program.named("pets-unit-resource-policy").json_input("policy")
    (deny,) = [s for s in document["Statement"]
               if s.get("Sid") == f"Deny{user_class.name.capitalize()}OtherRoutes"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    allowed = {f"{EXECUTION_ARN}/v1/{r.arn_suffix}" for r in user_class.routes}
    assert set(deny["NotResource"]) == allowed | PREFLIGHTS
    assert set(deny["Condition"]["ArnLike"]["aws:PrincipalArn"]) == {
        role_arn(user_class.name),
        f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-unit-{user_class.name}/*"}


def test_stage_traces_with_xray(program: ProgramRun):
    assert program.named("pets-unit-stage").inputs["xrayTracingEnabled"] is True


def test_access_log_format_carries_what_an_investigation_needs(program: ProgramRun):
    stage = program.named("pets-unit-stage")
    fields = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert fields == json.loads(ACCESS_LOG_FORMAT)
    wanted = {"$context.requestId", "$context.extendedRequestId",
              "$context.identity.userArn", "$context.identity.caller",
              "$context.identity.sourceIp", "$context.status",
              "$context.error.responseType", "$context.integrationLatency"}
    assert wanted <= set(fields.values())


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_function_traces_actively_and_may_write_traces(program: ProgramRun, route):
    function = program.named(f"{unit_function_name(route)}-function")
    assert function.inputs["tracingConfig"] == {"mode": "Active"}
    policy = program.named(f"{unit_function_name(route)}-tracing-policy")
    assert policy.inputs["role"] == f"{unit_function_name(route)}-fn"
    assert policy.json_input("policy") == policies.tracing_policy()


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_no_reserved_concurrency_unless_configured(program: ProgramRun, route):
    assert program.named(f"{unit_function_name(route)}-function").inputs[
        "reservedConcurrentExecutions"] == -1


def test_reserved_concurrency_per_function_from_config():
    wanted = {"list_pets": 20, "add_pet": 3, "remove_pet": 2, "purchase_pet": 15}
    run = record_program({**BASE_CONFIG, "pets:reservedConcurrency": json.dumps(wanted)})
    got = {r.handler: run.named(f"{unit_function_name(r)}-function").inputs[
        "reservedConcurrentExecutions"] for r in access.ROUTES}
    assert got == wanted


# --- 4. operations ----------------------------------------------------------------------


def _alarms(run: ProgramRun) -> dict[str, dict]:
    return {a.inputs["name"]: a.inputs for a in run.of_type(
        "aws:cloudwatch/metricAlarm:MetricAlarm")}


def test_alarm_set_covers_api_functions_and_table(program: ProgramRun):
    names = set(_alarms(program))
    expected = {"pets-unit-api-5xx-rate", "pets-unit-api-4xx-spike", "pets-unit-api-p99-latency",
                "pets-unit-table-throttled-requests",
                "pets-unit-idempotency-throttled-requests"}
    for route in access.ROUTES:
        function = unit_function_name(route)
        expected |= {f"{function}-errors", f"{function}-throttles"}
    assert names == expected


def test_every_alarm_notifies_the_topic(program: ProgramRun):
    topic = program.named("pets-unit-alarms-topic")
    assert topic.inputs["name"] == "pets-unit-alarms"
    for name, alarm in _alarms(program).items():
        assert alarm["alarmActions"] == [TOPIC_ARN], name
        assert alarm["okActions"] == [TOPIC_ARN], name
        assert alarm["treatMissingData"] == "notBreaching", name
        assert len(alarm["alarmDescription"]) > 60 and "Look at" in alarm["alarmDescription"]


def test_api_alarms_watch_the_stage(program: ProgramRun):
    found = _alarms(program)
    dims = {"ApiName": "pets-unit", "Stage": "v1"}
    rate = found["pets-unit-api-5xx-rate"]
    assert (rate["namespace"], rate["metricName"], rate["statistic"], rate["dimensions"]) == (
        "AWS/ApiGateway", "5XXError", "Average", dims)
    assert rate["threshold"] == alarms.API_5XX_RATE
    spike = found["pets-unit-api-4xx-spike"]
    assert (spike["metricName"], spike["evaluationPeriods"]) == ("4XXError", 2)
    latency = found["pets-unit-api-p99-latency"]
    assert (latency["metricName"], latency["extendedStatistic"], latency["dimensions"]) == (
        "Latency", "p99", dims)


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_each_function_has_errors_and_throttles_alarms(program: ProgramRun, route):
    found = _alarms(program)
    for metric, suffix in (("Errors", "errors"), ("Throttles", "throttles")):
        alarm = found[f"{unit_function_name(route)}-{suffix}"]
        assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == (
            "AWS/Lambda", metric, "Sum")
        assert alarm["dimensions"] == {"FunctionName": unit_function_name(route)}
        assert alarm["threshold"] == 0 and alarm["comparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize(("alarm_name", "table", "actions"), [
    ("pets-unit-table-throttled-requests", "pets-unit-pets",
     {a for r in access.ROUTES for a in r.table_actions}),
    ("pets-unit-idempotency-throttled-requests", "pets-unit-idempotency",
     {a for r in access.ROUTES for a in r.idempotency_actions}),
])
def test_table_alarm_sums_throttles_of_every_operation_the_model_uses(
        program: ProgramRun, alarm_name, table, actions):
    alarm = _alarms(program)[alarm_name]
    metrics = [q["metric"] for q in alarm["metricQueries"] if "metric" in q]
    assert {m["dimensions"]["Operation"] for m in metrics} == {a.split(":")[1] for a in actions}
    assert {m["dimensions"]["TableName"] for m in metrics} == {table}
    assert {m["metricName"] for m in metrics} == {"ThrottledRequests"}
    (total,) = [q for q in alarm["metricQueries"] if q.get("returnData")]
    assert set(total["expression"].replace("FILL(", "").replace(", 0)", "").split(" + ")) == {
        q["id"] for q in alarm["metricQueries"] if "metric" in q}


def test_no_email_subscription_unless_configured(program: ProgramRun):
    assert program.of_type("aws:sns/topicSubscription:TopicSubscription") == []


def test_alarm_email_subscribes_to_the_topic():
    run = record_program({**BASE_CONFIG, "pets:alarmEmail": "oncall@example.com"})
    (subscription,) = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["topic"], subscription.inputs["protocol"],
            subscription.inputs["endpoint"]) == (TOPIC_ARN, "email", "oncall@example.com")


# --- 3. WAF ------------------------------------------------------------------------------


def test_no_web_acl_unless_configured(program: ProgramRun):
    assert program.of_type("aws:wafv2/webAcl:WebAcl") == []
    assert program.of_type("aws:wafv2/webAclAssociation:WebAclAssociation") == []


def test_web_acl_rate_limits_per_ip_and_uses_the_common_rule_set():
    run = record_program({**BASE_CONFIG, "pets:waf": "true", "pets:wafRateLimit": "500"})
    (acl,) = run.of_type("aws:wafv2/webAcl:WebAcl")
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    rules = {r["name"]: r for r in acl.inputs["rules"]}
    rate = rules["pets-unit-rate-per-ip"]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"]["limit"] == 500
    assert rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    common = rules["pets-unit-AWSManagedRulesCommonRuleSet"]
    assert common["statement"]["managedRuleGroupStatement"] == {
        "vendorName": "AWS", "name": "AWSManagedRulesCommonRuleSet"}
    assert common["overrideAction"] == {"none": {}}
    (association,) = run.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")
    stage = run.named("pets-unit-stage")
    assert association.inputs["resourceArn"] == stage.outputs["arn"]
    assert association.inputs["webAclArn"] == acl.outputs["arn"]


# --- settings ----------------------------------------------------------------------------

VALID = {"pets:oidcIssuer": "https://tenant.auth0.com/", "pets:oidcClientId": "abc"}


def test_protections_default_on_and_optional_extras_off():
    from components.config import parse_settings
    settings = parse_settings("dev", VALID)
    assert (settings.data_protection, dict(settings.reserved_concurrency),
            settings.waf, settings.alarm_email) == (True, {}, False, None)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("pets:dataProtection", "maybe", "pets:dataProtection: expected true or false"),
    ("pets:reservedConcurrency", '{"list_pet": 5}', "unknown handler(s) ['list_pet']"),
    ("pets:reservedConcurrency", '{"list_pets": 0}', "pets:reservedConcurrency.list_pets"),
    ("pets:reservedConcurrency", '{"list_pets": true}', "pets:reservedConcurrency.list_pets"),
    ("pets:reservedConcurrency", "[5]", "expected a map of route handler"),
    ("pets:waf", "yes", "pets:waf: expected true or false"),
    ("pets:wafRateLimit", "9", "pets:wafRateLimit: '9' must be a whole number >= 10"),
    ("pets:alarmEmail", "oncall", "pets:alarmEmail: 'oncall' is not an e-mail address"),
])
def test_bad_protection_setting_names_the_key(key, value, message):
    from components.config import ConfigError, parse_settings
    with pytest.raises(ConfigError) as caught:
        parse_settings("dev", {**VALID, key: value})
    assert message in str(caught.value)
