"""The stack's settings, read from Pulumi.<stack>.yaml and checked up front.

Every problem names the config key, so `pulumi up` fails before it creates
anything instead of half-way through with a provider error.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import access
from components.naming import PROJECT, stack_prefix

NAMESPACE = PROJECT  # config keys are `pets:<key>`

_KNOWN_KEYS = frozenset(
    {
        "oidcIssuer",
        "oidcClientId",
        "stage",
        "userClasses",
        "corsAllowOrigin",
        "logRetentionDays",
        "throttle",
        "lambdaPackage",
        "siteCdn",
        "stsEndpoint",
        "auth0Tenant",
        "idTokenLifetimeSeconds",
        "refreshTokenLifetimeSeconds",
        # Production protections (issue 14).
        "dataProtection",
        "reservedConcurrency",
        "waf",
        "wafRateLimit",
        "alarmEmail",
        "siteDomain",
        "siteCertificateArn",
    }
)
# Settings that used to be the app's and now belong to the account baseline (account/): an
# old stack file still setting one is told where it went, not just that it is unknown.
_MOVED_TO_BASELINE = {
    "manageApiGatewayAccount": "API Gateway's account settings and their CloudWatch role are "
    "one per account and region, owned by the account baseline: set "
    "pets-account:apiGatewayLogging in account/Pulumi.<account stack>.yaml",
    "oidcThumbprints": "the issuer's IAM OIDC provider is one per account, owned by the account "
    "baseline: set pets-account:issuers.<issuer>.thumbprints in "
    "account/Pulumi.<account stack>.yaml",
}
# Seconds. Auth0 takes ID token lifetimes up to 30 days; a shop's login needs far less.
_ID_TOKEN_LIFETIME = (20, 86400)
_REFRESH_TOKEN_LIFETIME = (60, 30 * 86400)
# CloudWatch Logs accepts only these retention periods.
_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
     2557, 2922, 3288, 3653}
)


class ConfigError(ValueError):
    """A stack setting is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class Throttle:
    """Stage-wide API Gateway throttling: protects the table and the bill.

    The burst must cover a shop's legitimate peaks (many buyers racing for one
    pet); beyond it callers get 429.
    """

    rate_limit: float = 100.0
    burst_limit: int = 200


@dataclass(frozen=True)
class Protections:
    """What a production stack adds (issue 14); see README "What each switch costs".

    data_protection: DynamoDB deletion protection and Pulumi `protect` on the table (off
    only for throwaway stacks). reserved_concurrency: per route handler (access.Route.handler),
    so one route cannot starve the others; a handler not listed shares the account's pool.
    waf: a WAFv2 web ACL on the stage, with a per-IP rate limit (requests per 5 minutes).
    alarm_email: subscribed to the alarms' SNS topic (confirm the e-mail AWS sends).
    """

    data_protection: bool = True
    reserved_concurrency: Mapping[str, int] = field(default_factory=dict)
    waf: bool = False
    waf_rate_limit: int = 1000
    alarm_email: str | None = None
    # The site's own domain with an ACM certificate in us-east-1: CloudFront then requires
    # TLSv1.2 (the default *.cloudfront.net certificate accepts TLSv1). Both or neither.
    site_domain: str | None = None
    site_certificate_arn: str | None = None


@dataclass(frozen=True)
class Settings:
    stack: str
    oidc_issuer: str
    # None when the stack manages its Auth0 tenant: the application's client id is then an
    # output of the auth0.Client the program declares.
    oidc_client_id: str | None
    user_classes: tuple[access.UserClass, ...]
    stage: str = "v1"
    # None: the site's own origin (CloudFront), wired by the program; `*` without CloudFront.
    cors_allow_origin: str | None = None
    log_retention_days: int = 30
    throttle: Throttle = field(default_factory=Throttle)
    lambda_package: str = "build/lambda"
    # CloudFront (https) in front of the S3 website endpoint (plain http): browsers only
    # give PKCE its crypto.subtle in a secure context. Off for the emulator (loopback is one).
    site_cdn: bool = True
    # Where the browser calls STS; None: the region's public endpoint.
    sts_endpoint: str | None = None
    # The Auth0 tenant's domain (`pets-example.eu.auth0.com`) when the program declares the
    # identity provider's application, connection, roles and Action; None: configured by hand.
    auth0_tenant: str | None = None
    id_token_lifetime_seconds: int = 3600
    refresh_token_lifetime_seconds: int = 8 * 3600
    protections: Protections = field(default_factory=lambda: Protections())

    @property
    def prefix(self) -> str:
        """Every resource name derives from this."""
        return stack_prefix(self.stack)


