"""The app's settings (`pets:<key>` in Pulumi.<stack>.yaml): one row each in SETTINGS.

SETTINGS says, per setting, its key, how it is read, its default, the `Settings` field it
fills, what it does and what it costs; the parser, the unknown-key error and
docs/configuration.md (`make docs`) all come from it. RULES are the checks across settings.
Every problem names the config key, so `pulumi up` fails before it creates anything.
To add a setting: a row here and a field of `Settings`; the import-time check refuses one
without the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import access
from components.naming import PROJECT, stack_prefix
from components.settings_table import (
    CLIENT_ID,
    FLAG,
    ISSUER_URL,
    Computed,
    ConfigError,
    Kind,
    Project,
    Rule,
    Setting,
    json_value,
    require_https,
    string_list,
    text,
    whole_number,
)

NAMESPACE = PROJECT  # config keys are `pets:<key>`


@dataclass(frozen=True)
class Throttle:
    """Stage-wide API Gateway throttling: protects the table and the bill.

    The burst must cover a shop's legitimate peaks (many buyers racing for one
    pet); beyond it callers get 429.
    """

    rate_limit: float = 100.0
    burst_limit: int = 200


def auth0_issuer(tenant: str) -> str:
    """The issuer Auth0 puts in `iss` for a tenant's domain (with its trailing slash)."""
    return f"https://{tenant}/"


# --- kinds of value only the app has ------------------------------------------------------

def _stage(key: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]{1,128}", value):
        raise ConfigError(f"{key}: {value!r} must be letters, digits or _")
    return value


def _membership(key: str, value: Any) -> access.Membership:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a map with subPatterns, subjects or sessionTags")
    unknown = set(value) - {"subPatterns", "subjects", "sessionTags"}
    if unknown:
        raise ConfigError(f"{key}: unknown field(s) {sorted(unknown)}; "
                          "use subPatterns, subjects or sessionTags")
    tags = value.get("sessionTags", {})
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in tags.items()
    ):
        raise ConfigError(f"{key}.sessionTags: expected a map of tag name to value")
    try:
        return access.Membership(
            sub_patterns=string_list(f"{key}.subPatterns", value.get("subPatterns", [])),
            subjects=string_list(f"{key}.subjects", value.get("subjects", [])),
            session_tags=tags,
        )
    except ValueError as err:
        raise ConfigError(f"{key}: {err}") from None


def _user_classes(key: str, value: str) -> tuple[access.UserClass, ...]:
    """The model's classes, with membership replaced where the stack says so."""
    overrides = json_value(key, value)
    if not isinstance(overrides, dict):
        raise ConfigError(f"{key}: expected a map of user class to membership rules")
    known = {c.name: c for c in access.USER_CLASSES}
    unknown = set(overrides) - set(known)
    if unknown:
        raise ConfigError(f"{key}: unknown user class(es) {sorted(unknown)}; the classes "
                          f"are {sorted(known)} (add classes in access.py, not in config)")
    classes = []
    for c in access.USER_CLASSES:
        if c.name in overrides:
            members = _membership(f"{key}.{c.name}", overrides[c.name])
            try:
                c = replace(c, members=members)
            except ValueError as err:  # the model's own check: e.g. a managing class by pattern
                raise ConfigError(f"{key}.{c.name}: {err}") from None
        classes.append(c)
    return tuple(classes)


# CloudWatch Logs accepts only these retention periods.
_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                   2192, 2557, 2922, 3288, 3653)


