"""The account baseline's settings (components/account_config.py): defaults, and errors that
name the key. Pure: no Pulumi runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components import account_config
from components.account_config import (
    AccountSettings,
    ConfigError,
    IssuerTrust,
)
from harness_core.stack_files import stack_file_config

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://pets-dev-example.eu.auth0.com/"


def parse(issuers: object = None, **raw: str) -> AccountSettings:
    config = dict(raw)
    if issuers is not None:
        config["pets-account:issuers"] = json.dumps(issuers)
    return account_config.parse_account_settings("shop-eu", config)


def test_an_issuer_with_its_client_ids():
    settings = parse({ISSUER: {"clientIds": ["dev-spa", "review-spa", "dev-spa"]}})
    assert settings.issuers == (IssuerTrust(ISSUER, ("dev-spa", "review-spa")),)
    assert settings.api_gateway_logging is True  # the default: the baseline owns it


def test_an_issuer_read_from_a_managed_stack_and_its_thumbprints():
    thumbprint = "a" * 40
    settings = parse({ISSUER: {"stacks": ["organization/pets/prod"],
                               "thumbprints": [thumbprint]}},
                     **{"pets-account:apiGatewayLogging": "false"})
    assert settings.issuers == (IssuerTrust(ISSUER, (), ("organization/pets/prod",),
                                            (thumbprint,)),)
    assert settings.api_gateway_logging is False


def test_a_second_region_lists_no_issuer():
    assert parse(**{"pets-account:apiGatewayLogging": "true"}).issuers == ()


@pytest.mark.parametrize("stack", sorted(p.name for p in (ROOT / "account").glob("Pulumi.*.yaml")))
def test_the_stack_files_of_the_baseline_parse(stack: str):
    raw = stack_file_config(ROOT / "account" / stack, account_config.NAMESPACE)
    settings = account_config.parse_account_settings(stack, raw)
    assert settings.issuers and settings.api_gateway_logging


@pytest.mark.parametrize(
    ("issuers", "raw", "message"),
    [
        (None, {"pets-account:apiGatewayLogging": "false"}, "would declare nothing"),
        (["x"], {}, r"pets-account:issuers: expected a map of issuer URL"),
        ({"http://pets.example.com/": {"clientIds": ["a"]}}, {},
         r"pets-account:issuers: 'http://pets.example.com/' must use https"),
        ({"https://x/?a=1": {"clientIds": ["a"]}}, {}, "is not an issuer URL"),
        ({ISSUER: ["a"]}, {}, rf"pets-account:issuers\.{ISSUER}: expected a map"),
        ({ISSUER: {"clientId": ["a"]}}, {}, r"unknown field\(s\) \['clientId'\]"),
        ({ISSUER: {}}, {}, rf"pets-account:issuers\.{ISSUER}: lists no client id"),
        ({ISSUER: {"clientIds": "a"}}, {}, rf"{ISSUER}\.clientIds: expected a list"),
        ({ISSUER: {"clientIds": ["has space"]}}, {}, r"clientIds: 'has space' is not a client"),
        ({ISSUER: {"stacks": ["prod"]}}, {}, r"stacks: 'prod' is not a fully qualified"),
        ({ISSUER: {"clientIds": ["a"], "thumbprints": ["abc"]}}, {}, r"thumbprints: each"),
        ({ISSUER: {"clientIds": ["a"], "thumbprints": ["a" * 40, "b" * 40, "c" * 40,
                                                        "d" * 40, "e" * 40, "f" * 40]}},
         {}, r"thumbprints: IAM takes at most 5"),
        ({ISSUER: {"clientIds": [f"c{i}" for i in range(101)]}}, {}, "at most 100 client ids"),
        (None, {"pets-account:apiGatewayLogging": "yes"},
         r"pets-account:apiGatewayLogging: expected true or false"),
        (None, {"pets-account:issuer": "{}"}, r"unknown setting\(s\) \['pets-account:issuer'\]"),
        (None, {"pets:oidcIssuer": ISSUER}, r"\['pets:oidcIssuer'\] are app settings"),
        (None, {"pets-account:issuers": "{not json"}, "pets-account:issuers: not valid"),
    ],
)
def test_bad_settings_name_the_key(issuers, raw, message):
    with pytest.raises(ConfigError, match=message):
        parse(issuers, **raw)


def test_the_issuer_rule_is_the_apps():
    """One definition: the app refuses the same issuers, with its own key."""
    from components.config import parse_settings

    for issuer in ("http://pets.example.com/", "https://x/?a=1"):
        with pytest.raises(ConfigError, match="pets:oidcIssuer"):
            parse_settings("dev", {"pets:oidcIssuer": issuer, "pets:oidcClientId": "a"})
        with pytest.raises(ConfigError, match="pets-account:issuers"):
            parse({issuer: {"clientIds": ["a"]}})
    # Loopback http is for emulators, in both.
    assert parse({"http://127.0.0.1:9443": {"clientIds": ["pets-local"]}}).issuers
