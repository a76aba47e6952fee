"""Production protections, so that a mistake or an attack costs less: the table survives a
destroy, the API has its own policy, requests are traced, and someone hears about failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource

from policy import iam, model
from policy.checks_data import bucket_policy_statements
from policy.props import is_unknown, require_known
from policy.stack_graph import REST_API, TABLE, Stack

STAGE = "aws:apigateway/stage:Stage"
FUNCTION = "aws:lambda/function:Function"
REST_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
INVOKE = "execute-api:Invoke"
# A throwaway stack (pets:dataProtection false) says so on the table itself, where anyone
# looking at it in the AWS console sees why it may be deleted.
THROWAWAY_TAG = ("DataProtection", "off")
# What every API stage must be watched for: (namespace, metric) -> what it means.
API_ALARMS = {
    ("AWS/ApiGateway", "5XXError"): "the 5XX rate",
    ("AWS/ApiGateway", "4XXError"): "a 4XX spike",
    ("AWS/ApiGateway", "Latency"): "p99 latency",
}
FUNCTION_ALARMS = {("AWS/Lambda", "Errors"): "Errors", ("AWS/Lambda", "Throttles"): "Throttles"}
TABLE_ALARM = ("AWS/DynamoDB", "ThrottledRequests")


def _throwaway(props: Mapping[str, Any]) -> bool:
    tags = props.get("tags")
    return isinstance(tags, Mapping) and tags.get(THROWAWAY_TAG[0]) == THROWAWAY_TAG[1]


def table_deletion_protection(props: dict[str, Any], protect: bool) -> list[str]:
    """Resource rule: DynamoDB deletion protection and Pulumi's protect, unless the table is
    tagged as a throwaway stack's."""
    if _throwaway(props):
        return []
    problems = []
    enabled = require_known(props.get("deletionProtectionEnabled"), "deletionProtectionEnabled")
    name = props.get("name", "")
    if enabled is not True:
        problems.append(f"DynamoDB table {name!r}: set deletion_protection_enabled=True "
                        "(DynamoDB then refuses DeleteTable)")
    if not protect:
        problems.append(f"DynamoDB table {name!r}: set opts=pulumi.ResourceOptions("
                        "protect=True) (a `pulumi destroy` or a replacing change stops "
                        "instead of deleting every pet)")
    if problems:
        problems[-1] += (f"; a throwaway stack sets pets:dataProtection false, which tags the "
                         f"table {THROWAWAY_TAG[0]}={THROWAWAY_TAG[1]}")
    return problems


