"""Synthesis without AWS: the Pulumi program under the SDK's mock runtime, recorded.

Used by the unit tests, the policy-pack tests and the offline IAM engine: all
three need what the program would ask AWS to create, and nothing running. The program
runs on the local apply's runner (mock_runtime.py); recording is only the Mocks
(RecordingMocks), a stack transformation noting `protect` and `aliases`, and the
monitor noting each registration's place in the resource graph (graph.py: parent,
dependencies).

Each resource's inputs are recorded as the provider would receive them
(resolved, camelCase), and the mocks return the computed attributes the
program reads (arn, invokeArn, executionArn, ...), shaped like AWS's, so the
policies built from them are realistic.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from harness_core.graph import GraphMonitor, Registration, ResourceGraph
from harness_core.mock_runtime import (
    CallResult,
    OidcProvider,
    invoke_answer,
    oidc_provider_arn,
    oidc_provider_path,
    program_from_folder,
    run_under_mocks,
)

REGION = "eu-west-1"
ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"
CDN_DOMAIN = "d111111abcdef8.cloudfront.net"
AUTH0_CLIENT_ID = "mockAuth0ClientId0123456789abcde"  # 32 characters, as Auth0's are
STACK_REFERENCE = "pulumi:pulumi:StackReference"
ACCOUNT_DIR = Path(__file__).resolve().parent.parent / "account"  # the account baseline


@dataclass
class Declared:
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    # Resource options the provider never sees, recorded by a stack transformation.
    protect: bool = False
    aliases: tuple[pulumi.Input[pulumi.Alias | str], ...] = ()  # as given (Alias or URN)
    # Its URN, parent and dependencies, as the engine got them (graph.py).
    graph: Registration | None = None

    @property
    def urn(self) -> str:
        assert self.graph is not None, f"{self.name}: recorded without its graph"
        return self.graph.urn

    def json_input(self, key: str) -> Any:
        """A policy input parsed: assert on structure, never on substrings."""
        return json.loads(self.inputs[key])


class RecordingMocks(pulumi.runtime.Mocks):
    """A synthetic account: ACCOUNT in REGION.

    oidc_providers: the IAM OIDC providers it already has (what the program's lookup finds).
    stack_outputs: other stacks' outputs, by fully qualified name, for StackReference.
    """

    def __init__(self, oidc_providers: Sequence[OidcProvider] = (),
                 stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.declared: list[Declared] = []
        self.oidc_providers = tuple(oidc_providers)
        self.stack_outputs = dict(stack_outputs or {})
        self._lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        if args.typ == STACK_REFERENCE:
            outputs = {**args.inputs, "outputs": self._stack_outputs(args.resource_id)}
        elif args.resource_id:
            raise NotImplementedError(f"{args.typ} {args.name}: reading an existing resource "
                                      f"({args.resource_id!r}) is not recorded")
        else:
            outputs = {**args.inputs, **_computed(args.typ, args.name, args.inputs)}
        with self._lock:
            self.declared.append(Declared(args.typ, args.name, dict(args.inputs), outputs))
        return outputs.get("id", args.resource_id or f"{args.name}-id"), outputs

    def _stack_outputs(self, stack: str) -> dict[str, Any]:
        if stack not in self.stack_outputs:
            # As the engine: a reference to a stack that does not exist fails.
            raise LookupError(f"StackReference {stack!r}: no such stack in the recording "
                              f"(known: {sorted(self.stack_outputs)})")
        return dict(self.stack_outputs[stack])

    def call(self, args: pulumi.runtime.MockCallArgs) -> CallResult:
        # A plain dict, or (dict, failures): the SDK's MockMonitor fails on (result, None).
        answer = invoke_answer(args.token, args.args, account=ACCOUNT, region=REGION,
                               caller_arn=f"arn:aws:iam::{ACCOUNT}:root",
                               oidc_providers=lambda: self.oidc_providers)
        if answer is None:
            raise NotImplementedError(f"unmocked invoke {args.token}")
        return answer


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = inputs.get("name", name)
    if typ == "aws:dynamodb/table:Table":
        return {"arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical}"}
    if typ == "aws:iam/role:Role":
        return {"id": physical, "arn": f"arn:aws:iam::{ACCOUNT}:role/{physical}"}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        return {"arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}"}
    if typ == "aws:lambda/function:Function":
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}"
        return {"arn": arn, "invokeArn": (f"arn:aws:apigateway:{REGION}:lambda:path/"
                                          f"2015-03-31/functions/{arn}/invocations")}
    if typ == "aws:lambda/layerVersion:LayerVersion":
        return {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{inputs['layerName']}:1"}
    if typ == "aws:apigateway/restApi:RestApi":
        return {"id": API_ID, "rootResourceId": "rootres",
                "executionArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}"}
    if typ == "aws:s3/bucket:Bucket":
        return {"id": inputs["bucket"], "arn": f"arn:aws:s3:::{inputs['bucket']}",
                "bucketRegionalDomainName": f"{inputs['bucket']}.s3.{REGION}.amazonaws.com"}
    if typ == "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration":
        bucket = inputs["bucket"]
        return {"websiteEndpoint": f"{bucket}.s3-website-{REGION}.amazonaws.com",
                "websiteDomain": f"s3-website-{REGION}.amazonaws.com"}
    if typ == "aws:cloudfront/distribution:Distribution":
        return {"domainName": CDN_DOMAIN,
                "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1234ABCD"}
    if typ == "aws:sns/topic:Topic":
        arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{physical}"
        return {"id": arn, "arn": arn}
    if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return {"arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{physical}"}
    if typ == "aws:apigateway/stage:Stage":
        return {"invokeUrl": (f"https://{API_ID}.execute-api.{REGION}.amazonaws.com/"
                              f"{inputs['stageName']}"),
                "arn": f"arn:aws:apigateway:{REGION}::/restapis/{API_ID}/stages/"
                       f"{inputs['stageName']}"}
    if typ == "aws:wafv2/webAcl:WebAcl":
        return {"arn": f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/{physical}/"
                       "a1b2c3d4-0000-0000-0000-000000000000"}
    if typ == "aws:cloudfront/originAccessControl:OriginAccessControl":
        return {"id": "E2OACEXAMPLE"}
    if typ == "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy":
        return {"id": "a1b2c3d4-rhp0-0000-0000-000000000000"}
    if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        arn = oidc_provider_arn(inputs["url"], account=ACCOUNT)
        return {"id": arn, "arn": arn}
    if typ == "auth0:index/client:Client":
        return {"clientId": AUTH0_CLIENT_ID}
    return {}


@dataclass
class ProgramRun:
    declared: list[Declared]
    outputs: dict[str, Any]
    graph: ResourceGraph

    def of_type(self, typ: str) -> list[Declared]:
        return [d for d in self.declared if d.type == typ]

    def named(self, name: str) -> Declared:
        matches = [d for d in self.declared if d.name == name]
        assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> Declared:
        matches = [d for d in self.declared if d.urn == urn]
        assert len(matches) == 1, f"expected one resource with URN {urn}, found {len(matches)}"
        return matches[0]

    def waits_for(self, dependent: Declared | str, dependency: Declared | str) -> bool:
        """Whether `dependent` is created only after `dependency` exists, through any chain
        of dependencies and parents (graph.py). Resources are Declared or logical names."""
        return self.wait_path(dependent, dependency) is not None

    def wait_path(self, dependent: Declared | str, dependency: Declared | str) -> list[str] | None:
        """The logical names along which `dependent` waits for `dependency` (None: it does
        not), for failure messages."""
        path = self.graph.wait_path(self._urn(dependent), self._urn(dependency))
        if path is None:
            return None
        return [self.graph.by_urn[urn].name if urn in self.graph.by_urn else urn for urn in path]

    def _urn(self, resource: Declared | str) -> str:
        return (self.named(resource) if isinstance(resource, str) else resource).urn


Transformation = Callable[
    [pulumi.ResourceTransformationArgs], pulumi.ResourceTransformationResult | None]


def baseline_for(config: Mapping[str, str], stack: str) -> tuple[OidcProvider, ...]:
    """The account as the app stack needs it: the baseline deployed, its issuer's provider
    listing the stack's client id (a managed tenant's: AUTH0_CLIENT_ID). Nothing for a config
    that does not parse: the program itself then fails on it, naming the key."""
    from components.config import ConfigError, parse_settings

    try:
        settings = parse_settings(stack, config)
    except ConfigError:
        return ()
    client_id = settings.oidc_client_id or AUTH0_CLIENT_ID
    issuer = settings.oidc_issuer
    return (OidcProvider(oidc_provider_arn(issuer, account=ACCOUNT), oidc_provider_path(issuer),
                         (client_id,)),)


def record(
    program: Callable[[], None], config: Mapping[str, str], *, stack: str = "unit",
    mocks: RecordingMocks | None = None, project: str = "pets",
    program_dir: Path | None = None, transformations: Sequence[Transformation] = (),
) -> ProgramRun:
    """Any program (a function declaring resources), recorded: each resource's inputs and
    outputs (the Mocks), its options (`protect`, `aliases`: a stack transformation registered
    last, so it sees what the engine gets) and its place in the graph (the monitor).

    transformations: stack transformations registered before the program runs, as a
    policy pack's remediation or a project's own transformation would change resources;
    the Mocks see (and record) the transformed inputs.
    """
    mocks = mocks if mocks is not None else RecordingMocks()
    monitor = GraphMonitor(mocks)
    options: dict[tuple[str, str], pulumi.ResourceOptions] = {}

    def record_options(args: pulumi.ResourceTransformationArgs) -> None:  # changes nothing
        if args.opts is not None:
            options[(args.type_, args.name)] = args.opts

    def recorded() -> None:
        for transformation in transformations:
            pulumi.runtime.register_stack_transformation(transformation)
        pulumi.runtime.register_stack_transformation(record_options)
        program()

    outputs = run_under_mocks(recorded, mocks, project=project, stack=stack, config=config,
                              program_dir=program_dir, monitor=monitor)
    by_name: dict[tuple[str, str], list[Registration]] = {}
    for registration in monitor.registrations.values():
        by_name.setdefault((registration.type, registration.name), []).append(registration)
    for declared in mocks.declared:
        opts = options.get((declared.type, declared.name))
        if opts is not None:
            declared.protect = bool(opts.protect)
            declared.aliases = tuple(opts.aliases or ())
        found = by_name.get((declared.type, declared.name), [])
        assert len(found) == 1, (
            f"{declared.type} '{declared.name}': {len(found)} registrations of that type and "
            "name (logical names must be unique per type for the recording to join them)"
        )
        declared.graph = found[0]
    return ProgramRun(mocks.declared, outputs, ResourceGraph(monitor.registrations.values()))


def record_program(config: Mapping[str, str], stack: str = "unit", *,
                   oidc_providers: Sequence[OidcProvider] | None = None,
                   transformations: Sequence[Transformation] = ()) -> ProgramRun:
    """Runs the program like `pulumi up` would (preview=False), on the runner the local
    apply uses (mock_runtime.run_under_mocks); raises what the program raised.

    oidc_providers: the account's IAM OIDC providers; default: the account baseline deployed
    for this stack (baseline_for).
    """
    from components.config import load_settings
    from components.pets_app import build

    def program() -> None:  # __main__.py
        for key, value in build(load_settings()).outputs().items():
            pulumi.export(key, value)

    providers = baseline_for(config, stack) if oidc_providers is None else oidc_providers
    return record(program, config, stack=stack, mocks=RecordingMocks(providers),
                  transformations=transformations)


def record_baseline(config: Mapping[str, str], stack: str = "unit", *,
                    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> ProgramRun:
    """Runs the account baseline (account/__main__.py, as the CLI runs it from its folder).

    stack_outputs: the app stacks its `stacks:` entries reference, by fully qualified name."""
    from components.naming import ACCOUNT_PROJECT

    return record(program_from_folder(ACCOUNT_DIR), config, stack=stack,
                  mocks=RecordingMocks(stack_outputs=stack_outputs),
                  project=ACCOUNT_PROJECT, program_dir=ACCOUNT_DIR)
