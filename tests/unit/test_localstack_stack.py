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

STACK_FILE = Path(__file__).resolve().parents[2] / "Pulumi.localstack.yaml"
# What the program's resources and invokes call (components/*.py): nothing more, nothing less.
SERVICES = {"apigateway", "cloudwatch", "dynamodb", "iam", "lambda", "logs", "s3", "sts"}


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
    assert set(endpoints) == SERVICES
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
