"""When the stage needs a new deployment: whenever any part it serves changed.

An API Gateway stage serves a snapshot (a Deployment) of the API's resources, methods,
integrations, responses, models, validators and resource policy; a part updated in place
reaches callers only with the next deployment. The deployment's `triggers` (replace on
change) therefore hold, per part, a digest of that part's inputs as the engine registered
them: read back from the resource's outputs, so a stack transformation or a policy pack's
remediation that changes a part is deployed too. An unchanged part keeps its digest (at a
preview its outputs come from the state), so an unchanged program never redeploys.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from typing import Any

import pulumi


def declared_inputs(resource: pulumi.CustomResource) -> list[str]:
    """The input properties the resource's `<Type>Args` class declares (Python names), each
    also readable as the resource's output of the same name."""
    cls = type(resource)
    args_class = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args", None)
    if args_class is None:
        raise TypeError(f"{resource.pulumi_resource_name}: no {cls.__name__}Args beside "
                        f"{cls.__module__}.{cls.__name__} to say which inputs it has")
    names = sorted(n for n, v in vars(args_class).items() if isinstance(v, property))
    unreadable = [n for n in names if not isinstance(getattr(cls, n, None), property)]
    if unreadable:
        raise TypeError(f"{resource.pulumi_resource_name}: inputs {unreadable} of "
                        f"{args_class.__name__} have no output of the same name")
    return names


def _digest(name: str, document: dict[str, Any]) -> str:
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    except TypeError as err:
        raise TypeError(f"{name}: a registered input is not plain data: {err}") from None
    return hashlib.sha256(text.encode()).hexdigest()


def registered_digest(resource: pulumi.CustomResource) -> pulumi.Output[str]:
    """sha256 of the resource's URN and every declared input, as registered (JSON, sorted)."""
    names = declared_inputs(resource)
    name = resource.pulumi_resource_name
    return pulumi.Output.all(resource.urn, *(getattr(resource, n) for n in names)).apply(
        lambda values: _digest(name, {"urn": values[0],
                                      "inputs": dict(zip(names, values[1:], strict=True))})
    )


def deployment_triggers(parts: Iterable[pulumi.CustomResource]) -> dict[str, pulumi.Output[str]]:
    """{logical name: registered digest} for the deployment's `triggers`. One key per part,
    so `pulumi preview --diff` names the part that makes the deployment change."""
    by_name: dict[str, pulumi.CustomResource] = {}
    for part in parts:
        name = part.pulumi_resource_name
        if by_name.setdefault(name, part) is not part:
            raise ValueError(f"two parts of the deployment are named {name}; give each its "
                             "own logical name")
    return {name: registered_digest(part) for name, part in by_name.items()}
