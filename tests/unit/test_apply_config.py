"""The local apply's stack config: a Pulumi.<stack>.yaml read as the CLI reads it, with the
harness's overrides over it; what it cannot use (secrets, missing files) named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.apply import load_config
from devstack.apply.errors import ApplyError
from devstack.paths import REPO


def _project(folder: Path, name: str = "pets") -> Path:
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    return folder


def test_stack_config_reads_the_stack_file_and_overrides(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "Pulumi.local.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  pets:oidcIssuer: http://127.0.0.1:9443\n"
        "  pets:logRetentionDays: 7\n  pets:enabled: true\n"
        "  pets:throttle:\n    rateLimit: 20\n    burstLimit: 40\n  stage: local\n"
    )
    config = load_config(tmp_path, "local", {"oidcIssuer": "http://127.0.0.1:9555"})
    assert config == {
        "aws:region": "us-east-1",
        "pets:oidcIssuer": "http://127.0.0.1:9555",  # the override wins
        "pets:logRetentionDays": "7",
        "pets:enabled": "true",
        # Objects reach the program as JSON text, as the CLI passes them.
        "pets:throttle": json.dumps({"rateLimit": 20, "burstLimit": 40}),
        "pets:stage": "local",
    }


def test_stack_config_keys_without_a_namespace_are_the_folders_project(tmp_path: Path) -> None:
    """The account baseline (account/, project pets-account) reads `pets-account:` keys."""
    _project(tmp_path, "pets-account")
    (tmp_path / "Pulumi.local.yaml").write_text("config:\n  apiGatewayLogging: true\n")
    config = load_config(tmp_path, "local", {"issuers": {"http://127.0.0.1:1": {}}})
    assert config == {"pets-account:apiGatewayLogging": "true",
                      "pets-account:issuers": json.dumps({"http://127.0.0.1:1": {}})}
    assert load_config(REPO / "account", "local")["pets-account:apiGatewayLogging"] == "true"


def test_stack_config_needs_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.local.yaml").write_text("config: {}\n")
    with pytest.raises(ApplyError, match=r"Pulumi\.yaml not found"):
        load_config(tmp_path, "local")


def test_stack_config_refuses_secrets(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "Pulumi.local.yaml").write_text("config:\n  pets:key:\n    secure: AAABAxyz\n")
    with pytest.raises(ApplyError, match=r"pets:key is a secret .*plain value"):
        load_config(tmp_path, "local")


def test_stack_config_needs_the_stack_file(tmp_path: Path) -> None:
    _project(tmp_path)
    with pytest.raises(ApplyError, match=r"Pulumi\.local\.yaml not found"):
        load_config(tmp_path, "local")