def _retention(key: str, value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = -1
    if days not in _RETENTION_DAYS:
        raise ConfigError(f"{key}: {value!r} is not a CloudWatch retention period; use one of "
                          f"{list(_RETENTION_DAYS)}")
    return days


def _throttle(key: str, value: str) -> Throttle:
    raw = json_value(key, value)
    if not isinstance(raw, dict) or set(raw) - {"rateLimit", "burstLimit"}:
        raise ConfigError(f"{key}: expected a map with rateLimit and/or burstLimit")
    rate = raw.get("rateLimit", Throttle.rate_limit)
    burst = raw.get("burstLimit", Throttle.burst_limit)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise ConfigError(f"{key}.rateLimit: expected a positive number of requests per second")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst <= 0:
        raise ConfigError(f"{key}.burstLimit: expected a positive whole number")
    return Throttle(float(rate), burst)


def _show_throttle(value: Throttle) -> str:
    return f'{{"rateLimit": {value.rate_limit:g}, "burstLimit": {value.burst_limit}}}'


def _sts_endpoint(key: str, value: str) -> str:
    """The browser's STS URL; an emulator's endpoint is plain http on loopback."""
    parts = urlsplit(value)
    if parts.query or parts.fragment or not parts.hostname or parts.path not in {"", "/"}:
        raise ConfigError(f"{key}: {value!r} must be a URL like https://sts.eu-west-1.amazonaws.com")
    require_https(key, value, parts.hostname, parts.scheme)
    return value.rstrip("/")


def _origin(key: str, value: str) -> str:
    if value == "*":
        return "*"
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
        raise ConfigError(f"{key}: {value!r} must be * or an origin like https://pets.example.com")
    return value.rstrip("/")


_TENANT = re.compile(r"[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+")


def _tenant(key: str, value: str) -> str:
    if not _TENANT.fullmatch(value):
        raise ConfigError(f"{key}: {value!r} must be the tenant's domain, e.g. "
                          "pets-example.eu.auth0.com (no scheme, no path)")
    return value


def _reserved_concurrency(key: str, value: str) -> Mapping[str, int]:
    raw = json_value(key, value)
    handlers = {r.handler for r in access.ROUTES}
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected a map of route handler to reserved executions")
    unknown = set(raw) - handlers
    if unknown:
        raise ConfigError(f"{key}: unknown handler(s) {sorted(unknown)}; "
                          f"the handlers are {sorted(handlers)}")
    for name, count in raw.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"{key}.{name}: expected a whole number >= 1 (0 would "
                              "throttle every call)")
    return MappingProxyType(dict(raw))


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email(key: str, value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ConfigError(f"{key}: {value!r} is not an e-mail address")
    return value


_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_ACM_US_EAST_1 = re.compile(r"arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}")


def _domain(key: str, value: str) -> str:
    if not _DOMAIN.fullmatch(value):
        raise ConfigError(f"{key}: {value!r} is not a lowercase domain name")
    return value


def _certificate(key: str, value: str) -> str:
    if not _ACM_US_EAST_1.fullmatch(value):
        raise ConfigError(f"{key}: {value!r} must be an ACM certificate ARN in us-east-1 "
                          "(CloudFront reads only that region)")
    return value


# Seconds. Auth0 takes ID token lifetimes up to 30 days; a shop's login needs far less.
_ID_TOKEN_LIFETIME = whole_number(20, 86400, "seconds")
_REFRESH_TOKEN_LIFETIME = whole_number(60, 30 * 86400, "seconds")
# WAF's floor for a rate-based rule's limit (requests per 5-minute window per IP).
_WAF_MIN_RATE = 10

# --- the table --------------------------------------------------------------------------

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "auth0Tenant", Kind("Auth0 tenant domain", _tenant), None, "auth0_tenant",
        doc="The Auth0 tenant's domain (`pets-example.eu.auth0.com`): the program declares "
            "the single-page application, the staff connection, a role per class grant and the "
            "post-login Action (`components/auth0.py`). The issuer is then "
            "`https://<tenant>/` and the client id the application's.",
        cost="Auth0's plan; the deploy needs the Pulumi auth0 plugin and Management API "
             "credentials (AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET). One tenant per stack: two "
             "stacks on one tenant unbind each other's Action.",
        default_means="none: the identity provider is configured by hand"),
    Setting(
        "oidcIssuer", ISSUER_URL, None, "oidc_issuer",
        doc="The OIDC issuer, exactly the ID token's `iss` (a trailing slash counts), as the "
            "account baseline lists it (`pets-account:issuers`).",
        cost="A wrong one fails before anything is created: no IAM OIDC provider for it.",
        default_means="required, unless auth0Tenant"),
    Setting(
        "oidcClientId", CLIENT_ID, None, "oidc_client_id",
        doc="The browser app's OIDC client id (the ID token's `aud`); the baseline's provider "
            "must list it.",
        cost="Nothing.",
        default_means="required, unless auth0Tenant"),
    Setting(
        "idTokenLifetimeSeconds", _ID_TOKEN_LIFETIME, 3600, "id_token_lifetime_seconds",
        doc="How long an ID token lasts (the registered client's, or the managed Auth0 "
            "application's); the site renews it shortly before it expires.",
        cost="Longer: a stolen ID token gets a class role's credentials for longer. Shorter: "
             "more renewals."),
    Setting(
        "refreshTokenLifetimeSeconds", _REFRESH_TOKEN_LIFETIME, 8 * 3600,
        "refresh_token_lifetime_seconds",
        doc="Absolute lifetime of a refresh token: how long a login lasts while the site "
            "renews it (refresh tokens rotate on every use).",
        cost="Users log in again after it."),
    Setting(
        "stage", Kind("letters, digits or _ (1-128)", _stage), "v1", "stage",
        doc="The API Gateway stage: the last part of the API's URL.",
        cost="Changing it makes a new stage: the API's URL changes."),
    Setting(
        "userClasses",
        Kind("map: class -> {subPatterns, subjects, sessionTags}", _user_classes),
        Computed(lambda: access.USER_CLASSES), "user_classes",
        doc="Who belongs to a class, replacing access.py's membership for the classes named. "
            "A class that manages the shop takes only subjects or sessionTags (an explicit "
            "grant). The routes a class may call change only in access.py.",
        cost="Who may assume each class's role: ACCESS.md shows per stack who becomes which "
             "class.",
        default_means="access.py's membership"),
    Setting(
        "corsAllowOrigin", Kind("`*` or an origin (https://host)", _origin), None,
        "cors_allow_origin",
        doc="The origin the API's CORS headers allow.",
        cost="`*` lets scripts of any site read the API's answers (they still need a "
             "signature); set it only for a custom domain in front of CloudFront.",
        default_means="the site's CloudFront origin; `*` without CloudFront"),
    Setting(
        "logRetentionDays", Kind("days: a CloudWatch retention period", _retention), 30,
        "log_retention_days",
        doc="Retention of the API's access logs and the functions' logs.",
        cost="About $0.03 per GB-month stored (ingestion, $0.50/GB, does not depend on it)."),
    Setting(
        "throttle", Kind("map: {rateLimit, burstLimit}", _throttle, _show_throttle),
        Throttle(), "throttle",
        doc="The stage's throttle: requests per second and burst; beyond them callers get 429 "
            "with Retry-After.",
        cost="Too low refuses a shop's peaks; too high lets one caller run up the table's and "
             "the functions' bill."),
    Setting(
        "lambdaPackage", text("folder"), "build/lambda", "lambda_package",
        doc="The built Lambda package (`make package`): code.zip and layer.zip.",
        cost="Nothing."),
    Setting(
        "siteCdn", FLAG, True, "site_cdn",
        doc="CloudFront in front of a private site bucket (Origin Access Control, CSP, HSTS). "
            "Browsers allow PKCE only in a secure context: https, or loopback for the emulator.",
        cost="CloudFront's free tier (1 TB and 10 M requests a month), then about $0.085/GB. "
             "false: the bucket is public-read object by object (emulators only; the policy "
             "pack refuses it)."),
    Setting(
        "stsEndpoint", Kind("URL: https (http on loopback)", _sts_endpoint), None,
        "sts_endpoint",
        doc="Where the browser asks STS for its class role's credentials.",
        cost="Nothing.",
        default_means="the region's STS endpoint, https://sts.<region>.amazonaws.com"),
    Setting(
        "dataProtection", FLAG, True, "data_protection",
        doc="DynamoDB deletion protection and Pulumi `protect` on both tables (point-in-time "
            "recovery stays on either way). false only for throwaway stacks.",
        cost="Nothing; deleting the stack takes an `up` with false first. PITR itself: about "
             "$0.20 per GB-month of table."),
    Setting(
        "reservedConcurrency",
        Kind("map: route handler -> executions (>= 1)", _reserved_concurrency),
        MappingProxyType({}),
        "reserved_concurrency",
        doc="Executions reserved per route handler (`list_pets: 20`), so one route cannot "
            "starve the others; a handler not listed shares the account's pool.",
        cost="Free, but taken from the account's concurrency (1,000 by default; 100 must stay "
             "unreserved, so an account at the new-account limit of 10 cannot reserve any).",
        default_means="none"),
    Setting(
        "waf", FLAG, False, "waf",
        doc="A WAFv2 web ACL on the stage: a per-IP rate limit (wafRateLimit) and AWS's common "
            "rule set.",
        cost="About $5 a month per web ACL, $1 per rule (2) and $0.60 per million requests."),
    Setting(
        "wafRateLimit", whole_number(_WAF_MIN_RATE), 1000, "waf_rate_limit",
        doc="Requests per client IP in any 5 minutes above which the web ACL blocks (with waf).",
        cost="Too low blocks a busy office behind one IP."),
    Setting(
        "alarmEmail", Kind("e-mail address", _email, blank_is_unset=True), None, "alarm_email",
        doc="An address subscribed to the alarms' SNS topic (confirm the e-mail AWS sends).",
        cost="SNS e-mail: the first 1,000 a month are free."),
    Setting(
        "siteDomain", Kind("lowercase domain name", _domain, blank_is_unset=True), None,
        "site_domain",
        doc="The site's own domain, served by CloudFront with TLSv1.2 as the minimum (the "
            "default *.cloudfront.net certificate accepts TLSv1); siteUrl and the API's CORS "
            "origin use it. Point its DNS at the distribution.",
        cost="A domain and its DNS record; ACM certificates are free."),
    Setting(
        "siteCertificateArn",
        Kind("ACM certificate ARN in us-east-1", _certificate, blank_is_unset=True), None,
        "site_certificate_arn",
        doc="The ACM certificate of siteDomain, in us-east-1 (the only region CloudFront reads).",
        cost="Nothing (ACM public certificates are free)."),
)


