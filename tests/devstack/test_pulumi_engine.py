"""`python -m devstack up --engine pulumi`: the real engine where the Pulumi CLI exists.

Where it does not (as on the sandbox machines), the harness says so by looking for it, before
it starts or stops anything, and the deploying test skips with that reason.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import pulumi_engine, stack
from devstack.errors import DevstackError
from devstack.processes import procs
from tests.support.private import private_name

ROOT = stack.paths.REPO


def test_the_engine_finds_the_cli_by_looking(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    reason = pulumi_engine.unavailable()
    assert reason is not None and "Pulumi CLI is not on PATH" in reason


def test_without_the_cli_up_refuses_before_touching_anything(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pulumi_engine, "unavailable", lambda: "no CLI (test)")
    monkeypatch.setattr(stack, "down", lambda **_: pytest.fail("up stopped something first"))
    with pytest.raises(DevstackError, match=r"--engine pulumi: no CLI \(test\)"):
        stack.up(deployer="pulumi")


def test_the_cli_says_what_to_do_without_a_traceback():
    if pulumi_engine.unavailable() is None:
        pytest.skip("the Pulumi CLI is installed here: `up --engine pulumi` would deploy")
    result = subprocess.run([sys.executable, "-m", "devstack", "up", "--engine", "pulumi"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2  # a harness failure: the one exit code main() gives
    assert "Pulumi CLI is not on PATH" in result.stderr and "Traceback" not in result.stderr


def test_the_endpoints_it_overrides_are_the_stack_files():
    assert pulumi_engine.endpoint_services() == ["apigateway", "cloudwatch", "dynamodb", "iam",
                                                 "lambda", "logs", "s3", "sns", "sts"]
    assert pulumi_engine.endpoint_services(pulumi_engine.BASELINE_DIR) == ["apigateway", "iam"]


def test_the_baseline_goes_up_before_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """As on AWS: the app looks up the OIDC provider the baseline's `up` creates."""
    calls: list[tuple[str, str, dict]] = []
    monkeypatch.setattr(pulumi_engine, "BACKEND", tmp_path / "state")
    monkeypatch.setattr(pulumi_engine, "_up", lambda work_dir, namespace, _, overrides: (
        calls.append((work_dir.name, namespace, dict(overrides))) or {"from": namespace}))
    issuers = {"issuers": {"https://127.0.0.1:1": {"clientIds": ["pets-local"]}}}
    outputs = pulumi_engine.up("http://127.0.0.1:2", {"oidcIssuer": "https://127.0.0.1:1"},
                               issuers)
    assert calls == [("account", "pets-account", issuers),
                     (ROOT.name, "pets", {"oidcIssuer": "https://127.0.0.1:1"})]
    assert outputs == {"from": "pets"}  # the app stack's outputs


@pytest.fixture
def deployed() -> Iterator[stack.Stack]:
    reason = pulumi_engine.unavailable()
    if reason:
        pytest.skip(f"probed: {reason}")
    names: dict[str, Any] = {"emulator_name": private_name("pulumi-emulator"),
                             "idp_name": private_name("pulumi-idp")}
    try:
        yield stack.up(**names, idp_port=procs.free_port(), outputs_file=None,
                       deployer="pulumi")
    finally:
        stack.down(**names, outputs_file=None)


def test_the_real_engine_deploys_the_program(deployed: stack.Stack):
    assert deployed.apply is None  # the CLI deployed it, not the local apply
    assert set(deployed.outputs["roles"]) == {"admin", "buyer"}
    assert deployed.outputs["oidcClient"]["redirectUris"] == [deployed.outputs["siteUrl"]]
