"""How a resource type is declared, what its handler is given and what it returns.

Each kind declares its inputs once, in `inputs`: Pulumi input name -> where the value goes
in the AWS API. That one mapping is the allow-list (an input missing from it fails the
apply by name, before any AWS call) and the call builder (`CreateRequest.params`), and a
unit test checks every mapped parameter against botocore's service model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore

from devstack.apply.errors import ResourceError
from devstack.apply.target import ApplyTarget


@dataclass(frozen=True)
class To:
    """Where one Pulumi input goes.

    param: the AWS parameter, a dotted path into nested structures
        (`PublicAccessBlockConfiguration.BlockPublicAcls`).
    op: the botocore operation it is passed to; "" is the kind's own operation.
    fields: for an object input (or a list of objects), its keys -> the AWS member names
        (for a `built` one, what the create function makes of them); any other key fails
        the apply by name, as an unknown input does.
    convert: reshapes the (renamed) value where renaming is not enough; a ValueError it
        raises fails the resource with its message.
    built: the create function builds this parameter itself, from several inputs.
    """

    param: str
    op: str = ""
    fields: Mapping[str, str] | None = None
    convert: Callable[[Any], Any] | None = None
    built: bool = False

    def build(self, value: Any) -> Any:
        if self.fields is not None:
            value = (
                [_renamed(item, self.fields) for item in value]
                if isinstance(value, list)
                else _renamed(value, self.fields)
            )
        return self.convert(value) if self.convert else value


def _renamed(value: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    return {fields[k]: v for k, v in value.items() if k in fields and v is not None}


# An input the provider uses only to decide on updates or replacement (a deployment's
# `triggers`): accepted, nothing to send on a create.
UPDATES_ONLY = None


@dataclass(frozen=True)
class ResourceKind:
    resource_type: str
    service: str  # the boto3 client
    operation: str  # the botocore operation that creates it
    # Pulumi input -> AWS parameter: a name (the kind's operation) or a `To`; UPDATES_ONLY.
    inputs: Mapping[str, str | To | None]
    create: Callable[[CreateRequest], Created]

    def mapped(self) -> dict[str, To]:
        """Every input that reaches AWS, as a `To`."""
        return {
            key: To(to) if isinstance(to, str) else to
            for key, to in self.inputs.items()
            if to is not None
        }


@dataclass(frozen=True)
class Created:
    id: str
    outputs: dict[str, Any] = field(default_factory=dict)  # computed outputs, provider names


@dataclass
class CreateRequest:
    kind: ResourceKind
    name: str  # logical name
    inputs: Mapping[str, Any]
    target: ApplyTarget
    warn: Callable[[str], None]
    # Work the provider does before it reports a create complete but nothing else in the
    # program waits on (a function becoming Active): run once the program has finished,
    # so it overlaps the rest of the apply instead of delaying dependents.
    defer: Callable[[Callable[[], None]], None]
    # A target that stores functions but cannot run them (LocalStack without Docker) ends
    # them in state Failed: True turns that into a warning instead of a failed apply.
    allow_failed_functions: bool = False

    @property
    def type(self) -> str:
        return self.kind.resource_type

    def get(self, key: str, default: Any = None) -> Any:
        value = self.inputs.get(key)
        return default if value is None else value

    def require(self, key: str) -> Any:
        value = self.inputs.get(key)
        if value is None or value == "":
            raise self.fail(f"required input {key} is missing: set it in the program")
        return value

    def client(self) -> Any:
        # Typed Any: boto3 clients have generated methods a static checker cannot see.
        return self.target.client(self.kind.service)

    def params(self, operation: str = "", **given: Any) -> dict[str, Any]:
        """The parameters of `operation` (default: the kind's) built from the inputs mapped
        to it, then `given` (names the apply chose, such as an autoname)."""
        operation = operation or self.kind.operation
        params: dict[str, Any] = {}
        for key, to in self.kind.mapped().items():
            value = self.inputs.get(key)
            if (to.op or self.kind.operation) != operation or to.built or not _given(value):
                continue
            try:
                value = to.build(value)
            except ValueError as exc:
                raise self.fail(str(exc)) from exc
            if value is not None:
                _put(params, to.param, value)
        return {**params, **given}

    def call(self, operation: str = "", **given: Any) -> Any:
        """Call `operation` (default: the kind's) with `params(operation, **given)`."""
        operation = operation or self.kind.operation
        params = self.params(operation, **given)  # a bad input fails before any AWS call
        return getattr(self.client(), botocore.xform_name(operation))(**params)

    def fail(self, reason: str) -> ResourceError:
        return ResourceError(self.type, self.name, reason)


def _given(value: Any) -> bool:
    """False and 0 are values AWS must get; None and empty ones are the provider's unset."""
    return value is not None and value != "" and value != [] and value != {}


def _put(params: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        params = params.setdefault(part, {})
    params[last] = value


def read_file(path: str) -> bytes:
    """A file the program names (code, site files): a relative path resolves against the
    program's folder, the cwd during an apply as under the CLI. The mock runtime never
    checks paths, so without this a typo would deploy nothing."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror} (cwd {os.getcwd()})") from exc


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]
