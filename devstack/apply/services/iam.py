"""IAM: roles, inline role policies, managed policy attachments, OIDC providers."""

from __future__ import annotations

import json
import secrets

from devstack.apply.kinds import Created, CreateRequest, ResourceKind, To, tag_list


def _policy_document(document: str) -> str:
    """AWS refuses a policy that is not a JSON object with a Statement; MiniStack's
    CreateRole stores any text, so the same program would fail only on AWS."""
    check = "MalformedPolicyDocument (AWS check, not made by the emulator)"
    try:
        parsed = json.loads(document)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{check}: assumeRolePolicy is not JSON: {exc}") from exc
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise ValueError(f"{check}: assumeRolePolicy has no Statement")
    return document


def create_role(req: CreateRequest) -> Created:
    name = req.require("name")
    req.require("assumeRolePolicy")
    role = req.call()["Role"]
    return Created(name, {"name": name, "arn": role["Arn"]})


def create_role_policy(req: CreateRequest) -> Created:
    role, name = req.require("role"), req.require("name")
    req.call()
    return Created(f"{role}:{name}", {"name": name})  # the provider's id format


def create_role_policy_attachment(req: CreateRequest) -> Created:
    req.call()
    # The provider's id is `<role>-<unique suffix>`.
    return Created(f"{req.require('role')}-{secrets.token_hex(13)}")


def create_oidc_provider(req: CreateRequest) -> Created:
    arn = req.call()["OpenIDConnectProviderArn"]
    return Created(arn, {"arn": arn})


KINDS = [
    ResourceKind(
        "aws:iam/role:Role",
        "iam",
        "CreateRole",
        {
            "name": "RoleName",
            "assumeRolePolicy": To("AssumeRolePolicyDocument", convert=_policy_document),
            "description": "Description",
            "maxSessionDuration": "MaxSessionDuration",
            "tags": To("Tags", convert=tag_list),
        },
        create_role,
    ),
    ResourceKind(
        "aws:iam/rolePolicy:RolePolicy",
        "iam",
        "PutRolePolicy",
        {"role": "RoleName", "name": "PolicyName", "policy": "PolicyDocument"},
        create_role_policy,
    ),
    ResourceKind(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "iam",
        "AttachRolePolicy",
        {"role": "RoleName", "policyArn": "PolicyArn"},
        create_role_policy_attachment,
    ),
    ResourceKind(
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "iam",
        "CreateOpenIDConnectProvider",
        {"url": "Url", "clientIdLists": "ClientIDList"},
        create_oidc_provider,
    ),
]
