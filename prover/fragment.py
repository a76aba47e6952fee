"""The IAM fragment the prover encodes, parsed from policy documents; anything else fails closed.

A policy document is read into `Policy` -> `Statement`s whose every part is one the encoding
(prover/encoding.py) gives an exact meaning to. Whatever lies outside is refused here or there
with `CannotProve` ("cannot prove: <operator or key> in <policy>/<statement>"), so an
unsupported construct can never make a theorem come out proved.

The fragment:
- Effect Allow and Deny; Action and NotAction; Resource and NotResource (ARNs or `*`);
- Principal and NotPrincipal: `*`, AWS (an ARN or `*`), Federated, Service;
- conditions StringEquals, StringNotEquals, StringLike, StringNotLike, ArnLike, ArnNotLike,
  ArnEquals, Null and Bool, each with one value or a list (any of them), and the set operators
  ForAnyValue / ForAllValues on the string and ARN operators.
Not in it (refused): IfExists, policy variables (`${...}`), the other operators, account
principals (`123456789012`, `:root`), canonical users, wildcards in an ARN's resource-type part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness_core.errors import HarnessError

Effect = Literal["Allow", "Deny"]
PolicyKind = Literal["identity", "resource", "trust"]
PrincipalKind = Literal["*", "AWS", "Federated", "Service"]

STRING_OPERATORS = frozenset({"StringEquals", "StringNotEquals", "StringLike", "StringNotLike"})
ARN_OPERATORS = frozenset({"ArnLike", "ArnNotLike", "ArnEquals"})
OPERATORS = STRING_OPERATORS | ARN_OPERATORS | {"Null", "Bool"}
# Operators that hold when their key is absent (IAM: a negated operator on a missing key).
NEGATED_OPERATORS = frozenset({"StringNotEquals", "StringNotLike", "ArnNotLike"})
SET_OPERATORS = frozenset({"ForAnyValue", "ForAllValues"})
VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                             "Resource", "NotResource", "Condition"})
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class CannotProve(HarnessError):
    """A policy holds something outside the fragment: the theorem is neither proved nor refuted."""

    def __init__(self, what: str, where: Where | None = None) -> None:
        self.what = what
        self.where = where
        super().__init__(f"cannot prove: {what}" + (f" in {where}" if where else ""))


@dataclass(frozen=True)
class Where:
    """A statement's place, as messages name it: `<policy>/<Sid or index>`."""

    policy: str
    statement: str

    def __str__(self) -> str:
        return f"{self.policy}/{self.statement}"


@dataclass(frozen=True)
class PrincipalRef:
    """One entry of a Principal or NotPrincipal element."""

    kind: PrincipalKind
    value: str  # "*" for kind "*"


@dataclass(frozen=True)
class Condition:
    operator: str  # one of OPERATORS, as written
    key: str  # as written; IAM compares key names case-insensitively
    values: tuple[str, ...]
    set_operator: str | None = None  # ForAnyValue, ForAllValues or None

    @property
    def text(self) -> str:
        return f"{self.set_operator + ':' if self.set_operator else ''}{self.operator}"


@dataclass(frozen=True)
class Statement:
    where: Where
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None  # None: the element is absent (trust policies)
    not_resource: bool
    principals: tuple[PrincipalRef, ...] | None  # None: absent (identity policies)
    not_principal: bool
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Policy:
    name: str
    kind: PolicyKind
    statements: tuple[Statement, ...]
    document: Mapping[str, Any]


def _strings(value: Any, what: str, where: Where) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise CannotProve(f"{what} must be a non-empty string or list of strings", where)
    return tuple(items)


def _no_variables(values: Sequence[str], what: str, where: Where) -> None:
    for value in values:
        if "${" in value:
            raise CannotProve(f"policy variable in {what} {value!r}", where)


def _principals(value: Any, where: Where) -> tuple[PrincipalRef, ...]:
    if value == "*":
        return (PrincipalRef("*", "*"),)
    if not isinstance(value, dict) or not value:
        raise CannotProve(f"Principal {value!r} (expected \"*\" or a map)", where)
    refs: list[PrincipalRef] = []
    for kind, entries in value.items():
        if kind not in ("AWS", "Federated", "Service"):
            raise CannotProve(f"principal type {kind}", where)
        for entry in _strings(entries, f"Principal {kind}", where):
            if kind == "AWS" and entry == "*":
                refs.append(PrincipalRef("*", "*"))
            elif kind == "AWS" and (_ACCOUNT_ID.match(entry) or entry.endswith(":root")):
                raise CannotProve(f"account principal {entry}", where)
            elif "*" in entry or "?" in entry:
                raise CannotProve(f"wildcard in principal {entry}", where)
            else:
                refs.append(PrincipalRef(kind, entry))  # type: ignore[arg-type]
    return tuple(refs)


