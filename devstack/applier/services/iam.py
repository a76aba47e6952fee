"""IAM: roles, inline role policies, managed policy attachments, OIDC providers."""

from __future__ import annotations

import json
import secrets

from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none, tag_list

_ROLE_NAME_MAX = 64
_POLICY_NAME_MAX = 128


def _check_policy_document(req: CreateRequest, key: str) -> str:
    """AWS refuses a policy that is not a JSON object with a Statement; MiniStack's
    CreateRole stores any text, so the same program would fail only on AWS."""
    document = req.require(key)
    try:
        parsed = json.loads(document)
    except (TypeError, ValueError) as exc:
        raise req.fail(
            "MalformedPolicyDocument (AWS check, not made by the emulator): "
            f"{key} is not JSON: {exc}"
        ) from exc
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise req.fail(
            f"MalformedPolicyDocument (AWS check, not made by the emulator): {key} has no Statement"
        )
    return str(document)


def create_role(req: CreateRequest) -> Created:
    iam = req.client("iam")
    name = req.physical_name(max_length=_ROLE_NAME_MAX)
    path = req.get("path", "/")
    role = iam.create_role(
        **drop_none(
            {
                "RoleName": name,
                "Path": path,
                "AssumeRolePolicyDocument": _check_policy_document(req, "assumeRolePolicy"),
                "Description": req.get("description"),
                "MaxSessionDuration": req.get("maxSessionDuration"),
                "PermissionsBoundary": req.get("permissionsBoundary"),
                "Tags": tag_list(req.get("tags")),
            }
        )
    )["Role"]
    # Deprecated in pulumi-aws 7 but still inputs: exclusive inline / managed policy sets.
    for inline in req.get("inlinePolicies", []):
        if inline.get("name") and inline.get("policy"):
            iam.put_role_policy(
                RoleName=name, PolicyName=inline["name"], PolicyDocument=inline["policy"]
            )
    for policy_arn in req.get("managedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return Created(
        name,
        {
            "name": name,
            "arn": role["Arn"],
            "uniqueId": role["RoleId"],
            "createDate": role["CreateDate"].isoformat()
            if hasattr(role["CreateDate"], "isoformat")
            else str(role["CreateDate"]),
            "path": path,
            "maxSessionDuration": role.get(
                "MaxSessionDuration", req.get("maxSessionDuration", 3600)
            ),
            "tagsAll": req.get("tags", {}),
        },
    )


def create_role_policy(req: CreateRequest) -> Created:
    role = req.require("role")
    name = req.physical_name(max_length=_POLICY_NAME_MAX)
    req.client("iam").put_role_policy(
        RoleName=role, PolicyName=name, PolicyDocument=req.require("policy")
    )
    return Created(f"{role}:{name}", {"name": name})  # the provider's id format


def create_role_policy_attachment(req: CreateRequest) -> Created:
    role = req.require("role")
    req.client("iam").attach_role_policy(RoleName=role, PolicyArn=req.require("policyArn"))
    # The provider's id is `<role>-<unique suffix>`.
    return Created(f"{role}-{secrets.token_hex(13)}")


def create_oidc_provider(req: CreateRequest) -> Created:
    arn = req.client("iam").create_open_id_connect_provider(
        **drop_none(
            {
                "Url": req.require("url"),
                "ClientIDList": req.get("clientIdLists", []),
                "ThumbprintList": req.get("thumbprintLists") or None,
                "Tags": tag_list(req.get("tags")),
            }
        )
    )["OpenIDConnectProviderArn"]
    return Created(arn, {"arn": arn, "tagsAll": req.get("tags", {})})


KINDS = [
    ResourceKind(
        resource_type="aws:iam/role:Role",
        create=create_role,
        inputs=frozenset(
            {
                "name",
                "namePrefix",
                "path",
                "assumeRolePolicy",
                "description",
                "maxSessionDuration",
                "permissionsBoundary",
                "tags",
                "inlinePolicies",
                "managedPolicyArns",
            }
        ),
        ignored=frozenset({"forceDetachPolicies"}),
    ),
    ResourceKind(
        resource_type="aws:iam/rolePolicy:RolePolicy",
        create=create_role_policy,
        inputs=frozenset({"role", "name", "namePrefix", "policy"}),
    ),
    ResourceKind(
        resource_type="aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        create=create_role_policy_attachment,
        inputs=frozenset({"role", "policyArn"}),
        note="MiniStack attaches any policy ARN, even one that does not exist (AWS: NoSuchEntity)",
    ),
    ResourceKind(
        resource_type="aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        create=create_oidc_provider,
        inputs=frozenset({"url", "clientIdLists", "thumbprintLists", "tags"}),
        note="MiniStack accepts http:// issuers and returns the URL with its scheme",
    ),
]
