"""The browser app's hosting and content (components/site.py) under the mock runtime.

The S3 and CloudFront attributes the component reads (bucket ARN, website
endpoint, distribution domain) are computed by the shared mocks, shaped like
AWS's, so policies and URLs are checked as they would be deployed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import access
from components import site_content
from components.config import ConfigError, parse_settings
from harness_core.recorder import (
    ACCOUNT,
    API_ID,
    CDN_DOMAIN,
    REGION,
    ProgramRun,
    record_program,
)
from tests.support.programs import BASE_CONFIG, CLIENT_ID, ISSUER

BUCKET = f"pets-unit-site-{ACCOUNT}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
WEBSITE_ENDPOINT = f"{BUCKET}.s3-website-{REGION}.amazonaws.com"
SITE_DIR = Path(__file__).resolve().parents[2] / "site"
# What a browser must be told for each kind of file (module scripts need a JS type).
MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
               ".json": "application/json", ".map": "application/json", ".txt": "text/plain"}
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def app_files() -> set[str]:
    """Walks site/ independently of the component: every file but npm tooling and dotfiles
    (a build stamp such as vendor/.built)."""
    tooling = {"package.json", "package-lock.json", "vendor.mjs"}
    files = set()
    for path in SITE_DIR.rglob("*"):
        parts = path.relative_to(SITE_DIR).parts
        if path.is_file() and "node_modules" not in parts and path.name not in tooling \
                and not any(part.startswith(".") for part in parts):
            files.add("/".join(parts))
    return files


def objects(program: ProgramRun) -> dict[str, dict[str, Any]]:
    return {d.inputs["key"]: d.inputs for d in program.of_type(OBJECT)}


def config_json(program: ProgramRun) -> dict[str, Any]:
    return json.loads(objects(program)[site_content.CONFIG_KEY]["content"])


# --- the bucket ------------------------------------------------------------------------


def test_bucket_is_named_from_stack_prefix_and_account(program: ProgramRun):
    assert program.named("pets-unit-site-bucket").inputs["bucket"] == BUCKET


def test_bucket_policy_allows_only_public_get_of_the_site_keys(local_program: ProgramRun):
    policy = local_program.named("pets-unit-site-policy")
    assert policy.inputs["bucket"] == BUCKET
    document = policy.json_input("policy")
    (statement,) = document["Statement"]
    # Exactly these fields: no NotAction/NotResource/Condition can widen or twist it.
    assert set(statement) == {"Sid", "Effect", "Principal", "Action", "Resource"}
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:GetObject"
    expected = {f"{BUCKET_ARN}/{key}" for key in app_files() | {"config.json"}}
    assert set(statement["Resource"]) == expected
    assert not any("*" in r for r in statement["Resource"]), "no wildcard keys"


@pytest.mark.parametrize("cdn", [True, False], ids=["cdn", "no-cdn"])
def test_bucket_policy_covers_exactly_the_uploaded_objects(program, local_program, cdn):
    chosen = program if cdn else local_program
    document = chosen.named("pets-unit-site-policy").json_input("policy")
    assert set(document["Statement"][0]["Resource"]) == {
        f"{BUCKET_ARN}/{key}" for key in objects(chosen)
    }


def test_public_access_block_keeps_acls_blocked(local_program: ProgramRun):
    block = local_program.named("pets-unit-site-public-access").inputs
    assert block["bucket"] == BUCKET
    assert block["blockPublicAcls"] is True
    assert block["ignorePublicAcls"] is True
    # Relaxed only so the bucket policy may grant public reads.
    assert block["blockPublicPolicy"] is False
    assert block["restrictPublicBuckets"] is False


def test_acls_are_disabled(program: ProgramRun):
    ownership = program.named("pets-unit-site-ownership").inputs
    assert ownership["bucket"] == BUCKET
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert not any("acl" in d.inputs for d in program.of_type(OBJECT)), "objects must not set ACLs"


def test_website_serves_index_html(local_program: ProgramRun):
    website = local_program.named("pets-unit-site-website").inputs
    assert website["bucket"] == BUCKET
    assert website["indexDocument"] == {"suffix": "index.html"}


# --- the objects -----------------------------------------------------------------------


def test_every_site_file_and_vendored_library_is_an_object(program: ProgramRun):
    uploaded = objects(program)
    assert set(uploaded) == app_files() | {"config.json"}
    assert set(site_content.VENDORED) <= set(uploaded)
    assert {"index.html", "app.js", "style.css"} <= set(uploaded)
    for key, inputs in uploaded.items():
        assert inputs["bucket"] == BUCKET, key
        if key != "config.json":
            assert Path(inputs["source"].path) == SITE_DIR / key, key


def test_objects_have_the_content_type_browsers_need(program: ProgramRun):
    for key, inputs in objects(program).items():
        media_type = inputs["contentType"].split(";")[0]
        assert media_type == MEDIA_TYPES[Path(key).suffix], key
        assert inputs["cacheControl"] == "no-cache", key


def test_npm_tooling_is_not_uploaded(program: ProgramRun):
    keys = set(objects(program))
    assert not {"package.json", "package-lock.json", "vendor.mjs"} & keys
    assert not any(k.startswith("node_modules/") for k in keys)


# --- config.json -----------------------------------------------------------------------


def test_config_json_names_api_issuer_roles_and_classes(program: ProgramRun):
    roles = {c.name: program.named(f"pets-unit-{c.name}-role").outputs["arn"]
             for c in access.USER_CLASSES}
    assert roles == {c.name: f"arn:aws:iam::{ACCOUNT}:role/pets-unit-{c.name}"
                     for c in access.USER_CLASSES}
    stage = program.named("pets-unit-stage")
    assert config_json(program) == {
        "region": REGION,
        "apiUrl": stage.outputs["invokeUrl"],
        "issuer": ISSUER,
        "clientId": CLIENT_ID,
        "scope": "openid email profile offline_access",
        "stsEndpoint": f"https://sts.{REGION}.amazonaws.com",
        "roles": roles,
        "classes": {
            c.name: {"subPatterns": list(c.members.sub_patterns),
                     "subjects": list(c.members.subjects),
                     "sessionTags": dict(c.members.session_tags),
                     "routes": [r.id for r in c.routes]}
            for c in access.USER_CLASSES
        },
        "actions": {"list": "GET /pets", "add": "POST /pets", "remove": "DELETE /pets/{petId}",
                    "buy": "POST /pets/purchase"},
    }
    assert stage.outputs["invokeUrl"] == f"https://{API_ID}.execute-api.{REGION}.amazonaws.com/v1"


def test_config_json_is_json_not_cached(program: ProgramRun):
    inputs = objects(program)["config.json"]
    assert inputs["contentType"] == "application/json"
    assert inputs["cacheControl"] == "no-cache"


def test_sts_endpoint_and_membership_come_from_stack_config():
    configured = record_program({
        **BASE_CONFIG,
        "pets:stsEndpoint": "http://127.0.0.1:4566",
        "pets:userClasses": '{"admin": {"subjects": ["auth0|42"]}}',
    })
    config = config_json(configured)
    assert config["stsEndpoint"] == "http://127.0.0.1:4566"
    assert config["classes"]["admin"]["subjects"] == ["auth0|42"]
    assert config["classes"]["admin"]["subPatterns"] == []


# --- https in front ---------------------------------------------------------------------


def test_cloudfront_reads_the_private_bucket_through_origin_access_control(program: ProgramRun):
    (cdn,) = program.of_type("aws:cloudfront/distribution:Distribution")
    (origin,) = cdn.inputs["origins"]
    # The S3 REST endpoint (not the website endpoint, which cannot be private).
    assert origin["domainName"] == f"{BUCKET}.s3.{REGION}.amazonaws.com"
    assert "customOriginConfig" not in origin
    (oac,) = program.of_type("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert origin["originAccessControlId"] == oac.outputs["id"]
    assert (oac.inputs["originAccessControlOriginType"], oac.inputs["signingBehavior"],
            oac.inputs["signingProtocol"]) == ("s3", "always", "sigv4")
    behavior = cdn.inputs["defaultCacheBehavior"]
    assert behavior["targetOriginId"] == origin["originId"]
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["allowedMethods"] == ["GET", "HEAD"]
    assert cdn.inputs["defaultRootObject"] == "index.html"
    assert program.outputs["siteUrl"] == f"https://{CDN_DOMAIN}/index.html"
    assert program.of_type("aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration") == []


def test_bucket_is_private_with_cloudfront(program: ProgramRun):
    block = program.named("pets-unit-site-public-access").inputs
    assert {k: block[k] for k in ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy",
                                  "restrictPublicBuckets")} == dict.fromkeys(
        ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"),
        True)
    (statement,) = program.named("pets-unit-site-policy").json_input("policy")["Statement"]
    (cdn,) = program.of_type("aws:cloudfront/distribution:Distribution")
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": cdn.outputs["arn"]}}


def _headers(program: ProgramRun) -> dict:
    (policy,) = program.of_type("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    (cdn,) = program.of_type("aws:cloudfront/distribution:Distribution")
    assert cdn.inputs["defaultCacheBehavior"]["responseHeadersPolicyId"] == policy.outputs["id"]
    return policy.inputs["securityHeadersConfig"]


def _csp(program: ProgramRun) -> dict[str, list[str]]:
    text = _headers(program)["contentSecurityPolicy"]["contentSecurityPolicy"]
    return {d.split()[0]: d.split()[1:] for d in text.split("; ")}


def test_content_security_policy_admits_only_site_api_sts_and_issuer(program: ProgramRun):
    csp = _csp(program)
    assert csp["default-src"] == ["'none'"]
    assert set(csp["connect-src"]) == {
        "'self'", f"https://{API_ID}.execute-api.{REGION}.amazonaws.com",
        f"https://sts.{REGION}.amazonaws.com", "https://pets-test.eu.auth0.com"}
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["style-src"] == ["'self'"]
    assert _headers(program)["contentSecurityPolicy"]["override"] is True


def test_no_inline_script_but_the_import_map_by_hash(program: ProgramRun):
    import base64
    import hashlib
    import re
    scripts = _csp(program)["script-src"]
    assert "'unsafe-inline'" not in scripts
    html = (SITE_DIR / "index.html").read_text()
    bodies = re.findall(r'<script type="importmap">(.*?)</script>', html, re.DOTALL)
    assert len(bodies) == 1
    digest = base64.b64encode(hashlib.sha256(bodies[0].encode()).digest()).decode()
    assert sorted(scripts) == sorted(["'self'", f"'sha256-{digest}'"])


def test_hsts_nosniff_and_no_framing(program: ProgramRun):
    headers = _headers(program)
    hsts = headers["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31536000 and hsts["includeSubdomains"] is True
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"] == {"frameOption": "DENY", "override": True}


def test_api_cors_origin_is_the_sites_origin(program: ProgramRun):
    origin = f"https://{CDN_DOMAIN}"
    for name in ("pets-unit-integration-response-options-pets", ):
        params = program.named(name).inputs["responseParameters"]
        assert params["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
    for route in access.ROUTES:
        fn = program.named(f"pets-unit-{route.handler.replace('_', '-')}-function")
        assert fn.inputs["environment"]["variables"]["CORS_ALLOW_ORIGIN"] == origin


def test_configured_cors_origin_wins(program: ProgramRun):
    configured = record_program({**BASE_CONFIG,
                                 "pets:corsAllowOrigin": "https://pets.example.com"})
    params = configured.named("pets-unit-integration-response-options-pets").inputs[
        "responseParameters"]
    assert params["method.response.header.Access-Control-Allow-Origin"] == (
        "'https://pets.example.com'")
    # The stage serves the new origin: every part carrying it is redeployed.
    before = program.named("pets-unit-deployment").inputs["triggers"]
    after = configured.named("pets-unit-deployment").inputs["triggers"]
    assert {k for k in after if after[k] != before[k]} == {
        *(f"pets-unit-integration-response-options-{p}" for p in ("pets", "pets-var",
                                                                  "pets-purchase")),
        *(f"pets-unit-gateway-{k}" for k in ("default-4xx", "default-5xx", "bad-request-body",
                                             "throttled", "integration-failure",
                                             "integration-timeout")),
    }


def test_a_failure_after_the_origin_is_promised_fails_instead_of_hanging(monkeypatch):
    import components.pets_app as pets_app

    def broken(*args, **kwargs):
        raise ValueError("hosting broke")

    monkeypatch.setattr(pets_app, "SiteHosting", broken)
    with pytest.raises(ValueError, match="hosting broke"):
        record_program(BASE_CONFIG)


def test_no_cloudfront_when_configured_off(local_program: ProgramRun):
    assert local_program.of_type("aws:cloudfront/distribution:Distribution") == []
    assert local_program.outputs["siteUrl"] == f"http://{WEBSITE_ENDPOINT}/index.html"
    params = local_program.named("pets-unit-integration-response-options-pets").inputs[
        "responseParameters"]
    assert params["method.response.header.Access-Control-Allow-Origin"] == "'*'"


# --- settings -------------------------------------------------------------------------


VALID = {"pets:oidcIssuer": ISSUER, "pets:oidcClientId": CLIENT_ID}


def test_site_settings_defaults():
    settings = parse_settings("dev", VALID)
    assert settings.site_cdn is True
    assert settings.sts_endpoint is None


@pytest.mark.parametrize("value", ["yes", "0", ""])
def test_site_cdn_must_be_a_boolean(value):
    with pytest.raises(ConfigError, match="pets:siteCdn"):
        parse_settings("dev", {**VALID, "pets:siteCdn": value})


@pytest.mark.parametrize(
    "value", ["http://sts.amazonaws.com", "sts.amazonaws.com", "https://sts.x/path", "ftp://x"]
)
def test_sts_endpoint_must_be_https_or_loopback(value):
    with pytest.raises(ConfigError, match="pets:stsEndpoint"):
        parse_settings("dev", {**VALID, "pets:stsEndpoint": value})


def test_sts_endpoint_may_be_plain_http_on_loopback():
    settings = parse_settings("dev", {**VALID, "pets:stsEndpoint": "http://127.0.0.1:4566/"})
    assert settings.sts_endpoint == "http://127.0.0.1:4566"


# --- TLS with the operator's domain -----------------------------------------------------------

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"


def test_default_certificate_without_a_domain(program: ProgramRun):
    (cdn,) = program.of_type("aws:cloudfront/distribution:Distribution")
    assert cdn.inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert "aliases" not in cdn.inputs or not cdn.inputs["aliases"]


def test_own_domain_requires_tls12_and_becomes_the_cors_origin():
    program = record_program({**BASE_CONFIG, "pets:siteDomain": "pets.example.com",
                       "pets:siteCertificateArn": CERTIFICATE})
    (cdn,) = program.of_type("aws:cloudfront/distribution:Distribution")
    assert cdn.inputs["aliases"] == ["pets.example.com"]
    assert cdn.inputs["viewerCertificate"] == {
        "acmCertificateArn": CERTIFICATE, "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021"}
    assert program.outputs["siteUrl"] == "https://pets.example.com/index.html"
    params = program.named("pets-unit-integration-response-options-pets").inputs[
        "responseParameters"]
    assert params["method.response.header.Access-Control-Allow-Origin"] == (
        "'https://pets.example.com'")


@pytest.mark.parametrize("raw", [
    {"pets:siteDomain": "pets.example.com"},
    {"pets:siteCertificateArn": CERTIFICATE},
    {"pets:siteDomain": "Pets.Example.com", "pets:siteCertificateArn": CERTIFICATE},
    {"pets:siteDomain": "pets.example.com",
     "pets:siteCertificateArn": CERTIFICATE.replace("us-east-1", "eu-west-1")},
])
def test_bad_site_domain_settings_name_the_key(raw):
    with pytest.raises(ConfigError, match=r"pets:site(Domain|CertificateArn)"):
        parse_settings("dev", {**VALID, **raw})