def _conditions(value: Any, where: Where) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise CannotProve("Condition must be a map", where)
    found: list[Condition] = []
    for operator_text, block in value.items():
        set_operator, _, operator = operator_text.rpartition(":")
        if operator.endswith("IfExists"):
            raise CannotProve(f"operator {operator_text}", where)
        if operator not in OPERATORS or (set_operator and set_operator not in SET_OPERATORS):
            raise CannotProve(f"operator {operator_text}", where)
        if set_operator and operator in ("Null", "Bool"):
            raise CannotProve(f"operator {operator_text}", where)
        if not isinstance(block, dict) or not block:
            raise CannotProve(f"{operator_text} must map condition keys to values", where)
        for key, raw in block.items():
            items = raw if isinstance(raw, list) else [raw]
            if not items:
                raise CannotProve(f"{operator_text} {key} has no values", where)
            values: list[str] = []
            for item in items:
                if isinstance(item, bool):
                    values.append("true" if item else "false")
                elif isinstance(item, str):
                    values.append(item)
                else:
                    raise CannotProve(f"{operator_text} {key} value {item!r}", where)
            _no_variables(values, f"{operator_text} {key}", where)
            if "${" in key:
                raise CannotProve(f"policy variable in condition key {key}", where)
            found.append(Condition(operator, key, tuple(values), set_operator or None))
    return tuple(found)


def _actions(values: tuple[str, ...], where: Where) -> tuple[str, ...]:
    for action in values:
        if action != "*" and (action.count(":") != 1 or not action.split(":")[1]):
            raise CannotProve(f"action {action!r}", where)
    return values


def parse_statement(raw: Any, where: Where, kind: PolicyKind) -> Statement:
    if not isinstance(raw, dict):
        raise CannotProve("a statement must be a map", where)
    if "Sid" in raw and isinstance(raw["Sid"], str) and raw["Sid"]:
        where = Where(where.policy, raw["Sid"])
    if unknown := set(raw) - _STATEMENT_KEYS:
        raise CannotProve(f"statement element {sorted(unknown)[0]}", where)
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise CannotProve(f"Effect {effect!r}", where)
    if ("Action" in raw) == ("NotAction" in raw):
        raise CannotProve("a statement needs exactly one of Action and NotAction", where)
    not_action = "NotAction" in raw
    actions = _actions(_strings(raw["NotAction" if not_action else "Action"], "Action", where),
                       where)
    not_resource = "NotResource" in raw
    if "Resource" in raw and not_resource:
        raise CannotProve("a statement with both Resource and NotResource", where)
    resources = None
    if "Resource" in raw or not_resource:
        resources = _strings(raw["NotResource" if not_resource else "Resource"], "Resource",
                             where)
        _no_variables(resources, "Resource", where)
    elif kind != "trust":
        raise CannotProve("a statement needs Resource or NotResource", where)
    not_principal = "NotPrincipal" in raw
    if "Principal" in raw and not_principal:
        raise CannotProve("a statement with both Principal and NotPrincipal", where)
    principals = None
    if "Principal" in raw or not_principal:
        if kind == "identity":
            raise CannotProve("Principal in an identity policy", where)
        principals = _principals(raw["NotPrincipal" if not_principal else "Principal"], where)
    elif kind != "identity":
        raise CannotProve("a resource or trust policy statement needs a Principal", where)
    return Statement(where, effect, actions, not_action, resources, not_resource, principals,
                     not_principal, _conditions(raw.get("Condition"), where))


def parse_policy(document: Mapping[str, Any], name: str, kind: PolicyKind) -> Policy:
    """The document as statements of the fragment; raises CannotProve naming what is not."""
    where = Where(name, "-")
    if not isinstance(document, Mapping):
        raise CannotProve("the policy is not a JSON object", where)
    if unknown := set(document) - {"Version", "Id", "Statement"}:
        raise CannotProve(f"policy element {sorted(unknown)[0]}", where)
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise CannotProve(f"policy Version {version!r}", where)
    raw = document.get("Statement")
    statements = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if statements is None:
        raise CannotProve("Statement must be a map or a list", where)
    return Policy(name, kind, tuple(parse_statement(s, Where(name, str(i)), kind)
                                    for i, s in enumerate(statements)), document)
