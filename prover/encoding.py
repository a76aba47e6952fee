"""The IAM fragment (prover/fragment.py) as z3 formulas over a symbolic request.

The semantics are IAM's as AWS documents them and as the offline engine (iam-simulate, pinned
in iamsim/package.json) evaluates them; tests/prover/test_differential.py compares the two on
random policies and requests. Where they diverge the construct is refused (fragment.py), never
guessed. The points that matter:

- Strings range over printable ASCII (U+0020..U+007E), the universe of every variable. A policy
  with any other character is refused, and `spare_character` checks that one printable character
  appears in no policy literal: any string outside the universe then behaves, for every pattern,
  like one inside it with that character in place of each foreign one, so a proof over the
  universe holds for every string without line terminators (whose wildcard semantics AWS does
  not document and the engines differ on).
- Globs (StringLike, Resource, ArnLike): `*` any run of characters, `/` and empty included,
  `?` exactly one; values compare case-sensitively.
- Resource ARNs: the partition, service, region and account segments compare segment by segment
  and case-insensitively (iam-simulate; AWS's request ARNs are lower case there anyway), a `*`
  within them does not cross `:`, the resource part is one glob. A policy ARN shorter than six
  segments is padded with `*` segments (identity policies always; resource policies only when it
  has a wildcard, else it matches nothing).
- ArnLike/ArnEquals (the same operator in IAM): the value is split at `:`, the first part is not
  compared, the next four segment by segment, the rest as one glob; a value with fewer than four
  colons is no ARN and matches neither ArnLike nor ArnNotLike.
- Condition key names compare case-insensitively. A negated operator (StringNotEquals,
  StringNotLike, ArnNotLike) holds when the key is absent; ForAllValues holds for an absent key,
  ForAnyValue does not. A single-valued operator on a multi-valued key is refused.
- Actions compare case-insensitively (the request's action is concrete: each request shape has
  its own).
- Principal `{"AWS": <role ARN>}` matches the role's sessions (`assumed-role/<name>/...`, the
  name compared case-insensitively); other ARNs, Federated and Service compare exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import z3

from prover.fragment import (
    ARN_OPERATORS,
    NEGATED_OPERATORS,
    CannotProve,
    Condition,
    Policy,
    PrincipalRef,
    Statement,
    Where,
)

FIRST, LAST = " ", "~"
PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


def char_class(excluded: str = "") -> z3.ReRef:
    """Any one printable character except those in `excluded`."""
    bounds = sorted({ord(c) for c in excluded})
    ranges, low = [], ord(FIRST)
    for code in bounds:
        if code > low:
            ranges.append(z3.Range(chr(low), chr(code - 1)))
        low = code + 1
    if low <= ord(LAST):
        ranges.append(z3.Range(chr(low), chr(ord(LAST))))
    return ranges[0] if len(ranges) == 1 else z3.Union(*ranges)


ANY = char_class()
NOT_COLON = char_class(":")
DIGIT = z3.Range("0", "9")
EMPTY = z3.Re(z3.StringVal(""))


def universe(value: z3.SeqRef) -> z3.BoolRef:
    """`value` is a string of the universe (printable ASCII)."""
    return z3.InRe(value, z3.Star(ANY))


def concat(*parts: z3.ReRef) -> z3.ReRef:
    parts = tuple(p for p in parts if p is not None)
    if not parts:
        return EMPTY
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


@cache
def literal(text: str, *, case_insensitive: bool = False) -> z3.ReRef:
    if not case_insensitive:
        return z3.Re(z3.StringVal(text)) if text else EMPTY
    parts = []
    for c in text:
        lower, upper = c.lower(), c.upper()
        parts.append(z3.Re(z3.StringVal(c)) if lower == upper
                     else z3.Union(z3.Re(z3.StringVal(lower)), z3.Re(z3.StringVal(upper))))
    return concat(*parts)


@cache
def glob(pattern: str, *, segment: bool = False, case_insensitive: bool = False) -> z3.ReRef:
    """IAM wildcard matching: `*` any run of characters (none too), `?` exactly one; within an
    ARN segment (`segment`) neither matches `:`."""
    any_char = NOT_COLON if segment else ANY
    parts: list[z3.ReRef] = []
    run = ""
    for c in pattern:
        if c in "*?":
            if run:
                parts.append(literal(run, case_insensitive=case_insensitive))
                run = ""
            parts.append(z3.Star(any_char) if c == "*" else any_char)
        else:
            run += c
    if run:
        parts.append(literal(run, case_insensitive=case_insensitive))
    return concat(*parts)


def glob_matches(pattern: str, value: str) -> bool:
    """The same glob, on plain strings (for concrete checks and tests)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def check_printable(text: str, where: Where | None, what: str) -> None:
    for c in text:
        if c not in PRINTABLE:
            raise CannotProve(f"character U+{ord(c):04X} outside printable ASCII in {what} "
                              f"{text!r}", where)


