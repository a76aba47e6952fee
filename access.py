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
- A class that may call a route which manages the shop (anything but reading
  and buying) is recognised only by an explicit grant: exact subjects, or a
  session tag the identity provider asserts from a grant. A `sub` pattern
  covers every account of a connection, and anyone can sign up to one.
- PET_FIELDS: what each class may read of a pet. Who bought a pet (their e-mail, their
  subject) is read only by classes recognised by an explicit grant and by that buyer
  themself, whom the function knows by a verified ID token, never by anything the client
  chooses.
- TOKEN_KINDS: the ID tokens anyone can obtain (a self-registered user, a
  social login, a granted staff member, tokens for another client or from
  another issuer), and which class each becomes under a stack's membership
  (ACCESS.md's "who becomes which class"; the offline IAM engine checks it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# The session tag an identity provider sets from a grant (Auth0: a role, turned into the
# token's https://aws.amazon.com/tags claim by auth0/post-login.js); its value is a class name.
GRANT_TAG_KEY = "pets-class"
# The ID token claim whose principal_tags STS turns into session tags (aws:RequestTag/<key>).
TAGS_CLAIM = "https://aws.amazon.com/tags"
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
    # Changes the shop (anything but reading and buying). True unless a route says otherwise,
    # so a new route needs an explicit grant until someone decides strangers may call it.
    manages_shop: bool = True
    # DynamoDB actions on the idempotency table (a retried request with the same
    # Idempotency-Key gets the first answer again); none: the route takes no key.
    idempotency_actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"route {self.method} {self.path}: unsupported method")
        if not _PATH.match(self.path):
            raise ValueError(f"route {self.method} {self.path}: malformed path")
        if not self.handler.isidentifier():
            raise ValueError(f"route {self.id}: handler must be a Python identifier")
        for action in (*self.table_actions, *self.idempotency_actions):
            if not re.fullmatch(r"dynamodb:[A-Z][A-Za-z]+", action):
                raise ValueError(f"route {self.id}: {action!r} is not one DynamoDB action "
                                 "(dynamodb:<Operation>, no wildcards)")

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

    @property
    def open_patterns(self) -> tuple[str, ...]:
        """Sub patterns with a wildcard: they admit accounts nobody granted anything to."""
        return tuple(p for p in self.sub_patterns if "*" in p or "?" in p)

    def admits(self, claims: TokenClaims) -> bool:
        """Whether STS would let a token with these claims assume the class's role.

        Mirrors components/policies.trust_policy: every rule requires our issuer and client;
        a token that carries session tags also needs sts:TagSession, which only the
        session-tag rule grants, so such a token is judged by its tags alone. IAM names a tag's
        condition key `aws:RequestTag/<key>` and compares key names case-insensitively, so a
        tag key matches in any case (its value does not).
        """
        if not (claims.own_issuer and claims.own_client):
            return False
        if claims.session_tags:
            tags = {k.lower(): v for k, v in claims.session_tags.items()}
            return bool(self.session_tags) and all(
                tags.get(k.lower()) == v for k, v in self.session_tags.items()
            )
        return claims.sub in self.subjects or any(
            string_like(p, claims.sub) for p in self.sub_patterns
        )


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
        if self.manages_shop and self.members.open_patterns:
            managing = ", ".join(r.id for r in self.routes if r.manages_shop)
            raise ValueError(
                f"user class {self.name} may call {managing}, which manage the shop, so its "
                f"members need an explicit grant; sub pattern(s) "
                f"{', '.join(self.members.open_patterns)} admit every account of a connection, "
                "and anyone can sign up to one (Auth0 gives every database user `auth0|...`). "
                "Use subjects (exact subs) or sessionTags (a class claim the identity provider "
                "asserts from a grant)"
            )

    @property
    def manages_shop(self) -> bool:
        return any(route.manages_shop for route in self.routes)

    def may_call(self, route: Route) -> bool:
        return route in self.routes


@dataclass(frozen=True)
class TokenClaims:
    """An ID token, as far as an IAM trust policy can see it."""

    label: str
    sub: str
    own_issuer: bool = True  # issued by the stack's OIDC provider
    own_client: bool = True  # `aud` is the stack's client id
    session_tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "session_tags", MappingProxyType(dict(self.session_tags)))


