"""The real Pulumi engine in place of the local apply, where the Pulumi CLI exists.

`python -m devstack up --engine pulumi` deploys the `localstack` stack (Pulumi.localstack.yaml)
with the Automation API: the CLI runs the program with the real pulumi-aws provider against the
emulator, keeping its state in a file backend under .devstack/pulumi (a fresh emulator per `up`,
so the state starts empty each time). The local apply stays the default: the CLI and provider
plugins cannot be downloaded on every machine.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import Any

import yaml

from devstack import paths
from devstack.errors import DevstackError

STACK = "localstack"
BACKEND = paths.STATE / "pulumi"


def unavailable() -> str | None:
    """Why the real engine cannot run here, found by looking for the CLI; None if it can."""
    if shutil.which("pulumi") is None:
        return ("the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/); "
                "the local apply runs the same program without it")
    return None


def up(endpoint_url: str, overrides: Mapping[str, str]) -> dict[str, Any]:
    """`pulumi up` of the localstack stack against `endpoint_url`; returns the stack outputs.

    overrides: `pets:` settings the harness decides at run time (issuer, STS endpoint).
    stack.up has checked unavailable() before it started anything.
    """
    from pulumi import automation as auto

    shutil.rmtree(BACKEND, ignore_errors=True)  # the emulator was started empty
    BACKEND.mkdir(parents=True)
    options = auto.LocalWorkspaceOptions(
        work_dir=str(paths.REPO),
        # A throwaway local state: no passphrase protects anything worth a secret.
        env_vars={"PULUMI_BACKEND_URL": BACKEND.as_uri(), "PULUMI_CONFIG_PASSPHRASE": ""},
    )
    try:
        stack = auto.create_or_select_stack(stack_name=STACK, work_dir=str(paths.REPO),
                                            opts=options)
        for key, value in overrides.items():
            stack.set_config(f"pets:{key}", auto.ConfigValue(value))
        # The stack file names the services; the emulator's port is only known now.
        for service in endpoint_services():
            stack.set_config(f"aws:endpoints[0].{service}", auto.ConfigValue(endpoint_url),
                             path=True)
        result = stack.up(on_output=print)
    except auto.errors.CommandError as err:
        raise DevstackError(f"pulumi up -s {STACK} failed: {err}") from None
    return {key: output.value for key, output in result.outputs.items()}


def endpoint_services() -> list[str]:
    """The services Pulumi.localstack.yaml points at the emulator, in its order."""
    config = yaml.safe_load((paths.REPO / f"Pulumi.{STACK}.yaml").read_text())["config"]
    (endpoints,) = config["aws:endpoints"]
    return list(endpoints)
