"""The stack as a graph, for rules that relate resources to each other.

A link (a Method's resourceId, a RolePolicy's role) is followed through the
engine's property dependencies first: they name the resource an input came
from even during preview, when the input's value (an id or ARN) is still
unknown. Only when an input has no dependency (a literal name) is it matched
by value against the other resources' outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource

from policy.props import plain

METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
API_RESOURCE = "aws:apigateway/resource:Resource"
REST_API = "aws:apigateway/restApi:RestApi"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
TABLE = "aws:dynamodb/table:Table"

_MAX_DEPTH = 64  # API paths are short; a longer chain is a cycle


class Stack:
    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)
        self._props = {r.urn: plain(r.props) for r in self.resources}

    def props(self, resource: PolicyResource) -> dict[str, Any]:
        return self._props[resource.urn]

    def of_type(self, *types: str) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type in types]

    def linked(
        self, resource: PolicyResource, prop: str, targets: Mapping[str, Iterable[str]]
    ) -> list[PolicyResource]:
        """The resources `resource.<prop>` refers to.

        targets: resource type -> the output properties whose value the input
        would carry (a Resource is referred to by `id`, the API root by the
        RestApi's `rootResourceId`).
        """
        deps = [d for d in (resource.property_dependencies or {}).get(prop, [])
                if d.resource_type in targets]
        if deps:
            return deps
        values = self.props(resource).get(prop)
        wanted = {v for v in (values if isinstance(values, list) else [values])
                  if isinstance(v, str)}
        if not wanted:
            return []
        return [
            r for r in self.resources
            if r.resource_type in targets and r.urn != resource.urn
            and any(self.props(r).get(out) in wanted for out in targets[r.resource_type])
        ]

    def api_resource_of(self, method: PolicyResource) -> PolicyResource | None:
        """The API resource (path) a Method or Integration is attached to, if unambiguous."""
        found = self.linked(method, "resourceId",
                            {API_RESOURCE: ("id",), REST_API: ("rootResourceId",)})
        return found[0] if len(found) == 1 else None

    def path_of(self, node: PolicyResource | None) -> str | None:
        """`/pets/{petId}` for an API resource (the RestApi itself is `/`), or None."""
        parts: list[str] = []
        for _ in range(_MAX_DEPTH):
            if node is None:
                return None
            if node.resource_type == REST_API:
                return "/" + "/".join(reversed(parts))
            part = self.props(node).get("pathPart")
            if not isinstance(part, str) or not part:
                return None
            parts.append(part)
            parents = self.linked(node, "parentId",
                                  {API_RESOURCE: ("id",), REST_API: ("rootResourceId",)})
            node = parents[0] if len(parents) == 1 else None
        return None
