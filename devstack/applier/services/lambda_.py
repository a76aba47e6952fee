"""Lambda functions (code packaged from the program's archive) and permissions."""

from __future__ import annotations

import time
from typing import Any

import pulumi

from devstack.applier import archives
from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none

_ACTIVE_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05
_NO_RESERVATION = -1  # the provider's default: no reserved concurrency


def _code(req: CreateRequest) -> dict[str, Any]:
    code = req.get("code")
    if code is not None:
        if not isinstance(code, pulumi.Archive):
            raise req.fail(f"code must be an Archive, got {type(code).__name__}")
        try:
            return {"ZipFile": archives.cached_zip_bytes(code)}
        except archives.ArchiveError as exc:
            raise req.fail(f"code: {exc}") from exc
    if req.get("s3Bucket"):
        return drop_none(
            {
                "S3Bucket": req.get("s3Bucket"),
                "S3Key": req.require("s3Key"),
                "S3ObjectVersion": req.get("s3ObjectVersion"),
            }
        )
    raise req.fail("one of code or s3Bucket/s3Key is required")


def _nested(value: dict[str, Any] | None, mapping: dict[str, str]) -> dict[str, Any] | None:
    if not value:
        return None
    return drop_none({aws_key: value.get(key) for key, aws_key in mapping.items()}) or None


def create_function(req: CreateRequest) -> Created:
    lam = req.client("lambda")
    if req.get("packageType", "Zip") != "Zip":
        raise req.fail(
            "packageType Image is not supported by the local apply (no container runtime)"
        )
    name = req.physical_name(prefix_key=None, max_length=64)
    environment = req.get("environment")
    params = drop_none(
        {
            "FunctionName": name,
            "Runtime": req.get("runtime"),
            "Role": req.require("role"),
            "Handler": req.get("handler"),
            "Code": _code(req),
            "Description": req.get("description"),
            "Timeout": req.get("timeout"),
            "MemorySize": req.get("memorySize"),
            "Publish": req.get("publish"),
            "Environment": {"Variables": dict(environment.get("variables") or {})}
            if environment
            else None,
            "Architectures": req.get("architectures") or None,
            "Layers": req.get("layers") or None,
            "KMSKeyArn": req.get("kmsKeyArn"),
            "Tags": req.get("tags"),
            "LoggingConfig": _nested(
                req.get("loggingConfig"),
                {
                    "logFormat": "LogFormat",
                    "logGroup": "LogGroup",
                    "applicationLogLevel": "ApplicationLogLevel",
                    "systemLogLevel": "SystemLogLevel",
                },
            ),
            "TracingConfig": _nested(req.get("tracingConfig"), {"mode": "Mode"}),
            "EphemeralStorage": _nested(req.get("ephemeralStorage"), {"size": "Size"}),
            "DeadLetterConfig": _nested(req.get("deadLetterConfig"), {"targetArn": "TargetArn"}),
            "VpcConfig": _nested(
                req.get("vpcConfig"),
                {
                    "subnetIds": "SubnetIds",
                    "securityGroupIds": "SecurityGroupIds",
                    "ipv6AllowedForDualStack": "Ipv6AllowedForDualStack",
                },
            ),
        }
    )
    fn = lam.create_function(**params)
    # The provider waits for Active before it reports the function created; dependents
    # (integrations, permissions) need only its name and ARN, so the wait is deferred to
    # the end of the apply, which still returns only with every function invocable.
    req.defer(lambda: _wait_active(req, name, fn))
    reserved = req.get("reservedConcurrentExecutions", _NO_RESERVATION)
    if reserved != _NO_RESERVATION:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)

    arn = fn["FunctionArn"]
    version = fn.get("Version", "$LATEST")
    invoke_base = f"arn:{req.target.partition}:apigateway:{req.target.region}:lambda:path"
    invocations = f"{invoke_base}/2015-03-31/functions"
    streaming = f"{invoke_base}/2021-11-15/functions/{arn}/response-streaming-invocations"
    return Created(
        name,
        drop_none(
            {
                "name": name,
                "arn": arn,
                "invokeArn": f"{invocations}/{arn}/invocations",
                "qualifiedArn": f"{arn}:{version}",
                "qualifiedInvokeArn": f"{invocations}/{arn}:{version}/invocations",
                "responseStreamingInvokeArn": streaming,
                "version": version,
                "lastModified": fn.get("LastModified"),
                "sourceCodeSize": fn.get("CodeSize"),
                "codeSha256": fn.get("CodeSha256"),
                "timeout": fn.get("Timeout"),
                "memorySize": fn.get("MemorySize"),
                "reservedConcurrentExecutions": reserved,
                "tagsAll": req.get("tags", {}),
            }
        ),
    )