def _identity_provider(values: dict[str, Any], qualify: Callable[[str], str]) -> dict[str, Any]:
    tenant = values["auth0_tenant"]
    if tenant is not None:
        both = [qualify(k) for k, f in (("oidcIssuer", "oidc_issuer"),
                                        ("oidcClientId", "oidc_client_id"))
                if values[f] is not None]
        if both:
            raise ConfigError(f"{qualify('auth0Tenant')} is set, so the issuer "
                              f"({auth0_issuer(tenant)}) and the client id come from the Auth0 "
                              f"resources the program declares: remove {both}")
        return {**values, "oidc_issuer": auth0_issuer(tenant)}
    if values["oidc_issuer"] is None:
        raise ConfigError(f"{qualify('oidcIssuer')} is required: the OIDC issuer URL, e.g. "
                          "https://YOUR_TENANT.auth0.com/ (exactly the token's `iss`)")
    if values["oidc_client_id"] is None:
        raise ConfigError(f"{qualify('oidcClientId')} is required: the OIDC client id of the "
                          "browser app (the ID token's `aud`)")
    return values


def _site_domain(values: dict[str, Any], qualify: Callable[[str], str]) -> dict[str, Any]:
    if (values["site_domain"] is None) != (values["site_certificate_arn"] is None):
        raise ConfigError(f"{qualify('siteDomain')} and {qualify('siteCertificateArn')} go "
                          "together: the domain's ACM certificate (us-east-1) is what "
                          "CloudFront serves")
    return values


