"""deploy/cli.py end to end: a fake `pulumi` first on PATH records every command it is given
and answers `config --json` and `stack export` from files; the account is a FakeAccount
(botocore's Stubber). Asserts the exact commands, in order, and that nothing runs after a
failed preflight."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, parse_settings
from deploy import cli
from deploy.preflight import AccountClients, account_clients
from deploy.state import modelled_methods
from tests.support.deploy_fakes import (
    NOW,
    FakeAccount,
    cli_config_json,
    example_config,
    export_serving,
    passing_account,
    review_config,
    urn,
)

FAKE_PULUMI = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
answers = {{("config", "--json"): "FAKE_PULUMI_CONFIG", ("stack", "export"): "FAKE_PULUMI_EXPORT"}}
answer = answers.get(tuple(args[:2]))
if answer is not None:
    path = os.environ.get(answer, "")
    if not os.path.exists(path):
        sys.exit("error: no stack named 'review' found")
    sys.stdout.write(open(path).read())
elif args[0] in ("preview", "up"):
    print("fake pulumi", args[0])
    sys.exit(int(os.environ.get("FAKE_PULUMI_" + args[0].upper() + "_EXIT", "0")))
else:
    sys.exit("fake pulumi: unexpected command " + " ".join(args))
"""
STACK = "review"
CONFIG = ["config", "--json", "--show-secrets", "--stack", STACK]
EXPORT = ["stack", "export", "--stack", STACK]
BASE = ["--stack", STACK, "--policy-pack", "policy"]
DEPLOYMENT = urn(STACK, "aws:apigateway/deployment:Deployment", "pets-review-deployment")


@dataclass
class FakePulumi:
    folder: Path
    monkeypatch: pytest.MonkeyPatch

    def config(self, raw: dict[str, str]) -> None:
        path = self.folder / "config.json"
        path.write_text(cli_config_json(raw))
        self.monkeypatch.setenv("FAKE_PULUMI_CONFIG", str(path))

    def export(self, export: dict[str, Any]) -> None:
        path = self.folder / "export.json"
        path.write_text(json.dumps(export))
        self.monkeypatch.setenv("FAKE_PULUMI_EXPORT", str(path))

    def commands(self) -> list[list[str]]:
        log = self.folder / "log.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(FAKE_PULUMI.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(tmp_path / "log.jsonl"))
    fake = FakePulumi(tmp_path, monkeypatch)
    fake.export(export_serving(sorted(modelled_methods()), stack=STACK))
    return fake


class Accounts:
    """The driver's account factory: hands out one FakeAccount, remembers what it was asked."""

    def __init__(self, account: FakeAccount) -> None:
        self.account = account
        self.asked: list[tuple[str | None, str | None]] = []

    def __call__(self, region: str | None, profile: str | None) -> AccountClients:
        self.asked.append((region, profile))
        return self.account.clients


def _deploy(argv: list[str], account: FakeAccount) -> tuple[int, Accounts]:
    accounts = Accounts(account)
    return cli.main(argv, account=accounts, now=lambda: NOW), accounts


def _refused_before_anything(pulumi: FakePulumi, account: FakeAccount, capsys) -> str:
    """`up` exits 1 having run nothing but `pulumi config`; what it wrote to stderr."""
    code, _ = _deploy(["up", "--stack", STACK, "--yes"], account)
    assert code == 1
    assert pulumi.commands() == [CONFIG]
    return capsys.readouterr().err


def _passing(raw: dict[str, str]) -> FakeAccount:
    return passing_account(parse_settings(STACK, raw))


def test_preview_checks_then_previews_with_the_pack(pulumi: FakePulumi, capsys) -> None:
    raw = {**review_config(), "aws:profile": "shop-admin"}
    pulumi.config(raw)
    account = _passing(raw)
    code, accounts = _deploy(["preview", "--stack", STACK, "--diff"], account)
    assert code == 0
    assert pulumi.commands() == [CONFIG, EXPORT, ["preview", *BASE, "--diff"]]
    assert accounts.asked == [("eu-west-1", "shop-admin")]
    account.verify()
    assert "preflight of stack review in eu-west-1: passed" in capsys.readouterr().err


def test_up_runs_once_when_no_route_was_removed(pulumi: FakePulumi) -> None:
    pulumi.config(review_config())
    code, _ = _deploy(["up", "--stack", STACK, "--", "--yes"], _passing(review_config()))
    assert code == 0
    assert pulumi.commands() == [CONFIG, EXPORT, ["up", *BASE, "--yes"]]


def test_a_removed_route_is_taken_out_of_the_stage_by_a_second_up(
        pulumi: FakePulumi, capsys) -> None:
    pulumi.config(review_config())
    pulumi.export(export_serving(sorted(modelled_methods() | {"GET /pets/legacy"}), STACK))
    code, _ = _deploy(["up", "--stack", STACK, "--yes"], _passing(review_config()))
    assert code == 0
    assert pulumi.commands() == [CONFIG, EXPORT, ["up", *BASE, "--yes"],
                                 ["up", *BASE, "--replace", DEPLOYMENT, "--yes"]]
    err = capsys.readouterr().err
    assert "the stage still serves GET /pets/legacy" in err and "pulumi-aws#3289" in err


def test_no_second_up_after_a_failed_one(pulumi: FakePulumi) -> None:
    pulumi.config(review_config())
    pulumi.export(export_serving(sorted(modelled_methods() | {"GET /pets/legacy"}), STACK))
    pulumi.monkeypatch.setenv("FAKE_PULUMI_UP_EXIT", "3")
    code, _ = _deploy(["up", "--stack", STACK], _passing(review_config()))
    assert code == 3
    assert pulumi.commands() == [CONFIG, EXPORT, ["up", *BASE]]


