"""What the Pulumi program would deploy, read from a run under the SDK's mock runtime.

The offline matrices must judge the policies the program SYNTHESIZES, not access.py: a bug in
components/ (wrong ARN, wrong stage, a widened grant, a trust condition lost) only shows up there.
So this module runs the real program (harness_core/recorder.record_program, preview=False) and
extracts, from the recorded resource inputs only:
- each user-class role (from the stack output `roles`, as the live harness picks them), its name,
  its trust policy (`assumeRolePolicy`) and every inline policy attached to it;
- every other role (must never be assumable with a web identity);
- the deployed API shape: stage name and, per (METHOD, path), the method's authorization;
- the REST API's resource policy (RestApiPolicy, or the RestApi's own `policy` input).
Account, region and API id are the mocks' constants, NOT the program's executionArn: a program
that builds its grants from a wrong ARN must fail the check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.config import Settings, parse_settings
from harness_core import recorder
from harness_core.errors import HarnessError
from harness_core.recorder import Declared, ProgramRun, record_program

Document = dict[str, Any]

_ROLE = "aws:iam/role:Role"
_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
_REST_API = "aws:apigateway/restApi:RestApi"
_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
# Attachment kinds whose policies we cannot read from the recorded inputs (managed policies).
_ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "aws:iam/policyAttachment:PolicyAttachment")


class UnsupportedProgram(HarnessError):
    """The program declares something the offline check cannot evaluate faithfully."""


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    trust_policy: Document
    identity_policies: tuple[Document, ...] = ()  # inline, then attached; class roles only


@dataclass(frozen=True)
class Synthesized:
    """The program's IAM-relevant output for one stack config."""

    stack: str
    settings: Settings  # the stack's intent (config parsed by components.config)
    account: str
    region: str
    api_id: str
    stage: str  # the deployed Stage's stageName
    client_id: str  # the audience the class roles require (the `oidcClientId` stack output)
    class_roles: Mapping[str, Role]  # by user class
    other_roles: tuple[Role, ...]
    # (METHOD, path as in access.Route, e.g. "/pets/{petId}") -> "AWS_IAM" | "NONE" | ...
    method_authorization: Mapping[tuple[str, str], str]
    api_policy: Document | None = None  # the REST API's resource policy; None: it has none


def synthesize(config: Mapping[str, str], stack: str = "local", *,
               record: Callable[[Mapping[str, str], str], ProgramRun] = record_program,
               ) -> Synthesized:
    """Runs the program under mocks with this config and extracts what the matrices need.

    record: what runs the program (the tests pass one that shares recordings)."""
    settings = parse_settings(stack, config)  # the intent; raises ConfigError with the key
    run = record(dict(config), stack)
    roles = run.of_type(_ROLE)
    by_arn = {d.outputs["arn"]: d for d in roles}
    class_arns: Mapping[str, str] = run.outputs.get("roles") or {}
    if not class_arns:
        raise UnsupportedProgram("the program exports no `roles` output: no user-class roles")
    class_roles: dict[str, Role] = {}
    for user_class, arn in class_arns.items():
        if arn not in by_arn:
            raise UnsupportedProgram(f"output roles.{user_class} = {arn} is no declared role")
        role = by_arn[arn]
        class_roles[user_class] = Role(
            name=role.inputs["name"],
            arn=arn,
            trust_policy=role.json_input("assumeRolePolicy"),
            identity_policies=_inline_policies(run, role),
        )
    class_role_arns = set(class_arns.values())
    other_roles = tuple(
        Role(d.inputs.get("name", d.name), d.outputs["arn"], d.json_input("assumeRolePolicy"))
        for d in roles if d.outputs["arn"] not in class_role_arns
    )
    stages = run.of_type("aws:apigateway/stage:Stage")
    if len(stages) != 1:
        raise UnsupportedProgram(f"expected one API stage, the program declares {len(stages)}")
    return Synthesized(
        stack=settings.stack,
        settings=settings,
        account=recorder.ACCOUNT,
        region=recorder.REGION,
        api_id=recorder.API_ID,
        stage=stages[0].inputs["stageName"],
        client_id=_client_id(run),
        class_roles=class_roles,
        other_roles=other_roles,
        method_authorization=_method_authorization(run),
        api_policy=_api_policy(run),
    )


def _api_policy(run: ProgramRun) -> Document | None:
    policies = [d.json_input("policy") for d in run.of_type(_API_POLICY)]
    policies += [json.loads(d.inputs["policy"]) for d in run.of_type(_REST_API)
                 if d.inputs.get("policy")]
    if len(policies) > 1:
        raise UnsupportedProgram(f"the REST API has {len(policies)} resource policies")
    return policies[0] if policies else None


def _client_id(run: ProgramRun) -> str:
    """The client id the class roles' trust policies require (the stack output, as the live
    harness reads it; a managed Auth0 app's is an output of its application). The OIDC
    provider itself is the account baseline's, not the program's."""
    client_id = run.outputs.get("oidcClientId")
    if not isinstance(client_id, str) or not client_id:
        raise UnsupportedProgram("the program exports no `oidcClientId` output")
    return client_id


def _inline_policies(run: ProgramRun, role: Declared) -> tuple[Document, ...]:
    # RolePolicy.role is the role's id, which for IAM roles is the role name.
    role_id = role.outputs.get("id", role.inputs["name"])
    policies = [d.json_input("policy") for d in run.of_type(_ROLE_POLICY)
                if d.inputs.get("role") == role_id]
    policies += [json.loads(p["policy"]) for p in role.inputs.get("inlinePolicies") or []]
    for kind in _ATTACHMENTS:
        for attachment in run.of_type(kind):
            targets = attachment.inputs.get("roles") or [attachment.inputs.get("role")]
            if role_id in targets:
                # A managed policy's text is not in the recorded inputs; evaluating without it
                # could call a granted route denied. Refuse rather than answer wrongly.
                raise UnsupportedProgram(
                    f"{attachment.name} attaches a managed policy to user-class role {role_id};"
                    " the offline matrix only evaluates inline policies"
                )
    return tuple(policies)


def _method_authorization(run: ProgramRun) -> dict[tuple[str, str], str]:
    """Rebuilds each method's path from the declared Resource tree (parentId/pathPart)."""
    [api] = run.of_type(_REST_API)
    parents: dict[str, tuple[str, str]] = {}  # resource id -> (parent id, path part)
    for resource in run.of_type("aws:apigateway/resource:Resource"):
        # The id the mock runtime handed back (recorder.RecordingMocks.new_resource).
        resource_id = resource.outputs.get("id") or f"{resource.name}-id"
        parents[resource_id] = (resource.inputs["parentId"], resource.inputs["pathPart"])

    def path_of(resource_id: str) -> str:
        parts: list[str] = []
        while resource_id != api.outputs["rootResourceId"]:
            if resource_id not in parents or len(parts) > 50:
                raise UnsupportedProgram(f"API resource {resource_id} has no path to the root")
            resource_id, part = parents[resource_id]
            parts.append(part)
        return "/" + "/".join(reversed(parts))

    return {
        (m.inputs["httpMethod"], path_of(m.inputs["resourceId"])): m.inputs["authorization"]
        for m in run.of_type("aws:apigateway/method:Method")
    }