# --- ARNs -------------------------------------------------------------------------------------

ACCOUNT = concat(*[DIGIT] * 12)
# A request's resource ARN: arn:<partition>:<service>:<region>:<12-digit account>:<resource>.
RESOURCE_ARN = concat(literal("arn:"), z3.Star(NOT_COLON), literal(":"), z3.Star(NOT_COLON),
                      literal(":"), z3.Star(NOT_COLON), literal(":"), ACCOUNT, literal(":"),
                      z3.Star(ANY))
# A principal's ARN as aws:PrincipalArn carries it: four colon-free segments, then anything.
PRINCIPAL_ARN = concat(literal("arn:"), z3.Star(NOT_COLON), literal(":"), z3.Star(NOT_COLON),
                       literal(":"), z3.Star(NOT_COLON), literal(":"), z3.Star(NOT_COLON),
                       literal(":"), z3.Star(ANY))


def _product(service: str, region: str, account: str, resource: str) -> str:
    """The resource-type part iam-simulate compares literally (util.js getResourceSegments)."""
    if service == "s3" and account == "" and region == "":
        return ""
    slash, colon = resource.find("/"), resource.find(":")
    if slash != -1 and colon != -1:
        return resource[: min(slash, colon) + 1]
    if colon == -1:
        return resource[: slash + 1]
    return resource[: colon + 1]


@cache
def _resource_pattern(pattern: str, kind: str, where: Where) -> z3.ReRef | None:
    """The regex of request ARNs a Resource entry matches (None: it matches none)."""
    check_printable(pattern, where, "Resource")
    if pattern == "*":
        return z3.Star(ANY)
    if not pattern.startswith("arn:"):
        raise CannotProve(f"Resource {pattern!r} (neither * nor an ARN)", where)
    parts = pattern.split(":")
    if len(parts) < 6:
        if kind == "resource" and "*" not in pattern:
            return None  # iam-simulate: a short ARN without a wildcard matches nothing there
        parts += ["*"] * (6 - len(parts))
    partition, service, region, account = parts[1:5]
    resource = ":".join(parts[5:])
    product = _product(service, region, account, resource)
    if "*" in product or "?" in product:
        raise CannotProve(f"wildcard in the resource-type part {product!r} of Resource "
                          f"{pattern!r}", where)
    segments = [glob(p, segment=True, case_insensitive=True)
                for p in (partition, service, region, account)]
    return concat(literal("arn:"), segments[0], literal(":"), segments[1], literal(":"),
                  segments[2], literal(":"), segments[3], literal(":"), glob(resource))


def resource_matches(pattern: str, resource: z3.SeqRef, kind: str, where: Where) -> z3.BoolRef:
    regex = _resource_pattern(pattern, kind, where)
    return z3.BoolVal(False) if regex is None else z3.InRe(resource, regex)