RULES: tuple[Rule, ...] = (
    Rule(("auth0Tenant", "oidcIssuer", "oidcClientId"),
         "With auth0Tenant, the issuer and the client id come from the Auth0 resources the "
         "program declares: oidcIssuer and oidcClientId must not be set. Without it, both are "
         "required.",
         _identity_provider),
    Rule(("siteDomain", "siteCertificateArn"),
         "Both or neither: the domain's ACM certificate (us-east-1) is what CloudFront serves.",
         _site_domain),
)

_BASELINE = "the account baseline (account/, docs/deploying.md): {}"
APP = Project(
    namespace=NAMESPACE,
    title="The app (`pets`)",
    stack_file="Pulumi.<stack>.yaml",
    settings=SETTINGS,
    rules=RULES,
    # Settings that used to be the app's and now belong to the account baseline (account/).
    moved={
        "manageApiGatewayAccount": _BASELINE.format(
            "API Gateway's account settings and their CloudWatch role are one per account and "
            "region, owned by the account baseline: set pets-account:apiGatewayLogging in "
            "account/Pulumi.<account stack>.yaml"),
        "oidcThumbprints": _BASELINE.format(
            "the issuer's IAM OIDC provider is one per account, owned by the account baseline: "
            "set pets-account:issuers.<issuer>.thumbprints in account/Pulumi.<account "
            "stack>.yaml"),
    },
)


