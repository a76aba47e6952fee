"""The browser app's hosting and content on AWS: two components.

SiteHosting owns where the site is served from: the bucket, its ownership controls, public
access block and policy, and either CloudFront (Origin Access Control, response headers
policy, distribution) or, for the emulator, the bucket's website configuration. PetsSite
owns what is served: one object per file of site/ and the generated config.json. They are
two because the API's CORS origin needs the hosting's origin, and the content's config.json
needs the API's URL. The values both are built from (file types, config.json, the CSP, the
URL) are pure functions in components/site_content.py.

On AWS (`cdn`, the default) the bucket is private: Block Public Access fully on, and only
the stack's CloudFront distribution may read it, through an Origin Access Control (SigV4
to the S3 REST endpoint) and a bucket policy for `cloudfront.amazonaws.com` conditioned
on `AWS:SourceArn` = the distribution. A response headers policy adds a
Content-Security-Policy (the site itself, the API, STS and the issuer; no inline script
but the import map, by hash), HSTS, nosniff and frame-ancestors 'none'.

Without `cdn` (the emulator, which has no CloudFront) the bucket is readable by anyone,
object by object: the bucket policy names every key the app consists of, so nothing else
put in the bucket is ever public, and nobody can list it. ACLs stay disabled
(BucketOwnerEnforced) either way.

Real AWS: browsers give `crypto.subtle` (PKCE) only to secure contexts, so CloudFront
serves the app over https (`cdn`). Locally the emulator has no website endpoint; the
site is read path-style from its S3 endpoint
(`http://127.0.0.1:<port>/<bucket>/index.html`), which is a secure context because it is
loopback. See `site_content.site_url`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

import access
from components import policies
from components.component import Component, Outputs
from components.oidc_client import origin_of
from components.site_content import (
    CACHE_CONTROL,
    CONFIG_KEY,
    CONTENT_TYPES,
    INDEX,
    SITE_DIR,
    app_config,
    bucket_name,
    content_security_policy,
    site_files,
    site_url,
)

# AWS managed CloudFront policies (fixed, documented IDs).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# HSTS: two years, as hstspreload.org asks (not submitted for preload: a stack's domain is
# the operator's choice).
HSTS_MAX_AGE_SECONDS = 63072000
# CloudFront's security policy with a custom certificate: TLSv1.2 and up, modern ciphers.
MINIMUM_TLS = "TLSv1.2_2021"


@dataclass
class SiteHostingArgs:
    name_prefix: str  # the stack prefix; the bucket is `{name_prefix}-site-{accountId}`
    region: pulumi.Input[str]
    keys: Sequence[str]  # every object key the content will put (config.json included)
    cdn: bool = True
    # For the Content-Security-Policy (cdn only).
    api_origin: pulumi.Input[str] = ""
    sts_origin: pulumi.Input[str] = ""
    issuer_origin: str = ""
    script_hashes: Sequence[str] = ()
    # The operator's domain and its ACM certificate (us-east-1); None: *.cloudfront.net.
    domain: str | None = None
    certificate_arn: str | None = None


class SiteHosting(Component[SiteHostingArgs]):
    """Where the site is served from. Owns the Bucket, its BucketOwnershipControls,
    BucketPublicAccessBlock and BucketPolicy; with `cdn` (AWS) the OriginAccessControl, the
    ResponseHeadersPolicy and the CloudFront Distribution, without it (the emulator) the
    BucketWebsiteConfiguration."""

    bucket: aws.s3.Bucket
    website: aws.s3.BucketWebsiteConfiguration | None
    distribution: aws.cloudfront.Distribution | None
    url: pulumi.Output[str]  # the page users open (the OIDC redirect URI)
    origin: pulumi.Output[str]  # what the API's CORS settings allow

    def declare(self, name: str, args: SiteHostingArgs) -> Outputs:
        account = aws.get_caller_identity_output()
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=account.account_id.apply(lambda a: bucket_name(args.name_prefix, a)),
            opts=self.child(),
        )
        bucket = self.bucket.bucket
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self.child(),
        )
        # On AWS nothing in the bucket is public; for the emulator only the bucket policy
        # below may make objects public, ACLs stay blocked.
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket,
            block_public_acls=True,
            ignore_public_acls=True,
            block_public_policy=args.cdn,
            restrict_public_buckets=args.cdn,
            opts=self.child(),
        )
        policy_after = self.child(depends_on=[public_access, ownership])
        keys = list(args.keys)
        if args.cdn:
            self.website = None
            self.distribution = self._cdn(name, args)
            distribution_arn = self.distribution.arn
            aws.s3.BucketPolicy(
                f"{name}-policy",
                bucket=bucket,
                policy=pulumi.Output.all(self.bucket.arn, distribution_arn).apply(
                    lambda v: json.dumps(policies.cloudfront_read_policy(v[0], keys, v[1]))
                ),
                opts=policy_after,
            )
            host = (pulumi.Output.from_input(args.domain) if args.domain
                    else self.distribution.domain_name)
            self.url = host.apply(lambda d: site_url(d, https=True))
            self.origin = host.apply(lambda d: f"https://{d}")
        else:
            self.distribution = None
            self.website = aws.s3.BucketWebsiteConfiguration(
                f"{name}-website",
                bucket=bucket,
                index_document=aws.s3.BucketWebsiteConfigurationIndexDocumentArgs(suffix=INDEX),
                opts=self.child(),
            )
            aws.s3.BucketPolicy(
                f"{name}-policy",
                bucket=bucket,
                policy=self.bucket.arn.apply(
                    lambda arn: json.dumps(policies.public_read_policy(arn, keys))
                ),
                # S3 refuses a public policy while the access block still blocks them.
                opts=policy_after,
            )
            self.url = self.website.website_endpoint.apply(lambda e: site_url(e, https=False))
            self.origin = self.url.apply(origin_of)
        return {"bucketName": bucket, "siteUrl": self.url, "origin": self.origin}

    def _cdn(self, name: str, args: SiteHostingArgs) -> aws.cloudfront.Distribution:
        """https for viewers; the bucket's REST endpoint as the origin, signed with SigV4."""
        access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=f"{args.name_prefix}-site",
            description="CloudFront signs its requests to the private site bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=self.child(),
        )
        csp = pulumi.Output.all(args.api_origin, args.sts_origin).apply(
            lambda v: content_security_policy(api_origin=v[0], sts_origin=v[1],
                                              issuer_origin=args.issuer_origin,
                                              script_hashes=args.script_hashes))
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-headers",
            name=f"{args.name_prefix}-site-headers",
            comment="CSP (self, API, STS, issuer), HSTS, nosniff, frame-ancestors none",
            security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                content_security_policy=aws.cloudfront.
                ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                    content_security_policy=csp, override=True),
                strict_transport_security=aws.cloudfront.
                ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                    access_control_max_age_sec=HSTS_MAX_AGE_SECONDS, include_subdomains=True,
                    preload=False, override=True),
                content_type_options=aws.cloudfront.
                ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(override=True),
                frame_options=aws.cloudfront.
                ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                    frame_option="DENY", override=True),
                referrer_policy=aws.cloudfront.
                ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                    referrer_policy="no-referrer", override=True),
            ),
            opts=self.child(),
        )
        origin_id = "site-bucket"
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
                domain_name=self.bucket.bucket_regional_domain_name,
                origin_access_control_id=access_control.id,
            )],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=origin_id,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                response_headers_policy_id=headers.id,
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none",
                ),
            ),
            aliases=[args.domain] if args.domain else None,
            viewer_certificate=self._certificate(args),
            opts=self.child(),
        )


    @staticmethod
    def _certificate(args: SiteHostingArgs) -> aws.cloudfront.DistributionViewerCertificateArgs:
        """TLSv1.2 or later with the operator's certificate. The default *.cloudfront.net
        certificate makes CloudFront accept TLSv1 and up and ignore a minimum version
        (docs/deploying.md, "TLS")."""
        if args.certificate_arn is None:
            return aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True)
        return aws.cloudfront.DistributionViewerCertificateArgs(
            acm_certificate_arn=args.certificate_arn,
            ssl_support_method="sni-only",
            minimum_protocol_version=MINIMUM_TLS,
        )