@cache
def _arn_value_pattern(pattern: str, where: Where) -> z3.ReRef:
    """Values ArnLike/ArnEquals `pattern` matches (iam-simulate condition/arn/arn.js)."""
    parts = pattern.split(":")
    if len(parts) < 5:
        raise CannotProve(f"ArnLike value {pattern!r} is no ARN", where)
    segments = [glob(p, segment=True) for p in parts[1:5]]
    head = concat(z3.Star(NOT_COLON), literal(":"), segments[0], literal(":"), segments[1],
                  literal(":"), segments[2], literal(":"), segments[3])
    resource = ":".join(parts[5:])
    with_resource = concat(head, literal(":"), glob(resource))
    # "a:b:c:d:e" has the resource "" too, as "a:b:c:d:e:" does.
    return z3.Union(head, with_resource) if glob_matches(resource, "") else with_resource


ARN_VALUE = concat(z3.Star(NOT_COLON), literal(":"), z3.Star(NOT_COLON), literal(":"),
                   z3.Star(NOT_COLON), literal(":"), z3.Star(NOT_COLON), literal(":"),
                   z3.Star(NOT_COLON), z3.Option(concat(literal(":"), z3.Star(ANY))))


# --- condition keys and values ----------------------------------------------------------------


@dataclass(frozen=True)
class KeyValue:
    """A condition key in a request: whether it is present and its value(s).

    Single-valued keys have one slot whose flag is `present`; a multi-valued key holds a slot per
    possible element, each with its own membership flag (a slot out of the set is ignored).
    """

    present: z3.BoolRef
    slots: tuple[tuple[z3.BoolRef, z3.SeqRef], ...]
    multi: bool = False

    @staticmethod
    def single(present: z3.BoolRef | bool, value: z3.SeqRef | str) -> KeyValue:
        present = z3.BoolVal(present) if isinstance(present, bool) else present
        value = z3.StringVal(value) if isinstance(value, str) else value
        return KeyValue(present, ((present, value),))


KeyLookup = Callable[[str, Where], KeyValue]


def _value_matches(condition: Condition, value: z3.SeqRef, where: Where) -> z3.BoolRef:
    """The base operator on one request value: any policy value for the positive operators,
    every policy value for the negated ones (IAM's OR across values, De Morgan for Not)."""
    op = condition.operator
    for v in condition.values:
        check_printable(v, where, f"{condition.text} {condition.key}")
    if op in ("StringEquals", "StringNotEquals"):
        hits = [value == z3.StringVal(v) for v in condition.values]
    elif op in ("StringLike", "StringNotLike"):
        hits = [z3.InRe(value, glob(v)) for v in condition.values]
    elif op in ARN_OPERATORS:
        hits = [z3.InRe(value, _arn_value_pattern(v, where)) for v in condition.values]
    elif op == "Bool":
        truth = z3.InRe(value, z3.Union(literal("true", case_insensitive=True),
                                        literal("false", case_insensitive=True)))
        hits = [z3.And(truth, z3.InRe(value, literal(v, case_insensitive=True)))
                for v in condition.values if v.lower() in ("true", "false")]
    else:  # pragma: no cover - fragment.OPERATORS is closed
        raise CannotProve(f"operator {condition.text}", where)
    if op in NEGATED_OPERATORS:
        if op == "ArnNotLike":  # no ARN at all: neither ArnLike nor ArnNotLike holds
            return z3.And(z3.InRe(value, ARN_VALUE), *[z3.Not(h) for h in hits])
        return z3.And(*[z3.Not(h) for h in hits]) if hits else z3.BoolVal(True)
    return z3.Or(*hits) if hits else z3.BoolVal(False)


def condition_holds(condition: Condition, lookup: KeyLookup, where: Where) -> z3.BoolRef:
    key = lookup(condition.key, where)
    if condition.operator == "Null":
        wanted = {v.lower() for v in condition.values}
        options = ([z3.Not(key.present)] if "true" in wanted else []) + (
            [key.present] if "false" in wanted else [])
        return z3.Or(*options) if options else z3.BoolVal(False)
    if condition.set_operator is None:
        if key.multi:
            raise CannotProve(f"{condition.text} on the multi-valued key {condition.key} "
                              "(use ForAnyValue or ForAllValues)", where)
        [(present, value)] = key.slots
        matched = _value_matches(condition, value, where)
        if condition.operator in NEGATED_OPERATORS:
            return z3.Or(z3.Not(present), matched)
        return z3.And(present, matched)
    each = [(member, _value_matches(condition, value, where)) for member, value in key.slots]
    if condition.set_operator == "ForAnyValue":
        return z3.And(key.present, z3.Or(*[z3.And(m, hit) for m, hit in each]))
    return z3.Or(z3.Not(key.present), z3.And(*[z3.Implies(m, hit) for m, hit in each]))