def test_a_preview_only_tells_about_removed_routes(pulumi: FakePulumi, capsys) -> None:
    pulumi.config(review_config())
    pulumi.export(export_serving(sorted(modelled_methods() | {"GET /pets/legacy"}), STACK))
    code, _ = _deploy(["preview", "--stack", STACK], _passing(review_config()))
    assert code == 0
    assert pulumi.commands() == [CONFIG, EXPORT, ["preview", *BASE]]
    assert "`make deploy` replaces the deployment" in capsys.readouterr().err


def test_nothing_runs_after_placeholders(pulumi: FakePulumi, capsys) -> None:
    pulumi.config(example_config("dev"))  # as checked in: issuer and client id to replace
    account = FakeAccount()  # nothing queued: the placeholders skip what reads them
    account.lambda_limits(1000, 1000)
    account.functions_reserve(STACK, {})
    account.api_gateway_account()
    err = _refused_before_anything(pulumi, account, capsys)
    assert "preflight: pets:oidcClientId: 'REPLACE_WITH_YOUR_CLIENT_ID' is a placeholder" in err
    assert "preflight: pets:oidcIssuer: 'pets-dev-example.eu.auth0.com'" in err
    assert "2 problem(s) found before anything was created" in err


def test_nothing_runs_after_an_account_problem(pulumi: FakePulumi, capsys) -> None:
    pulumi.config(review_config())
    account = FakeAccount()
    account.lambda_limits(10, 10)  # a new account
    account.functions_reserve(STACK, {})
    account.oidc_providers({})
    account.api_gateway_account(None)
    err = _refused_before_anything(pulumi, account, capsys)
    assert "preflight: pets:reservedConcurrency: the account's Lambda concurrency limit" in err
    assert "preflight: pets:oidcIssuer: this account has no IAM OIDC provider" in err
    assert "preflight: aws:region: API Gateway's account settings in eu-west-1" in err
    account.verify()


def test_a_bad_setting_fails_with_the_parsers_message(pulumi: FakePulumi, capsys) -> None:
    pulumi.config({**review_config(), "pets:stage": "v 1"})
    code, accounts = _deploy(["preview", "--stack", STACK], FakeAccount())
    assert code == 1
    assert pulumi.commands() == [CONFIG]
    assert accounts.asked == []
    assert "stack review: pets:stage: 'v 1' must be letters, digits or _" in (
        capsys.readouterr().err)


def test_an_unknown_stack_stops_at_the_config(pulumi: FakePulumi, capsys) -> None:
    code, accounts = _deploy(["preview", "--stack", STACK], FakeAccount())
    assert code == 1
    assert pulumi.commands() == [CONFIG]
    assert accounts.asked == []
    assert "no stack named 'review' found" in capsys.readouterr().err


def test_without_the_pulumi_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, accounts = _deploy(["up", "--stack", STACK], FakeAccount())
    assert code == 1 and accounts.asked == []
    assert "the Pulumi CLI is not installed: https://www.pulumi.com/docs/install/" in (
        capsys.readouterr().err)


def test_python_dash_m_deploy_runs_the_driver(pulumi: FakePulumi) -> None:
    """The module entry point, as the Makefile calls it (stopped at an unknown stack)."""
    done = subprocess.run([sys.executable, "-m", "deploy", "preview", "--stack", STACK],
                          cwd=cli.ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 1, done.stderr
    assert "no stack named 'review' found" in done.stderr
    assert pulumi.commands() == [CONFIG]


# --- the operator's clients --------------------------------------------------------------

@pytest.fixture
def no_aws_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credentials, no profiles, no region, and no instance metadata lookup."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    config = tmp_path / "aws-config"
    config.write_text("[profile shop-admin]\nregion = eu-central-1\n"
                      "aws_access_key_id = AKIAFAKE\naws_secret_access_key = fake\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


def test_the_clients_follow_the_stacks_region_and_profile(no_aws_setup: Path) -> None:
    clients = account_clients("eu-west-1", "shop-admin")
    assert clients.region == "eu-west-1"
    assert clients.lambda_.meta.region_name == "eu-west-1"
    assert clients.apigateway.meta.region_name == "eu-west-1"
    assert clients.acm.meta.region_name == "us-east-1"  # CloudFront's certificates
    assert account_clients(None, "shop-admin").region == "eu-central-1"  # the profile's


def test_a_missing_region_profile_or_credentials_names_the_key(
        no_aws_setup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"^aws:profile: no AWS profile 'nobody'"):
        account_clients("eu-west-1", "nobody")
    with pytest.raises(ConfigError, match=r"^aws:profile: no AWS credentials found"):
        account_clients("eu-west-1", None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
    with pytest.raises(ConfigError, match=r"^aws:region is not set"):
        account_clients(None, None)


def test_an_answer_that_is_not_json_stops_the_driver(pulumi: FakePulumi, capsys) -> None:
    (pulumi.folder / "config.json").write_text("warning: a newer version of Pulumi exists\n{")
    pulumi.monkeypatch.setenv("FAKE_PULUMI_CONFIG", str(pulumi.folder / "config.json"))
    code, accounts = _deploy(["up", "--stack", STACK], FakeAccount())
    assert code == 1 and accounts.asked == []
    assert pulumi.commands() == [CONFIG]
    assert "did not answer JSON" in capsys.readouterr().err