def stage_tracing(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: the stage sends traces to X-Ray (Security Hub APIGateway.3)."""
    if require_known(props.get("xrayTracingEnabled"), "xrayTracingEnabled") is True:
        return []
    return [f"API stage {props.get('stageName', '')!r}: set xray_tracing_enabled=True"]


def function_tracing(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: the function traces actively (Lambda records its segments)."""
    config = props.get("tracingConfig")
    mode = require_known(config.get("mode") if isinstance(config, Mapping) else None,
                         "tracingConfig", "mode")
    if mode == "Active":
        return []
    return [f"Lambda function {props.get('name', '')!r}: set tracing_config=aws.lambda_."
            "FunctionTracingConfigArgs(mode='Active') (and let its role write to X-Ray, "
            "components/policies.tracing_policy)"]


# --- the API's resource policy ---------------------------------------------------------


def _policy_documents(stack: Stack, api: PolicyResource) -> list[Any]:
    """The documents that are this API's resource policy: its `policy` input and every
    RestApiPolicy pointing at it."""
    documents = []
    own = stack.props(api).get("policy")
    if own not in (None, ""):
        documents.append(own)
    for attached in stack.of_type(REST_API_POLICY):
        if api in stack.linked(attached, "restApiId", {REST_API: ("id",)}):
            documents.append(stack.props(attached).get("policy"))
    return documents


def _denies_others(statement: iam.Statement) -> bool:
    return (not statement.allow and iam.is_everyone(statement.principal)
            and any(iam.action_matches(a, INVOKE) for a in statement.actions))


def api_resource_policies(stack: Stack) -> list[tuple[str, str]]:
    """Stack rule: every REST API has a resource policy with an explicit Deny of
    execute-api:Invoke for everyone it does not name, and allows no one but named
    principals (anyone only on the model's OPTIONS preflights)."""
    violations: list[tuple[str, str]] = []
    for api in stack.of_type(REST_API):
        documents = _policy_documents(stack, api)
        where = f"REST API {api.name}"
        if not documents:
            violations.append((
                f"{where} has no resource policy: add an aws.apigateway.RestApiPolicy allowing "
                "execute-api:Invoke only to the class roles with an explicit Deny for every "
                "other principal (components/policies.api_resource_policy)", api.urn))
            continue
        if any(is_unknown(d) for d in documents):
            continue  # a document waiting for ARNs; the resource rules see it at `up`
        try:
            statements = [s for d in documents for s in iam.statements(iam.load(d, "policy"))]
        except iam.DocumentError as err:
            violations.append((f"{where}: its resource policy is not a policy document "
                               f"({err})", api.urn))
            continue
        if not any(_denies_others(s) for s in statements):
            violations.append((
                f"{where}: its resource policy has no explicit Deny of {INVOKE} for Principal "
                "'*' (conditioned on aws:PrincipalArn not being a class role): without it a "
                "widened role policy anywhere in the account reaches the API", api.urn))
        for s in statements:
            if not s.allow or not (iam.is_everyone(s.principal) or s.not_principal is not None):
                continue
            if s.not_principal is None and s.resources and all(
                    model.is_preflight_arn(r) for r in s.resources):
                continue
            violations.append((
                f"{where}: resource policy {s.label} allows everyone (Principal '*' or "
                "NotPrincipal): allow the class roles by ARN; only the model's OPTIONS "
                "preflights may be open to everyone", api.urn))
    return violations


# --- alarms ----------------------------------------------------------------------------


def _metrics(props: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(namespace, metric name, dimensions) an alarm watches, its metric queries included."""
    found = []
    if props.get("metricName"):
        found.append((props.get("namespace"), props.get("metricName"),
                      props.get("dimensions") or {}))
    for query in props.get("metricQueries") or []:
        metric = query.get("metric") if isinstance(query, Mapping) else None
        if isinstance(metric, Mapping):
            found.append((metric.get("namespace"), metric.get("metricName"),
                          metric.get("dimensions") or {}))
    return found


def _notifies(stack: Stack, alarm: PolicyResource) -> bool:
    actions = stack.props(alarm).get("alarmActions")
    if is_unknown(actions):
        return bool(stack.linked(alarm, "alarmActions", {TOPIC: ("arn", "id")}))
    if not actions:
        return False
    if stack.linked(alarm, "alarmActions", {TOPIC: ("arn", "id")}):
        return True
    return any(is_unknown(a) or (isinstance(a, str) and a.startswith("arn:aws")
                                 and ":sns:" in a) for a in actions)


def _watches(stack: Stack, alarm: PolicyResource, dims: Mapping[str, Any], key: str,
             resource: PolicyResource) -> bool:
    """The alarm's dimension `key` names this resource (by dependency, else by value)."""
    deps = (alarm.property_dependencies or {}).get("dimensions", []) + (
        alarm.property_dependencies or {}).get("metricQueries", [])
    if key in dims and resource in deps:
        return True
    value = dims.get(key)
    return isinstance(value, str) and value == stack.props(resource).get("name")


def alarms(stack: Stack) -> list[tuple[str, str]]:
    """Stack rule: someone hears about failures. Each stage has alarms on 5XX, 4XX and
    latency; each function on Errors and Throttles; each table on ThrottledRequests; every
    alarm notifies an SNS topic."""
    watched = [(a, _metrics(stack.props(a))) for a in stack.of_type(ALARM)]
    violations: list[tuple[str, str]] = []
    for alarm, _ in watched:
        if not _notifies(stack, alarm):
            violations.append((f"alarm {alarm.name} notifies no SNS topic: set "
                               "alarm_actions=[topic.arn]", alarm.urn))
    for stage in stack.of_type(STAGE):
        for (namespace, metric), what in API_ALARMS.items():
            if not any(ns == namespace and m == metric for _, ms in watched for ns, m, _ in ms):
                violations.append((
                    f"API stage {stage.name} has no alarm on {what} ({namespace} {metric}): "
                    "add the alarms of components/alarms.StackAlarms", stage.urn))
    for function in stack.of_type(FUNCTION):
        for (namespace, metric), what in FUNCTION_ALARMS.items():
            if not any(ns == namespace and m == metric
                       and _watches(stack, a, dims, "FunctionName", function)
                       for a, ms in watched for ns, m, dims in ms):
                violations.append((
                    f"Lambda function {function.name} has no {what} alarm ({namespace} {metric} "
                    "with its FunctionName): add one notifying the alarm topic", function.urn))
    for table in stack.of_type(TABLE):
        if not any((ns, m) == TABLE_ALARM and _watches(stack, a, dims, "TableName", table)
                   for a, ms in watched for ns, m, dims in ms):
            violations.append((
                f"DynamoDB table {table.name} has no ThrottledRequests alarm (AWS/DynamoDB, "
                "its TableName): add one notifying the alarm topic", table.urn))
    return violations


# --- the site: private bucket behind CloudFront ------------------------------------------

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
_BLOCK_KEYS = (("blockPublicAcls", "block_public_acls"),
               ("ignorePublicAcls", "ignore_public_acls"),
               ("blockPublicPolicy", "block_public_policy"),
               ("restrictPublicBuckets", "restrict_public_buckets"))


def private_buckets(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule (S3.2/S3.8): Block Public Access fully on; no bucket policy statement
    lets everyone in (the site is read by CloudFront through its Origin Access Control)."""
    if resource_type == PUBLIC_ACCESS_BLOCK:
        off = [arg for key, arg in _BLOCK_KEYS if require_known(props.get(key), key) is not True]
        if not off:
            return []
        return [f"BucketPublicAccessBlock: set {', '.join(f'{a}=True' for a in off)}: the site "
                "bucket is private, CloudFront reads it through its Origin Access Control"]
    statements, problems = bucket_policy_statements(props)
    if problems:
        return problems
    return [f"bucket policy {s.label} allows everyone (Principal '*' or NotPrincipal): grant "
            "s3:GetObject to cloudfront.amazonaws.com with AWS:SourceArn = the distribution "
            "(components/policies.cloudfront_read_policy)"
            for s in statements if s.allow
            and (iam.is_everyone(s.principal) or s.not_principal is not None)]


def distribution_origins(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: a distribution reaches S3 only through an Origin Access Control (not a
    public website endpoint or a legacy identity), has a default root object, and never
    serves plain http."""
    problems = []
    name = props.get("comment") or "distribution"
    for origin in props.get("origins") or []:
        if is_unknown(origin) or not isinstance(origin, Mapping):
            continue
        domain = origin.get("domainName")
        where = f"{name}: origin {origin.get('originId')!r}"
        if isinstance(domain, str) and ".s3-website" in domain:
            problems.append(f"{where} is an S3 website endpoint, which needs a public bucket: "
                            "use the bucket's REST endpoint (bucket_regional_domain_name) with "
                            "origin_access_control_id")
        elif not origin.get("originAccessControlId"):
            problems.append(f"{where} has no origin_access_control_id: CloudFront must sign "
                            "its requests to the private bucket (aws.cloudfront."
                            "OriginAccessControl, SigV4)")
        s3 = origin.get("s3OriginConfig")
        if isinstance(s3, Mapping) and s3.get("originAccessIdentity"):
            problems.append(f"{where} uses a legacy origin access identity: use an Origin "
                            "Access Control")
    certificate = props.get("viewerCertificate")
    if isinstance(certificate, Mapping) and not certificate.get("cloudfrontDefaultCertificate"):
        version = certificate.get("minimumProtocolVersion")
        if not is_unknown(version) and not (isinstance(version, str)
                                            and version.startswith(("TLSv1.2", "TLSv1.3"))):
            problems.append(f"{name}: minimum_protocol_version {version!r} admits TLS older "
                            "than 1.2: use 'TLSv1.2_2021'")
    if not props.get("defaultRootObject"):
        problems.append(f"{name}: set default_root_object='index.html'")
    behaviors = [props.get("defaultCacheBehavior"), *(props.get("orderedCacheBehaviors") or [])]
    for behavior in behaviors:
        if isinstance(behavior, Mapping) and behavior.get("viewerProtocolPolicy") == "allow-all":
            problems.append(f"{name}: viewer_protocol_policy 'allow-all' serves plain http: "
                            "use 'redirect-to-https'")
        if isinstance(behavior, Mapping) and not behavior.get("responseHeadersPolicyId"):
            problems.append(f"{name}: a cache behavior has no response headers policy (CSP, "
                            "HSTS, nosniff, frame-ancestors)")
    return problems