def _wait_active(req: CreateRequest, name: str, config: dict[str, Any]) -> None:
    """config: CreateFunction's answer; polled again while the function is Pending."""
    deadline = time.monotonic() + _ACTIVE_WAIT_SECONDS
    while config.get("State") == "Pending":
        if time.monotonic() > deadline:
            raise req.fail(f"function {name} still Pending after {_ACTIVE_WAIT_SECONDS:.0f} s")
        time.sleep(_POLL_SECONDS)
        config = req.client("lambda").get_function_configuration(FunctionName=name)
    if config.get("State") == "Failed":
        reason = f"state Failed: {config.get('StateReason') or 'no reason given'}"
        if not req.allow_failed_functions:
            raise req.fail(f"function {name} is in {reason}")
        req.warn(f"function {name} was created but this target cannot run it ({reason})")


def create_layer_version(req: CreateRequest) -> Created:
    name = req.require("layerName")
    layer = req.client("lambda").publish_layer_version(
        **drop_none(
            {
                "LayerName": name,
                "Description": req.get("description"),
                "Content": _code(req),
                "CompatibleRuntimes": req.get("compatibleRuntimes") or None,
                "CompatibleArchitectures": req.get("compatibleArchitectures") or None,
                "LicenseInfo": req.get("licenseInfo"),
            }
        )
    )
    arn = layer["LayerVersionArn"]
    return Created(
        arn,
        drop_none(
            {
                "arn": arn,
                "layerArn": layer.get("LayerArn"),
                "version": str(layer.get("Version")),
                "createdDate": layer.get("CreatedDate"),
                "codeSha256": layer.get("Content", {}).get("CodeSha256"),
                "sourceCodeSize": layer.get("Content", {}).get("CodeSize"),
            }
        ),
    )


def create_permission(req: CreateRequest) -> Created:
    statement_id = req.physical_name("statementId", prefix_key="statementIdPrefix", max_length=100)
    req.client("lambda").add_permission(
        **drop_none(
            {
                "FunctionName": req.require("function"),
                "StatementId": statement_id,
                "Action": req.require("action"),
                "Principal": req.require("principal"),
                "SourceArn": req.get("sourceArn"),
                "SourceAccount": req.get("sourceAccount"),
                "EventSourceToken": req.get("eventSourceToken"),
                "Qualifier": req.get("qualifier"),
                "PrincipalOrgID": req.get("principalOrgId"),
                "FunctionUrlAuthType": req.get("functionUrlAuthType"),
                "InvokedViaFunctionUrl": req.get("invokedViaFunctionUrl"),
            }
        )
    )
    return Created(statement_id, {"statementId": statement_id})


KINDS = [
    ResourceKind(
        resource_type="aws:lambda/function:Function",
        create=create_function,
        inputs=frozenset(
            {
                "name",
                "runtime",
                "role",
                "handler",
                "code",
                "s3Bucket",
                "s3Key",
                "s3ObjectVersion",
                "description",
                "timeout",
                "memorySize",
                "publish",
                "environment",
                "architectures",
                "layers",
                "kmsKeyArn",
                "tags",
                "loggingConfig",
                "tracingConfig",
                "ephemeralStorage",
                "deadLetterConfig",
                "vpcConfig",
                "reservedConcurrentExecutions",
                "packageType",
            }
        ),
        ignored=frozenset(
            {
                "sourceCodeHash",
                "codeSha256",
                "skipDestroy",
                "replaceSecurityGroupsOnDestroy",
                "replacementSecurityGroupIds",
            }
        ),
        refused={
            "imageUri": "container images are not run by the emulator",
        },
        note="MiniStack enforces timeout and reserved concurrency, not memory; handlers run on "
        "the emulator's own interpreter",
    ),
    ResourceKind(
        resource_type="aws:lambda/layerVersion:LayerVersion",
        create=create_layer_version,
        inputs=frozenset(
            {
                "layerName",
                "code",
                "s3Bucket",
                "s3Key",
                "s3ObjectVersion",
                "description",
                "compatibleRuntimes",
                "compatibleArchitectures",
                "licenseInfo",
            }
        ),
        ignored=frozenset({"sourceCodeHash", "skipDestroy"}),
        note="MiniStack puts the layer's python/ folder on the handler's sys.path, as AWS does",
    ),
    ResourceKind(
        resource_type="aws:lambda/permission:Permission",
        create=create_permission,
        inputs=frozenset(
            {
                "function",
                "statementId",
                "statementIdPrefix",
                "action",
                "principal",
                "sourceArn",
                "sourceAccount",
                "eventSourceToken",
                "qualifier",
                "principalOrgId",
                "functionUrlAuthType",
                "invokedViaFunctionUrl",
            }
        ),
        note="stored and readable with GetPolicy, but MiniStack never enforces it",
    ),
]
