"""docs/configuration.md is what the settings tables say, as `make docs` writes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from components.account_config import BASELINE
from components.config import APP
from policy import config_doc
from tests.support.generated import assert_up_to_date

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"


def test_configuration_md_is_up_to_date():
    assert_up_to_date(DOC, config_doc.render(), command="make docs",
                      source="the settings tables (components/config.py, "
                             "components/account_config.py)")


def test_make_docs_writes_what_the_test_expects():
    result = subprocess.run([sys.executable, "-m", "policy.config_doc"], cwd=ROOT,
                            capture_output=True, check=True)
    assert result.stdout.decode("utf-8") == config_doc.render()


@pytest.mark.parametrize("project", [APP, BASELINE], ids=lambda p: p.namespace)
def test_every_setting_rule_and_moved_key_is_documented(project):
    text = config_doc.render()
    rows = {line.split(" | ")[0].strip("| `") for line in text.splitlines()
            if line.startswith(f"| `{project.namespace}:")}
    assert rows == {project.qualify(s.key) for s in project.settings}
    for rule in project.rules:
        assert rule.doc in text
    for key in project.moved:
        assert f"`{project.qualify(key)}`: moved to" in text


def test_a_row_says_its_default_as_a_stack_file_writes_it():
    text = config_doc.render()
    assert "| `pets:stage` | letters, digits or _ (1-128) | `v1` |" in text
    assert '| `{"rateLimit": 100, "burstLimit": 200}` |' in text
    assert "| `pets:alarmEmail` | e-mail address | none |" in text
    assert "| `pets:userClasses` |" in text and "| access.py's membership |" in text
