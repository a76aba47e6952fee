"""The account baseline's settings (account/Pulumi.<account stack>.yaml), checked up front.

The baseline owns what AWS allows once per account (an issuer's IAM OIDC provider) or once
per account and region (API Gateway's account settings), so that any number of app stacks
can share an account: see docs/deploying.md. Every problem names its config key, under the
baseline's own namespace `pets-account:`, before anything is created.

    pets-account:apiGatewayLogging: true
    pets-account:issuers:
      https://pets-dev-example.eu.auth0.com/:
        clientIds: [the client id of every app stack using this issuer]
        stacks: [org/pets/review-42]   # app stacks whose oidcClientId output to list too
        thumbprints: []                # rarely needed: IAM trusts the issuer's CA by default
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.config import (
    NAMESPACE as APP_NAMESPACE,
)
from components.config import (
    ConfigError,
    check_client_id,
    check_issuer,
    flag,
    json_value,
    string_list,
)
from components.naming import ACCOUNT_PROJECT

NAMESPACE = ACCOUNT_PROJECT  # account/Pulumi.yaml's name: keys are `pets-account:<key>`
_KNOWN_KEYS = frozenset({"issuers", "apiGatewayLogging"})
_ISSUER_FIELDS = ("clientIds", "stacks", "thumbprints")
# IAM's quotas for one OIDC provider.
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
_THUMBPRINT = re.compile(r"[0-9a-fA-F]{40}")
# A fully qualified stack name, as StackReference takes it: <organization>/<project>/<stack>
# (with a self-managed backend the organization is the literal word `organization`).
_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class IssuerTrust:
    """One issuer's IAM OIDC provider: which client ids (token audiences) it accepts.

    client_ids: listed by hand (an identity provider configured by hand, a review stack).
    stacks: app stacks that manage their Auth0 tenant: their client id is created by their
    own `pulumi up` and read here from their `oidcClientId` output.
    """

    url: str
    client_ids: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ()
    thumbprints: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountSettings:
    stack: str
    issuers: tuple[IssuerTrust, ...] = ()
    # API Gateway's CloudWatch role for this region (stage access logs need it).
    api_gateway_logging: bool = True


def _key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _issuer(url: Any, value: Any) -> IssuerTrust:
    key = f"{_key('issuers')}.{url}"
    check_issuer(_key("issuers"), url)
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a map with {', '.join(_ISSUER_FIELDS)}")
    unknown = set(value) - set(_ISSUER_FIELDS)
    if unknown:
        raise ConfigError(f"{key}: unknown field(s) {sorted(unknown)}; "
                          f"use {', '.join(_ISSUER_FIELDS)}")
    lists = {name: string_list(f"{key}.{name}", value.get(name) or []) for name in _ISSUER_FIELDS}
    client_ids = _unique(tuple(check_client_id(f"{key}.clientIds", c)
                               for c in lists["clientIds"]))
    stacks = _unique(lists["stacks"])
    for stack in stacks:
        if not _STACK_NAME.fullmatch(stack):
            raise ConfigError(f"{key}.stacks: {stack!r} is not a fully qualified stack name: "
                              "use <organization>/pets/<stack> (self-managed backend: "
                              "organization/pets/<stack>)")
    if not client_ids and not stacks:
        raise ConfigError(f"{key}: lists no client id, so STS would refuse every token of this "
                          "issuer: add the app stacks' client ids to clientIds, or the stacks "
                          "that manage their Auth0 tenant to stacks")
    if len(client_ids) + len(stacks) > MAX_CLIENT_IDS:
        raise ConfigError(f"{key}: IAM takes at most {MAX_CLIENT_IDS} client ids per provider")
    thumbprints = _unique(lists["thumbprints"])
    if not all(_THUMBPRINT.fullmatch(t) for t in thumbprints):
        raise ConfigError(f"{key}.thumbprints: each must be 40 hex digits (SHA-1)")
    if len(thumbprints) > MAX_THUMBPRINTS:
        raise ConfigError(f"{key}.thumbprints: IAM takes at most {MAX_THUMBPRINTS}")
    return IssuerTrust(url, client_ids, stacks, thumbprints)


def _issuers(value: str | None) -> tuple[IssuerTrust, ...]:
    if value is None:
        return ()
    raw = json_value(_key("issuers"), value)
    if not isinstance(raw, dict):
        raise ConfigError(f"{_key('issuers')}: expected a map of issuer URL to "
                          "{clientIds, stacks, thumbprints}")
    return tuple(_issuer(url, trust) for url, trust in sorted(raw.items()))


def parse_account_settings(stack: str, raw: Mapping[str, str]) -> AccountSettings:
    """Settings from raw config values keyed `pets-account:<name>` (objects as JSON text)."""
    misplaced = sorted(k for k in raw if k.startswith(f"{APP_NAMESPACE}:"))
    if misplaced:
        raise ConfigError(f"{misplaced} are app settings: they belong in the app's "
                          "Pulumi.<stack>.yaml at the repository root, not in the account "
                          "baseline's (account/)")
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    unknown = set(ours) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(_key(k) for k in unknown)}; "
                          f"known: {sorted(_key(k) for k in _KNOWN_KEYS)}")
    settings = AccountSettings(
        stack=stack,
        issuers=_issuers(ours.get("issuers")),
        api_gateway_logging=flag(_key("apiGatewayLogging"), ours.get("apiGatewayLogging"),
                                 AccountSettings.api_gateway_logging),
    )
    if not settings.issuers and not settings.api_gateway_logging:
        raise ConfigError(f"the baseline would declare nothing: set {_key('issuers')} (in the "
                          f"account's first region) or {_key('apiGatewayLogging')}: true")
    return settings


def load_account_settings() -> AccountSettings:
    """Settings of the running baseline stack, from Pulumi's config."""
    import pulumi

    from components.config import running_config

    return parse_account_settings(pulumi.get_stack(), running_config())
