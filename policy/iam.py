"""Reading IAM policy documents the way IAM does, conservatively.

Element names are looked up case-insensitively and anything that is not a
Deny counts as an Allow, so a document cannot slip past a rule by spelling
(`"action"`, `"effect": "allow"`) that IAM might still accept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policy.props import UNKNOWN, require_known


class DocumentError(ValueError):
    """The document is not a JSON policy; the message says why."""


@dataclass(frozen=True)
class Statement:
    """One statement, its elements normalised to lists of strings."""

    index: int  # position in the document, for messages
    sid: str
    allow: bool
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] | None  # None: no NotAction element
    resources: tuple[str, ...]
    not_resources: tuple[str, ...] | None
    principal: Any  # "*", {"AWS": [...], ...} or None
    not_principal: Any
    condition: Mapping[str, Mapping[str, Any]]

    @property
    def label(self) -> str:
        return f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _element(statement: Mapping[str, Any], name: str) -> Any:
    for key, value in statement.items():
        if key.lower() == name.lower():
            return value
    return None


def load(value: Any, *where: str) -> Mapping[str, Any]:
    """A document from a resource input: JSON text or an already-parsed mapping."""
    value = require_known(value, *where)
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str):
        raise DocumentError(f"expected a JSON policy document, got {type(value).__name__}")
    try:
        doc = json.loads(value)
    except json.JSONDecodeError as err:
        raise DocumentError(f"not valid JSON ({err})") from None
    if not isinstance(doc, Mapping):
        raise DocumentError("a policy document must be a JSON object")
    return doc


def _strings(value: Any, element: str, label: str) -> tuple[str, ...]:
    items = as_list(value)
    for item in items:
        if item is UNKNOWN:
            require_known(item, label, element)
        if not isinstance(item, str):
            raise DocumentError(f"{label}: {element} must be strings")
    return tuple(items)


def statements(doc: Mapping[str, Any]) -> list[Statement]:
    """Every statement of the document (a single statement object or a list)."""
    raw = _element(doc, "Statement")
    out: list[Statement] = []
    for index, item in enumerate(as_list(raw)):
        label = f"statement {index}"
        if not isinstance(item, Mapping):
            raise DocumentError(f"{label} is not a JSON object")
        effect = _element(item, "Effect")
        not_actions = _element(item, "NotAction")
        not_resources = _element(item, "NotResource")
        out.append(Statement(
            index=index,
            sid=str(_element(item, "Sid") or ""),
            allow=not (isinstance(effect, str) and effect.lower() == "deny"),
            actions=_strings(_element(item, "Action"), "Action", label),
            not_actions=None if not_actions is None else _strings(not_actions, "NotAction", label),
            resources=_strings(_element(item, "Resource"), "Resource", label),
            not_resources=(None if not_resources is None
                           else _strings(not_resources, "NotResource", label)),
            principal=_element(item, "Principal"),
            not_principal=_element(item, "NotPrincipal"),
            condition=_element(item, "Condition") or {},
        ))
    return out


def has_wildcard(text: str) -> bool:
    """IAM wildcards in actions and ARNs: `*` (any run) and `?` (one character)."""
    return "*" in text or "?" in text


def _glob(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action pattern covers an action (IAM compares actions case-insensitively)."""
    return _glob(pattern).fullmatch(action) is not None


def principal_values(principal: Any) -> dict[str, list[Any]]:
    """`{"AWS": [...], "Federated": [...], ...}`; `"*"` becomes `{"*": ["*"]}`."""
    if principal is None:
        return {}
    if isinstance(principal, str):
        return {"*": [principal]}
    if isinstance(principal, Mapping):
        return {str(k): as_list(v) for k, v in principal.items()}
    return {"?": as_list(principal)}


def is_everyone(principal: Any) -> bool:
    """`"*"`, `{"AWS": "*"}` or any principal kind listing `*`."""
    return any(v == "*" for values in principal_values(principal).values() for v in values)


def condition_values(
    condition: Mapping[str, Mapping[str, Any]], operators: Iterable[str], key: str
) -> list[Any] | None:
    """Values the condition requires of `key` under one of `operators`, or None.

    Operators are matched exactly: `StringLikeIfExists` or `ForAllValues:`
    variants pass when the key is missing, so they do not count. Condition keys
    are case-insensitive in IAM.
    """
    found: list[Any] | None = None
    for operator, block in condition.items():
        if operator not in operators or not isinstance(block, Mapping):
            continue
        for block_key, values in block.items():
            if isinstance(block_key, str) and block_key.lower() == key.lower():
                found = (found or []) + as_list(values)
    return found
