"""IAM: who may invoke the API, who may assume a role, what route functions may do."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy import iam, model
from policy.props import is_unknown, require_known
from policy.stack_graph import (
    MANAGED_POLICY,
    POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    TABLE,
    Stack,
)

INVOKE = "execute-api:Invoke"

# Resources whose inputs carry identity-policy documents: type -> input name.
IDENTITY_POLICY_INPUTS = {
    ROLE_POLICY: "policy",
    MANAGED_POLICY: "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
# API resource policies: they can grant Invoke to principals no role policy names.
API_POLICY_INPUTS = {
    "aws:apigateway/restApi:RestApi": "policy",
    "aws:apigateway/restApiPolicy:RestApiPolicy": "policy",
}
INVOKE_GRANT_TYPES = frozenset({*IDENTITY_POLICY_INPUTS, *API_POLICY_INPUTS, ROLE})

# Attachments of managed policies: type -> (input, is a list).
ATTACHMENT_INPUTS = {
    ROLE_POLICY_ATTACHMENT: ("policyArn", False),
    POLICY_ATTACHMENT: ("policyArn", False),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": ("policyArn", False),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": ("policyArn", False),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ("policyArns", True),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": ("policyArns", True),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": (
        "policyArns", True),
    ROLE: ("managedPolicyArns", True),
}
# AWS managed policies known to grant neither execute-api nor DynamoDB. Anything else
# AWS manages (AdministratorAccess, AmazonAPIGatewayInvokeFullAccess, PowerUserAccess,
# AmazonDynamoDBFullAccess...) grants more than the model and is refused.
ALLOWED_AWS_MANAGED = frozenset({
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
    "service-role/AWSLambdaBasicExecutionRole",
    "AWSXRayDaemonWriteAccess",
})
_AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?P<name>.+)$")
_LAMBDA = "lambda.amazonaws.com"
_TABLE_ARN = re.compile(
    r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/(?P<name>[A-Za-z0-9_.-]+)"
    r"(/index/(?P<index>[A-Za-z0-9_.-]+))?"
)


def _documents(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(label, raw document) of every policy document a resource carries."""
    if resource_type == ROLE:
        for index, inline in enumerate(props.get("inlinePolicies") or []):
            if isinstance(inline, Mapping):
                yield (f"inline policy {inline.get('name') or index!r}",
                       inline.get("policy"))
        return
    key = IDENTITY_POLICY_INPUTS.get(resource_type) or API_POLICY_INPUTS.get(resource_type)
    if key is not None and props.get(key) not in (None, ""):
        yield "policy", props.get(key)


def _no_tricks(label: str, statement: iam.Statement) -> list[str]:
    """Allow + NotAction/NotResource grant everything they do not name."""
    problems = []
    if statement.allow and statement.not_actions is not None:
        problems.append(f"{label} {statement.label}: Allow with NotAction grants every action "
                        "it does not list (execute-api:Invoke included): list the actions in "
                        "Action instead")
    if statement.allow and statement.not_resources is not None:
        problems.append(f"{label} {statement.label}: Allow with NotResource grants every "
                        "resource it does not list: list the resources in Resource instead")
    return problems


