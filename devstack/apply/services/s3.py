"""S3: buckets (pulumi-aws 7 `Bucket`), their public access block, ownership controls,
policy and website configuration, and objects."""

from __future__ import annotations

from typing import Any

import pulumi

from devstack.apply.kinds import Created, CreateRequest, ResourceKind, To, read_file


def create_bucket(req: CreateRequest) -> Created:
    name = req.require("bucket")
    region = req.target.region
    # us-east-1 is the one region that must not be named.
    location = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    req.call(**location)
    return Created(
        name,
        {
            "bucket": name,
            "arn": f"arn:aws:s3:::{name}",
            "bucketRegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
        },
    )


def create_bucket_setting(req: CreateRequest) -> Created:
    """The bucket's public access block, ownership controls or policy: one Put call."""
    req.call()
    return Created(req.require("bucket"))


def create_website_configuration(req: CreateRequest) -> Created:
    bucket = req.require("bucket")
    req.call()
    req.warn(
        f"{req.type} '{req.name}': stored; websiteEndpoint is the bucket's path-style URL "
        "on the emulator (MiniStack serves no website endpoint, and an emulator's website "
        "host names do not resolve here): no index or error document"
    )
    # Without a website endpoint the closest thing a browser can open is the bucket
    # path on the emulator's S3 endpoint (`<host:port>/<bucket>`, scheme-less like
    # AWS's `<bucket>.s3-website-<region>.amazonaws.com`).
    host = req.target.endpoint_url.split("://", 1)[-1]
    return Created(bucket, {"websiteDomain": host, "websiteEndpoint": f"{host}/{bucket}"})


def _source(source: Any) -> bytes:
    if not isinstance(source, pulumi.FileAsset):
        raise ValueError(f"source must be a FileAsset (got {type(source).__name__})")
    return read_file(source.path)


def create_object(req: CreateRequest) -> Created:
    bucket, key = req.require("bucket"), req.require("key")
    if req.get("content") is not None and req.get("source") is not None:
        raise req.fail("only one of content, source may be set")
    params = {"Body": b"", **req.params()}  # no content: an empty object
    result = req.client().put_object(**params)
    return Created(
        key,
        {"etag": str(result.get("ETag", "")).strip('"'), "arn": f"arn:aws:s3:::{bucket}/{key}"},
    )


def _kind(token: str, operation: str, inputs: dict[str, Any], create: Any) -> ResourceKind:
    return ResourceKind(f"aws:s3/{token}", "s3", operation, inputs, create)


_BLOCK = "PublicAccessBlockConfiguration"

KINDS = [
    _kind("bucket:Bucket", "CreateBucket", {"bucket": "Bucket"}, create_bucket),
    _kind(
        "bucketPublicAccessBlock:BucketPublicAccessBlock",
        "PutPublicAccessBlock",
        {
            "bucket": "Bucket",
            "blockPublicAcls": f"{_BLOCK}.BlockPublicAcls",
            "ignorePublicAcls": f"{_BLOCK}.IgnorePublicAcls",
            "blockPublicPolicy": f"{_BLOCK}.BlockPublicPolicy",
            "restrictPublicBuckets": f"{_BLOCK}.RestrictPublicBuckets",
        },
        create_bucket_setting,
    ),
    _kind(
        "bucketOwnershipControls:BucketOwnershipControls",
        "PutBucketOwnershipControls",
        {
            "bucket": "Bucket",
            "rule": To(
                "OwnershipControls.Rules",
                fields={"objectOwnership": "ObjectOwnership"},
                convert=lambda rule: [rule],
            ),
        },
        create_bucket_setting,
    ),
    _kind(
        "bucketPolicy:BucketPolicy",
        "PutBucketPolicy",
        {
            "bucket": "Bucket",
            "policy": "Policy",
        },
        create_bucket_setting,
    ),
    _kind(
        "bucketWebsiteConfiguration:BucketWebsiteConfiguration",
        "PutBucketWebsite",
        {
            "bucket": "Bucket",
            "indexDocument": To(
                "WebsiteConfiguration.IndexDocument", fields={"suffix": "Suffix"}
            ),
        },
        create_website_configuration,
    ),
    _kind(
        "bucketObjectv2:BucketObjectv2",
        "PutObject",
        {
            "bucket": "Bucket",
            "key": "Key",
            "content": To("Body", convert=lambda text: str(text).encode()),
            "source": To("Body", convert=_source),
            "contentType": "ContentType",
            "cacheControl": "CacheControl",
        },
        create_object,
    ),
]
