"""The local apply's kinds, each declared once (Pulumi input -> AWS parameter), checked
against botocore's service models and against what the program declares.

No emulator: botocore's models ship with botocore, the program is recorded under mocks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import botocore.session
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from components import account_config
from devstack.apply.kinds import ResourceKind, To
from devstack.apply.services import KIND_BY_TYPE
from harness_core.recorder import AUTH0_CLIENT_ID, ProgramRun, record_baseline
from harness_core.stack_files import stack_file_config
from tests.support.programs import stack_file

REPO = Path(__file__).resolve().parents[2]
STACKS = ("dev", "local", "prod", "localstack")
# The account baseline's stack files (account/): the local apply runs `local` before the app.
BASELINE_STACKS = ("example", "local", "localstack")
_SESSION = botocore.session.get_session()


def _member(shape: Shape, name: str) -> Shape | None:
    """The shape of `name` inside `shape`, through lists (their items) and maps (any key)."""
    while isinstance(shape, ListShape):
        shape = shape.member
    if isinstance(shape, MapShape):
        return shape.value
    if isinstance(shape, StructureShape):
        return shape.members.get(name)
    return None


def unknown_parameters(kind: ResourceKind) -> list[str]:
    """Every mapped parameter (and object field) that is not in the input shape of the
    botocore operation it is passed to."""
    model = _SESSION.get_service_model(kind.service)
    problems = []
    for key, to in kind.mapped().items():
        operation = to.op or kind.operation
        shape: Shape | None = model.operation_model(operation).input_shape
        for part in to.param.split("."):
            shape = _member(shape, part) if shape is not None else None
        if shape is None:
            problems.append(f"{kind.resource_type} {key} -> {operation}.{to.param}")
            continue
        problems += [
            f"{kind.resource_type} {key}.{field} -> {operation}.{to.param}.{member}"
            for field, member in (to.fields or {}).items()
            if not to.built and _member(shape, member) is None
        ]
    return problems


@pytest.mark.parametrize("resource_type", sorted(KIND_BY_TYPE))
def test_every_mapped_parameter_is_in_the_botocore_operation(resource_type: str) -> None:
    kind = KIND_BY_TYPE[resource_type]
    operations = {to.op or kind.operation for to in kind.mapped().values()} | {kind.operation}
    model = _SESSION.get_service_model(kind.service)
    assert operations <= set(model.operation_names), operations - set(model.operation_names)
    assert unknown_parameters(kind) == []


def test_a_broken_mapping_is_caught() -> None:
    """The check can fail: a misspelt parameter and a misspelt field are both reported."""
    table = KIND_BY_TYPE["aws:dynamodb/table:Table"]
    broken = replace(table, inputs={
        **table.inputs,
        "billingMode": "BilingMode",
        "attributes": To("AttributeDefinitions", fields={"name": "AttributeNam"}),
    })
    assert unknown_parameters(broken) == [
        "aws:dynamodb/table:Table billingMode -> CreateTable.BilingMode",
        "aws:dynamodb/table:Table attributes.name -> CreateTable.AttributeDefinitions.AttributeNam",
    ]


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    apps = {stack: stack_file(stack) for stack in STACKS}
    baselines = {
        f"account/{stack}": record_baseline(
            stack_file_config(REPO / "account" / f"Pulumi.{stack}.yaml",
                              account_config.NAMESPACE),
            stack=stack, stack_outputs={"organization/pets/prod": {"oidcClientId":
                                                                   AUTH0_CLIENT_ID}})
        for stack in BASELINE_STACKS
    }
    return {**apps, **baselines}


def test_the_kinds_support_what_the_program_declares_and_no_more(
    runs: dict[str, ProgramRun],
) -> None:
    """Over every stack, the union of input keys per type is exactly what its kind maps."""
    declared: dict[str, set[str]] = defaultdict(set)
    for run in runs.values():
        for resource in run.declared:
            declared[resource.type] |= set(resource.inputs)
    assert sorted(set(KIND_BY_TYPE) - set(declared)) == [], "kinds for types no stack declares"
    extra = {t: sorted(set(k.inputs) - declared[t]) for t, k in KIND_BY_TYPE.items()}
    assert {t: keys for t, keys in extra.items() if keys} == {}, "inputs no stack declares"
    missing = {t: sorted(declared[t] - set(k.inputs)) for t, k in KIND_BY_TYPE.items()}
    assert {t: keys for t, keys in missing.items() if keys} == {}, "declared inputs not mapped"


def test_every_type_the_local_stacks_declare_has_a_kind(runs: dict[str, ProgramRun]) -> None:
    for stack in ("local", "localstack", "account/local", "account/localstack"):
        types = {r.type for r in runs[stack].declared if not r.type.startswith("pets:")}
        assert types - set(KIND_BY_TYPE) == set(), stack
