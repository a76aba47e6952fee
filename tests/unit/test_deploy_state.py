"""deploy/state.py: which routes a stack's state still serves that access.py dropped."""

from __future__ import annotations

from typing import Any

import access
from deploy.state import deployment_urns, modelled_methods, removed_routes, served_methods
from harness_core.recorder import ProgramRun
from tests.support.deploy_fakes import export_serving, urn


def _export_of(run: ProgramRun, stack: str = "unit") -> dict[str, Any]:
    """The program's resources as `pulumi stack export` would list them after an `up`, ids as
    the mocks gave them (no `path` output: the mocks compute none)."""
    resources = []
    for declared in run.declared:
        resource_id = declared.outputs.get("id", f"{declared.name}-id")
        resources.append({
            "urn": urn(stack, declared.type, declared.name), "type": declared.type,
            "custom": True, "id": resource_id, "inputs": declared.inputs,
            "outputs": {**declared.outputs, "id": resource_id}})
    return {"version": 3, "deployment": {"resources": resources}}


def test_the_programs_own_state_serves_exactly_the_model(program: ProgramRun) -> None:
    export = _export_of(program)
    # Paths rebuilt from pathPart/parentId: every route and each path's preflight.
    assert set(served_methods(export)) == modelled_methods()
    assert "DELETE /pets/{petId}" in served_methods(export)
    assert removed_routes(export) == []


def test_a_route_the_model_dropped_is_reported(program: ProgramRun) -> None:
    export = _export_of(program)
    without_remove = [r for r in access.ROUTES if r is not access.REMOVE_PET]
    # /pets/{petId} had only DELETE: its preflight goes with it.
    assert removed_routes(export, without_remove) == ["DELETE /pets/{petId}",
                                                      "OPTIONS /pets/{petId}"]
    without_add = [r for r in access.ROUTES if r is not access.ADD_PET]
    assert removed_routes(export, without_add) == ["POST /pets"]


def test_recorded_paths_and_a_renamed_parameter() -> None:
    served = sorted(modelled_methods() | {"GET /pets/{id}", "OPTIONS /pets/{id}"})
    export = export_serving(served)
    assert removed_routes(export) == ["GET /pets/{id}", "OPTIONS /pets/{id}"]
    # The provider's recorded `path` is read as is: it alone is enough...
    only_paths = export_serving(served)
    for resource in only_paths["deployment"]["resources"]:
        if resource["type"] == "aws:apigateway/resource:Resource":
            for fields in (resource["inputs"], resource["outputs"]):
                fields.pop("pathPart"), fields.pop("parentId")
    assert served_methods(only_paths) == served
    # ...and without it, the path rebuilt from pathPart and parentId agrees.
    assert served_methods(export_serving(served, recorded_paths=False)) == served


def test_a_state_without_resources_serves_nothing() -> None:
    for export in ({}, {"version": 3, "deployment": {}},
                   {"version": 3, "deployment": {"resources": None}}):
        assert removed_routes(export) == []
        assert deployment_urns(export) == []


def test_the_deployment_to_replace() -> None:
    export = export_serving(sorted(modelled_methods()), stack="review")
    assert deployment_urns(export) == [
        "urn:pulumi:review::pets::pets:index:ApiStage$aws:apigateway/deployment:Deployment"
        "::pets-review-deployment"]
