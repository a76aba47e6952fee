"""The components look alike: each is whole once constructed (its outputs registered in its
constructor) and its docstring says what it owns, by the resource classes of its children."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

import pulumi
import pytest

import components
from components.component import TYPE_PREFIX, Component
from harness_core.recorder import ProgramRun, record_baseline, record_program
from tests.support.programs import BASE_CONFIG

ACCOUNT = {"pets-account:issuers": '{"https://pets-test.eu.auth0.com/": {"clientIds": ["c"]}}',
           "pets-account:apiGatewayLogging": "true"}


def _component_classes() -> dict[str, type[pulumi.ComponentResource]]:
    """Every ComponentResource class of components/, by class name."""
    found = {}
    for module in pkgutil.iter_modules(components.__path__):
        loaded = importlib.import_module(f"components.{module.name}")
        for name, value in vars(loaded).items():
            if (inspect.isclass(value) and issubclass(value, pulumi.ComponentResource)
                    and value.__module__ == loaded.__name__ and not name.startswith("_")
                    and value is not Component):
                found[name] = value
    return found


@pytest.fixture(scope="module")
def runs() -> list[ProgramRun]:
    """Runs that between them declare every kind of resource a component may own."""
    return [
        record_program({**BASE_CONFIG, "pets:waf": "true", "pets:alarmEmail": "ops@shop.test"}),
        record_program({**BASE_CONFIG, "pets:siteCdn": "false"}),
        record_program({"pets:auth0Tenant": "pets-test.eu.auth0.com", "pets:stage": "v1"}),
        record_baseline(ACCOUNT),
    ]


def test_each_component_is_typed_after_its_class(runs: list[ProgramRun]):
    """Component types are `pets:index:<class name>`: the class is the one declaration."""
    classes = _component_classes()
    assert all(issubclass(c, Component) for c in classes.values()), classes
    declared = {d.type for run in runs for d in run.declared if d.type.startswith(TYPE_PREFIX)}
    assert declared == {f"{TYPE_PREFIX}{name}" for name in classes}


def test_each_components_docstring_names_what_it_owns(runs: list[ProgramRun]):
    classes = _component_classes()
    owned: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        by_urn = {d.urn: d for d in run.declared}
        for resource in run.declared:
            parent = by_urn.get(resource.graph.parent or "")
            if parent is not None and parent.type.startswith("pets:index:"):
                kind = ("Provider" if resource.type.startswith("pulumi:providers:")
                        else resource.type.split(":")[-1])
                owned[parent.type.removeprefix("pets:index:")].add(kind)
    assert set(owned) == set(classes), "a component class no run declares, or one unknown"
    unnamed = {name: sorted(kind for kind in kinds
                            if kind not in (inspect.getdoc(classes[name]) or ""))
               for name, kinds in owned.items()}
    assert not any(unnamed.values()), (
        f"component docstrings not naming a resource class they own: "
        f"{ {k: v for k, v in unnamed.items() if v} }")


def test_every_component_registers_its_outputs_in_its_constructor(monkeypatch):
    """A component is whole once constructed: none registers its outputs in a later call
    (registering them later would leave a half-built component to whatever runs between)."""
    created: list[pulumi.ComponentResource] = []
    in_constructor: set[int] = set()
    original_init = pulumi.ComponentResource.__init__
    original_register = pulumi.ComponentResource.register_outputs

    def init(self, *args, **kwargs):
        created.append(self)
        original_init(self, *args, **kwargs)

    def register(self, outputs):
        frame = inspect.currentframe().f_back
        while frame is not None:
            if frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is self:
                in_constructor.add(id(self))
            frame = frame.f_back
        original_register(self, outputs)

    monkeypatch.setattr(pulumi.ComponentResource, "__init__", init)
    monkeypatch.setattr(pulumi.ComponentResource, "register_outputs", register)
    record_program(BASE_CONFIG)
    ours = [c for c in created if type(c).__module__.startswith("components.")]
    assert {"PetsApi", "ApiStage", "SiteHosting", "PetsSite"} <= {type(c).__name__ for c in ours}
    late = sorted({type(c).__name__ for c in ours if id(c) not in in_constructor})
    assert not late, f"components registering their outputs outside their constructor: {late}"
