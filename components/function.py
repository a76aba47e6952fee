"""One Lambda function per route, each with its own least-privilege role."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

import access
from components import policies
from components.component import Component, Outputs
from components.naming import execution_role_name

RUNTIME = "python3.12"
HANDLER = "app.handler"  # handlers/app.py: one resolver serves every route


@dataclass(frozen=True)
class LambdaPackage:
    code: pulumi.FileArchive  # code.zip: handlers/*.py
    dependencies: pulumi.FileArchive  # layer.zip: python/<packages>


def lambda_package(path: str) -> LambdaPackage:
    """The built handler package; fail early when it has not been built.

    `make package` builds handlers/ and, as a layer, their dependencies for the
    Lambda platform, each as a reproducible .zip (passed through by the engine as
    it is); a bare handlers/ folder would deploy without its dependencies and fail
    on the first request.
    """
    folder = Path(path)
    code, layer = folder / "code.zip", folder / "layer.zip"
    if not code.is_file() or not layer.is_file():
        raise FileNotFoundError(
            f"Lambda package {folder}/ is missing or incomplete: run `make package` "
            "(or set pets:lambdaPackage to a built package folder)"
        )
    return LambdaPackage(pulumi.FileArchive(str(code)), pulumi.FileArchive(str(layer)))


@dataclass
class DependencyLayerArgs:
    layer_name: str
    dependencies: pulumi.Archive


class DependencyLayer(Component[DependencyLayerArgs]):
    """Owns the LayerVersion of the handlers' third-party packages, shared by every route
    function."""

    layer: aws.lambda_.LayerVersion

    def declare(self, name: str, args: DependencyLayerArgs) -> Outputs:
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=args.layer_name,
            code=args.dependencies,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=["x86_64"],
            description="handlers/requirements.txt built for python3.12 manylinux x86_64",
            opts=self.child(),
        )
        self.arn = self.layer.arn
        return {"layerArn": self.layer.arn}


@dataclass
class RouteFunctionArgs:
    route: access.Route
    function_name: str
    code: pulumi.Archive
    table_arn: pulumi.Input[str]
    # The idempotency table, for a route with idempotency actions (access.Route).
    idempotency_table_arn: pulumi.Input[str] | None = None
    layers: Sequence[pulumi.Input[str]] = ()
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    log_retention_days: int = 30
    timeout_seconds: int = 10
    memory_mb: int = 256
    # X-Ray Active tracing: Lambda records each invocation's segment (init, invocation,
    # overhead) itself; the handlers import no tracing SDK (docs/deploying.md, "Tracing and
    # cold starts").
    tracing: bool = True
    # Executions reserved for this function (None: it shares the account's pool): one
    # route's burst cannot starve the others, nor this one use them all.
    reserved_concurrency: int | None = None


class RouteFunction(Component[RouteFunctionArgs]):
    """The Lambda serving one route: owns its Function, its LogGroup, its execution Role and
    that role's RolePolicy (and, with tracing, the RolePolicy for X-Ray).

    The role may use only the route's own table actions, only on the pets
    table, its idempotency actions only on the idempotency table, and write only to the
    function's own log group.
    """

    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    def declare(self, name: str, args: RouteFunctionArgs) -> Outputs:

        # Created by us rather than by Lambda on first write, so it has a retention.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            opts=self.child(),
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=execution_role_name(args.function_name),
            assume_role_policy=json.dumps(policies.service_trust_policy("lambda.amazonaws.com")),
            opts=self.child(),
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name="table-and-logs",
            role=self.role.id,
            policy=pulumi.Output.all(
                args.table_arn, self.log_group.arn, args.idempotency_table_arn
            ).apply(
                lambda arns: json.dumps(policies.function_policy(
                    arns[0], args.route.table_actions, arns[1],
                    idempotency_table_arn=arns[2],
                    idempotency_actions=args.route.idempotency_actions,
                ))
            ),
            opts=self.child(),
        )
        role_policies: list[pulumi.Resource] = [role_policy]
        if args.tracing:
            role_policies.append(aws.iam.RolePolicy(
                f"{name}-tracing-policy",
                name="xray-traces",
                role=self.role.id,
                policy=json.dumps(policies.tracing_policy()),
                opts=self.child(),
            ))
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            runtime=RUNTIME,
            architectures=["x86_64"],  # the package's wheels are manylinux x86_64
            handler=HANDLER,
            code=args.code,
            layers=list(args.layers),
            role=self.role.arn,
            timeout=args.timeout_seconds,
            memory_size=args.memory_mb,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(
                mode="Active" if args.tracing else "PassThrough"
            ),
            reserved_concurrent_executions=(
                -1 if args.reserved_concurrency is None else args.reserved_concurrency
            ),
            # The policies must exist before the first invocation, the log group
            # before Lambda would create one without retention.
            opts=self.child(depends_on=[*role_policies, self.log_group]),
        )
        return {
            "functionName": self.function.name,
            "functionArn": self.function.arn,
            "roleArn": self.role.arn,
        }
