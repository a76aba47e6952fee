"""The site's bucket applied to the emulator as the program builds it (ownership, a public
access block relaxed for a public-read policy, a website configuration, objects from a file
and from content). Applied once for the module; each test reads back or fetches one part."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import requests

from devstack.apply import apply_function
from devstack.apply.results import ApplyResult

PAGE = "<h1>pets</h1>"


def site_program(bucket_name: str, page: Path) -> Callable[[], None]:
    def program() -> None:
        bucket = aws.s3.Bucket("site", bucket=bucket_name)
        ownership = aws.s3.BucketOwnershipControls(
            "ownership", bucket=bucket.bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"))
        public = aws.s3.BucketPublicAccessBlock(
            "public", bucket=bucket.bucket, block_public_acls=True, ignore_public_acls=True,
            block_public_policy=False, restrict_public_buckets=False)
        aws.s3.BucketPolicy(
            "policy", bucket=bucket.bucket,
            policy=bucket.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": [f"{arn}/index.html", f"{arn}/config.json"]}]})),
            opts=pulumi.ResourceOptions(depends_on=[public, ownership]))
        website = aws.s3.BucketWebsiteConfiguration(
            "website", bucket=bucket.bucket,
            index_document=aws.s3.BucketWebsiteConfigurationIndexDocumentArgs(suffix="index.html"))
        aws.s3.BucketObjectv2("index", bucket=bucket.bucket, key="index.html",
                              source=pulumi.FileAsset(str(page)),
                              content_type="text/html; charset=utf-8", cache_control="no-cache")
        aws.s3.BucketObjectv2("config", bucket=bucket.bucket, key="config.json",
                              content='{"a": 1}', content_type="application/json")
        pulumi.export("websiteEndpoint", website.website_endpoint)
        pulumi.export("arn", bucket.arn)

    return program


@dataclass(frozen=True)
class AppliedSite:
    result: ApplyResult
    bucket: str
    s3: Any  # a root client, to read back

    def url(self, key: str) -> str:
        return f"http://{self.result.outputs['websiteEndpoint']}/{key}"


@pytest.fixture(scope="module")
def applied(factory: Callable, tmp_path_factory: pytest.TempPathFactory) -> AppliedSite:
    page = tmp_path_factory.mktemp("site") / "index.html"
    page.write_text(PAGE)
    bucket = f"site-{uuid.uuid4().hex[:8]}"
    result = apply_function(site_program(bucket, page), factory)
    return AppliedSite(result, bucket, factory("s3"))


def test_the_bucket_is_owner_enforced_and_blocks_only_public_acls(applied: AppliedSite) -> None:
    s3, bucket = applied.s3, applied.bucket
    assert applied.result.outputs["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False}


def test_objects_keep_their_headers_and_content(applied: AppliedSite) -> None:
    s3, bucket = applied.s3, applied.bucket
    assert s3.get_bucket_website(Bucket=bucket)["IndexDocument"] == {"Suffix": "index.html"}
    head = s3.head_object(Bucket=bucket, Key="index.html")
    assert (head["ContentType"], head["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    assert s3.get_object(Bucket=bucket, Key="config.json")["Body"].read() == b'{"a": 1}'


def test_anonymous_browsers_read_only_what_the_policy_names(applied: AppliedSite) -> None:
    """The emulator has no website endpoint: the bucket's path-style URL stands in (the apply
    says so), and the public-read policy lets an anonymous browser fetch the page from it."""
    assert any("no website endpoint" in w for w in applied.result.warnings)
    anonymous = requests.get(applied.url("index.html"), timeout=10)
    assert (anonymous.status_code, anonymous.text) == (200, PAGE)
    assert requests.get(applied.url("other"), timeout=10).status_code == 403
