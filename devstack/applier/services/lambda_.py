"""Lambda functions and layers (code packaged from the program's archives) and permissions."""

from __future__ import annotations

import time
from typing import Any

import pulumi

from devstack.applier import archives
from devstack.applier.kinds import Created, CreateRequest, ResourceKind, To

_ACTIVE_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05
_NO_RESERVATION = -1  # the provider's default: no reserved concurrency


def _zip(code: Any) -> bytes:
    if not isinstance(code, pulumi.Archive):
        raise ValueError(f"code must be an Archive, got {type(code).__name__}")
    return archives.cached_zip_bytes(code)  # an ArchiveError is a ValueError


def create_function(req: CreateRequest) -> Created:
    name = req.physical_name(max_length=64)
    fn = req.call(FunctionName=name)
    # The provider waits for Active before it reports the function created; dependents
    # (integrations, permissions) need only its name and ARN, so the wait is deferred to
    # the end of the apply, which still returns only with every function invocable.
    req.defer(lambda: _wait_active(req, name, fn))
    if req.params("PutFunctionConcurrency"):
        req.call("PutFunctionConcurrency", FunctionName=name)
    arn = fn["FunctionArn"]
    invocations = f"arn:{req.target.partition}:apigateway:{req.target.region}:lambda:path"
    return Created(
        name,
        {
            "name": name,
            "arn": arn,
            "invokeArn": f"{invocations}/2015-03-31/functions/{arn}/invocations",
        },
    )


def _wait_active(req: CreateRequest, name: str, config: dict[str, Any]) -> None:
    """config: CreateFunction's answer; polled again while the function is Pending."""
    deadline = time.monotonic() + _ACTIVE_WAIT_SECONDS
    while config.get("State") == "Pending":
        if time.monotonic() > deadline:
            raise req.fail(f"function {name} still Pending after {_ACTIVE_WAIT_SECONDS:.0f} s")
        time.sleep(_POLL_SECONDS)
        config = req.client().get_function_configuration(FunctionName=name)
    if config.get("State") == "Failed":
        reason = f"state Failed: {config.get('StateReason') or 'no reason given'}"
        if not req.allow_failed_functions:
            raise req.fail(
                f"function {name} is in {reason}; on a target that stores functions but "
                "cannot run them, apply with allow_failed_functions=True"
            )
        req.warn(f"function {name} was created but this target cannot run it ({reason})")


def create_layer_version(req: CreateRequest) -> Created:
    layer = req.call()
    arn = layer["LayerVersionArn"]
    return Created(arn, {"arn": arn, "layerArn": layer.get("LayerArn")})


def create_permission(req: CreateRequest) -> Created:
    # The program names no statement (statementId is not an input here): the autoname.
    statement_id = req.physical_name(None, max_length=100)
    req.call(StatementId=statement_id)
    return Created(statement_id, {"statementId": statement_id})


KINDS = [
    ResourceKind(
        "aws:lambda/function:Function",
        "lambda",
        "CreateFunction",
        {
            "name": "FunctionName",
            "role": "Role",
            "runtime": "Runtime",
            "architectures": "Architectures",
            "handler": "Handler",
            "code": To("Code.ZipFile", convert=_zip),
            "layers": "Layers",
            "timeout": "Timeout",
            "memorySize": "MemorySize",
            "environment": To("Environment", fields={"variables": "Variables"}),
            "tracingConfig": To("TracingConfig", fields={"mode": "Mode"}),
            "reservedConcurrentExecutions": To(
                "ReservedConcurrentExecutions",
                op="PutFunctionConcurrency",
                convert=lambda n: None if n == _NO_RESERVATION else n,
            ),
        },
        create_function,
    ),
    ResourceKind(
        "aws:lambda/layerVersion:LayerVersion",
        "lambda",
        "PublishLayerVersion",
        {
            "layerName": "LayerName",
            "description": "Description",
            "code": To("Content.ZipFile", convert=_zip),
            "compatibleRuntimes": "CompatibleRuntimes",
            "compatibleArchitectures": "CompatibleArchitectures",
        },
        create_layer_version,
    ),
    ResourceKind(
        "aws:lambda/permission:Permission",
        "lambda",
        "AddPermission",
        {
            "function": "FunctionName",
            "action": "Action",
            "principal": "Principal",
            "sourceArn": "SourceArn",
        },
        create_permission,
    ),
]
