"""What `devstack up` loads while the emulator starts (harness_core.mock_runtime.preload): the
program's imports, and the provider service modules the last apply used (remembered in
.devstack/preload-modules.json), and nothing a stack without them would not load.

Provider SDKs load a service module on first use, once per process, so each case runs in a
fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack import stack

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from harness_core import mock_runtime
from pulumi import _utils
import pulumi_aws

def lazy(name):
    return isinstance(sys.modules.get(name), _utils._LazyModule)

mock_runtime.preload(sys.argv[1], ["pulumi_aws.sns", "pulumi_aws.no_such_service"])
before = mock_runtime.loaded_provider_modules()
pulumi_aws.dynamodb.Table  # a run's first use of a service
print(json.dumps({"wafv2 lazy": lazy("pulumi_aws.wafv2"), "sns lazy": lazy("pulumi_aws.sns"),
                  "before": before, "after": mock_runtime.loaded_provider_modules()}))
"""


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(ROOT)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_named_service_modules_are_loaded_and_a_missing_one_is_left_to_the_run(probe):
    assert probe["sns lazy"] is False
    assert "pulumi_aws.sns" in probe["before"]


def test_a_service_only_some_stacks_use_is_not_loaded(probe):
    """components/waf.py names aws.wafv2 at import only for the type checker."""
    assert probe["wafv2 lazy"] is True


def test_the_loaded_modules_are_the_services_loaded_on_first_use(probe):
    assert set(probe["after"]) - set(probe["before"]) == {"pulumi_aws.dynamodb"}
    # Modules the SDK imports eagerly (get_region) are not services loaded on use.
    assert all(name.count(".") == 1 for name in probe["after"])
    assert "pulumi_aws.get_region" not in probe["after"]


def test_the_remembered_modules_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(stack, "PRELOAD_FILE", tmp_path / "preload-modules.json")
    assert stack._remembered_modules() == []  # the first `up`
    stack._remember_modules(["pulumi_aws.iam", "pulumi_aws.s3"])
    assert stack._remembered_modules() == ["pulumi_aws.iam", "pulumi_aws.s3"]
    assert [p.name for p in tmp_path.iterdir()] == ["preload-modules.json"]


@pytest.mark.parametrize(("text", "used"), [
    ("", []), ("{", []), ('{"pulumi_aws.s3": 1}', []), ('["pulumi_aws.s3", 3]', ["pulumi_aws.s3"]),
])
def test_only_names_from_a_list_are_used(tmp_path, monkeypatch, text, used):
    monkeypatch.setattr(stack, "PRELOAD_FILE", tmp_path / "preload-modules.json")
    stack.PRELOAD_FILE.write_text(text)
    assert stack._remembered_modules() == used
