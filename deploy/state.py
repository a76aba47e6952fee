"""What the stack's recorded state (`pulumi stack export`) says about the next `pulumi up`.

A removed route stays in the stage after one `up`: the engine creates the new deployment (a
snapshot of the API) before it deletes the removed method (pulumi/pulumi-aws#3289), so the
snapshot still holds it. The driver compares the state with access.py before the `up` and,
when the model dropped routes, redeploys the stage after it (`pulumi up --replace` of the
deployment), once the methods are gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import access

METHOD = "aws:apigateway/method:Method"
RESOURCE = "aws:apigateway/resource:Resource"
REST_API = "aws:apigateway/restApi:RestApi"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"


def _resources(export: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The export's resources (a stack that was never deployed has none)."""
    return list((export.get("deployment") or {}).get("resources") or [])


def _fields(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """A resource's outputs, falling back to its inputs (a pending create has no outputs)."""
    return {**(resource.get("inputs") or {}), **(resource.get("outputs") or {})}


def _paths(resources: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{API Gateway resource id: its path}, `/` for each REST API's root.

    The provider records each resource's full `path`; without it the path is rebuilt from
    `pathPart` and `parentId`.
    """
    paths: dict[str, str] = {}
    parts: dict[str, Mapping[str, Any]] = {}
    for resource in resources:
        fields = _fields(resource)
        if resource.get("type") == REST_API and fields.get("rootResourceId"):
            paths[fields["rootResourceId"]] = "/"
        elif resource.get("type") == RESOURCE:
            parts[resource.get("id") or fields.get("id", "")] = fields

    def path_of(resource_id: str, depth: int = 0) -> str | None:
        if resource_id in paths:
            return paths[resource_id]
        fields = parts.get(resource_id)
        if fields is None or depth > len(parts):
            return None
        if fields.get("path"):
            return str(fields["path"])
        parent = path_of(fields.get("parentId", ""), depth + 1)
        if parent is None:
            return None
        return f"{parent.rstrip('/')}/{fields.get('pathPart', '')}"

    for resource_id in parts:
        if (path := path_of(resource_id)) is not None:
            paths[resource_id] = path
    return paths


def served_methods(export: Mapping[str, Any]) -> list[str]:
    """`METHOD /path` of every API Gateway method in the state, sorted."""
    resources = _resources(export)
    paths = _paths(resources)
    served = set()
    for resource in resources:
        if resource.get("type") != METHOD:
            continue
        fields = _fields(resource)
        path = paths.get(fields.get("resourceId", ""))
        if path is not None and fields.get("httpMethod"):
            served.add(f"{fields['httpMethod']} {path}")
    return sorted(served)


def modelled_methods(routes: Iterable[access.Route] = access.ROUTES) -> set[str]:
    """Every method the program declares: each route, and the CORS preflight of each path."""
    routes = tuple(routes)
    return {r.id for r in routes} | {f"OPTIONS {r.path}" for r in routes}


def removed_routes(
    export: Mapping[str, Any], routes: Iterable[access.Route] = access.ROUTES
) -> list[str]:
    """Methods the stack still serves (per its state) that the model no longer has, sorted."""
    modelled = modelled_methods(routes)
    return [m for m in served_methods(export) if m not in modelled]


def deployment_urns(export: Mapping[str, Any]) -> list[str]:
    """The URNs of the stack's API deployments (the snapshots the stage serves)."""
    return sorted(r["urn"] for r in _resources(export) if r.get("type") == DEPLOYMENT)
