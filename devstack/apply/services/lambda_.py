"""Lambda functions and layers (code: the program's .zip archives) and permissions."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pulumi

from devstack.apply.kinds import Created, CreateRequest, ResourceKind, To, read_file

_ACTIVE_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05
_NO_RESERVATION = -1  # the provider's default: no reserved concurrency


def _zip(code: Any) -> bytes:
    # The program ships the .zips `make package` builds, which the engine passes through
    # as they are, and so does this. Folders and AssetArchives (zipped by the engine) are
    # not done locally.
    if not isinstance(code, pulumi.FileArchive) or not code.path.endswith(".zip"):
        raise ValueError(f"code must be a FileArchive of a .zip file (got {type(code).__name__} "
                         f"{getattr(code, 'path', '')!r}): zip it first")
    return read_file(code.path)


def create_function(req: CreateRequest) -> Created:
    name = req.require("name")
    fn = req.call()
    # The provider waits for Active before it reports the function created; dependents
    # (integrations, permissions) need only its name and ARN, so the wait is deferred to
    # the end of the apply, which still returns only with every function invocable.
    req.defer(lambda: _wait_active(req, name, fn))
    if req.params("PutFunctionConcurrency"):
        req.call("PutFunctionConcurrency", FunctionName=name)
    arn = fn["FunctionArn"]
    invocations = f"arn:aws:apigateway:{req.target.region}:lambda:path"
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
    arn = req.call()["LayerVersionArn"]
    return Created(arn, {"arn": arn})


def create_permission(req: CreateRequest) -> Created:
    # The program names no statement (statementId is not an input here): the provider's
    # autoname, `<logical name>-<7 random chars>`.
    statement_id = f"{req.name}-{secrets.token_hex(4)[:7]}"
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
