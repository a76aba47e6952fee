"""IAM policy documents as plain dicts, built from the access model.

Pure functions of plain values, so they are unit-testable without Pulumi and
the offline IAM engine, the policy pack and the components all read the same
documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import access
from handlers import pages

Document = dict[str, Any]
VERSION = "2012-10-17"
# DynamoDB actions that read an index: granted on the list index's ARN, not the table's.
INDEX_ACTIONS = frozenset({"dynamodb:Query"})


def oidc_key_prefix(issuer: str) -> str:
    """IAM's name for an OIDC provider in condition keys: the URL minus scheme.

    `https://tenant.auth0.com/` -> `tenant.auth0.com/`; the keys are then
    `tenant.auth0.com/:aud` and `tenant.auth0.com/:sub`.
    """
    parts = urlsplit(issuer)
    return f"{parts.netloc}{parts.path}"


def route_arn(execution_arn: str, stage: str, route: access.Route) -> str:
    """`arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`."""
    return f"{execution_arn}/{stage}/{route.arn_suffix}"


def invoke_policy(execution_arn: str, stage: str, routes: Iterable[access.Route]) -> Document:
    """Allows execute-api:Invoke on exactly these routes of this stage."""
    arns = sorted(route_arn(execution_arn, stage, r) for r in routes)
    if not arns:
        raise ValueError("an invoke policy needs at least one route")
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "InvokeAllowedRoutes", "Effect": "Allow", "Action": "execute-api:Invoke",
             "Resource": arns}
        ],
    }


def trust_policy(
    provider_arn: str, issuer: str, client_id: str, members: access.Membership
) -> Document:
    """Who may assume a class's role: tokens for our client that match the class.

    One statement per kind of rule (IAM ANDs conditions within a statement and
    ORs statements); each statement requires the audience.
    """
    prefix = oidc_key_prefix(issuer)
    audience = {f"{prefix}:aud": client_id}
    principal = {"Federated": provider_arn}
    action = "sts:AssumeRoleWithWebIdentity"
    statements: list[Document] = []
    if members.sub_patterns:
        statements.append({
            "Sid": "MembersBySubPattern", "Effect": "Allow", "Principal": principal,
            "Action": action,
            "Condition": {"StringEquals": audience,
                          "StringLike": {f"{prefix}:sub": list(members.sub_patterns)}},
        })
    if members.subjects:
        statements.append({
            "Sid": "MembersBySubject", "Effect": "Allow", "Principal": principal,
            "Action": action,
            "Condition": {"StringEquals": {**audience, f"{prefix}:sub": list(members.subjects)}},
        })
    if members.session_tags:
        tags = {f"aws:RequestTag/{k}": v for k, v in sorted(members.session_tags.items())}
        statements.append({
            "Sid": "MembersBySessionTag", "Effect": "Allow", "Principal": principal,
            # Tags from the token's https://aws.amazon.com/tags claim need TagSession.
            "Action": [action, "sts:TagSession"],
            "Condition": {"StringEquals": {**audience, **tags}},
        })
    return {"Version": VERSION, "Statement": statements}


def service_trust_policy(service: str) -> Document:
    """Lets an AWS service (lambda.amazonaws.com, apigateway...) assume a role."""
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                       "Action": "sts:AssumeRole"}],
    }


def function_policy(
    table_arn: str,
    table_actions: Iterable[str],
    log_group_arn: str,
    idempotency_table_arn: str | None = None,
    idempotency_actions: Iterable[str] = (),
) -> Document:
    """A route function's execution role: its table actions on the table, its idempotency
    actions on the idempotency table (access.Route.idempotency_actions), its own logs."""
    actions = sorted(set(table_actions) - INDEX_ACTIONS)
    statements: list[Document] = []
    if actions:
        statements.append({"Sid": "PetsTable", "Effect": "Allow", "Action": actions,
                           "Resource": table_arn})
    index_actions = sorted(set(table_actions) & INDEX_ACTIONS)
    if index_actions:
        # Queries read the list index only (handlers/pages.py), never the table's own keys.
        statements.append({"Sid": "PetsListIndex", "Effect": "Allow", "Action": index_actions,
                           "Resource": f"{table_arn}/index/{pages.INDEX_NAME}"})
    idempotency = sorted(set(idempotency_actions))
    if idempotency:
        if not idempotency_table_arn:
            raise ValueError("the route has idempotency actions but no idempotency table ARN "
                             "was given")
        statements.append({"Sid": "IdempotencyTable", "Effect": "Allow",
                           "Action": idempotency, "Resource": idempotency_table_arn})
    statements.append({
        "Sid": "OwnLogs", "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:*",
    })
    return {"Version": VERSION, "Statement": statements}


def public_read_policy(bucket_arn: str, keys: Iterable[str]) -> Document:
    """Anyone may read these objects of the site bucket; nothing else."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "PublicReadSiteFiles", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": sorted(f"{bucket_arn}/{key}" for key in keys),
        }],
    }


