"""The LocalStack target itself: its pinned venv, loopback only, moto's DynamoDB behind our
provider override, and the apply refusing a Failed function unless told to accept it."""

from __future__ import annotations

import contextlib
import secrets

import pulumi
import pulumi_aws as aws
import pytest
from botocore.exceptions import ClientError

from devstack import apply, clients, paths
from devstack.apply.errors import ResourceError
from devstack.processes import emulator, procs
from tests.support.deployed import Deployed
from tests.support.processes import family_pids, installed, listeners, pins


def test_localstack_venv_holds_exactly_the_pins_and_our_plugin() -> None:
    frozen = installed(emulator.ensure_venv("localstack"))
    pinned = pins(paths.LOCALSTACK_REQUIREMENTS.read_text().splitlines())
    assert frozen.pop("pets-localstack-ext", "").startswith("@ file://"), frozen
    assert frozen == pinned


def test_localstack_listens_on_loopback_only(deployed: Deployed) -> None:
    if deployed.target.pid is None:
        pytest.skip("AWS_ENDPOINT_URL: the user's own emulator, not started by us")
    sockets = listeners(family_pids(deployed.target.pid))
    assert {host for _, host, _ in sockets} == {procs.LOOPBACK}, sockets


def test_dynamodb_conditional_writes_hold(deployed: Deployed) -> None:
    """The moto provider must keep the conditional write that makes a pet sell only once."""
    ddb = deployed.client("dynamodb")
    table, pet = deployed.outputs["tableName"], {"petId": {"S": f"probe-{secrets.token_hex(4)}"}}
    try:
        ddb.put_item(TableName=table, Item=pet, ConditionExpression="attribute_not_exists(petId)")
        with pytest.raises(ClientError) as refused:
            ddb.put_item(TableName=table, Item=pet,
                         ConditionExpression="attribute_not_exists(petId)")
        assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    finally:
        ddb.delete_item(TableName=table, Key=pet)


def _one_function_program(name: str) -> None:
    role = aws.iam.Role(f"{name}-role", name=f"{name}-role", assume_role_policy=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'))
    aws.lambda_.Function(name, name=name, role=role.arn, runtime="python3.12",
                         handler="app.handler",
                         code=pulumi.FileArchive(str(paths.REPO / "build" / "lambda" / "code.zip")))


def test_apply_fails_on_a_function_the_target_cannot_run(deployed: Deployed) -> None:
    if deployed.target.engine != "localstack":
        pytest.skip("only LocalStack community on the host leaves functions Failed")
    name = f"probe-{secrets.token_hex(4)}"

    def factory(service: str):
        return clients.client(service, target=deployed.target)

    try:
        with pytest.raises(ResourceError, match=f"function {name} is in state Failed"):
            apply.apply_function(lambda: _one_function_program(name), factory)
        accepted = apply.apply_function(lambda: _one_function_program(name + "b"), factory,
                                        allow_failed_functions=True)
        assert any(f"function {name}b was created but this target cannot run it" in w
                   for w in accepted.warnings), accepted.warnings
    finally:
        # The session's stack is shared with tests/integration: undo what can be undone.
        # LocalStack cannot delete a function in state Failed (InternalError "Unable to find
        # version manager"), so the two functions stay; their roles go.
        for fn in (name, name + "b"):
            with contextlib.suppress(ClientError):
                factory("lambda").delete_function(FunctionName=fn)
            with contextlib.suppress(ClientError):
                factory("iam").delete_role(RoleName=f"{fn}-role")
