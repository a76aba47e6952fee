"""What a resource handler is given and returns, and how a type is declared."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devstack.applier.errors import ResourceError
from devstack.applier.target import Target

# Inputs every pulumi-aws 7 resource has; the mocks check them centrally.
COMMON_INPUTS = frozenset({"region"})
_LOWER_ALNUM = string.ascii_lowercase + string.digits


@dataclass
class CreateRequest:
    type: str
    name: str  # logical name
    inputs: Mapping[str, Any]
    target: Target
    warn: Callable[[str], None]
    # Work the provider does before it reports a create complete but nothing else in the
    # program waits on (a function becoming Active): run once the program has finished,
    # so it overlaps the rest of the apply instead of delaying dependents.
    defer: Callable[[Callable[[], None]], None]
    # A target that stores functions but cannot run them (LocalStack without Docker) ends
    # them in state Failed: True turns that into a warning instead of a failed apply.
    allow_failed_functions: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        value = self.inputs.get(key)
        return default if value is None else value

    def require(self, key: str) -> Any:
        value = self.inputs.get(key)
        if value is None or value == "":
            raise ResourceError(self.type, self.name, f"required input {key} is missing")
        return value

    def client(self, service: str) -> Any:
        return self.target.client(service)

    def physical_name(
        self,
        key: str = "name",
        *,
        prefix_key: str | None = "namePrefix",
        max_length: int = 255,
        lowercase: bool = False,
    ) -> str:
        """The input name, else `<namePrefix><random>`, else the Pulumi autoname.

        Under the CLI the provider autonames `<logical name>-<7 random chars>`; the mock
        runtime does not, so the apply does it the same way.
        """
        explicit = self.get(key)
        if explicit:
            return str(explicit)
        prefix = self.get(prefix_key) if prefix_key else None
        if prefix:
            # The provider appends a 26-char unique suffix to a prefix.
            return _fit(str(prefix), _random(26, lowercase=True), "", max_length)
        base = self.name.lower() if lowercase else self.name
        return _fit(base, _random(7, lowercase=lowercase), "-", max_length)

    def fail(self, reason: str) -> ResourceError:
        return ResourceError(self.type, self.name, reason)


def _random(length: int, *, lowercase: bool) -> str:
    alphabet = _LOWER_ALNUM if lowercase else string.hexdigits.lower()[:16]
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _fit(base: str, suffix: str, sep: str, max_length: int) -> str:
    room = max_length - len(suffix) - len(sep)
    return f"{base[: max(room, 1)]}{sep}{suffix}"


@dataclass(frozen=True)
class Created:
    id: str
    outputs: dict[str, Any] = field(default_factory=dict)  # computed outputs, provider names


@dataclass(frozen=True)
class ResourceKind:
    resource_type: str
    create: Callable[[CreateRequest], Created]
    inputs: frozenset[str]  # inputs the handler turns into AWS calls
    # Inputs that only steer updates or deletes under the real provider (force_destroy,
    # triggers, source hashes): nothing to do on a create.
    ignored: frozenset[str] = frozenset()
    # Inputs deliberately refused, with the reason (an emulator gap, a deprecated form).
    refused: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # an emulator quirk worth knowing when reading the result


def drop_none(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def tag_list(
    tags: Mapping[str, str] | None, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]] | None:
    return [{key: k, value: v} for k, v in tags.items()] if tags else None