def invoke_grants(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: no policy grants Invoke more broadly than the model's route ARNs."""
    problems: list[str] = []
    for label, raw in _documents(resource_type, props):
        try:
            statements = iam.statements(iam.load(raw, label))
        except iam.DocumentError as err:
            problems.append(f"{label} is not a valid policy document ({err}): fix the JSON")
            continue
        for statement in statements:
            problems += _no_tricks(label, statement)
            if not statement.allow:
                continue
            preflights_only = bool(statement.resources) and all(
                model.is_preflight_arn(r) for r in statement.resources)
            if resource_type in API_POLICY_INPUTS and (
                iam.is_everyone(statement.principal) or statement.not_principal is not None
            ):
                if iam.is_everyone(statement.principal) and preflights_only and all(
                        a.lower() == INVOKE.lower() for a in statement.actions):
                    continue  # unsigned CORS preflights, answered by MOCK integrations
                problems.append(f"API resource {label} {statement.label} allows everyone "
                                "(Principal '*' or NotPrincipal): grant invoke through the user "
                                "classes' roles (access.py), not the API's resource policy; "
                                "only OPTIONS preflights of the model's paths may be public")
            for action in statement.actions:
                if iam.has_wildcard(action) and iam.action_matches(action, INVOKE):
                    problems.append(
                        f"{label} {statement.label} grants {action!r}, which includes "
                        f"{INVOKE}: grant exactly {INVOKE} on the model's route ARNs "
                        "(components/policies.invoke_policy)")
                elif action.lower() == INVOKE.lower():
                    for resource in statement.resources:
                        problem = model.invoke_arn_problem(resource)
                        if problem:
                            problems.append(
                                f"{label} {statement.label} grants {INVOKE} too broadly, "
                                f"{problem}: name "
                                "each route's ARN <executionArn>/<stage>/<METHOD>/<path>, with "
                                "`*` only for a {param} segment (allowed: "
                                f"{model.allowed_route_suffixes_text()})")
    return problems


def managed_policies(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: attached AWS managed policies are on a short allowlist.

    A customer managed policy passes here: declared in this stack, its
    document is checked by the other rules. An ARN still unknown in preview
    is checked at `pulumi up`, before the attachment is created.
    """
    key, many = ATTACHMENT_INPUTS[resource_type]
    raw = require_known(props.get(key), key)
    arns = (raw or []) if many else [raw]
    problems = []
    for arn in arns:
        arn = require_known(arn, key)
        match = _AWS_MANAGED.match(arn) if isinstance(arn, str) else None
        if match and match["name"] not in ALLOWED_AWS_MANAGED:
            problems.append(
                f"attaches the AWS managed policy {arn}, which grants more than the access model "
                "(broad execute-api, DynamoDB or admin rights): write a least-privilege policy "
                "in components/policies.py instead (AWS managed policies allowed here: "
                f"{', '.join(sorted(ALLOWED_AWS_MANAGED))})")
    return problems


def _web_identity_key(federated: Any) -> str | None:
    """Condition-key prefix for a web-identity principal, None for SAML or non-strings.

    `arn:aws:iam::123:oidc-provider/tenant.auth0.com/` -> `tenant.auth0.com/`;
    a bare provider name (`accounts.google.com`) is its own prefix.
    """
    if not isinstance(federated, str) or ":saml-provider/" in federated:
        return None
    marker = ":oidc-provider/"
    return federated.split(marker, 1)[1] if marker in federated else federated


def _admits_everyone(pattern: Any) -> bool:
    return not isinstance(pattern, str) or not pattern.strip("*?")


def _oidc_statement_problems(statement: iam.Statement, keys: list[str]) -> list[str]:
    problems = []
    for key in keys:
        variants = {key, key.rstrip("/")}  # IAM drops a trailing slash in some providers' keys
        aud = next((v for k in variants if (v := iam.condition_values(
            statement.condition, ("StringEquals",), f"{k}:aud")) is not None), None)
        if not aud or any(not isinstance(a, str) or iam.has_wildcard(a) for a in aud):
            problems.append(
                f"trust {statement.label}: require the audience with Condition StringEquals "
                f"{{\"{key}:aud\": \"<client id>\"}} (no wildcards), or any app of the provider "
                "could assume the role")
        subs = [v for k in variants for op in ("StringEquals", "StringLike")
                for v in (iam.condition_values(statement.condition, (op,), f"{k}:sub") or [])]
        tags = [v for op, block in statement.condition.items()
                if op in ("StringEquals", "StringLike") and isinstance(block, Mapping)
                for tag_key, values in block.items()
                if isinstance(tag_key, str) and tag_key.lower().startswith("aws:requesttag/")
                for v in iam.as_list(values)]
        rules = subs + tags
        if not rules or any(_admits_everyone(v) for v in rules):
            problems.append(
                f"trust {statement.label}: require the user class with Condition "
                f"StringEquals/StringLike on \"{key}:sub\" or an aws:RequestTag/<key> session "
                "tag (access.Membership), with no pattern that admits everyone ('*'); without "
                "it every user of the provider gets this role")
    return problems


def trust_policies(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: nobody-at-all never; OIDC roles only with audience and class conditions.

    A role that trusts an OIDC provider may be assumed only through it: every
    Allow statement must name a web-identity provider and carry both
    conditions, so no second statement (an account, a service) bypasses
    membership.
    """
    raw = props.get("assumeRolePolicy")
    try:
        statements = iam.statements(iam.load(raw, "assumeRolePolicy"))
    except iam.DocumentError as err:
        return [f"assume_role_policy is not a valid policy document ({err}): fix the JSON"]
    problems: list[str] = []
    allows = [s for s in statements if s.allow]
    for statement in allows:
        if iam.is_everyone(statement.principal):
            problems.append(f"trust {statement.label} lets everyone (Principal '*') assume the "
                            "role: name the OIDC provider (Federated) or the AWS service instead")
        if statement.not_principal is not None:
            problems.append(f"trust {statement.label}: Allow with NotPrincipal trusts everyone "
                            "it does not name: use Principal")
    oidc = {s.index: [k for f in iam.principal_values(s.principal).get("Federated", [])
                      if (k := _web_identity_key(f))] for s in allows}
    if not any(oidc.values()):
        return problems
    for statement in allows:
        keys = oidc[statement.index]
        if not keys:
            problems.append(
                f"trust {statement.label}: this role trusts an OIDC provider, so every Allow "
                "statement must be for that provider with audience and class conditions; "
                "remove this statement (it would bypass membership)")
            continue
        problems += _oidc_statement_problems(statement, keys)
    return problems


def _open_to_strangers(statement: iam.Statement) -> bool:
    """Whether someone nobody granted anything could satisfy this statement.

    Only an exact `sub` (StringEquals, or StringLike without wildcards) or a session tag
    (which only the identity provider sets, from a grant) singles people out; a sub
    pattern such as `auth0|*` admits every account of a connection anyone can sign up to.
    """
    for operator, block in statement.condition.items():
        if operator not in ("StringEquals", "StringLike") or not isinstance(block, Mapping):
            continue
        for key, values in block.items():
            if not isinstance(key, str):
                continue
            singles_out = key.lower().endswith(":sub") or key.lower().startswith("aws:requesttag/")
            exact = all(isinstance(v, str) and v and (
                operator == "StringEquals" or not iam.has_wildcard(v)) for v in iam.as_list(values))
            if singles_out and exact:
                return False
    return True


def managing_class_trust(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: a class that manages the shop is reachable by an explicit grant only."""
    user_class = model.managing_class(props)
    if user_class is None:
        return []
    try:
        statements = iam.statements(iam.load(props.get("assumeRolePolicy"), "assumeRolePolicy"))
    except iam.DocumentError:
        return []  # iam-trust-oidc-conditions reports the broken document
    return [
        f"trust {s.label}: the {user_class.name} class manages the shop, and a self-registered "
        "user satisfies this statement (no exact sub, no session tag): recognise its members "
        "by an explicit grant, subjects or sessionTags in pets:userClasses (a sub pattern such "
        "as auth0|* admits everyone who signs up)"
        for s in statements if s.allow and _open_to_strangers(s)
    ]


def _service_principals(trust: Any) -> set[str]:
    try:
        statements = iam.statements(iam.load(trust, "assumeRolePolicy"))
    except iam.DocumentError:
        return set()
    return {str(p) for s in statements if s.allow
            for p in iam.principal_values(s.principal).get("Service", [])}


def _lambda_documents(stack: Stack, role: Any) -> Iterator[tuple[str, Any, str]]:
    """(label, document, urn) of every policy that applies to a role and is in the stack."""
    props = stack.props(role)
    for label, raw in _documents(ROLE, props):
        yield f"role {role.name} {label}", raw, role.urn
    by_role = {ROLE: ("id", "name")}
    for policy in stack.of_type(ROLE_POLICY):
        if role in stack.linked(policy, "role", by_role):
            yield f"role policy {policy.name}", stack.props(policy).get("policy"), policy.urn
    for attachment in stack.of_type(ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT):
        prop = "role" if attachment.resource_type == ROLE_POLICY_ATTACHMENT else "roles"
        if role not in stack.linked(attachment, prop, by_role):
            continue
        for policy in stack.linked(attachment, "policyArn", {MANAGED_POLICY: ("arn", "id")}):
            yield (f"policy {policy.name} (attached by {attachment.name})",
                   stack.props(policy).get("policy"), attachment.urn)


def _role_statements(
    stack: Stack, role: Any
) -> Iterator[tuple[str, str, list[iam.Statement] | iam.DocumentError]]:
    """(label, urn, its statements or why they cannot be read) of every known document
    that applies to a role; one not known yet (preview of a new stack) is skipped."""
    for label, raw, urn in _lambda_documents(stack, role):
        if is_unknown(raw) or raw in (None, ""):
            continue
        try:
            yield label, urn, iam.statements(iam.load(raw, label))
        except iam.DocumentError as err:
            yield label, urn, err


def _table_of(stack: Stack, arn: str) -> Any | None:
    """The stack's table an ARN (of the table, or of one of its indexes) names, else None;
    by name while its ARN is unknown (preview)."""
    match = _TABLE_ARN.fullmatch(arn)
    for table in stack.of_type(TABLE):
        props = stack.props(table)
        if props.get("arn") == (arn if match is None or not match["index"]
                                else arn.split("/index/", 1)[0]):
            return table
        if match and is_unknown(props.get("arn")) and props.get("name") == match["name"]:
            return table
    return None


def _table_arn_problem(stack: Stack, arn: str) -> str | None:
    tables = stack.of_type(TABLE)
    known = {stack.props(t).get("arn") for t in tables}
    # A table's own global secondary indexes are part of it (Query on `<arn>/index/<name>`).
    known |= {f"{stack.props(t).get('arn')}/index/{index.get('name')}" for t in tables
              for index in stack.props(t).get("globalSecondaryIndexes") or []
              if isinstance(index, dict)}
    if arn in known:
        return None
    names = {stack.props(t).get("name") for t in tables}
    match = _TABLE_ARN.fullmatch(arn)
    if match and match["name"] in names and any(is_unknown(a) for a in known):
        return None  # preview: the table's ARN is not known yet, its name is
    tables_text = ", ".join(sorted(str(n) for n in names if isinstance(n, str))) or "none"
    return (f"{arn!r} is not the ARN of a table of this stack (tables: {tables_text})")


def lambda_roles(stack: Stack) -> list[tuple[str, str]]:
    """Stack rule: route functions' roles list their actions, and use DynamoDB on the stack's
    tables only (which actions on which table: lambda_table_actions).

    A Lambda execution role is a role trusted by lambda.amazonaws.com; its
    documents are its inline policies, the RolePolicies and the attached
    Policies of this stack. A document not known yet (preview of a new
    stack) cannot be read and is skipped here.
    """
    violations: list[tuple[str, str]] = []
    for role in stack.of_type(ROLE):
        trust = stack.props(role).get("assumeRolePolicy")
        if is_unknown(trust) or _LAMBDA not in _service_principals(trust):
            continue
        for label, urn, statements in _role_statements(stack, role):
            if isinstance(statements, iam.DocumentError):
                violations.append((f"{label} is not a valid policy document ({statements})",
                                   urn))
                continue
            for statement in statements:
                violations += [(p, urn) for p in _no_tricks(label, statement)]
                if not statement.allow:
                    continue
                for action in statement.actions:
                    if iam.has_wildcard(action):
                        violations.append((
                            f"{label} {statement.label} (Lambda execution role {role.name}) "
                            f"grants {action!r}: list each action the function needs (no `*` or "
                            "service wildcards like dynamodb:*)", urn))
                if not any(a.lower().startswith("dynamodb:") for a in statement.actions):
                    continue
                for resource in statement.resources or ["<no Resource>"]:
                    problem = ("Resource '*'" if resource == "*"
                               else _table_arn_problem(stack, resource))
                    if problem:
                        violations.append((
                            f"{label} {statement.label} (Lambda execution role {role.name}) "
                            f"grants DynamoDB actions beyond the table, {problem}: grant them "
                            "on the stack's tables only, each its route's actions "
                            "(components/policies.function_policy)", urn))
    return violations


def lambda_table_actions(stack: Stack) -> list[tuple[str, str]]:
    """Stack rule: a route function's role uses on each table only the actions access.py
    gives that route there: Route.table_actions on the pets table, Route.idempotency_actions
    on the idempotency table (none: the route keeps no idempotency records).

    The route is known by the role's name (`pets-<stack>-<handler>-fn`), the table by its
    name (components/naming.py). Other roles, and resources that are no table of the stack,
    are left to lambda-roles-least-privilege.
    """
    violations: list[tuple[str, str]] = []
    for role in stack.of_type(ROLE):
        route = model.function_route(stack.props(role))
        if route is None:
            continue
        for label, urn, statements in _role_statements(stack, role):
            if isinstance(statements, iam.DocumentError):
                continue  # lambda-roles-least-privilege reports the broken document
            for statement in statements:
                actions = {a.lower() for a in statement.actions if isinstance(a, str)
                           and a.lower().startswith("dynamodb:")}
                if not statement.allow or not actions:
                    continue
                for resource in statement.resources:
                    table = _table_of(stack, resource) if isinstance(resource, str) else None
                    if table is None:
                        continue
                    kind = model.table_kind(stack.props(table))
                    allowed = model.route_table_actions(route, kind)
                    # Exact names: a wildcard is wider than any list of actions.
                    extra = sorted(actions - allowed)
                    if extra:
                        field = "idempotency_actions" if kind == model.IDEMPOTENCY else (
                            "table_actions")
                        violations.append((
                            f"{label} {statement.label} (Lambda execution role {role.name}, "
                            f"the function of {route.id}) grants {', '.join(extra)} on the "
                            f"{kind} table {stack.props(table).get('name')!r}, which access.py "
                            f"does not give {route.id} there (Route.{field}: "
                            f"{', '.join(sorted(allowed)) or 'none'}): change the model, "
                            "not the role (components/policies.function_policy)", urn))
    return violations
