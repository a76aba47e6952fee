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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.config import NAMESPACE as APP_NAMESPACE
from components.config import engine_config
from components.naming import ACCOUNT_PROJECT
from components.settings_table import (
    FLAG,
    ConfigError,
    Kind,
    Project,
    Rule,
    Setting,
    check_client_id,
    check_issuer,
    json_value,
    string_list,
)

NAMESPACE = ACCOUNT_PROJECT  # account/Pulumi.yaml's name: keys are `pets-account:<key>`
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


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _issuer(issuers_key: str, url: Any, value: Any) -> IssuerTrust:
    key = f"{issuers_key}.{url}"
    check_issuer(issuers_key, url)
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


def _issuers(key: str, value: str) -> tuple[IssuerTrust, ...]:
    raw = json_value(key, value)
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected a map of issuer URL to "
                          "{clientIds, stacks, thumbprints}")
    return tuple(_issuer(key, url, trust) for url, trust in sorted(raw.items()))


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "issuers", Kind("map: issuer URL -> {clientIds, stacks, thumbprints}", _issuers), (),
        "issuers",
        doc="One IAM OIDC provider per issuer URL (exactly the tokens' `iss`), listing the "
            "client id of every app stack that trusts it: `clientIds` by value, `stacks` "
            "(`<organization>/pets/<stack>`) read from the oidcClientId output of stacks that "
            "manage their Auth0 tenant, `thumbprints` rarely (IAM trusts the issuer's CA). Set "
            "it in the account's first region only: IAM is global.",
        cost="Free. STS refuses a token whose `aud` the provider does not list.",
        default_means="none"),
    Setting(
        "apiGatewayLogging", FLAG, True, "api_gateway_logging",
        doc="API Gateway's CloudWatch role in this region's account settings: the stages' "
            "access logs need it.",
        cost="An IAM role (free); the logs cost what the app's logRetentionDays keeps."),
)


def _declares_something(values: dict[str, Any], qualify: Callable[[str], str]) -> dict[str, Any]:
    if not values["issuers"] and not values["api_gateway_logging"]:
        raise ConfigError(f"the baseline would declare nothing: set {qualify('issuers')} (in the "
                          f"account's first region) or {qualify('apiGatewayLogging')}: true")
    return values


BASELINE = Project(
    namespace=NAMESPACE,
    title="The account baseline (`pets-account`)",
    stack_file="account/Pulumi.<account stack>.yaml",
    settings=SETTINGS,
    rules=(Rule(("issuers", "apiGatewayLogging"),
                "At least one: a baseline that declares nothing is a mistake.",
                _declares_something),),
)


@dataclass(frozen=True)
@BASELINE.fields
class AccountSettings:
    """The baseline's settings: one field per row of SETTINGS, which says what each means."""

    stack: str
    issuers: tuple[IssuerTrust, ...]
    api_gateway_logging: bool


def parse_account_settings(stack: str, raw: Mapping[str, str]) -> AccountSettings:
    """Settings from raw config values keyed `pets-account:<name>` (objects as JSON text)."""
    misplaced = sorted(k for k in raw if k.startswith(f"{APP_NAMESPACE}:"))
    if misplaced:
        raise ConfigError(f"{misplaced} are app settings: they belong in the app's "
                          "Pulumi.<stack>.yaml at the repository root, not in the account "
                          "baseline's (account/)")
    return AccountSettings(stack=stack, **BASELINE.parse(raw))


def load_account_settings() -> AccountSettings:
    """Settings of the running baseline stack, from Pulumi's config."""
    import pulumi

    return parse_account_settings(pulumi.get_stack(), engine_config())