# --- principals -------------------------------------------------------------------------------

_ROLE_ARN = re.compile(r"^arn:(?P<partition>[a-zA-Z-]+):iam::(?P<account>\d{12}):role/"
                       r"(?P<path>.*)$")
_USER_ARN = re.compile(r"^arn:[a-zA-Z-]+:iam::\d{12}:user/.*$")
_UNIQUE_ID = re.compile(r"^A[0-9A-Z]+$")


@cache
def role_sessions(role_arn: str) -> z3.ReRef | None:
    """Session ARNs of a role (`arn:<p>:sts::<acct>:assumed-role/<name>[/...]`), the name
    compared case-insensitively as iam-simulate does; None when `role_arn` is no role ARN."""
    match = _ROLE_ARN.match(role_arn)
    if match is None or not match["path"]:
        return None
    name = match["path"].rsplit("/", 1)[-1]
    if not name:
        return None
    return concat(literal(f"arn:{match['partition']}:sts::{match['account']}:assumed-role/"),
                  literal(name, case_insensitive=True),
                  z3.Option(concat(literal("/"), z3.Star(ANY))))


@dataclass(frozen=True)
class RequestPrincipal:
    """Who makes the request: `value` (a session ARN, a provider ARN, a service name), or
    nobody (anonymous: only a `*` principal matches)."""

    value: z3.SeqRef
    anonymous: z3.BoolRef

    def matches(self, ref: PrincipalRef, where: Where) -> z3.BoolRef:
        if ref.kind == "*":
            return z3.BoolVal(True)
        check_printable(ref.value, where, f"Principal {ref.kind}")
        exact = self.value == z3.StringVal(ref.value)
        if ref.kind == "AWS":
            if _USER_ARN.match(ref.value) or _UNIQUE_ID.match(ref.value):
                raise CannotProve(f"principal {ref.value} (IAM users and unique ids)", where)
            sessions = role_sessions(ref.value)
            if sessions is not None:
                exact = z3.Or(exact, z3.InRe(self.value, sessions))
        return z3.And(z3.Not(self.anonymous), exact)


# --- statements and policies ------------------------------------------------------------------


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, wildcards in the action name."""
    if set(pattern) == {"*"}:
        return True
    service, _, name = pattern.partition(":")
    want_service, _, want_name = action.partition(":")
    if not re.fullmatch(r"[A-Za-z0-9*?-]+", name):
        return False
    regex = name.replace("*", ".*").replace("?", ".")
    return (service.lower() == want_service.lower()
            and re.fullmatch(regex, want_name, flags=re.IGNORECASE) is not None)


@dataclass(frozen=True)
class SymbolicRequest:
    """One request shape's variables, as the encoding reads them."""

    action: str
    resource: z3.SeqRef | None  # None: the policy kind has no Resource (trust policies)
    principal: RequestPrincipal | None  # None: identity policies only
    keys: KeyLookup


