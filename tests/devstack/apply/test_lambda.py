"""Lambda applied to the emulator: the declared zip shipped byte for byte and invocable with
its settings; a permission for API Gateway with the provider's autonamed statement."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_aws as aws
import requests

from devstack.apply import apply_function
from tests.support.local_apply import account_of, handler_function, handler_zip, invoked


def test_function_ships_the_declared_zip_and_is_invocable(
    factory: Callable,
    unique: str,
    tmp_path: Path,
) -> None:
    code = handler_zip(tmp_path)

    def program() -> None:
        logs = aws.cloudwatch.LogGroup(
            "fn-logs", name=f"/aws/lambda/fn-{unique}", retention_in_days=1
        )
        fn = handler_function(
            f"fn-{unique}",
            code,
            timeout=7,
            memory_size=256,
            reserved_concurrent_executions=3,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"GREETING": "hello"}),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            opts=pulumi.ResourceOptions(depends_on=[logs]),
        )
        pulumi.export("invokeArn", fn.invoke_arn)
        pulumi.export("arn", fn.arn)

    result = apply_function(program, factory)
    lam = factory("lambda")
    got = lam.get_function(FunctionName=f"fn-{unique}")
    config = got["Configuration"]
    assert (config["Runtime"], config["Handler"], config["Timeout"], config["MemorySize"]) == (
        "python3.12",
        "app.handler",
        7,
        256,
    )
    assert config["Role"].endswith(f":role/fn-{unique}")
    assert config["Environment"]["Variables"] == {"GREETING": "hello"}
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["State"] == "Active"  # the apply returns only with invocable functions
    assert got["Concurrency"]["ReservedConcurrentExecutions"] == 3
    assert result.outputs["invokeArn"] == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"{result.outputs['arn']}/invocations"
    )
    # The deployed zip is the declared one, byte for byte.
    assert requests.get(got["Code"]["Location"], timeout=10).content == code.read_bytes()
    assert invoked(lam, f"fn-{unique}")["greeting"] == "HELLO!"


def test_function_permission(factory: Callable, unique: str, tmp_path: Path) -> None:
    code = handler_zip(tmp_path)
    source_arn = f"arn:aws:execute-api:us-east-1:{account_of(factory)}:abc123/local/GET/items"

    def program() -> None:
        fn = handler_function(f"arch-{unique}", code)
        aws.lambda_.Permission(
            "allow-api",
            function=fn.name,
            action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            source_arn=source_arn,
        )

    apply_function(program, factory)
    lam = factory("lambda")
    assert invoked(lam, f"arch-{unique}")["greeting"] == "!"  # no GREETING set
    statements = json.loads(lam.get_policy(FunctionName=f"arch-{unique}")["Policy"])["Statement"]
    assert [
        (s["Sid"][:10], s["Principal"], s["Condition"]["ArnLike"]["AWS:SourceArn"])
        for s in statements
    ] == [
        # No statementId: the provider's autoname, `<logical name>-<7 chars>`.
        ("allow-api-", {"Service": "apigateway.amazonaws.com"}, source_arn),
    ]
