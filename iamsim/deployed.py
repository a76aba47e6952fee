"""The IAM-relevant state of a DEPLOYED stack, read back from its AWS target.

The offline matrices (iamsim.offline_matrix) normally judge what the program synthesizes. On a
target that stores IAM but never enforces it (LocalStack community), this module reads
what was actually deployed instead (roles, their trust, inline and attached policies, every
other role, the API's methods and its resource policy) so the same engine judges the live
documents: a deployed buyer policy that differs from the model fails there even though the
target would never deny.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from components.config import parse_settings
from iamsim.synth import Document, Role, Synthesized, UnsupportedProgram


def _trust_policy(iam: Any, role_name: str) -> Document:
    # list_roles may omit the trust policy; get_role always carries it. (botocore decodes IAM's
    # URL-encoded JSON documents into dicts.)
    return policy_document(iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"])


def policy_document(value: Any) -> Document:
    """A policy document as IAM or API Gateway hands it back: botocore decodes IAM's
    URL-encoded JSON into a dict; API Gateway returns its policy as a string with its quotes
    escaped (`{\\"Version\\":...}`)."""
    if isinstance(value, dict):
        return dict(value)
    try:
        return dict(json.loads(value))
    except json.JSONDecodeError:
        return dict(json.loads(value.replace('\\"', '"')))


def _identity_policies(iam: Any, role_name: str) -> tuple[Document, ...]:
    """The role's inline policies, then the default version of each attached managed policy."""
    names = [n for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name)
             for n in page["PolicyNames"]]
    attached = [p["PolicyArn"] for page in
                iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
                for p in page["AttachedPolicies"]]
    inline = [policy_document(iam.get_role_policy(RoleName=role_name,
                                                  PolicyName=n)["PolicyDocument"])
              for n in sorted(names)]
    managed = []
    for arn in sorted(attached):
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        managed.append(policy_document(iam.get_policy_version(
            PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]))
    return (*inline, *managed)


def _api_policy(apigw: Any, api_id: str) -> Document | None:
    text = apigw.get_rest_api(restApiId=api_id).get("policy")
    return policy_document(text) if text else None


def _method_authorization(apigw: Any, api_id: str) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for page in apigw.get_paginator("get_resources").paginate(restApiId=api_id,
                                                              embed=["methods"]):
        for resource in page["items"]:
            for method in resource.get("resourceMethods") or {}:
                answer = apigw.get_method(restApiId=api_id, resourceId=resource["id"],
                                          httpMethod=method)
                found[method, resource["path"]] = answer.get("authorizationType", "NONE")
    return found


def read_deployed(stack: str, config: Mapping[str, str], outputs: Mapping[str, Any],
                  clients: Mapping[str, Any]) -> Synthesized:
    """The deployed stack as iamsim.offline_matrix.compute_offline_matrices takes it.

    config: the stack's flat config as applied (for the intent: classes, issuer, client id).
    outputs: the stack outputs (roles, restApiId, stage, region).
    clients: boto3 clients for "iam", "apigateway" and "sts" on the target.
    """
    settings = parse_settings(stack, config)
    iam = clients["iam"]
    account = clients["sts"].get_caller_identity()["Account"]
    class_arns: Mapping[str, str] = outputs["roles"]
    roles = [r for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
    by_arn = {r["Arn"]: r for r in roles}
    class_roles = {}
    for user_class, arn in class_arns.items():
        if arn not in by_arn:
            raise UnsupportedProgram(f"output roles.{user_class} = {arn} is not deployed")
        name = by_arn[arn]["RoleName"]
        class_roles[user_class] = Role(name, arn, _trust_policy(iam, name),
                                       _identity_policies(iam, name))
    class_role_arns = set(class_arns.values())
    other_roles = tuple(Role(r["RoleName"], r["Arn"], _trust_policy(iam, r["RoleName"]))
                        for r in roles if r["Arn"] not in class_role_arns)
    return Synthesized(
        stack=stack,
        settings=settings,
        account=str(account),
        region=str(outputs["region"]),
        api_id=str(outputs["restApiId"]),
        stage=str(outputs["stage"]),
        client_id=str(outputs["oidcClientId"]),
        class_roles=class_roles,
        other_roles=other_roles,
        method_authorization=_method_authorization(clients["apigateway"], outputs["restApiId"]),
        api_policy=_api_policy(clients["apigateway"], outputs["restApiId"]),
    )