# --- what a production stack adds: the API's own policy, tracing, a private site bucket --


def assumed_role_arn_pattern(role_arn: str) -> str:
    """`arn:aws:iam::1:role/name` -> `arn:aws:sts::1:assumed-role/name/*` (its sessions).

    AWS gives `aws:PrincipalArn` of a role session as the role's ARN; some evaluators (the
    emulator) give the session's ARN. A condition listing both holds under either.
    """
    prefix, _, name = role_arn.partition(":role/")
    if not name:
        raise ValueError(f"{role_arn!r} is not a role ARN")
    partition_and_account = prefix.split(":iam::", 1)
    return (f"{partition_and_account[0]}:sts::{partition_and_account[1]}:assumed-role/"
            f"{name.rsplit('/', 1)[-1]}/*")


def _arn_path(path: str) -> str:
    """`/pets/{petId}` -> `pets/*`, as in `access.Route.arn_suffix`."""
    return "/".join("*" if s.startswith("{") else s for s in path.strip("/").split("/"))


def api_resource_policy(
    execution_arn: str,
    stage: str,
    grants: Mapping[str, tuple[str, Iterable[access.Route]]],
    preflight_paths: Iterable[str],
) -> Document:
    """The REST API's own policy: a second wall behind the class roles' invoke policies.

    grants: class name -> (its role's ARN, the routes it may call).
    - one Allow per class: its role may invoke exactly its routes (the same ARNs as
      `invoke_policy`, so the resource policy grants nothing the model does not);
    - browsers' CORS preflights are unsigned: anyone may invoke OPTIONS on these paths
      (answered by API Gateway's MOCK integration, no backend behind it);
    - Deny every other principal every method but OPTIONS;
    - Deny each class's role every route the model does not give it: a role policy widened
      by mistake still cannot reach another class's routes.
    """
    if not grants:
        raise ValueError("an API resource policy needs at least one class role")
    base = f"{execution_arn}/{stage}"
    preflights = sorted(f"{base}/OPTIONS/{_arn_path(path)}" for path in set(preflight_paths))
    action = "execute-api:Invoke"
    roles = sorted({arn for arn, _ in grants.values()})
    principals = sorted({*roles, *(assumed_role_arn_pattern(a) for a in roles)})
    statements: list[Document] = []
    for name in sorted(grants):
        role_arn, routes = grants[name]
        arns = sorted(route_arn(execution_arn, stage, r) for r in routes)
        if not arns:
            continue
        statements.append({
            "Sid": f"Invoke{name.capitalize()}Routes", "Effect": "Allow",
            "Principal": {"AWS": role_arn}, "Action": action, "Resource": arns,
        })
    if preflights:
        statements.append({
            "Sid": "CorsPreflights", "Effect": "Allow", "Principal": "*", "Action": action,
            "Resource": preflights,
        })
    statements.append({
        "Sid": "DenyOtherPrincipals", "Effect": "Deny", "Principal": "*", "Action": action,
        "NotResource": preflights or [f"{base}/OPTIONS/*"],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": principals}},
    })
    for name in sorted(grants):
        role_arn, routes = grants[name]
        allowed = sorted(route_arn(execution_arn, stage, r) for r in routes)
        statements.append({
            "Sid": f"Deny{name.capitalize()}OtherRoutes", "Effect": "Deny", "Principal": "*",
            "Action": action, "NotResource": sorted({*allowed, *preflights}),
            "Condition": {"ArnLike": {"aws:PrincipalArn": sorted(
                {role_arn, assumed_role_arn_pattern(role_arn)})}},
        })
    return {"Version": VERSION, "Statement": statements}


def tracing_policy() -> Document:
    """A function's traces to X-Ray (Active tracing). X-Ray has no resource-level scoping."""
    return {
        "Version": VERSION,
        "Statement": [{"Sid": "XRayTraces", "Effect": "Allow",
                       "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                       "Resource": "*"}],
    }


def cloudfront_read_policy(bucket_arn: str, keys: Iterable[str], distribution_arn: str) -> Document:
    """Only this CloudFront distribution (through its Origin Access Control) may read these
    objects of the private site bucket."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "CloudFrontReadsSiteFiles", "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": sorted(f"{bucket_arn}/{key}" for key in keys),
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        }],
    }
