"""DynamoDB table protection and the site bucket: no public write, no public ACLs."""

from __future__ import annotations

import json

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components import policies
from policy import rules
from tests.support.pack import TABLE, protected_table, resource_violations

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ARN = "arn:aws:s3:::pets-unit-site-123456789012"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def bucket_policy(*statements: dict) -> dict:
    return {"bucket": "site",
            "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def public(action, principal="*") -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action,
            "Resource": f"{BUCKET_ARN}/*"}


# --- dynamodb-pitr-and-sse --------------------------------------------------------------

def test_table_without_point_in_time_recovery_is_refused():
    messages = resource_violations(rules.DYNAMODB_PITR_AND_SSE, TABLE,
                                   protected_table(pointInTimeRecovery={"enabled": False}))
    assert messages == ["DynamoDB table 'pets-unit-pets': set point_in_time_recovery=aws.dynamodb."
                        "TablePointInTimeRecoveryArgs(enabled=True) (so a bad write can be rolled "
                        "back)"]


def test_table_without_encryption_setting_is_refused():
    props = protected_table()
    del props["serverSideEncryption"]
    messages = resource_violations(rules.DYNAMODB_PITR_AND_SSE, TABLE, props)
    assert len(messages) == 1, messages
    assert "server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True)" in (
        messages[0])


def test_protected_table_passes():
    assert resource_violations(rules.DYNAMODB_PITR_AND_SSE, TABLE, protected_table()) == []


# --- s3-no-public-write -----------------------------------------------------------------

@pytest.mark.parametrize(("action", "principal"), [
    ("s3:PutObject", "*"),
    ("s3:DeleteObject", {"AWS": "*"}),
    ("s3:*", "*"),
    ("*", "*"),
    ("s3:*Object", "*"),
    ("s3:PutBucketPolicy", {"AWS": ["*"]}),
])
def test_public_write_is_refused(action, principal):
    messages = resource_violations(rules.S3_NO_PUBLIC_WRITE, BUCKET_POLICY,
                                   bucket_policy(public(["s3:GetObject", action], principal)))
    assert len(messages) == 1, messages
    assert f"lets everyone (Principal '*') use '{action}'" in messages[0]
    assert "remove write, delete and s3:* actions or name a principal" in messages[0]


def test_not_principal_write_counts_as_public():
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
                 "Action": "s3:PutObject", "Resource": f"{BUCKET_ARN}/*"}
    messages = resource_violations(rules.S3_NO_PUBLIC_WRITE, BUCKET_POLICY,
                                   bucket_policy(statement))
    assert len(messages) == 1 and "'s3:PutObject'" in messages[0], messages


def test_public_not_action_is_refused():
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject",
                 "Resource": f"{BUCKET_ARN}/*"}
    messages = resource_violations(rules.S3_NO_PUBLIC_WRITE, BUCKET_POLICY,
                                   bucket_policy(statement))
    assert len(messages) == 1 and "every action but its NotAction" in messages[0], messages


def test_inline_bucket_policy_is_checked():
    props = {"bucket": "site", "policy": bucket_policy(public("s3:PutObject"))["policy"]}
    messages = resource_violations(rules.S3_NO_PUBLIC_WRITE, BUCKET, props)
    assert len(messages) == 1 and "'s3:PutObject'" in messages[0], messages


def test_site_read_and_named_writers_pass():
    """Public read of explicit keys (the site), and writes by a named principal."""
    site = policies.public_read_policy(BUCKET_ARN, ["index.html", "config.json"])
    writer = {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
              "Action": "s3:*", "Resource": f"{BUCKET_ARN}/*"}
    props = {"bucket": "site",
             "policy": json.dumps({**site, "Statement": [*site["Statement"], writer]})}
    assert resource_violations(rules.S3_NO_PUBLIC_WRITE, BUCKET_POLICY, props) == []


# --- s3-no-public-acls ------------------------------------------------------------------

@pytest.mark.parametrize(("resource_type", "acl"), [
    (BUCKET, "public-read"),
    ("aws:s3/bucketV2:BucketV2", "public-read-write"),
    ("aws:s3/bucketAclV2:BucketAclV2", "public-read-write"),
    ("aws:s3/bucketAcl:BucketAcl", "authenticated-read"),
    ("aws:s3/bucketObjectv2:BucketObjectv2", "public-read"),
    ("aws:s3/bucketObject:BucketObject", "public-read"),
])
def test_public_canned_acl_is_refused(resource_type, acl):
    messages = resource_violations(rules.S3_NO_PUBLIC_ACLS, resource_type,
                                   {"bucket": "site", "acl": acl})
    assert len(messages) == 1, messages
    assert f"acl '{acl}' makes the" in messages[0] and "remove `acl`" in messages[0]


def test_all_users_grants_are_refused():
    bucket = {"bucket": "site", "grants": [{"type": "Group", "uri": ALL_USERS,
                                            "permissions": ["READ"]}]}
    acl = {"bucket": "site", "accessControlPolicy": {
        "owner": {"id": "o"},
        "grants": [{"grantee": {"type": "Group", "uri": ALL_USERS}, "permission": "WRITE"}]}}
    for resource_type, props in ((BUCKET, bucket), ("aws:s3/bucketAcl:BucketAcl", acl)):
        messages = resource_violations(rules.S3_NO_PUBLIC_ACLS, resource_type, props)
        assert len(messages) == 1, (resource_type, messages)
        assert f"an ACL grant to {ALL_USERS} makes the bucket public" in messages[0]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"blockPublicAcls": False}, "set block_public_acls=True;"),
    ({"ignorePublicAcls": None}, "set ignore_public_acls=True;"),
    ({"blockPublicAcls": False, "ignorePublicAcls": False},
     "set block_public_acls=True and ignore_public_acls=True;"),
])
def test_access_block_must_keep_acls_blocked(changes, expected):
    props = {"bucket": "site", "blockPublicAcls": True, "ignorePublicAcls": True,
             "blockPublicPolicy": False, "restrictPublicBuckets": False, **changes}
    messages = resource_violations(rules.S3_NO_PUBLIC_ACLS, PUBLIC_ACCESS_BLOCK, props)
    assert len(messages) == 1 and messages[0].startswith(
        f"BucketPublicAccessBlock: {expected}"), messages


@pytest.mark.parametrize("props", [
    {"bucket": "site", "acl": "private"},
    {"bucket": UNKNOWN_STRING_VALUE, "key": "index.html"},
])
def test_private_objects_pass(props):
    assert resource_violations(rules.S3_NO_PUBLIC_ACLS, "aws:s3/bucketObjectv2:BucketObjectv2",
                               props) == []
