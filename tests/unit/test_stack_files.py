"""A stack file read as the Pulumi CLI hands its config to the program
(components/stack_files.py): the same strings the engine would pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.config import ConfigError
from components.stack_files import stack_file_config, stack_names


def test_values_become_the_clis_text(tmp_path: Path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  aws:region: eu-west-1\n  stage: v2\n  waf: true\n"
                    "  wafRateLimit: 500\n  throttle:\n    rateLimit: 5\n")
    assert stack_file_config(path) == {
        "aws:region": "eu-west-1", "pets:stage": "v2", "pets:waf": "true",
        "pets:wafRateLimit": "500", "pets:throttle": json.dumps({"rateLimit": 5})}
    assert stack_file_config(path, "pets-account")["pets-account:stage"] == "v2"


def test_a_secret_is_refused_by_its_key(tmp_path: Path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  pets:alarmEmail:\n    secure: AAABAxyz\n")
    with pytest.raises(ConfigError, match=r"alarmEmail is a secret \(`secure:`\)"):
        stack_file_config(path)


def test_stack_names_are_the_stack_files_sorted(tmp_path: Path):
    for stack in ("prod", "dev", "local"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.yaml").write_text("name: pets\n")
    assert stack_names(tmp_path) == ["dev", "local", "prod"]
