"""The pack's policies, importable (and testable) without starting the pack.

Two kinds, chosen by what a rule needs to see:
- resource policies check one resource's inputs and run before the resource
  is created or updated, in preview and again in `pulumi up`, so a violation
  blocks it;
- stack policies see every resource with its property dependencies; the
  engine runs them after preview (and after `up`, when the change is already
  made), so run `pulumi preview --policy-pack policy` first.
Every policy is MANDATORY and each message says what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import checks_api, checks_data, checks_iam, checks_ops
from policy.props import plain
from policy.stack_graph import METHOD, Stack

PACK_NAME = "pets-access"
ResourceCheck = Callable[[str, dict[str, Any]], list[str]]
StackCheck = Callable[[Stack], list[tuple[str, str]]]


def _resource_policy(
    name: str, description: str, types: Collection[str], check: ResourceCheck
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        for message in check(args.resource_type, plain(args.props)):
            report(message, None)

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=EnforcementLevel.MANDATORY)


def _stack_policy(name: str, description: str, check: StackCheck) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for message, urn in check(Stack(args.resources)):
            report(message, urn)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY)


API_METHODS_USE_AWS_IAM = _resource_policy(
    "api-methods-use-aws-iam",
    "Every API Gateway method requires AWS_IAM (SigV4), except OPTIONS preflights and "
    "http methods of routes access.py declares public; no OpenAPI body.",
    checks_api.METHOD_TYPES, checks_api.method_authorization,
)
API_PUBLIC_METHODS_MATCH_MODEL = _stack_policy(
    "api-public-methods-match-model",
    "A method without AWS_IAM is an OPTIONS preflight with a MOCK integration or a public route "
    "of access.ROUTES, matched by http method and path (resolved through parentId).",
    checks_api.public_method_paths,
)
API_STAGE_ACCESS_LOGGING = _resource_policy(
    "api-stage-access-logging",
    "Every API stage writes access logs (destination and format).",
    {checks_api.STAGE}, checks_api.stage_access_logging,
)
IAM_NO_BROAD_INVOKE = _resource_policy(
    "iam-no-broad-invoke",
    "No policy grants execute-api:* or another wildcard covering execute-api:Invoke, or Invoke "
    "on an ARN broader than a model route; no NotAction/NotResource in Allow statements.",
    checks_iam.INVOKE_GRANT_TYPES, checks_iam.invoke_grants,
)
IAM_MANAGED_POLICIES_ALLOWLISTED = _resource_policy(
    "iam-managed-policies-allowlisted",
    "Only allowlisted AWS managed policies may be attached (no AdministratorAccess, "
    "AmazonAPIGatewayInvokeFullAccess, ...).",
    checks_iam.ATTACHMENT_INPUTS.keys(), checks_iam.managed_policies,
)
IAM_TRUST_OIDC_CONDITIONS = _resource_policy(
    "iam-trust-oidc-conditions",
    "No role trusts everyone; a role trusting an OIDC provider requires the audience and a "
    "user-class condition (sub or session tag) in every Allow statement.",
    {checks_iam.ROLE}, checks_iam.trust_policies,
)
IAM_MANAGING_CLASS_NEEDS_GRANT = _resource_policy(
    "iam-managing-class-needs-grant",
    "The role of a class that manages the shop (access.py: any route but reading and buying) "
    "is assumable only with an explicit grant: an exact sub or a session tag in every Allow "
    "statement, never a sub pattern a self-registered user meets.",
    {checks_iam.ROLE}, checks_iam.managing_class_trust,
)
LAMBDA_ROLES_LEAST_PRIVILEGE = _stack_policy(
    "lambda-roles-least-privilege",
    "Lambda execution roles list their actions (no wildcards) and use DynamoDB only on the "
    "stack's table.",
    checks_iam.lambda_roles,
)
LAMBDA_ROLES_MATCH_MODEL = _stack_policy(
    "lambda-roles-match-model",
    "A route function's role uses on each table only the actions access.py gives its route "
    "there: table_actions on the pets table, idempotency_actions on the idempotency table.",
    checks_iam.lambda_table_actions,
)
DYNAMODB_PITR_AND_SSE = _resource_policy(
    "dynamodb-pitr-and-sse",
    "DynamoDB tables have point-in-time recovery and server-side encryption enabled.",
    {checks_data.TABLE}, checks_data.table_protection,
)
S3_NO_PUBLIC_WRITE = _resource_policy(
    "s3-no-public-write",
    "A bucket policy lets everyone read at most: no public Put/Delete/s3:*.",
    checks_data.PUBLIC_WRITE_TYPES, checks_data.public_write,
)
S3_NO_PUBLIC_ACLS = _resource_policy(
    "s3-no-public-acls",
    "No public canned ACL or AllUsers grant on buckets or objects; the public access block keeps "
    "block_public_acls and ignore_public_acls on.",
    checks_data.ACL_TYPES, checks_data.public_acls,
)

# --- production protections: what a mistake or an attack would otherwise cost -------------


def _table_protection_validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != checks_ops.TABLE:
        return
    protect = bool(args.opts.protect) if args.opts is not None else False
    for message in checks_ops.table_deletion_protection(plain(args.props), protect):
        report(message, None)


DYNAMODB_DELETION_PROTECTION = ResourceValidationPolicy(
    name="dynamodb-deletion-protection",
    description="DynamoDB tables have deletion protection and Pulumi's protect option, unless "
    "tagged DataProtection=off (a throwaway stack, pets:dataProtection false).",
    validate=_table_protection_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
API_RESOURCE_POLICY = _stack_policy(
    "api-resource-policy",
    "Every REST API has a resource policy with an explicit Deny of execute-api:Invoke for "
    "principals it does not name, and allows everyone nothing but the model's preflights.",
    checks_ops.api_resource_policies,
)
API_STAGE_XRAY_TRACING = _resource_policy(
    "api-stage-xray-tracing",
    "Every API stage has X-Ray tracing enabled.",
    {checks_ops.STAGE}, checks_ops.stage_tracing,
)
LAMBDA_ACTIVE_TRACING = _resource_policy(
    "lambda-active-tracing",
    "Every Lambda function uses Active X-Ray tracing.",
    {checks_ops.FUNCTION}, checks_ops.function_tracing,
)
STACK_HAS_ALARMS = _stack_policy(
    "stack-has-alarms",
    "Alarms notifying an SNS topic watch each stage (5XX, 4XX, latency), each function "
    "(Errors, Throttles) and each table (ThrottledRequests).",
    checks_ops.alarms,
)

S3_PRIVATE_BUCKETS = _resource_policy(
    "s3-private-buckets",
    "Block Public Access fully on and no bucket policy statement for everyone (the site is read "
    "by CloudFront through its Origin Access Control).",
    {checks_ops.PUBLIC_ACCESS_BLOCK, checks_ops.BUCKET_POLICY}, checks_ops.private_buckets,
)
CLOUDFRONT_ORIGIN_ACCESS_CONTROL = _resource_policy(
    "cloudfront-origin-access-control",
    "CloudFront reaches S3 only through an Origin Access Control, has a default root object, "
    "redirects http to https and adds a response headers policy.",
    {checks_ops.DISTRIBUTION}, checks_ops.distribution_origins,
)

RESOURCE_POLICIES: tuple[ResourceValidationPolicy, ...] = (
    API_METHODS_USE_AWS_IAM,
    API_STAGE_ACCESS_LOGGING,
    IAM_NO_BROAD_INVOKE,
    IAM_MANAGED_POLICIES_ALLOWLISTED,
    IAM_TRUST_OIDC_CONDITIONS,
    IAM_MANAGING_CLASS_NEEDS_GRANT,
    DYNAMODB_PITR_AND_SSE,
    S3_NO_PUBLIC_WRITE,
    S3_NO_PUBLIC_ACLS,
    DYNAMODB_DELETION_PROTECTION,
    API_STAGE_XRAY_TRACING,
    LAMBDA_ACTIVE_TRACING,
    S3_PRIVATE_BUCKETS,
    CLOUDFRONT_ORIGIN_ACCESS_CONTROL,
)
STACK_POLICIES: tuple[StackValidationPolicy, ...] = (
    API_PUBLIC_METHODS_MATCH_MODEL,
    LAMBDA_ROLES_LEAST_PRIVILEGE,
    LAMBDA_ROLES_MATCH_MODEL,
    API_RESOURCE_POLICY,
    STACK_HAS_ALARMS,
)
POLICIES: tuple[ResourceValidationPolicy | StackValidationPolicy, ...] = (
    *RESOURCE_POLICIES, *STACK_POLICIES,
)

__all__ = ["METHOD", "PACK_NAME", "POLICIES", "RESOURCE_POLICIES", "STACK_POLICIES"]
