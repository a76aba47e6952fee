"""Resource properties as plain Python values, with unknowns made explicit.

pulumi-policy hands rules a proxy that raises UnknownValueError on any value
not known yet (preview). One such error aborts the whole policy for the run
(the engine turns it into an advisory "can't run during preview"), so rules
convert props with `plain` first, then decide per value: a presence check can
accept an unknown, a document check calls `require_known`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

# Private module of pulumi-policy (pinned in requirements.txt): the sentinels and
# the error the engine recognises. tests/policy would fail on a rename.
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

_SENTINELS: Final = frozenset({
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE,
})


class _Unknown:
    """A value the engine does not know yet (computed by another resource)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Final = _Unknown()


def plain(value: Any) -> Any:
    """Dicts, lists and scalars, with every unknown replaced by UNKNOWN.

    Accepts the engine's proxies and ordinary dicts (tests), including dicts
    that carry the engine's sentinel strings.
    """
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                item = value[key]
            except UnknownValueError:
                out[key] = UNKNOWN
                continue
            out[key] = plain(item)
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def require_known(value: Any, *where: str) -> Any:
    """The value, or the engine's own UnknownValueError.

    For checks that cannot decide without the value (a policy document still
    waiting for an ARN): the engine reports "can't run policy ... during
    preview" instead of the rule passing silently, and `pulumi up` runs the
    resource rule again with every input known before it creates the resource.
    """
    if value is UNKNOWN:
        raise UnknownValueError(UNKNOWN_STRING_VALUE, list(where))
    return value