def _key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_issuer(key: str, value: str) -> str:
    """An OIDC issuer URL IAM can trust, exactly as the token's `iss` says it (trailing slash
    included: IAM keeps it in the provider's name); errors name `key`. The app's
    pets:oidcIssuer and the account baseline's issuers are checked by this one rule."""
    parts = urlsplit(value)
    if parts.query or parts.fragment or not parts.hostname:
        raise ConfigError(f"{key}: {value!r} is not an issuer URL")
    # IAM only trusts https issuers; plain http is for an emulator on loopback.
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
        raise ConfigError(f"{key}: {value!r} must use https "
                          "(plain http only on a loopback host, for local emulators)")
    return value


def _issuer(value: str | None) -> str:
    if not value:
        raise ConfigError(f"{_key('oidcIssuer')} is required: the OIDC issuer URL, e.g. "
                          "https://YOUR_TENANT.auth0.com/ (exactly the token's `iss`)")
    return check_issuer(_key("oidcIssuer"), value)


def check_client_id(key: str, value: str) -> str:
    """An OIDC client id (the ID token's `aud`) as IAM takes it: 1-255 printable characters
    without spaces; errors name `key`. Shared with the account baseline's clientIds."""
    if not value or len(value) > 255 or not value.isprintable() or " " in value:
        raise ConfigError(f"{key}: {value!r} is not a client id")
    return value


def _client_id(value: str | None) -> str:
    if not value:
        raise ConfigError(f"{_key('oidcClientId')} is required: the OIDC client id of the "
                          "browser app (the ID token's `aud`)")
    return check_client_id(_key("oidcClientId"), value)


def _stage(value: str | None) -> str:
    if value is None:
        return Settings.stage
    if not re.fullmatch(r"[A-Za-z0-9_]{1,128}", value):
        raise ConfigError(f"{_key('stage')}: {value!r} must be letters, digits or _")
    return value


def json_value(key: str, value: str) -> Any:
    """A structured value (the CLI passes objects and lists as JSON text); errors name `key`."""
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{key}: not valid YAML/JSON structure ({err})") from None


def _json(name: str, value: str) -> Any:
    return json_value(_key(name), value)


def string_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key}: expected a list of non-empty strings")
    return tuple(value)


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


def _user_classes(value: str | None) -> tuple[access.UserClass, ...]:
    """The model's classes, with membership replaced where the stack says so."""
    if value is None:
        return access.USER_CLASSES
    overrides = _json("userClasses", value)
    key = _key("userClasses")
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


def _retention(value: str | None) -> int:
    if value is None:
        return Settings.log_retention_days
    try:
        days = int(value)
    except ValueError:
        days = -1
    if days not in _RETENTION_DAYS:
        raise ConfigError(f"{_key('logRetentionDays')}: {value!r} is not a CloudWatch "
                          f"retention period; use one of {sorted(_RETENTION_DAYS)}")
    return days


def _throttle(value: str | None) -> Throttle:
    if value is None:
        return Throttle()
    key = _key("throttle")
    raw = _json("throttle", value)
    if not isinstance(raw, dict) or set(raw) - {"rateLimit", "burstLimit"}:
        raise ConfigError(f"{key}: expected a map with rateLimit and/or burstLimit")
    rate = raw.get("rateLimit", Throttle.rate_limit)
    burst = raw.get("burstLimit", Throttle.burst_limit)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise ConfigError(f"{key}.rateLimit: expected a positive number of requests per second")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst <= 0:
        raise ConfigError(f"{key}.burstLimit: expected a positive whole number")
    return Throttle(float(rate), burst)


def flag(key: str, value: str | None, default: bool) -> bool:
    """true or false (either case); None: the default. Errors name `key`."""
    if value is None:
        return default
    if value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ConfigError(f"{key}: expected true or false, got {value!r}")


def _bool(name: str, value: str | None, default: bool) -> bool:
    return flag(_key(name), value, default)


