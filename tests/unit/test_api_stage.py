"""What publishes the API (components/api_stage.py): its resources, and the URNs deployed
stacks know them by, from when they were the API component's children."""

from __future__ import annotations

from harness_core.recorder import Declared, ProgramRun

STAGE_PARTS = {
    ("aws:apigateway/restApiPolicy:RestApiPolicy", "pets-unit-resource-policy"),
    ("aws:apigateway/deployment:Deployment", "pets-unit-deployment"),
    ("aws:cloudwatch/logGroup:LogGroup", "pets-unit-access-logs"),
    ("aws:apigateway/stage:Stage", "pets-unit-stage"),
    ("aws:apigateway/methodSettings:MethodSettings", "pets-unit-method-settings"),
}
# The deployment's URN before the stage had a component of its own (what `pulumi up
# --replace` was given, and what deployed stacks' states hold).
DEPLOYMENT_URN_BEFORE = ("urn:pulumi:unit::pets::pets:index:PetsApi$"
                         "aws:apigateway/deployment:Deployment::pets-unit-deployment")


def _component(program: ProgramRun, type_: str) -> Declared:
    (found,) = [d for d in program.declared if d.type == type_]
    return found


def test_the_stage_component_owns_the_policy_deployment_logs_stage_and_settings(
        program: ProgramRun):
    stage = _component(program, "pets:index:ApiStage")
    owned = {(d.type, d.name) for d in program.declared if d.graph.parent == stage.urn}
    assert owned == STAGE_PARTS


def test_each_keeps_the_urn_it_had_under_the_api_component(program: ProgramRun):
    api = _component(program, "pets:index:PetsApi")
    stage = _component(program, "pets:index:ApiStage")
    for part in (d for d in program.declared if d.graph.parent == stage.urn):
        (alias,) = part.aliases
        # Only the parent moved: same name, type, stack and project.
        assert (alias.name, alias.type_, alias.stack, alias.project) == (...,) * 4, part.name
        assert (alias.parent.pulumi_resource_type, alias.parent.pulumi_resource_name) == (
            api.type, api.name), part.name
        # A URN's type is its parent's type, `$`, its own (the root stack left out).
        before = f"urn:pulumi:unit::pets::{api.type}${part.type}::{part.name}"
        assert part.urn == f"urn:pulumi:unit::pets::{stage.type}${part.type}::{part.name}"
        if part.name == "pets-unit-deployment":
            assert before == DEPLOYMENT_URN_BEFORE
