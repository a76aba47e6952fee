"""Pulumi.localstack.yaml: the real engine against LocalStack, checked without the CLI.

An endpoint key the installed pulumi-aws does not know fails the provider with an opaque
"Invalid or unknown key" at `pulumi up`; here it fails by name.
"""

from __future__ import annotations

from pathlib import Path

import pulumi_aws.config.outputs as aws_config
import pytest
import yaml

from components.config import parse_settings, stack_file_config
from harness_core.recorder import record_program

STACK_FILE = Path(__file__).resolve().parents[2] / "Pulumi.localstack.yaml"
# The endpoint a resource type's API calls go to, where it is not the type's module.
_SERVICE_OF_TYPE = {"aws:cloudwatch/logGroup:LogGroup": "logs"}
_INVOKED = {"sts"}  # aws.get_caller_identity


def services_the_program_uses() -> set[str]:
    """The AWS services the program's resources for this stack file are created through."""
    run = record_program(stack_file_config(STACK_FILE), stack="localstack")
    return _INVOKED | {_SERVICE_OF_TYPE.get(d.type, d.type.split(":")[1].split("/")[0])
                       for d in run.declared if d.type.startswith("aws:")}


def provider_endpoint_keys() -> set[str]:
    """The keys pulumi-aws takes under aws:endpoints, read off its Endpoints output type."""
    keys = set()
    for name, value in vars(aws_config.Endpoints).items():
        if isinstance(value, property):
            keys.add(getattr(value.fget, "_pulumi_name", None) or name)
    return keys


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(STACK_FILE.read_text())["config"]


def test_the_sdk_lists_endpoint_keys_as_the_provider_spells_them():
    keys = provider_endpoint_keys()
    assert {"lambda", "apigateway", "sts"} <= keys and "lambda_" not in keys


def test_every_endpoint_key_is_known_to_the_installed_provider(config: dict):
    (endpoints,) = config["aws:endpoints"]
    unknown = set(endpoints) - provider_endpoint_keys()
    assert not unknown, f"Pulumi.localstack.yaml aws:endpoints: unknown keys {sorted(unknown)}"


def test_endpoints_are_exactly_the_services_the_program_uses(config: dict):
    (endpoints,) = config["aws:endpoints"]
    assert set(endpoints) == services_the_program_uses()
    assert set(endpoints.values()) == {"http://localhost:4566"}


@pytest.mark.parametrize("flag", ["aws:skipCredentialsValidation", "aws:skipRequestingAccountId",
                                  "aws:skipMetadataApiCheck", "aws:s3UsePathStyle"])
def test_the_provider_does_not_look_for_a_real_account(config: dict, flag: str):
    assert config[flag] is True, flag


def test_the_stack_settings_parse_for_localstack():
    settings = parse_settings("localstack", stack_file_config(STACK_FILE))
    assert settings.oidc_issuer.startswith("https://")  # LocalStack refuses http providers
    assert settings.sts_endpoint == "http://localhost:4566"
    assert not settings.site_cdn
