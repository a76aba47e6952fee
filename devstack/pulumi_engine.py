"""The real Pulumi engine in place of the local apply, where the Pulumi CLI exists.

`python -m devstack up --engine pulumi` deploys the `localstack` stacks with the Automation API,
as on AWS: the account baseline first (account/Pulumi.localstack.yaml: the issuer's OIDC
provider), then the app (Pulumi.localstack.yaml), which looks that provider up. The CLI runs
each program with the real pulumi-aws provider against the emulator, keeping the state in a
file backend under .devstack/pulumi (a fresh emulator per `up`, so the state starts empty each
time). The local apply stays the default: the CLI and provider plugins cannot be downloaded on
every machine.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.naming import ACCOUNT_PROJECT, PROJECT
from devstack import paths
from devstack.errors import DevstackError

STACK = "localstack"
BACKEND = paths.STATE / "pulumi"
BASELINE_DIR = paths.REPO / "account"


def unavailable() -> str | None:
    """Why the real engine cannot run here, found by looking for the CLI; None if it can."""
    if shutil.which("pulumi") is None:
        return ("the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/); "
                "the local apply runs the same program without it")
    return None


def up(endpoint_url: str, overrides: Mapping[str, str],
       baseline_overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`pulumi up` of the localstack baseline, then of the localstack app stack, against
    `endpoint_url`; returns the app stack's outputs.

    overrides: `pets:` settings the harness decides at run time (issuer, STS endpoint);
    baseline_overrides: `pets-account:` settings (the issuer and client id to trust).
    stack.up has checked unavailable() before it started anything.
    """
    shutil.rmtree(BACKEND, ignore_errors=True)  # the emulator was started empty
    BACKEND.mkdir(parents=True)
    _up(BASELINE_DIR, ACCOUNT_PROJECT, endpoint_url, baseline_overrides)
    return _up(paths.REPO, PROJECT, endpoint_url, overrides)


def _up(work_dir: Path, namespace: str, endpoint_url: str,
        overrides: Mapping[str, Any]) -> dict[str, Any]:
    from pulumi import automation as auto

    options = auto.LocalWorkspaceOptions(
        work_dir=str(work_dir),
        # A throwaway local state: no passphrase protects anything worth a secret.
        env_vars={"PULUMI_BACKEND_URL": BACKEND.as_uri(), "PULUMI_CONFIG_PASSPHRASE": ""},
    )
    try:
        stack = auto.create_or_select_stack(stack_name=STACK, work_dir=str(work_dir),
                                            opts=options)
        for key, value in overrides.items():
            # Objects (the baseline's issuers) as JSON, as `pulumi config set --path` would.
            text = value if isinstance(value, str) else json.dumps(value)
            stack.set_config(f"{namespace}:{key}", auto.ConfigValue(text))
        # The stack file names the services; the emulator's port is only known now.
        for service in endpoint_services(work_dir):
            stack.set_config(f"aws:endpoints[0].{service}", auto.ConfigValue(endpoint_url),
                             path=True)
        result = stack.up(on_output=print)
    except auto.errors.CommandError as err:
        raise DevstackError(f"pulumi up -s {STACK} in {work_dir} failed: {err}") from None
    return {key: output.value for key, output in result.outputs.items()}


def endpoint_services(work_dir: Path = paths.REPO) -> list[str]:
    """The services a project's Pulumi.localstack.yaml points at the emulator, in its order."""
    config = yaml.safe_load((work_dir / f"Pulumi.{STACK}.yaml").read_text())["config"]
    (endpoints,) = config["aws:endpoints"]
    return list(endpoints)