def statement_applies(statement: Statement, request: SymbolicRequest, kind: str
                      ) -> z3.BoolRef:
    where = statement.where
    hit = any(action_matches(a, request.action) for a in statement.actions)
    if statement.not_action:
        hit = not hit
    for action in statement.actions:
        check_printable(action, where, "Action")
    if not hit:
        return z3.BoolVal(False)
    parts: list[z3.BoolRef] = []
    if statement.resources is not None:
        if kind == "trust":
            raise CannotProve("Resource in a trust policy", where)
        if request.resource is None:  # pragma: no cover - request shapes always carry one
            raise CannotProve("a Resource where the request has none", where)
        if statement.not_resource:
            for pattern in statement.resources:
                if pattern != "*" and len(pattern.split(":")) < 6:
                    # iam-simulate never inverts a padded ARN's mismatch (resource.js
                    # shortArnExpandedMismatch), and AWS documents no NotResource meaning for it.
                    raise CannotProve(f"NotResource {pattern!r} shorter than six ARN segments",
                                      where)
        found = z3.Or(*[resource_matches(r, request.resource, kind, where)
                        for r in statement.resources])
        parts.append(z3.Not(found) if statement.not_resource else found)
    if statement.principals is not None:
        if request.principal is None:  # pragma: no cover
            raise CannotProve("a Principal in an identity policy", where)
        found = z3.Or(*[request.principal.matches(p, where) for p in statement.principals])
        parts.append(z3.Not(found) if statement.not_principal else found)
    parts += [condition_holds(c, request.keys, where) for c in statement.conditions]
    return z3.And(*parts) if parts else z3.BoolVal(True)


@dataclass(frozen=True)
class Outcome:
    """What a policy's (or policies') statements do to a symbolic request."""

    allows: z3.BoolRef  # some Allow statement applies
    denies: z3.BoolRef  # some Deny statement applies (explicit deny)

    @property
    def allowed(self) -> z3.BoolRef:
        return z3.And(self.allows, z3.Not(self.denies))


def evaluate(policies: Iterable[Policy], request: SymbolicRequest) -> Outcome:
    allows: list[z3.BoolRef] = []
    denies: list[z3.BoolRef] = []
    for policy in policies:
        for statement in policy.statements:
            applies = statement_applies(statement, request, policy.kind)
            (allows if statement.effect == "Allow" else denies).append(applies)
    return Outcome(z3.Or(*allows) if allows else z3.BoolVal(False),
                    z3.Or(*denies) if denies else z3.BoolVal(False))


def same_account_invoke(identity: Outcome, resource: Outcome) -> z3.BoolRef:
    """A caller and an API in the same account: allowed when the caller's identity policies or
    the API's resource policy allow, and neither denies.

    AWS, API Gateway developer guide, "How API Gateway resource policies affect authorization
    workflow", policy evaluation outcome Table A (IAM authentication, same account): Allow/Allow,
    Allow/Neither and Neither/Allow allow; Neither/Neither denies implicitly; a Deny in either
    denies explicitly. iam-simulate's DefaultServiceAuthorizer does the same.
    """
    return z3.And(z3.Or(identity.allows, resource.allows),
                  z3.Not(identity.denies), z3.Not(resource.denies))


def policy_literals(policies: Iterable[Policy]) -> set[str]:
    """Every character a policy compares literally (values, resources, principals, keys)."""
    found: set[str] = set()
    for policy in policies:
        for statement in policy.statements:
            texts: list[str] = [*statement.actions, *(statement.resources or ())]
            texts += [p.value for p in statement.principals or ()]
            for condition in statement.conditions:
                texts += [condition.key, *condition.values]
            for text in texts:
                found |= {c.lower() for c in text} | {c.upper() for c in text}
    return found - {"*", "?"}


def spare_character(policies: Sequence[Policy], extra: Iterable[str] = ()) -> str:
    """A printable character no pattern mentions (module docstring: why the proofs then hold
    beyond printable ASCII); CannotProve when every one is taken."""
    taken = policy_literals(policies) | {c for text in extra for c in text} | {":", "/"}
    free = sorted(PRINTABLE - taken)
    if not free:
        raise CannotProve("every printable character appears in the policies, so a proof over "
                          "printable strings would not cover the others")
    return free[0]


def key_table(lookups: Mapping[str, KeyValue]) -> KeyLookup:
    """A KeyLookup over known keys (names compared case-insensitively); others fail closed."""
    table = {name.lower(): value for name, value in lookups.items()}

    def lookup(name: str, where: Where) -> KeyValue:
        if name.lower() not in table:
            raise CannotProve(f"condition key {name}", where)
        return table[name.lower()]

    return lookup