def shared_members(a: Membership, b: Membership) -> tuple[str, ...]:
    """The rules of two memberships one token can meet at once (empty: no token is in both).

    A token without session tags is judged by its sub, one with tags by its tags alone
    (Membership.admits), so only two sub rules or two tag rules can meet.
    """
    def sub_rules(m: Membership) -> list[tuple[str, str, bool]]:  # (label, text, exact)
        return ([(f"sub like {p}", p, False) for p in m.sub_patterns]
                + [(f"sub = {s}", s, True) for s in m.subjects])

    found = [f"{x} and {y}" for x, tx, ex in sub_rules(a) for y, ty, ey in sub_rules(b)
             if (tx == ty if ex and ey else string_like(ty, tx) if ex
                 else string_like(tx, ty) if ey else patterns_overlap(tx, ty))]
    if a.session_tags and b.session_tags:
        tags_a = {k.lower(): v for k, v in a.session_tags.items()}
        tags_b = {k.lower(): v for k, v in b.session_tags.items()}
        if all(tags_b[k] == v for k, v in tags_a.items() if k in tags_b):
            found.append(f"session tags {dict(a.session_tags)} and {dict(b.session_tags)}")
    return tuple(found)


def patterns_overlap(p: str, q: str) -> bool:
    """Whether some string matches both IAM patterns (`*` any run, `?` one character).

    Walks both patterns at once: a state is a position in each; `*` may stay or move on, any
    two tokens that can stand for one same character move both on.
    """
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(p) and j == len(q):
            return True
        a = p[i] if i < len(p) else None
        b = q[j] if j < len(q) else None
        if a == "*":
            todo.append((i + 1, j))
        if b == "*":
            todo.append((i, j + 1))
        if a is not None and b is not None and (a in "*?" or b in "*?" or a == b):
            todo.append((i if a == "*" else i + 1, j if b == "*" else j + 1))
    return False


def string_like(pattern: str, value: str) -> bool:
    """IAM StringLike: case-sensitive, `*` any run of characters (also none), `?` one character.

    Not fnmatch: fnmatch also treats `[...]` as a character class, IAM does not.
    """
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


LIST_PETS = Route(
    "GET", "/pets", "list_pets", ("dynamodb:Query",),  # on the list index only (policies.py)
    summary="list pets, one page at a time", manages_shop=False
)
# What Powertools' idempotency utility does to its table (DynamoDBPersistenceLayer): puts
# the in-progress record, reads it back, stores the answer, deletes it when the add fails.
IDEMPOTENCY_ACTIONS = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                       "dynamodb:UpdateItem")
ADD_PET = Route(
    "POST", "/pets", "add_pet", ("dynamodb:PutItem",), summary="add one pet",
    idempotency_actions=IDEMPOTENCY_ACTIONS,
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
    manages_shop=False,  # strangers buying is the business
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
    members=Membership(session_tags={GRANT_TAG_KEY: "admin"}),
    description="staff granted the admin class by the identity provider manage the pets",
)
BUYER = UserClass(
    "buyer",
    routes=(LIST_PETS, PURCHASE_PET),
    members=Membership(sub_patterns=SOCIAL_SUB_PATTERNS),
    description="social-login users buy pets",
)

USER_CLASSES: tuple[UserClass, ...] = (ADMIN, BUYER)


# Every class that may call a route answering pets: a field for EVERY_CLASS is no secret.
EVERY_CLASS = "*"


@dataclass(frozen=True)
class PetField:
    """One field of a pet as the API answers it, and who may read it.

    readers: class names, or (EVERY_CLASS,). buyer_reads: the pet's own buyer reads it
    too, whatever their class, recognised by a verified ID token (X-Id-Token).
    names_the_buyer: the field tells who bought the pet (e-mail, subject); such a field
    is for classes recognised by an explicit grant (those that manage the shop) and the
    buyer themself only: anyone can join a class recognised by a sub pattern, so giving
    it such a field would give every buyer's identity to every stranger who logs in.
    """

    name: str
    readers: tuple[str, ...]
    buyer_reads: bool = False
    names_the_buyer: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"pet field {self.name!r}: use a JSON property name")
        if not self.readers and not self.buyer_reads:
            raise ValueError(f"pet field {self.name}: nobody may read it; drop it instead")
        if EVERY_CLASS in self.readers and len(self.readers) > 1:
            raise ValueError(f"pet field {self.name}: {EVERY_CLASS!r} already means every "
                             "class; list no class beside it")
        if self.names_the_buyer and EVERY_CLASS in self.readers:
            raise ValueError(f"pet field {self.name} names the buyer, so not every class may "
                             "read it: list the classes that manage the shop, and set "
                             "buyer_reads for the buyer themself")


PET_FIELDS: tuple[PetField, ...] = (
    PetField("petId", (EVERY_CLASS,), description="the pet's id"),
    PetField("type", (EVERY_CLASS,), description="what kind of pet"),
    PetField("price", (EVERY_CLASS,), description="its price"),
    PetField("createdAt", (EVERY_CLASS,), description="when it was added"),
    PetField("sold", (EVERY_CLASS,), description="whether someone bought it"),
    PetField("soldAt", (EVERY_CLASS,), description="when it was sold"),
    PetField("soldTo", ("admin",), buyer_reads=True, names_the_buyer=True,
             description="the buyer's e-mail (their subject without one)"),
    PetField("buyerSub", ("admin",), buyer_reads=True, names_the_buyer=True,
             description="the buyer's OIDC subject"),
)


