"""Who may call what: the access model of the pets API.

Read this file first. Everything that grants access is generated from it:
the API Gateway methods (components/api.py), the role per user class and its
invoke policy (components/identity.py), ACCESS.md, the policy pack's
expectations and the integration suite's expected matrix.

- ROUTES: every method of the API. A route is AWS_IAM-protected unless it says
  `public=True`.
- USER_CLASSES: each class gets one IAM role. The role may invoke exactly the
  routes listed for the class, nothing else (no wildcards beyond path
  parameters).
- Membership: who may assume a class's role, decided by the role's trust policy
  from claims of the OIDC ID token that IAM can condition on. A stack may
  override membership (Pulumi.<stack>.yaml, `pets:userClasses`), never the
  routes a class may call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_PATH = re.compile(r"^(/([A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9]*\}))+$")


@dataclass(frozen=True)
class Route:
    """One API method and the Lambda route function that serves it."""

    method: str
    path: str
    handler: str  # route function in handlers/app.py; also names the Lambda
    table_actions: tuple[str, ...]  # DynamoDB actions its execution role gets
    public: bool = False
    summary: str = ""

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"route {self.method} {self.path}: unsupported method")
        if not _PATH.match(self.path):
            raise ValueError(f"route {self.method} {self.path}: malformed path")
        if not self.handler.isidentifier():
            raise ValueError(f"route {self.id}: handler must be a Python identifier")

    @property
    def id(self) -> str:
        """How people write the route: `DELETE /pets/{petId}`."""
        return f"{self.method} {self.path}"

    @property
    def arn_suffix(self) -> str:
        """The route's part of an execute-api ARN: `DELETE/pets/*`.

        API Gateway matches path parameters in ARNs with `*`; that is the only
        wildcard a role policy may carry.
        """
        segments = ["*" if s.startswith("{") else s for s in self.path.strip("/").split("/")]
        return f"{self.method}/{'/'.join(segments)}"


@dataclass(frozen=True)
class Membership:
    """How IAM recognises a member of a user class from the OIDC ID token.

    A token matches if ANY of the rules matches (each kind becomes its own
    trust-policy statement, and every statement also requires the audience):
    - sub_patterns: `<issuer>:sub` StringLike patterns, e.g. `auth0|*`
      (Auth0 puts the connection in the sub prefix);
    - subjects: exact `<issuer>:sub` values;
    - session_tags: `aws:RequestTag/<key>` values the IdP puts in the token's
      `https://aws.amazon.com/tags` claim (needs `sts:TagSession`).
    """

    sub_patterns: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    session_tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not (self.sub_patterns or self.subjects or self.session_tags):
            raise ValueError("a membership needs at least one rule")
        for pattern in self.sub_patterns:
            if not pattern or pattern == "*":
                raise ValueError(f"sub pattern {pattern!r} would admit everyone")
        object.__setattr__(self, "session_tags", MappingProxyType(dict(self.session_tags)))


@dataclass(frozen=True)
class UserClass:
    """A kind of user: one IAM role, the routes it may call, who belongs."""

    name: str
    routes: tuple[Route, ...]
    members: Membership
    description: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]*", self.name):
            raise ValueError(f"user class {self.name!r}: use a lowercase word")
        if any(route.public for route in self.routes):
            raise ValueError(f"user class {self.name}: public routes need no grant")

    def may_call(self, route: Route) -> bool:
        return route in self.routes


LIST_PETS = Route(
    "GET", "/pets", "list_pets", ("dynamodb:Scan",), summary="list all pets"
)
ADD_PET = Route(
    "POST", "/pets", "add_pet", ("dynamodb:PutItem",), summary="add one pet"
)
REMOVE_PET = Route(
    "DELETE",
    "/pets/{petId}",
    "remove_pet",
    ("dynamodb:DeleteItem", "dynamodb:GetItem"),  # GetItem tells 404 from 409
    summary="remove one unsold pet",
)
PURCHASE_PET = Route(
    "POST",
    "/pets/purchase",
    "purchase_pet",
    ("dynamodb:UpdateItem", "dynamodb:GetItem"),  # GetItem tells 404 from 409
    summary="buy one pet as the user of the X-Id-Token ID token",
)

ROUTES: tuple[Route, ...] = (LIST_PETS, ADD_PET, REMOVE_PET, PURCHASE_PET)

# Auth0 social connections put their name in the sub prefix.
SOCIAL_SUB_PATTERNS = (
    "google-oauth2|*",
    "github|*",
    "apple|*",
    "amazon|*",
    "facebook|*",
    "twitter|*",
    "windowslive|*",
    "linkedin|*",
)

ADMIN = UserClass(
    "admin",
    routes=(LIST_PETS, ADD_PET, REMOVE_PET),  # not purchase: admins run the shop
    members=Membership(sub_patterns=("auth0|*",)),
    description="database-connection users manage the pets",
)
BUYER = UserClass(
    "buyer",
    routes=(LIST_PETS, PURCHASE_PET),
    members=Membership(sub_patterns=SOCIAL_SUB_PATTERNS),
    description="social-login users buy pets",
)

USER_CLASSES: tuple[UserClass, ...] = (ADMIN, BUYER)


def route_by_id(route_id: str) -> Route:
    for route in ROUTES:
        if route.id == route_id:
            return route
    raise KeyError(route_id)


def access_matrix(
    classes: tuple[UserClass, ...] = USER_CLASSES, routes: tuple[Route, ...] = ROUTES
) -> dict[str, dict[str, bool]]:
    """{class: {route id: allowed}} for every class and every route."""
    return {c.name: {r.id: r.public or c.may_call(r) for r in routes} for c in classes}


def _check_model() -> None:
    ids = [r.id for r in ROUTES]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate route in ROUTES")
    handlers = [r.handler for r in ROUTES]
    if len(set(handlers)) != len(handlers):
        raise ValueError("two routes share a handler; each route gets its own Lambda")
    names = [c.name for c in USER_CLASSES]
    if len(set(names)) != len(names):
        raise ValueError("duplicate user class")
    for user_class in USER_CLASSES:
        for route in user_class.routes:
            if route not in ROUTES:
                raise ValueError(f"{user_class.name} grants {route.id}, which is not in ROUTES")


_check_model()
