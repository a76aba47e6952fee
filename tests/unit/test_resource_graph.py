"""The recorded resource graph (harness_core/graph.py) on tiny programs: what the SDK puts
in each registration (parent, dependencies per input and from depends_on) and what
ProgramRun.waits_for concludes from it."""

from __future__ import annotations

import threading
import time

import pulumi

from harness_core.graph import GraphMonitor
from harness_core.mock_runtime import run_under_mocks
from harness_core.recorder import ProgramRun, record

THING = "test:index:Thing"


def thing(name: str, opts: pulumi.ResourceOptions | None = None,
          **props: pulumi.Input[object]) -> pulumi.CustomResource:
    return pulumi.CustomResource(THING, name, {"label": name, **props}, opts)


class Group(pulumi.ComponentResource):
    """A component with two children, one inside a nested component."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Group", name, None, opts)
        self.first = thing(f"{name}-first", pulumi.ResourceOptions(parent=self))
        inner = pulumi.ComponentResource("test:index:Inner", f"{name}-inner", None,
                                         pulumi.ResourceOptions(parent=self))
        self.second = thing(f"{name}-second", pulumi.ResourceOptions(parent=inner))


def _run(program) -> ProgramRun:
    return record(program, {})


def test_an_input_reference_is_an_edge_of_that_input() -> None:
    def program() -> None:
        source = thing("source")
        thing("user", ref=source.id, plain="text")
        thing("bystander")

    run = _run(program)
    user, source = run.named("user"), run.named("source")
    assert user.graph.input_dependencies["ref"] == {source.urn}
    assert user.graph.input_dependencies["plain"] == frozenset()
    assert user.graph.explicit_dependencies == frozenset()
    assert run.waits_for("user", "source")
    assert not run.waits_for("source", "user"), "edges have a direction"
    assert not run.waits_for("user", "bystander")


def test_depends_on_a_resource_is_an_edge_no_input_carries() -> None:
    def program() -> None:
        first = thing("first")
        thing("after", pulumi.ResourceOptions(depends_on=[first]))

    run = _run(program)
    assert run.named("after").graph.explicit_dependencies == {run.named("first").urn}
    assert run.waits_for("after", "first")


def test_depends_on_a_component_stands_for_its_children() -> None:
    """The SDK expands a local component in depends_on to its custom descendants
    (runtime/rpc.py _add_dependency): the engine gets their URNs, never the component's."""

    def program() -> None:
        group = Group("group")
        thing("after", pulumi.ResourceOptions(depends_on=[group]))

    run = _run(program)
    after = run.named("after")
    children = {run.named("group-first").urn, run.named("group-second").urn}
    assert after.graph.dependencies == children
    assert run.named("group").urn not in after.graph.dependencies
    assert run.waits_for(after, "group-second")


def test_a_components_depends_on_is_not_an_edge_of_its_children() -> None:
    def program() -> None:
        first = thing("first")
        Group("group", pulumi.ResourceOptions(depends_on=[first]))

    run = _run(program)
    first, child = run.named("first"), run.named("group-second")
    assert run.named("group").graph.dependencies == {first.urn}
    assert first.urn not in child.graph.dependencies
    # They wait all the same, through their parents (see the next test):
    assert run.wait_path(child, first) == ["group-second", "group-inner", "group", "first"]


def test_a_child_is_registered_only_once_its_parents_depends_on_exists() -> None:
    """Why waits_for follows parents: the SDK awaits the parent's URN, and a component's
    registration awaits its own depends_on. Here `first` takes 0.3 s to create."""
    spans: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    class SlowFirst(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            began = time.monotonic()
            if args.name == "first":
                time.sleep(0.3)
            with lock:
                spans[args.name] = (began, time.monotonic())
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
            return {}

    def program() -> None:
        first = thing("first")
        Group("group", pulumi.ResourceOptions(depends_on=[first]))
        thing("free")

    mocks = SlowFirst()
    run_under_mocks(program, mocks, project="pets", stack="unit", config={},
                    monitor=GraphMonitor(mocks))
    first_done = spans["first"][1]
    assert spans["group-second"][0] >= first_done
    assert spans["group-first"][0] >= first_done
    assert spans["free"][0] < first_done, "an unrelated resource does not wait"


def test_waiting_is_transitive_and_the_path_says_how() -> None:
    def program() -> None:
        a = thing("a")
        b = thing("b", ref=a.id)
        thing("c", pulumi.ResourceOptions(depends_on=[b]))

    run = _run(program)
    assert run.wait_path("c", "a") == ["c", "b", "a"]
    assert run.waits_for("c", "a")
    assert run.wait_path("a", "c") is None
    assert run.wait_path("a", "a") is None, "nothing waits for itself"
