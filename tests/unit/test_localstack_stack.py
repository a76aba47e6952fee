"""Pulumi.localstack.yaml and account/Pulumi.localstack.yaml (the account baseline, deployed
first): the real engine against LocalStack, checked without the CLI.

An endpoint key the installed pulumi-aws does not know fails the provider with an opaque
"Invalid or unknown key" at `pulumi up`; here it fails by name.
"""

from __future__ import annotations

from pathlib import Path

import pulumi_aws.config.outputs as aws_config
import pytest
import yaml

from components import account_config
from components.config import parse_settings
from harness_core.recorder import ProgramRun, record_baseline
from harness_core.stack_files import stack_file_config
from tests.support import programs

ROOT = Path(__file__).resolve().parents[2]
STACK_FILE = ROOT / "Pulumi.localstack.yaml"
BASELINE_FILE = ROOT / "account" / "Pulumi.localstack.yaml"
# The endpoint a resource type's API calls go to, where it is not the type's module.
_SERVICE_OF_TYPE = {"aws:cloudwatch/logGroup:LogGroup": "logs"}
# aws.get_caller_identity (sts), aws.iam.get_open_id_connect_provider (iam)
_INVOKED = {STACK_FILE: {"sts", "iam"}, BASELINE_FILE: set()}


def _run(stack_file: Path) -> ProgramRun:
    if stack_file == BASELINE_FILE:
        return record_baseline(stack_file_config(stack_file, account_config.NAMESPACE),
                               stack="localstack")
    return programs.stack_file("localstack")


def services_the_program_uses(stack_file: Path = STACK_FILE) -> set[str]:
    """The AWS services the program's resources for this stack file are created through."""
    return _INVOKED[stack_file] | {_SERVICE_OF_TYPE.get(d.type, d.type.split(":")[1].split("/")[0])
                                   for d in _run(stack_file).declared if d.type.startswith("aws:")}


def provider_endpoint_keys() -> set[str]:
    """The keys pulumi-aws takes under aws:endpoints, read off its Endpoints output type."""
    keys = set()
    for name, value in vars(aws_config.Endpoints).items():
        if isinstance(value, property):
            keys.add(getattr(value.fget, "_pulumi_name", None) or name)
    return keys


@pytest.fixture(scope="module", params=[STACK_FILE, BASELINE_FILE],
                ids=["app", "account-baseline"])
def stack_file(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.fixture(scope="module")
def config(stack_file: Path) -> dict:
    return yaml.safe_load(stack_file.read_text())["config"]


def test_the_sdk_lists_endpoint_keys_as_the_provider_spells_them():
    keys = provider_endpoint_keys()
    assert {"lambda", "apigateway", "sts"} <= keys and "lambda_" not in keys


def test_every_endpoint_key_is_known_to_the_installed_provider(config: dict, stack_file: Path):
    (endpoints,) = config["aws:endpoints"]
    unknown = set(endpoints) - provider_endpoint_keys()
    assert not unknown, f"{stack_file} aws:endpoints: unknown keys {sorted(unknown)}"


def test_endpoints_are_exactly_the_services_the_program_uses(config: dict, stack_file: Path):
    (endpoints,) = config["aws:endpoints"]
    assert set(endpoints) == services_the_program_uses(stack_file)
    assert set(endpoints.values()) == {"http://localhost:4566"}


@pytest.mark.parametrize("flag", ["aws:skipCredentialsValidation", "aws:skipRequestingAccountId",
                                  "aws:skipMetadataApiCheck"])
def test_the_provider_does_not_look_for_a_real_account(config: dict, flag: str):
    assert config[flag] is True, flag


def test_the_app_stack_addresses_s3_by_path():
    assert yaml.safe_load(STACK_FILE.read_text())["config"]["aws:s3UsePathStyle"] is True


def test_the_baseline_trusts_the_app_stacks_issuer_and_client():
    app = parse_settings("localstack", stack_file_config(STACK_FILE))
    baseline = account_config.parse_account_settings(
        "localstack", stack_file_config(BASELINE_FILE, account_config.NAMESPACE))
    assert [(i.url, i.client_ids) for i in baseline.issuers] == [
        (app.oidc_issuer, (app.oidc_client_id,))]


def test_the_stack_settings_parse_for_localstack():
    settings = parse_settings("localstack", stack_file_config(STACK_FILE))
    assert settings.oidc_issuer.startswith("https://")  # LocalStack refuses http providers
    assert settings.sts_endpoint == "http://localhost:4566"
    assert not settings.site_cdn
