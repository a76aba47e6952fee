"""The resource graph a program gives the engine, as the engine receives it.

Each resource registration is a RegisterResource request. Its graph fields are what
`pulumi up` orders by and what the state keeps:

- `parent`: the parent's URN (the stack's for a top-level resource);
- `dependencies`: every resource the SDK awaited before sending the request: the
  resources of `depends_on` (a local component there stands for its children, expanded
  by the SDK at registration) and those the inputs' Outputs came from;
- `propertyDependencies`: the latter, per input.

GraphMonitor records them from the SDK's MockMonitor, under the mock runtime: the
request is built by the same SDK code as under the CLI (runtime/resource.py,
prepare_resource), after every transformation and with components expanded, so the
graph is the engine's, not a reading of the program's options.

"Waits for" follows dependencies and parents: the SDK registers a child only once its
parent is registered (it awaits the parent's URN), and a component is registered only
once its own dependencies exist. So a component's depends_on delays its children, though
it is not an edge of theirs: their `dependencies` do not list it, and the engine reaches
it from them only through the parent (its DependingOn counts children only when asked).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks as sdk_mocks

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Registration:
    """One resource's place in the graph, as its RegisterResource request gave it."""

    urn: str
    type: str
    name: str
    custom: bool  # False: a component (or the stack), which AWS never sees
    parent: str  # URN; "" for the stack
    dependencies: frozenset[str]
    input_dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def explicit_dependencies(self) -> frozenset[str]:
        """Dependencies no input carries: what depends_on added (components expanded)."""
        from_inputs = frozenset().union(*self.input_dependencies.values())
        return self.dependencies - from_inputs

    def waits_on(self) -> Iterator[str]:
        """What its registration awaits directly: its dependencies, then its parent."""
        yield from sorted(self.dependencies)
        if self.parent:
            yield self.parent


class GraphMonitor(sdk_mocks.MockMonitor):
    """The SDK's mock monitor, noting each registration's graph before answering it.

    Called from the SDK's executor threads, several at once.
    """

    def __init__(self, mocks: sdk_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        """request: the SDK's RegisterResourceRequest (protobuf), answered by MockMonitor."""
        registration = Registration(
            urn=self.make_urn(request.parent, request.type, request.name),
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            dependencies=frozenset(request.dependencies),
            input_dependencies={
                key: frozenset(deps.urns) for key, deps in request.propertyDependencies.items()
            },
        )
        self._note(registration)
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        """A read (Resource.get, a StackReference): in the graph like any resource, with no
        per-input dependencies (a read sends none)."""
        self._note(Registration(
            urn=self.make_urn(request.parent, request.type, request.name),
            type=request.type,
            name=request.name,
            custom=True,
            parent=request.parent,
            dependencies=frozenset(request.dependencies),
        ))
        return super().ReadResource(request)

    def _note(self, registration: Registration) -> None:
        with self._lock:
            self.registrations[registration.urn] = registration


class ResourceGraph:
    """Registrations by URN, and who waits for whom."""

    def __init__(self, registrations: Iterable[Registration]) -> None:
        self.by_urn = {r.urn: r for r in registrations}

    def wait_path(self, dependent: str, dependency: str) -> list[str] | None:
        """The shortest chain of URNs by which `dependent` waits for `dependency`
        (dependent first), or None when nothing makes it wait."""
        previous: dict[str, str] = {}
        queue = deque([dependent])
        seen = {dependent}
        while queue:
            urn = queue.popleft()
            registration = self.by_urn.get(urn)
            for next_urn in registration.waits_on() if registration else ():
                if next_urn in seen:
                    continue
                previous[next_urn] = urn
                if next_urn == dependency:
                    path = [next_urn]
                    while path[-1] != dependent:
                        path.append(previous[path[-1]])
                    return path[::-1]
                seen.add(next_urn)
                queue.append(next_urn)
        return None

    def waits_for(self, dependent: str, dependency: str) -> bool:
        return self.wait_path(dependent, dependency) is not None