def readable_fields(user_class: str, *, own_purchase: bool = False,
                    fields: tuple[PetField, ...] = PET_FIELDS) -> tuple[str, ...]:
    """The fields of a pet a member of `user_class` reads (own_purchase: they bought it)."""
    return tuple(f.name for f in fields
                 if EVERY_CLASS in f.readers or user_class in f.readers
                 or (own_purchase and f.buyer_reads))


def check_pet_fields(fields: tuple[PetField, ...], classes: Iterable[UserClass]) -> None:
    """Refuses a reader that is no class, and a field naming the buyer given to a class
    anyone can join (one that does not manage the shop: access.py lets such a class be
    recognised by a sub pattern)."""
    by_name = {c.name: c for c in classes}
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ValueError("duplicate field in PET_FIELDS")
    for pet_field in fields:
        for reader in pet_field.readers:
            if reader == EVERY_CLASS:
                continue
            if reader not in by_name:
                raise ValueError(f"pet field {pet_field.name}: reader {reader!r} is not a user "
                                 f"class ({', '.join(sorted(by_name))})")
            if pet_field.names_the_buyer and not by_name[reader].manages_shop:
                raise ValueError(
                    f"pet field {pet_field.name} names the buyer, and class {reader} does not "
                    "manage the shop, so anyone may join it (a sub pattern): it would read "
                    "every other buyer's identity. Let the buyer read their own purchase "
                    "(buyer_reads) instead")


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


# Tokens anyone can obtain, besides a granted one (see token_kinds).
SELF_REGISTERED = TokenClaims("self-registered database user", "auth0|6650f1e2c3a4b5d6e7f80912")
SOCIAL_LOGIN = TokenClaims("social-login user", "google-oauth2|104857600123456789012")
STAFF_SUB = "auth0|staff-member"


def granted_tokens(user_class: UserClass) -> tuple[TokenClaims, ...]:
    """Tokens of people granted this class: one per kind of grant its membership has."""
    members = user_class.members
    tokens = []
    if members.subjects:
        tokens.append(TokenClaims(f"{user_class.name} by listed subject", members.subjects[0]))
    if members.session_tags:
        # A database user, as staff are, whose identity provider asserts the grant.
        tokens.append(TokenClaims(f"{user_class.name} by grant tag", STAFF_SUB,
                                  session_tags=members.session_tags))
    return tuple(tokens)


def token_kinds(classes: tuple[UserClass, ...] = USER_CLASSES) -> tuple[TokenClaims, ...]:
    """The tokens a review asks about: what a stranger can get, and a grant misused."""
    granted = [t for c in classes for t in granted_tokens(c)]
    kinds = [SELF_REGISTERED, SOCIAL_LOGIN, *granted]
    kinds.append(TokenClaims("token for another client", SOCIAL_LOGIN.sub, own_client=False))
    kinds.append(TokenClaims("token from another issuer", SOCIAL_LOGIN.sub, own_issuer=False))
    for token in granted:
        kinds.append(replace(token, label=f"{token.label}, wrong audience", own_client=False))
        kinds.append(replace(token, label=f"{token.label}, another issuer", own_issuer=False))
    return tuple(kinds)


def classes_of(claims: TokenClaims, classes: tuple[UserClass, ...] = USER_CLASSES) -> list[str]:
    """The classes whose role a token may assume, by the membership rules."""
    return [c.name for c in classes if c.members.admits(claims)]


def check_path_variables(routes: Iterable[Route]) -> None:
    """Refuses two different variable names under one parent (`/pets/{petId}` beside
    `/pets/{id}`): API Gateway allows one variable path part per parent resource, so such
    a table cannot be deployed (CreateResource answers ConflictException)."""
    seen: dict[str, tuple[str, Route]] = {}  # parent path -> (its variable part, first route)
    for route in routes:
        segments = route.path.strip("/").split("/")
        for depth, segment in enumerate(segments):
            if not segment.startswith("{"):
                continue
            parent = "/" + "/".join(segments[:depth])
            first = seen.setdefault(parent, (segment, route))
            if first[0] != segment:
                raise ValueError(
                    f"routes {first[1].id} and {route.id}: {parent} has two path variables, "
                    f"{first[0]} and {segment}; API Gateway allows one variable path part per "
                    f"parent resource. Use one name under {parent} in every route"
                )


def _check_model() -> None:
    ids = [r.id for r in ROUTES]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate route in ROUTES")
    check_path_variables(ROUTES)
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
    check_pet_fields(PET_FIELDS, USER_CLASSES)


_check_model()
