"""The browser app (site/) hosted in an S3 website bucket, optionally behind CloudFront.

The bucket is readable by anyone, but only object by object: the bucket policy
names every key the app consists of, so nothing else put in the bucket is ever
public, and nobody can list it. ACLs stay disabled (BucketOwnerEnforced).

`config.json` is generated from the stack: the API URL, the issuer and client,
each user class's role and membership rules (from access.py, so the app never
duplicates them), and the STS endpoint the browser calls.

Real AWS: a website endpoint is plain http, and browsers give `crypto.subtle`
(PKCE) only to secure contexts, so CloudFront serves it over https (`cdn`).
Locally the emulator has no website endpoint; the site is read path-style from
its S3 endpoint (`http://127.0.0.1:<port>/<bucket>/index.html`), which is a
secure context because it is loopback. See `site_url`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

import access
from components import oidc_client, policies

SITE_DIR = Path(__file__).resolve().parent.parent / "site"
INDEX = "index.html"
CONFIG_KEY = "config.json"
# Written by `node site/vendor.mjs` from the pinned npm packages (site/package-lock.json).
VENDORED = ("vendor/oidc-client-ts.js", "vendor/jwt-decode.js", "vendor/aws4fetch.js")
# In site/ but tooling, not app: never uploaded.
_TOOLING_FILES = frozenset({"package.json", "package-lock.json", "vendor.mjs"})
_TOOLING_DIRS = frozenset({"node_modules"})
# Module scripts are refused unless served with a JavaScript type, so the type of every
# file is decided here; an unknown extension fails the deployment instead of guessing.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
# File names carry no content hash, so browsers (and CloudFront, down to its minimum
# TTL) must revalidate: a stale app.js beside a new config.json would break the app.
CACHE_CONTROL = "no-cache"
# AWS managed CloudFront policies (fixed, documented IDs).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS_POLICY_ID = "67f7725c-6f97-4210-82d7-5512b31e9d03"
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class SiteFile:
    key: str  # object key, relative to the site root
    path: Path
    content_type: str


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    if suffix not in CONTENT_TYPES:
        raise ValueError(f"site/{key}: no content type for {suffix or 'files without extension'}; "
                         "add it to components/site.py CONTENT_TYPES")
    return CONTENT_TYPES[suffix]


def site_files(site_dir: Path = SITE_DIR) -> list[SiteFile]:
    """Every file of the app under site_dir (tooling left out), sorted by key.

    Fails when the vendored libraries are missing: the app would deploy and
    then fail in every browser on its first import.
    """
    missing = [v for v in VENDORED if not (site_dir / v).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{site_dir}: vendored libraries missing ({', '.join(missing)}): run "
            "`npm --prefix site ci && node site/vendor.mjs`"
        )
    files = []
    for path in sorted(site_dir.rglob("*")):
        relative = path.relative_to(site_dir)
        if not path.is_file() or relative.parts[0] in _TOOLING_DIRS:
            continue
        if str(relative) in _TOOLING_FILES or any(p.startswith(".") for p in relative.parts):
            continue
        key = relative.as_posix()
        if key == CONFIG_KEY:
            raise ValueError(f"site/{CONFIG_KEY} must not exist: the stack generates it")
        files.append(SiteFile(key, path, content_type(key)))
    return files


def bucket_name(prefix: str, account_id: str) -> str:
    """`{prefix}-site-{accountId}`: globally unique, and the same on every run."""
    name = f"{prefix}-site-{account_id}".lower()
    if not _BUCKET_NAME.match(name):
        raise ValueError(f"site bucket name {name!r} is not a valid S3 bucket name "
                         "(3-63 lowercase letters, digits, hyphens): use a shorter stack name")
    return name


def default_sts_endpoint(region: str) -> str:
    """The regional STS endpoint (AWS recommends regional over the global one)."""
    return f"https://sts.{region}.amazonaws.com"


def site_url(host: str, *, https: bool) -> str:
    """The URL users open, which is also the app's OIDC redirect URI.

    host: the CloudFront domain (https), or the bucket's `websiteEndpoint`
    (plain http): on AWS `<bucket>.s3-website-<region>.amazonaws.com`; for the
    emulator, which has no website endpoint, `127.0.0.1:<port>/<bucket>`.
    `index.html` is explicit because the emulator serves no index document.
    """
    return f"{'https' if https else 'http'}://{host}/{INDEX}"


def class_rules(user_classes: Sequence[access.UserClass]) -> dict[str, dict[str, list[str]]]:
    """What the app needs to know about each class, in the model's order.

    subPatterns/subjects/sessionTags: the trust policy's rules, so the app can pick
    the role to ask for (the trust policy is what enforces). routes: the route ids
    the class may call, so the app offers only those controls.
    """
    return {
        c.name: {
            "subPatterns": list(c.members.sub_patterns),
            "subjects": list(c.members.subjects),
            "sessionTags": dict(c.members.session_tags),
            "routes": [r.id for r in c.routes],
        }
        for c in user_classes
    }


def app_config(
    *,
    region: str,
    api_url: str,
    issuer: str,
    client_id: str,
    sts_endpoint: str,
    roles: Mapping[str, str],
    user_classes: Sequence[access.UserClass],
    scope: str = oidc_client.SCOPE,
) -> dict[str, Any]:
    """The content of config.json (the browser app's only input besides the user)."""
    return {
        "region": region,
        "apiUrl": api_url.rstrip("/"),
        "issuer": issuer,
        "clientId": client_id,
        "scope": scope,
        "stsEndpoint": sts_endpoint,
        "roles": dict(roles),
        "classes": class_rules(user_classes),
    }


@dataclass
class PetsSiteArgs:
    """Where the app is hosted; known before anything the app talks to exists."""

    name_prefix: str  # the stack prefix; the bucket is `{name_prefix}-site-{accountId}`
    cdn: bool = True
    site_dir: Path = field(default_factory=lambda: SITE_DIR)


@dataclass
class SiteContentArgs:
    """What config.json tells the app: decided after the site's URL is known (the identity
    provider's application registers that URL, and its client id goes into config.json)."""

    region: pulumi.Input[str]
    api_url: pulumi.Input[str]
    issuer: str
    client_id: pulumi.Input[str]  # an output of the Auth0 application when it is managed
    user_classes: Sequence[access.UserClass]
    role_arns: Mapping[str, pulumi.Input[str]]  # by class name
    sts_endpoint: str | None = None  # None: the region's public endpoint


class PetsSite(pulumi.ComponentResource):
    """The hosting (bucket, website, CDN: the URL) in the constructor, the files in `publish`.

    Two steps, so that nothing depends on itself: the URL feeds the identity provider's
    registration, whose client id feeds config.json.
    """

    bucket: aws.s3.Bucket
    website: aws.s3.BucketWebsiteConfiguration
    objects: dict[str, aws.s3.BucketObjectv2]  # by key, config.json included
    distribution: aws.cloudfront.Distribution | None
    url: pulumi.Output[str]

    def __init__(self, name: str, args: PetsSiteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pets:index:PetsSite", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        self._files = files = site_files(args.site_dir)

        account = aws.get_caller_identity_output()
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=account.account_id.apply(lambda a: bucket_name(args.name_prefix, a)),
            opts=child,
        )
        bucket = self.bucket.bucket
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        # ACLs stay blocked; only the bucket policy below may make objects public.
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket,
            block_public_acls=True,
            ignore_public_acls=True,
            block_public_policy=False,
            restrict_public_buckets=False,
            opts=child,
        )
        self.website = aws.s3.BucketWebsiteConfiguration(
            f"{name}-website",
            bucket=bucket,
            index_document=aws.s3.BucketWebsiteConfigurationIndexDocumentArgs(suffix=INDEX),
            opts=child,
        )

        keys = [f.key for f in files] + [CONFIG_KEY]
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket,
            policy=self.bucket.arn.apply(
                lambda arn: json.dumps(policies.public_read_policy(arn, keys))
            ),
            # S3 refuses a public policy while the access block still blocks them.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )

        self.distribution = self._cdn(name, self.website.website_endpoint) if args.cdn else None
        if self.distribution is not None:
            self.url = self.distribution.domain_name.apply(lambda d: site_url(d, https=True))
        else:
            self.url = self.website.website_endpoint.apply(lambda e: site_url(e, https=False))
        self.objects = {}

    def publish(self, args: SiteContentArgs) -> None:
        """Uploads the app's files and its generated config.json; call once, last."""
        name, files, bucket = self._name, self._files, self.bucket.bucket
        child = pulumi.ResourceOptions(parent=self)
        if set(args.role_arns) != {c.name for c in args.user_classes}:
            raise ValueError(f"{name}: need one role per user class, got {sorted(args.role_arns)}")
        self.objects = {
            f.key: aws.s3.BucketObjectv2(
                f"{name}-file-{f.key}",
                bucket=bucket,
                key=f.key,
                source=pulumi.FileAsset(str(f.path)),
                content_type=f.content_type,
                cache_control=CACHE_CONTROL,
                opts=child,
            )
            for f in files
        }
        sts = (pulumi.Output.from_input(args.sts_endpoint) if args.sts_endpoint
               else pulumi.Output.from_input(args.region).apply(default_sts_endpoint))
        config = pulumi.Output.all(
            region=args.region,
            api_url=args.api_url,
            sts=sts,
            client_id=args.client_id,
            roles=pulumi.Output.all(**args.role_arns),
        ).apply(lambda v: json.dumps(app_config(
            region=v["region"],
            api_url=v["api_url"],
            issuer=args.issuer,
            client_id=v["client_id"],
            sts_endpoint=v["sts"],
            roles=v["roles"],
            user_classes=args.user_classes,
        ), indent=2, sort_keys=True))
        self.objects[CONFIG_KEY] = aws.s3.BucketObjectv2(
            f"{name}-file-{CONFIG_KEY}",
            bucket=bucket,
            key=CONFIG_KEY,
            content=config,
            content_type=CONTENT_TYPES[".json"],
            cache_control=CACHE_CONTROL,
            opts=child,
        )

        self.register_outputs({
            "bucketName": bucket,
            "websiteEndpoint": self.website.website_endpoint,
            "siteUrl": self.url,
        })

    def _cdn(self, name: str, website_endpoint: pulumi.Output[str]) -> aws.cloudfront.Distribution:
        """https for viewers; the website endpoint as a custom origin (it only speaks http)."""
        origin_id = "site-website"
        return aws.cloudfront.Distribution(
            f"{name}-cdn",
            comment=f"{name}: pets browser app",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class="PriceClass_100",
            default_root_object=INDEX,
            origins=[aws.cloudfront.DistributionOriginArgs(
                origin_id=origin_id,
                domain_name=website_endpoint,
                custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                    origin_protocol_policy="http-only",
                    http_port=80,
                    https_port=443,
                    origin_ssl_protocols=["TLSv1.2"],
                ),
            )],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=origin_id,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                response_headers_policy_id=SECURITY_HEADERS_POLICY_ID,
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none",
                ),
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
