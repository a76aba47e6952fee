"""Which recorded resources hold a name AWS (or Auth0) allows once, and where: the table the
"many stacks in one account" test reads (test_stacks_share_an_account.py).

Every resource type a recording may contain has a row. A type without one is reported by
unknown_types, so a new kind of resource cannot slip past the name check unexamined: add its
row, saying where its name must be unique (or that it names nothing of its own).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from harness_core.mock_runtime import oidc_provider_path
from harness_core.recorder import Declared, ProgramRun

# Where a name must be unique. One recording stands for one account in one region, so each
# scope is one namespace per type here; the scope says why the name is checked at all.
GLOBAL = "every AWS account"  # S3 bucket names, CloudFront aliases
ACCOUNT = "the account"  # IAM, CloudFront policies
REGION = "the account's region"  # Lambda, DynamoDB, Logs, SNS, CloudWatch, WAF, API Gateway
TENANT = "the Auth0 tenant"

Names = Callable[[Declared], tuple[str, ...]]


def _input(key: str) -> Names:
    return lambda d: (str(d.inputs[key]),) if d.inputs.get(key) else ()


def _constant(what: str) -> Names:
    """A singleton: whoever declares it owns the one there is."""
    return lambda _: (what,)


@dataclass(frozen=True)
class Rule:
    scope: str | None  # None: it names nothing of its own (it lives inside a named parent)
    names: Names = lambda _: ()
    # An account-wide singleton only the account baseline (account/) may declare.
    baseline_only: bool = False


_INSIDE = Rule(None)  # e.g. a method of a REST API, a policy of a role, an object of a bucket

RULES: dict[str, Rule] = {
    # IAM: names are account-wide; one OIDC provider per issuer URL.
    "aws:iam/role:Role": Rule(ACCOUNT, _input("name")),
    "aws:iam/rolePolicy:RolePolicy": _INSIDE,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _INSIDE,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Rule(
        ACCOUNT, lambda d: (oidc_provider_path(d.inputs["url"]),), baseline_only=True),
    # API Gateway: the account settings are one per region; REST API names may repeat in AWS,
    # but two APIs one name apart are two stacks nobody can tell apart in the console.
    "aws:apigateway/account:Account": Rule(
        REGION, _constant("API Gateway account settings"), baseline_only=True),
    "aws:apigateway/restApi:RestApi": Rule(REGION, _input("name")),
    **{f"aws:apigateway/{t}": _INSIDE for t in (
        "deployment:Deployment", "integration:Integration",
        "integrationResponse:IntegrationResponse", "method:Method",
        "methodResponse:MethodResponse", "methodSettings:MethodSettings", "model:Model",
        "requestValidator:RequestValidator", "resource:Resource", "response:Response",
        "restApiPolicy:RestApiPolicy", "stage:Stage")},
    # Lambda, data, logs, alarms, notifications: per region.
    "aws:lambda/function:Function": Rule(REGION, _input("name")),
    "aws:lambda/layerVersion:LayerVersion": Rule(REGION, _input("layerName")),
    "aws:lambda/permission:Permission": _INSIDE,
    "aws:dynamodb/table:Table": Rule(REGION, _input("name")),
    "aws:cloudwatch/logGroup:LogGroup": Rule(REGION, _input("name")),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Rule(REGION, _input("name")),
    "aws:sns/topic:Topic": Rule(REGION, _input("name")),
    "aws:sns/topicSubscription:TopicSubscription": _INSIDE,
    "aws:wafv2/webAcl:WebAcl": Rule(REGION, _input("name")),
    "aws:wafv2/webAclAssociation:WebAclAssociation": _INSIDE,
    # S3 bucket names are global; CloudFront's policies are account-wide and its aliases
    # (CNAMEs) global: a copy of a stack with a custom domain needs its own domain.
    "aws:s3/bucket:Bucket": Rule(GLOBAL, _input("bucket")),
    **{f"aws:s3/{t}": _INSIDE for t in (
        "bucketObjectv2:BucketObjectv2", "bucketOwnershipControls:BucketOwnershipControls",
        "bucketPolicy:BucketPolicy", "bucketPublicAccessBlock:BucketPublicAccessBlock",
        "bucketWebsiteConfiguration:BucketWebsiteConfiguration")},
    "aws:cloudfront/distribution:Distribution": Rule(
        GLOBAL, lambda d: tuple(d.inputs.get("aliases") or ())),
    "aws:cloudfront/originAccessControl:OriginAccessControl": Rule(ACCOUNT, _input("name")),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": Rule(ACCOUNT, _input("name")),
    # A managed Auth0 tenant (one per environment): names per tenant, and the post-login
    # binding is the tenant's one (authoritative: two stacks would unbind each other).
    "auth0:index/client:Client": Rule(TENANT, _input("name")),
    "auth0:index/connection:Connection": Rule(TENANT, _input("name")),
    "auth0:index/role:Role": Rule(TENANT, _input("name")),
    "auth0:index/action:Action": Rule(TENANT, _input("name")),
    "auth0:index/triggerActions:TriggerActions": Rule(TENANT, _input("trigger")),
    "auth0:index/clientCredentials:ClientCredentials": _INSIDE,
    "auth0:index/connectionClients:ConnectionClients": _INSIDE,
    # Not cloud resources: a provider's configuration, another stack's outputs.
    "pulumi:providers:auth0": _INSIDE,
    "pulumi:pulumi:StackReference": _INSIDE,
}
# The project's ComponentResources group resources and create nothing themselves.
COMPONENT_PREFIX = "pets:index:"


def _is_component(declared: Declared) -> bool:
    return declared.type.startswith(COMPONENT_PREFIX)


def unknown_types(runs: Iterable[ProgramRun]) -> list[str]:
    """Recorded types with no row in RULES (components aside)."""
    return sorted({d.type for run in runs for d in run.declared
                   if not _is_component(d) and d.type not in RULES})


def _tenant(run: ProgramRun) -> str:
    domains = {d.inputs.get("domain") for d in run.of_type("pulumi:providers:auth0")}
    return ",".join(sorted(str(d) for d in domains)) or "(no tenant)"


def physical_names(run: ProgramRun) -> dict[tuple[str, str, str], str]:
    """(type, scope, name) -> the resource's logical name, for every unique name it holds.
    Tenant-scoped names carry the tenant: two stacks on two tenants never collide."""
    found: dict[tuple[str, str, str], str] = {}
    for declared in run.declared:
        rule = RULES.get(declared.type)
        if rule is None or rule.scope is None:
            continue
        for name in rule.names(declared):
            if rule.scope == TENANT:
                name = f"{_tenant(run)}/{name}"
            found[(declared.type, rule.scope, name)] = declared.name
    return found


def collisions(runs: Mapping[str, ProgramRun]) -> list[str]:
    """Every name two of the runs would both claim in one account and region."""
    names = {stack: physical_names(run) for stack, run in runs.items()}
    found = []
    for a, b in combinations(sorted(runs), 2):
        for key in sorted(set(names[a]) & set(names[b])):
            type_, scope, name = key
            found.append(f"{a} ({names[a][key]}) and {b} ({names[b][key]}) both claim "
                         f"{type_} {name!r}, unique in {scope}")
    return found


def singleton_owners(runs: Mapping[str, ProgramRun], baseline: str) -> list[str]:
    """Account-wide singletons declared by anyone but the baseline run."""
    owners: dict[str, list[str]] = defaultdict(list)
    for stack, run in runs.items():
        for declared in run.declared:
            rule = RULES.get(declared.type)
            if rule is not None and rule.baseline_only and stack != baseline:
                owners[declared.type].append(f"{stack} ({declared.name})")
    return [f"{type_} declared by {', '.join(stacks)}: only the account baseline may own it"
            for type_, stacks in sorted(owners.items())]