@dataclass(frozen=True)
@APP.fields
class Settings:
    """A stack's settings: one field per row of SETTINGS, which says what each one means."""

    stack: str
    oidc_issuer: str
    # None when the stack manages its Auth0 tenant: the application's client id is then an
    # output of the auth0.Client the program declares.
    oidc_client_id: str | None
    user_classes: tuple[access.UserClass, ...]
    auth0_tenant: str | None
    id_token_lifetime_seconds: int
    refresh_token_lifetime_seconds: int
    stage: str
    cors_allow_origin: str | None
    log_retention_days: int
    throttle: Throttle
    lambda_package: str
    site_cdn: bool
    sts_endpoint: str | None
    data_protection: bool
    reserved_concurrency: Mapping[str, int]
    waf: bool
    waf_rate_limit: int
    alarm_email: str | None
    site_domain: str | None
    site_certificate_arn: str | None

    @property
    def prefix(self) -> str:
        """Every resource name derives from this."""
        return stack_prefix(self.stack)


def parse_settings(stack: str, raw: Mapping[str, str]) -> Settings:
    """Settings from raw config values keyed `pets:<name>` (objects as JSON text)."""
    return Settings(stack=stack, **APP.parse(raw))


def engine_config() -> dict[str, str]:
    """Every config value the engine passed to the running program, keyed `namespace:key`.

    Pulumi's public Config API reads one key at a time; refusing an unknown key needs every
    key the engine passed, which the SDK keeps in two places that are not public API
    (pulumi.runtime.config's get_config_env() and CONFIG). If an SDK upgrade moves them,
    this fails saying so, instead of every stack reading as if it set nothing.
    """
    from pulumi.runtime import config as runtime_config

    get_config_env = getattr(runtime_config, "get_config_env", None)
    store = getattr(runtime_config, "CONFIG", None)
    if not callable(get_config_env) or not callable(getattr(store, "get", None)):
        import pulumi

        raise ConfigError(
            f"the pulumi SDK {getattr(pulumi, '__version__', '(unknown version)')} has no "
            "pulumi.runtime.config.get_config_env() or CONFIG, which components/config.py "
            "engine_config reads to see every config key: install the pulumi version "
            "requirements.txt pins, or update engine_config to where this SDK keeps the config")
    raw = {**get_config_env(), **store.get()}
    return {k: v for k, v in raw.items() if v is not None}


def load_settings() -> Settings:
    """Settings of the running stack, from Pulumi's config."""
    import pulumi

    return parse_settings(pulumi.get_stack(), engine_config())