def _sts_endpoint(value: str | None) -> str | None:
    """The browser's STS URL; an emulator's endpoint is plain http on loopback."""
    if value is None:
        return None
    key = _key("stsEndpoint")
    parts = urlsplit(value)
    if parts.query or parts.fragment or not parts.hostname or parts.path not in {"", "/"}:
        raise ConfigError(f"{key}: {value!r} must be a URL like https://sts.eu-west-1.amazonaws.com")
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
        raise ConfigError(f"{key}: {value!r} must use https "
                          "(plain http only on a loopback host, for local emulators)")
    return value.rstrip("/")


def _origin(value: str | None) -> str | None:
    if value is None:
        return None
    if value == "*":
        return "*"
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
        raise ConfigError(f"{_key('corsAllowOrigin')}: {value!r} must be * or an origin "
                          "like https://pets.example.com")
    return value.rstrip("/")


def _seconds(name: str, value: str | None, default: int, bounds: tuple[int, int]) -> int:
    if value is None:
        return default
    low, high = bounds
    try:
        seconds = int(value)
    except ValueError:
        seconds = -1
    if not low <= seconds <= high:
        raise ConfigError(f"{_key(name)}: {value!r} must be a whole number of seconds "
                          f"from {low} to {high}")
    return seconds


_TENANT = re.compile(r"[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+")


def auth0_issuer(tenant: str) -> str:
    """The issuer Auth0 puts in `iss` for a tenant's domain (with its trailing slash)."""
    return f"https://{tenant}/"


def _auth0_tenant(value: str | None, ours: Mapping[str, str]) -> str | None:
    """A managed tenant fixes the issuer and the client: they must not be set by hand too."""
    if value is None:
        return None
    key = _key("auth0Tenant")
    if not _TENANT.fullmatch(value):
        raise ConfigError(f"{key}: {value!r} must be the tenant's domain, e.g. "
                          "pets-example.eu.auth0.com (no scheme, no path)")
    both = [_key(k) for k in ("oidcIssuer", "oidcClientId") if ours.get(k) is not None]
    if both:
        raise ConfigError(f"{key} is set, so the issuer ({auth0_issuer(value)}) and the client id "
                          f"come from the Auth0 resources the program declares: remove {both}")
    return value


# --- production protections (issue 14) ------------------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# WAF's floor for a rate-based rule's limit (requests per 5-minute window per IP).
_WAF_MIN_RATE = 10


def _reserved_concurrency(value: str | None) -> dict[str, int]:
    if value is None:
        return {}
    key = _key("reservedConcurrency")
    raw = _json("reservedConcurrency", value)
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
    return dict(raw)


