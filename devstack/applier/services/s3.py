"""S3: buckets (pulumi-aws 7 `Bucket`), their public access block, ownership controls,
policy and website configuration, and objects."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pulumi

from devstack.applier import archives
from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none

# Route 53 hosted zone of the S3 website endpoints, per region (what the provider reports).
_US_EAST_1_HOSTED_ZONE = "Z3AQBSTGFYJSTF"
_BUCKET_INLINE_REFUSED = {
    key: "a separate resource in pulumi-aws 7 (the inline form is deprecated)"
    for key in (
        "acl",
        "corsRules",
        "grants",
        "lifecycleRules",
        "logging",
        "policy",
        "replicationConfiguration",
        "serverSideEncryptionConfiguration",
        "versioning",
        "website",
        "accelerationStatus",
        "requestPayer",
    )
}


def create_bucket(req: CreateRequest) -> Created:
    s3 = req.client("s3")
    name = req.physical_name("bucket", prefix_key="bucketPrefix", max_length=63, lowercase=True)
    region = req.target.region
    s3.create_bucket(
        **drop_none(
            {
                "Bucket": name,
                # us-east-1 is the one region that must not be named.
                "CreateBucketConfiguration": None
                if region == "us-east-1"
                else {"LocationConstraint": region},
                "ObjectLockEnabledForBucket": req.get("objectLockEnabled"),
            }
        )
    )
    tags = req.get("tags")
    if tags:
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    suffix = req.target.dns_suffix
    return Created(
        name,
        {
            "bucket": name,
            "arn": f"arn:{req.target.partition}:s3:::{name}",
            "bucketDomainName": f"{name}.s3.{suffix}",
            "bucketRegionalDomainName": f"{name}.s3.{region}.{suffix}",
            "bucketRegion": region,
            "region": region,
            "hostedZoneId": _US_EAST_1_HOSTED_ZONE if region == "us-east-1" else None,
            "tagsAll": tags or {},
        },
    )


def create_public_access_block(req: CreateRequest) -> Created:
    bucket = req.require("bucket")
    req.client("s3").put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            # Each flag defaults to false in the provider.
            "BlockPublicAcls": bool(req.get("blockPublicAcls", False)),
            "IgnorePublicAcls": bool(req.get("ignorePublicAcls", False)),
            "BlockPublicPolicy": bool(req.get("blockPublicPolicy", False)),
            "RestrictPublicBuckets": bool(req.get("restrictPublicBuckets", False)),
        },
    )
    return Created(bucket)


def create_ownership_controls(req: CreateRequest) -> Created:
    bucket = req.require("bucket")
    rule = req.require("rule")
    req.client("s3").put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": rule["objectOwnership"]}]},
    )
    return Created(bucket)


def create_bucket_policy(req: CreateRequest) -> Created:
    bucket = req.require("bucket")
    policy = req.require("policy")
    req.client("s3").put_bucket_policy(
        Bucket=bucket, Policy=policy if isinstance(policy, str) else json.dumps(policy)
    )
    return Created(bucket)


def _routing_rules(req: CreateRequest) -> list[dict[str, Any]] | None:
    details = req.get("routingRuleDetails")
    if details:
        return list(json.loads(details))
    rules = req.get("routingRules")
    if not rules:
        return None
    converted = []
    for rule in rules:
        condition = rule.get("condition") or {}
        redirect = rule.get("redirect") or {}
        converted.append(
            drop_none(
                {
                    "Condition": drop_none(
                        {
                            "HttpErrorCodeReturnedEquals": condition.get(
                                "httpErrorCodeReturnedEquals"
                            ),
                            "KeyPrefixEquals": condition.get("keyPrefixEquals"),
                        }
                    )
                    or None,
                    "Redirect": drop_none(
                        {
                            "HostName": redirect.get("hostName"),
                            "HttpRedirectCode": redirect.get("httpRedirectCode"),
                            "Protocol": redirect.get("protocol"),
                            "ReplaceKeyPrefixWith": redirect.get("replaceKeyPrefixWith"),
                            "ReplaceKeyWith": redirect.get("replaceKeyWith"),
                        }
                    ),
                }
            )
        )
    return converted


def create_website_configuration(req: CreateRequest) -> Created:
    bucket = req.require("bucket")
    index = req.get("indexDocument")
    error = req.get("errorDocument")
    redirect_all = req.get("redirectAllRequestsTo")
    config = drop_none(
        {
            "IndexDocument": {"Suffix": index["suffix"]} if index else None,
            "ErrorDocument": {"Key": error["key"]} if error else None,
            "RedirectAllRequestsTo": drop_none(
                {
                    "HostName": redirect_all.get("hostName"),
                    "Protocol": redirect_all.get("protocol"),
                }
            )
            if redirect_all
            else None,
            "RoutingRules": _routing_rules(req),
        }
    )
    req.client("s3").put_bucket_website(
        **drop_none(
            {
                "Bucket": bucket,
                "WebsiteConfiguration": config,
                "ExpectedBucketOwner": req.get("expectedBucketOwner"),
            }
        )
    )
    endpoint = req.target.endpoint_url
    if endpoint:
        req.warn(
            f"{req.type} '{req.name}': stored; websiteEndpoint is the bucket's path-style URL "
            "on the emulator (MiniStack serves no website endpoint, and an emulator's website "
            "host names do not resolve here): no index or error document"
        )
        # Without a website endpoint the closest thing a browser can open is the bucket
        # path on the emulator's S3 endpoint (`<host:port>/<bucket>`, scheme-less like
        # AWS's `<bucket>.s3-website-<region>.amazonaws.com`).
        host = endpoint.split("://", 1)[-1]
        return Created(bucket, {"websiteDomain": host, "websiteEndpoint": f"{host}/{bucket}"})
    domain = f"s3-website-{req.target.region}.{req.target.dns_suffix}"
    return Created(bucket, {"websiteDomain": domain, "websiteEndpoint": f"{bucket}.{domain}"})


def _object_body(req: CreateRequest) -> bytes:
    given = [k for k in ("content", "contentBase64", "source") if req.get(k) is not None]
    if len(given) > 1:
        raise req.fail(
            f"only one of content, contentBase64, source may be set (got {', '.join(given)})"
        )
    if req.get("content") is not None:
        return str(req.get("content")).encode()
    if req.get("contentBase64") is not None:
        return base64.b64decode(req.get("contentBase64"))
    source = req.get("source")
    if source is None:
        return b""
    if not isinstance(source, (pulumi.Asset, pulumi.Archive)):
        raise req.fail(f"source must be an Asset or Archive, got {type(source).__name__}")
    try:
        return archives.source_bytes(source)
    except archives.ArchiveError as exc:
        raise req.fail(f"source: {exc}") from exc


def create_object(req: CreateRequest) -> Created:
    bucket = req.require("bucket")
    key = req.require("key")
    tags = req.get("tags")
    result = req.client("s3").put_object(
        **drop_none(
            {
                "Bucket": bucket,
                "Key": key,
                "Body": _object_body(req),
                "ContentType": req.get("contentType"),
                "CacheControl": req.get("cacheControl"),
                "ContentDisposition": req.get("contentDisposition"),
                "ContentEncoding": req.get("contentEncoding"),
                "ContentLanguage": req.get("contentLanguage"),
                "Metadata": req.get("metadata") or None,
                "ACL": req.get("acl"),
                "ServerSideEncryption": req.get("serverSideEncryption"),
                "SSEKMSKeyId": req.get("kmsKeyId"),
                "BucketKeyEnabled": req.get("bucketKeyEnabled"),
                "StorageClass": req.get("storageClass"),
                "WebsiteRedirectLocation": req.get("websiteRedirect"),
                "ChecksumAlgorithm": req.get("checksumAlgorithm"),
                "Tagging": urlencode(tags) if tags else None,
                "ObjectLockMode": req.get("objectLockMode"),
                "ObjectLockRetainUntilDate": req.get("objectLockRetainUntilDate"),
                "ObjectLockLegalHoldStatus": req.get("objectLockLegalHoldStatus"),
            }
        )
    )
    return Created(
        key,
        drop_none(
            {
                "etag": str(result.get("ETag", "")).strip('"'),
                "versionId": result.get("VersionId"),
                "arn": f"arn:{req.target.partition}:s3:::{bucket}/{key}",
                "contentType": req.get("contentType", "application/octet-stream"),
                "tagsAll": tags or {},
            }
        ),
    )


_BUCKET_INPUTS = frozenset({"bucket", "bucketPrefix", "objectLockEnabled", "tags"})
_WEBSITE_INPUTS = frozenset(
    {
        "bucket",
        "indexDocument",
        "errorDocument",
        "redirectAllRequestsTo",
        "routingRules",
        "routingRuleDetails",
        "expectedBucketOwner",
    }
)
_WEBSITE_NOTE = (
    "stored only: MiniStack has no website endpoint (`/` is 403, no index/error document); "
    "websiteEndpoint is `<host:port>/<bucket>` on the emulator's S3 endpoint"
)

KINDS = [
    ResourceKind(
        resource_type="aws:s3/bucket:Bucket",
        create=create_bucket,
        inputs=_BUCKET_INPUTS,
        ignored=frozenset({"forceDestroy"}),
        refused=_BUCKET_INLINE_REFUSED,
        note="a new bucket blocks public policies until its public access block is relaxed",
    ),
    ResourceKind(  # deprecated alias of the same resource in pulumi-aws 7
        resource_type="aws:s3/bucketV2:BucketV2",
        create=create_bucket,
        inputs=_BUCKET_INPUTS,
        ignored=frozenset({"forceDestroy"}),
        refused=_BUCKET_INLINE_REFUSED,
    ),
    ResourceKind(
        resource_type="aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        create=create_public_access_block,
        inputs=frozenset(
            {
                "bucket",
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            }
        ),
        ignored=frozenset({"skipDestroy"}),
    ),
    ResourceKind(
        resource_type="aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        create=create_ownership_controls,
        inputs=frozenset({"bucket", "rule"}),
    ),
    ResourceKind(
        resource_type="aws:s3/bucketPolicy:BucketPolicy",
        create=create_bucket_policy,
        inputs=frozenset({"bucket", "policy"}),
    ),
    ResourceKind(
        resource_type="aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
        create=create_website_configuration,
        inputs=_WEBSITE_INPUTS,
        note=_WEBSITE_NOTE,
    ),
    ResourceKind(  # deprecated alias of the same resource in pulumi-aws 7
        resource_type="aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2",
        create=create_website_configuration,
        inputs=_WEBSITE_INPUTS,
        note=_WEBSITE_NOTE,
    ),
    ResourceKind(
        resource_type="aws:s3/bucketObjectv2:BucketObjectv2",
        create=create_object,
        inputs=frozenset(
            {
                "bucket",
                "key",
                "content",
                "contentBase64",
                "source",
                "contentType",
                "cacheControl",
                "contentDisposition",
                "contentEncoding",
                "contentLanguage",
                "metadata",
                "acl",
                "serverSideEncryption",
                "kmsKeyId",
                "bucketKeyEnabled",
                "storageClass",
                "websiteRedirect",
                "checksumAlgorithm",
                "tags",
                "objectLockMode",
                "objectLockRetainUntilDate",
                "objectLockLegalHoldStatus",
            }
        ),
        ignored=frozenset({"etag", "sourceHash", "forceDestroy", "overrideProvider"}),
    ),
]
