"""Every change to what the stage serves makes a new deployment; nothing else does.

Each case changes one input of one part with a stack transformation, as a policy pack's
remediation or a project's own transformation would: the program's values stay the same,
only the registered inputs (what the Mocks see and hand back as outputs) change. The
deployment's trigger must follow the registered part, by its own key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components import redeploy
from devstack.apply.ordering import DEPLOYED_PARTS
from harness_core.recorder import ProgramRun, record_program
from tests.support.programs import BASE_CONFIG

DEPLOYMENT = "pets-unit-deployment"


def triggers(run: ProgramRun) -> dict[str, str]:
    return run.named(DEPLOYMENT).inputs["triggers"]


def _without_last_statement(document: str) -> str:
    policy = json.loads(document)
    return json.dumps({**policy, "Statement": policy["Statement"][:-1]})


@dataclass(frozen=True)
class Change:
    """One input of one part, changed by a stack transformation (props by Python name)."""

    type: str
    name: str
    prop: str
    new: Callable[[Any], Any]  # old value -> new value

    def transformation(self, args: pulumi.ResourceTransformationArgs,
                       ) -> pulumi.ResourceTransformationResult | None:
        if (args.type_, args.name) != (self.type, self.name):
            return None
        props = {**args.props, self.prop: self.new(args.props.get(self.prop))}
        return pulumi.ResourceTransformationResult(props, args.opts)


CHANGES = [
    Change("aws:apigateway/method:Method", "pets-unit-method-get-pets", "request_parameters",
           lambda _: {"method.request.querystring.limit": False}),
    Change("aws:apigateway/integration:Integration", "pets-unit-integration-get-pets",
           "timeout_milliseconds", lambda _: 5000),
    Change("aws:apigateway/methodResponse:MethodResponse",
           "pets-unit-method-response-options-pets", "response_parameters",
           lambda old: {**old, "method.response.header.X-Extra": True}),
    Change("aws:apigateway/integrationResponse:IntegrationResponse",
           "pets-unit-integration-response-options-pets", "response_parameters",
           lambda old: {**old, "method.response.header.Access-Control-Max-Age": "'60'"}),
    Change("aws:apigateway/response:Response", "pets-unit-gateway-bad-request-body",
           "status_code", lambda _: "422"),
    Change("aws:apigateway/model:Model", "pets-unit-model-newpet", "description",
           lambda _: "remediated"),
    Change("aws:apigateway/requestValidator:RequestValidator", "pets-unit-validator-body",
           "validate_request_parameters", lambda _: True),
    Change("aws:apigateway/restApiPolicy:RestApiPolicy", "pets-unit-resource-policy", "policy",
           lambda old: pulumi.Output.from_input(old).apply(_without_last_statement)),
    Change("aws:apigateway/resource:Resource", "pets-unit-resource-pets-purchase", "path_part",
           lambda _: "buy"),
]


@pytest.fixture(scope="module")
def again() -> ProgramRun:
    """A second recording of the same program."""
    return record_program(BASE_CONFIG)


def test_an_unchanged_program_keeps_its_trigger(program: ProgramRun, again: ProgramRun):
    assert triggers(again) == triggers(program)


def test_the_trigger_has_one_key_per_served_part(program: ProgramRun):
    """Every part the stage serves (the late-part check's kinds) is in the trigger."""
    served = {d.name for d in program.declared if d.type in DEPLOYED_PARTS}
    assert set(triggers(program)) == served
    assert {d.type for d in program.declared if d.name in served} == set(DEPLOYED_PARTS)


def test_every_kind_of_part_has_a_case():
    assert {c.type for c in CHANGES} == set(DEPLOYED_PARTS)


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.type.rsplit(":", 1)[1])
def test_a_transformed_part_changes_its_trigger(program: ProgramRun, change: Change):
    changed = record_program(BASE_CONFIG, transformations=[change.transformation])
    before, after = program.named(change.name), changed.named(change.name)
    assert after.inputs != before.inputs, f"{change.name}: the transformation changed nothing"
    moved = {k for k in triggers(changed) if triggers(changed)[k] != triggers(program).get(k)}
    assert moved == {change.name}, (
        f"{change.name}: its {change.prop} changed as registered, the deployment's trigger "
        f"changed for {sorted(moved) or 'no part'}")


def test_a_change_the_stage_does_not_serve_keeps_the_trigger(program: ProgramRun):
    memory = Change("aws:lambda/function:Function", "pets-unit-list-pets-function",
                    "memory_size", lambda _: 1024)
    changed = record_program(BASE_CONFIG, transformations=[memory.transformation])
    assert program.named(memory.name).inputs["memorySize"] != 1024
    assert changed.named(memory.name).inputs["memorySize"] == 1024
    assert triggers(changed) == triggers(program)


def test_the_mocks_hand_back_the_registered_inputs(program: ProgramRun):
    """What makes the cases above mean "registered": outputs are the inputs the Mocks got."""
    method = program.named("pets-unit-method-get-pets")
    assert method.outputs["httpMethod"] == method.inputs["httpMethod"] == "GET"


def test_declared_inputs_are_the_args_class_properties():
    names = redeploy.declared_inputs(_bare(aws.apigateway.RequestValidator, "v"))
    assert names == sorted(["rest_api", "name", "region", "validate_request_body",
                            "validate_request_parameters"])


class Unlisted(pulumi.CustomResource):
    """A resource type without an Args class beside it."""


def test_a_type_without_args_is_refused_by_name():
    with pytest.raises(TypeError, match="odd: no UnlistedArgs"):
        redeploy.declared_inputs(_bare(Unlisted, "odd"))


def test_two_parts_with_one_name_are_refused():
    part = _bare(aws.apigateway.RequestValidator, "same")
    with pytest.raises(ValueError, match="two parts of the deployment are named same"):
        redeploy.deployment_triggers([part, _bare(aws.apigateway.Model, "same")])


def _bare(cls: type, name: str) -> Any:
    """An unregistered instance: enough for the name and type, not for its outputs."""
    resource = object.__new__(cls)
    resource._name = name
    return resource