@dataclass
class PetsSiteArgs:
    bucket: pulumi.Input[str]  # SiteHosting's bucket
    region: pulumi.Input[str]
    api_url: pulumi.Input[str]
    issuer: str
    client_id: pulumi.Input[str]  # an output of the Auth0 application when it is managed
    user_classes: Sequence[access.UserClass]
    role_arns: Mapping[str, pulumi.Input[str]]  # by class name
    sts_endpoint: pulumi.Input[str]
    url: pulumi.Input[str]  # SiteHosting's url
    site_dir: Path = field(default_factory=lambda: SITE_DIR)


class PetsSite(Component[PetsSiteArgs]):
    """The site's content: owns one BucketObjectv2 per file of site/ and one for the
    generated config.json."""

    objects: dict[str, aws.s3.BucketObjectv2]  # by key, config.json included
    url: pulumi.Output[str]

    def declare(self, name: str, args: PetsSiteArgs) -> Outputs:
        files = site_files(args.site_dir)
        if set(args.role_arns) != {c.name for c in args.user_classes}:
            raise ValueError(f"{name}: need one role per user class, got {sorted(args.role_arns)}")
        bucket = args.bucket
        self.objects = {
            f.key: aws.s3.BucketObjectv2(
                f"{name}-file-{f.key}",
                bucket=bucket,
                key=f.key,
                source=pulumi.FileAsset(str(f.path)),
                content_type=f.content_type,
                cache_control=CACHE_CONTROL,
                opts=self.child(),
            )
            for f in files
        }
        config = pulumi.Output.all(
            region=args.region,
            api_url=args.api_url,
            sts=args.sts_endpoint,
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
            opts=self.child(),
        )
        self.url = pulumi.Output.from_input(args.url)
        return {"siteUrl": self.url}
