"""Data at rest: the pets table and the site bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy import iam
from policy.props import is_unknown, require_known

TABLE = "aws:dynamodb/table:Table"
BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ACLS = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
OBJECTS = frozenset({"aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2"})
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PUBLIC_WRITE_TYPES = frozenset({BUCKET_POLICY, *BUCKETS})
ACL_TYPES = frozenset({*BUCKETS, *BUCKET_ACLS, *OBJECTS, PUBLIC_ACCESS_BLOCK})

# Canned ACLs that give access to everyone (or every AWS account).
PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
# What a public statement may do: read. Judged on the literal text before any
# wildcard, so `s3:Get*` passes and `s3:*`, `s3:*Object`, `*` do not.
_READ_PREFIXES = ("s3:get", "s3:list")


def table_protection(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: the table can be restored (PITR) and is encrypted with KMS."""
    problems = []
    for key, arg, why in (
        ("pointInTimeRecovery", "point_in_time_recovery", "so a bad write can be rolled back"),
        ("serverSideEncryption", "server_side_encryption", "with a KMS key"),
    ):
        block = props.get(key)
        enabled = require_known(block.get("enabled") if isinstance(block, Mapping) else block, key)
        if enabled is not True:
            problems.append(f"DynamoDB table {props.get('name', '')!r}: set "
                            f"{arg}=aws.dynamodb.Table{key[0].upper()}{key[1:]}Args(enabled=True) "
                            f"({why})")
    return problems


def _read_only(action: str) -> bool:
    literal = action.lower().split("*")[0].split("?")[0]
    return literal.startswith(_READ_PREFIXES)


def bucket_policy_statements(props: Mapping[str, Any]) -> tuple[list[iam.Statement], list[str]]:
    """A bucket policy input's statements (none when unset), or why it is no policy document."""
    raw = props.get("policy")
    if raw in (None, ""):
        return [], []
    try:
        return iam.statements(iam.load(raw, "policy")), []
    except iam.DocumentError as err:
        return [], [f"bucket policy is not a valid policy document ({err}): fix the JSON"]


def public_write(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: a bucket policy lets everyone read at most, never write or administer."""
    statements, problems = bucket_policy_statements(props)
    if problems:
        return problems
    problems: list[str] = []
    for statement in statements:
        if not statement.allow:
            continue
        public = iam.is_everyone(statement.principal) or statement.not_principal is not None
        if not public:
            continue
        if statement.not_actions is not None:
            problems.append(f"bucket policy {statement.label} lets everyone use every action but "
                            "its NotAction: list read actions (s3:GetObject) in Action")
        for action in statement.actions:
            if not _read_only(action):
                problems.append(
                    f"bucket policy {statement.label} lets everyone (Principal '*') use "
                    f"{action!r}: public statements may only read (s3:GetObject on the site's "
                    "object ARNs, components/policies.public_read_policy); remove write, delete "
                    "and s3:* actions or name a principal")
    return problems


def public_acls(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: no public ACL anywhere, and the access block keeps ACLs off.

    The site is public through its bucket policy only, so ACLs are never needed:
    block_public_acls and ignore_public_acls stay true (block_public_policy may
    be false for the site's public-read policy).
    """
    if resource_type == PUBLIC_ACCESS_BLOCK:
        wrong = [arg for key, arg in (("blockPublicAcls", "block_public_acls"),
                                      ("ignorePublicAcls", "ignore_public_acls"))
                 if require_known(props.get(key), key) is not True]
        if not wrong:
            return []
        return [f"BucketPublicAccessBlock: set {' and '.join(f'{w}=True' for w in wrong)}; the "
                "site is public through its bucket policy, ACLs must stay blocked and ignored"]
    problems = []
    acl = props.get("acl")
    if not is_unknown(acl) and acl in PUBLIC_CANNED_ACLS:
        problems.append(f"acl {acl!r} makes the {_kind(resource_type)} public: remove `acl` "
                        "(BucketOwnerEnforced disables ACLs); the site is readable through its "
                        "bucket policy only")
    require_known(acl, "acl")
    grants = list(props.get("grants") or [])
    policy = props.get("accessControlPolicy")
    if isinstance(policy, Mapping):
        grants += [g.get("grantee") for g in (policy.get("grants") or [])
                   if isinstance(g, Mapping)]
    for grant in grants:
        uri = grant.get("uri") if isinstance(grant, Mapping) else None
        if uri in PUBLIC_GROUPS:
            problems.append(f"an ACL grant to {uri} makes the {_kind(resource_type)} public: "
                            "remove the grant; use the bucket policy for public reads")
    return problems


def _kind(resource_type: str) -> str:
    return "object" if resource_type in OBJECTS else "bucket"
