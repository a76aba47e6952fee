"""Feeds resources to the pack's policies the way the engine would.

Resource policies get a resource's inputs (camelCase, as the provider
receives them) through the engine's unknown-checking proxy; stack policies get
every resource's outputs with property dependencies. For the program's own
resources, the dependencies are rebuilt by value: an input that carries
another resource's computed output (an id, an ARN) depends on that resource,
which is what the engine records for an Output passed as an input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from harness_core.recorder import Declared

STACK = "unit"
TABLE = "aws:dynamodb/table:Table"


def protected_table(**changes: Any) -> dict[str, Any]:
    """A table's inputs as the program declares them, every protection on, with `changes`."""
    return {"name": "pets-unit-pets", "hashKey": "petId", "billingMode": "PAY_PER_REQUEST",
            "pointInTimeRecovery": {"enabled": True}, "serverSideEncryption": {"enabled": True},
            "deletionProtectionEnabled": True, **changes}


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::pets::{resource_type}::{name}"


def _options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


class Report:
    """Collects what a policy reports."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, str | None]] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.violations.append((message, urn))

    @property
    def messages(self) -> list[str]:
        return [m for m, _ in self.violations]


def resource_violations(
    policy: ResourceValidationPolicy, resource_type: str, props: Mapping[str, Any],
    name: str = "crafted", *, protect: bool = False,
) -> list[str]:
    """Runs one resource policy on one resource's inputs; the messages it reported.

    protect: the resource's `protect` option, which rules see in args.opts."""
    report = Report()
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(dict(props)),
                                  urn(resource_type, name), name, _options(protect), None)
    policy.validate(args, report)
    return report.messages


def stack_violations(
    policy: StackValidationPolicy, resources: Iterable[PolicyResource]
) -> list[tuple[str, str | None]]:
    report = Report()
    policy.validate(StackValidationArgs(list(resources)), report)
    return report.violations


def policy_resource(
    resource_type: str, name: str, props: Mapping[str, Any],
    deps: Mapping[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    """A crafted stack resource; deps: input name -> the resources it came from."""
    deps = dict(deps or {})
    flat = [d for ds in deps.values() for d in ds]
    return PolicyResource(resource_type, unknown_checking_proxy(dict(props)),
                          urn(resource_type, name), name, _options(), None, None, flat, deps)


def resource_id(declared: Declared) -> str:
    """The id the mocks returned (harness_core/recorder.RecordingMocks)."""
    return declared.outputs.get("id", f"{declared.name}-id")


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)


def _computed(declared: Declared) -> dict[str, str]:
    """Outputs the provider computes (not echoed inputs), the id included."""
    out = {k: v for k, v in declared.outputs.items()
           if k not in declared.inputs and isinstance(v, str)}
    out["id"] = resource_id(declared)
    return out


def _carries(value: Any, produced: str) -> bool:
    """Whether an input carries a produced value: equal to a leaf, or inside a JSON document."""
    return any(leaf == produced or (leaf.lstrip().startswith("{") and produced in leaf)
               for leaf in _leaves(value))


def _unknown_where_computed(value: Any, produced: set[str]) -> Any:
    """Preview of a new stack: every value derived from a computed output is unknown."""
    if isinstance(value, str):
        carries = value in produced or (value.lstrip().startswith("{")
                                        and any(p in value for p in produced))
        return UNKNOWN_STRING_VALUE if carries else value
    if isinstance(value, Mapping):
        return {k: _unknown_where_computed(v, produced) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_unknown_where_computed(v, produced) for v in value]
    return value


def _produced(declared: list[Declared]) -> dict[str, Declared]:
    producers: dict[str, Declared] = {}
    for d in declared:
        for value in _computed(d).values():
            producers.setdefault(value, d)
    return producers


def preview_inputs(declared: list[Declared]) -> dict[str, dict[str, Any]]:
    """Each resource's inputs as a preview of a new stack sees them (by resource name)."""
    produced = set(_produced(declared))
    return {d.name: _unknown_where_computed(d.inputs, produced) for d in declared}


def policy_resources(declared: list[Declared], *, preview: bool = False) -> list[PolicyResource]:
    """The program's resources as AnalyzeStack presents them.

    preview=True: as in the preview of a new stack, ids, ARNs and everything
    built from them are unknown; property dependencies are still there.
    """
    producers = _produced(declared)
    produced = set(producers)
    by_name = {d.name: d for d in declared}
    resources: dict[str, PolicyResource] = {}
    for d in declared:
        props: dict[str, Any] = {**d.outputs, "id": resource_id(d)}
        if preview:
            computed = _computed(d)
            props = {k: (UNKNOWN_STRING_VALUE if k in computed
                         else _unknown_where_computed(v, produced)) for k, v in props.items()}
        resources[d.name] = PolicyResource(
            d.type, unknown_checking_proxy(props), urn(d.type, d.name), d.name,
            _options(d.protect),
            None, None, [], {})
    for d in declared:
        resource = resources[d.name]
        for key, value in d.inputs.items():
            sources = sorted({producers[p].name for p in produced if _carries(value, p)}
                             - {d.name})
            if sources:
                deps = [resources[by_name[s].name] for s in sources]
                resource.property_dependencies[key] = deps
                resource.dependencies.extend(x for x in deps if x not in resource.dependencies)
    return list(resources.values())


def by_name(resources: Iterable[PolicyResource], name: str) -> PolicyResource:
    matches = [r for r in resources if r.name == name]
    assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
    return matches[0]


def mutate(resources: Iterable[PolicyResource], name: str, **changes: Any) -> PolicyResource:
    """Changes some properties of one stack resource in place, keeping its dependencies."""
    resource = by_name(resources, name)
    resource.props = unknown_checking_proxy({**resource.props["__target"], **changes})
    return resource