def _positive_int(name: str, value: str | None, default: int, minimum: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ConfigError(f"{_key(name)}: {value!r} must be a whole number >= {minimum}")
    return number


def _email(value: str | None) -> str | None:
    if not value:
        return None
    if not _EMAIL.fullmatch(value):
        raise ConfigError(f"{_key('alarmEmail')}: {value!r} is not an e-mail address")
    return value


_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_ACM_US_EAST_1 = re.compile(r"arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}")


def _site_domain(ours: Mapping[str, str]) -> tuple[str | None, str | None]:
    domain, certificate = ours.get("siteDomain") or None, ours.get("siteCertificateArn") or None
    if (domain is None) != (certificate is None):
        raise ConfigError(f"{_key('siteDomain')} and {_key('siteCertificateArn')} go together: "
                          "the domain's ACM certificate (us-east-1) is what CloudFront serves")
    if domain is not None and not _DOMAIN.fullmatch(domain):
        raise ConfigError(f"{_key('siteDomain')}: {domain!r} is not a lowercase domain name")
    if certificate is not None and not _ACM_US_EAST_1.fullmatch(certificate):
        raise ConfigError(f"{_key('siteCertificateArn')}: {certificate!r} must be an ACM "
                          "certificate ARN in us-east-1 (CloudFront reads only that region)")
    return domain, certificate


def _protections(ours: Mapping[str, str]) -> Protections:
    site_domain, site_certificate = _site_domain(ours)
    return Protections(
        site_domain=site_domain,
        site_certificate_arn=site_certificate,
        data_protection=_bool("dataProtection", ours.get("dataProtection"), True),
        reserved_concurrency=_reserved_concurrency(ours.get("reservedConcurrency")),
        waf=_bool("waf", ours.get("waf"), False),
        waf_rate_limit=_positive_int("wafRateLimit", ours.get("wafRateLimit"),
                                     Protections.waf_rate_limit, _WAF_MIN_RATE),
        alarm_email=_email(ours.get("alarmEmail")),
    )


def parse_settings(stack: str, raw: Mapping[str, str]) -> Settings:
    """Settings from raw config values keyed `pets:<name>` (objects as JSON text)."""
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    moved = sorted(set(ours) & set(_MOVED_TO_BASELINE))
    if moved:
        raise ConfigError("; ".join(f"{_key(k)} moved to the account baseline (account/, "
                                    f"docs/deploying.md): {_MOVED_TO_BASELINE[k]}"
                                    for k in moved) + ". Remove it from this stack's file")
    unknown = set(ours) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(_key(k) for k in unknown)}; "
                          f"known: {sorted(_key(k) for k in _KNOWN_KEYS)}")
    tenant = _auth0_tenant(ours.get("auth0Tenant"), ours)
    return Settings(
        stack=stack,
        oidc_issuer=auth0_issuer(tenant) if tenant else _issuer(ours.get("oidcIssuer")),
        oidc_client_id=None if tenant else _client_id(ours.get("oidcClientId")),
        auth0_tenant=tenant,
        id_token_lifetime_seconds=_seconds(
            "idTokenLifetimeSeconds", ours.get("idTokenLifetimeSeconds"),
            Settings.id_token_lifetime_seconds, _ID_TOKEN_LIFETIME),
        refresh_token_lifetime_seconds=_seconds(
            "refreshTokenLifetimeSeconds", ours.get("refreshTokenLifetimeSeconds"),
            Settings.refresh_token_lifetime_seconds, _REFRESH_TOKEN_LIFETIME),
        stage=_stage(ours.get("stage")),
        user_classes=_user_classes(ours.get("userClasses")),
        cors_allow_origin=_origin(ours.get("corsAllowOrigin")),
        log_retention_days=_retention(ours.get("logRetentionDays")),
        throttle=_throttle(ours.get("throttle")),
        lambda_package=ours.get("lambdaPackage") or Settings.lambda_package,
        site_cdn=_bool("siteCdn", ours.get("siteCdn"), Settings.site_cdn),
        sts_endpoint=_sts_endpoint(ours.get("stsEndpoint")),
        protections=_protections(ours),
    )


def stack_file_config(path: Path, namespace: str = NAMESPACE) -> dict[str, str]:
    """A `Pulumi.<stack>.yaml`'s `config:` as the flat string map the SDK runtime reads.

    Structured values (userClasses, throttle) become JSON text, as the Pulumi CLI passes
    them; keys without a namespace are the project's (`namespace`: `pets`, or the account
    baseline's `pets-account`). Pulumi.yaml declares no config defaults, so the stack file
    is the whole config. A `secure:` value is refused: only the Pulumi CLI can decrypt it,
    and read as JSON it would be a wrong setting.
    """
    import yaml

    raw = yaml.safe_load(path.read_text()) or {}
    return {
        key if ":" in key else f"{namespace}:{key}": config_text(key, value)
        for key, value in (raw.get("config") or {}).items()
    }


def config_text(key: str, value: Any) -> str:
    """One config value as the CLI hands it to a program: plain values as their text
    (`7` -> "7", `true` -> "true"), objects and lists as JSON."""
    if isinstance(value, Mapping) and "secure" in value:
        raise ConfigError(
            f"{key} is a secret (`secure:`), which only the Pulumi CLI can decrypt: give it a "
            "plain value in the stack file, or pass it as an override (--config key=value)"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def stack_names(root: Path) -> list[str]:
    """The stacks with a `Pulumi.<stack>.yaml` in the project folder, sorted."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def running_config() -> dict[str, str]:
    """Every config value the engine passed to the running program, keyed `namespace:key`."""
    from pulumi.runtime import config as runtime_config

    # Pulumi's public Config API reads one key at a time; to catch typos we need
    # every key the engine passed, which it keeps in these two places.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {k: v for k, v in raw.items() if v is not None}


def load_settings() -> Settings:
    """Settings of the running stack, from Pulumi's config."""
    import pulumi

    return parse_settings(pulumi.get_stack(), running_config())
