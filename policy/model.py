"""What the access model (access.py) allows, in the shapes the rules compare.

Read at call time, not import time, so a test can swap access.ROUTES and see
the pack follow it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import access
from components import naming

# arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}
_INVOKE_ARN = re.compile(
    r"^arn:aws[a-z-]*:execute-api:(?P<region>[^:]*):(?P<account>[^:]*):"
    r"(?P<api>[^/]*)/(?P<stage>[^/]*)/(?P<route>.+)$"
)


def public_routes() -> frozenset[tuple[str, str]]:
    """(method, path) of every route declared public=True."""
    return frozenset((r.method, r.path) for r in access.ROUTES if r.public)


def public_methods() -> frozenset[str]:
    return frozenset(method for method, _ in public_routes())


def route_arn_suffixes() -> frozenset[str]:
    """`GET/pets`, `DELETE/pets/*`: the only route parts an invoke ARN may name."""
    return frozenset(r.arn_suffix for r in access.ROUTES)


def preflight_arn_suffixes() -> frozenset[str]:
    """`OPTIONS/pets`, `OPTIONS/pets/*`: the CORS preflights of the model's paths."""
    return frozenset("OPTIONS/" + r.arn_suffix.split("/", 1)[1] for r in access.ROUTES)


def is_preflight_arn(arn: str) -> bool:
    """An execute-api ARN naming exactly one of the model's preflights, nothing wider."""
    match = _INVOKE_ARN.match(arn)
    if match is None or any(not match[p] or "*" in match[p] or "?" in match[p]
                            for p in ("region", "account", "api", "stage")):
        return False
    return match["route"] in preflight_arn_suffixes()


def invoke_arn_problem(arn: str) -> str | None:
    """Why an execute-api:Invoke resource is broader than a model route, or None.

    Allowed: exactly what components/policies.route_arn generates, i.e. no
    wildcard in region, account, API id or stage, and `METHOD/path` equal to
    some route's arn_suffix (whose only wildcard stands for a `{param}`).
    """
    if arn == "*":
        return "Resource '*' (every API in every account)"
    match = _INVOKE_ARN.match(arn)
    if match is None:
        return (f"{arn!r} is not an execute-api ARN of the form "
                "arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>")
    for part, label in (("region", "region"), ("account", "account"), ("api", "API id"),
                        ("stage", "stage")):
        value = match[part]
        if not value or "*" in value or "?" in value:
            return f"{arn!r} has a wildcard or empty {label}"
    route = match["route"]
    if route in route_arn_suffixes():
        return None
    if "*" in route or "?" in route:
        return (f"{arn!r} has a wildcard in its method or path beyond the model's "
                "path parameters")
    return f"{arn!r} names {route!r}, which is not a route in access.ROUTES"


def allowed_route_suffixes_text() -> str:
    return ", ".join(sorted(route_arn_suffixes()))


def function_route(role_props: Mapping[str, Any]) -> access.Route | None:
    """The model route whose function runs as this role, known by the role's name
    (`pets-<stack>-add-pet-fn`, components/naming.py), else None."""
    name = role_props.get("name")
    if not isinstance(name, str):
        return None
    for route in access.ROUTES:
        if re.fullmatch(naming.execution_role_name(naming.function_name("pets-.+", route)),
                        name):
            return route
    return None


IDEMPOTENCY = "idempotency"
PETS = "pets"


def table_kind(table_props: Mapping[str, Any]) -> str:
    """Which of the stack's tables this is, by its name (components/naming.py): the
    idempotency records, or the pets (any other table is judged as the pets table, whose
    actions are the model's narrower ones for most routes)."""
    name = table_props.get("name")
    if isinstance(name, str) and re.fullmatch(
            naming.idempotency_table_name("pets-.+"), name):
        return IDEMPOTENCY
    return PETS


def route_table_actions(route: access.Route, kind: str) -> frozenset[str]:
    """The DynamoDB actions the model gives a route's function on a table of this kind."""
    actions = route.idempotency_actions if kind == IDEMPOTENCY else route.table_actions
    return frozenset(a.lower() for a in actions)


def managing_class(role_props: Mapping[str, Any]) -> access.UserClass | None:
    """The class a role serves if that class manages the shop, else None.

    Known by the `pets:userClass` tag components/identity.py sets, or by the role's name
    `pets-<stack>-<class>`, so removing the tag does not hide a role from the rule.
    """
    tags = role_props.get("tags") if isinstance(role_props.get("tags"), Mapping) else {}
    name = role_props.get("name")
    for user_class in access.USER_CLASSES:
        tagged = tags.get("pets:userClass") == user_class.name
        named = isinstance(name, str) and re.fullmatch(rf"pets-.+-{user_class.name}", name)
        if (tagged or named) and user_class.manages_shop:
            return user_class
    return None
