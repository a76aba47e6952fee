"""What the LocalStack leg reads back: the apply's record of what the program declared, and
root clients to read the target with (tests/localstack; the fixture is its conftest's)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

import access
from devstack import apply, clients, paths
from devstack.apply.results import ApplyResult


class Deployed:
    """The apply's record of what the program declared, and root clients to read it back."""

    def __init__(self, running_stack: Any) -> None:
        if running_stack.apply is None:
            pytest.skip("a reused stack (PETS_USE_RUNNING_STACK=1) has no apply record")
        self.result: ApplyResult = running_stack.apply
        self.baseline: ApplyResult = running_stack.baseline  # the account baseline's apply
        self.outputs: dict[str, Any] = dict(running_stack.outputs)
        self.target = running_stack.target
        self.idp = running_stack.idp

    def client(self, service: str) -> Any:
        # Reading back what was deployed: the deploy key, never for a call meant to be denied.
        return clients.client(service, target=self.target)

    @contextlib.contextmanager
    def buyer_invokes_everything(self) -> Iterator[None]:
        """The deployed buyer role given one more inline policy (Invoke on `*`), removed after:
        a widening the checks of what LocalStack holds must see (the deploy key: setup only)."""
        iam = self.client("iam")
        role = self.outputs["roles"][access.BUYER.name].rsplit("/", 1)[-1]
        widened = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}
        iam.put_role_policy(RoleName=role, PolicyName="widened-by-test",
                            PolicyDocument=json.dumps(widened))
        try:
            yield
        finally:
            iam.delete_role_policy(RoleName=role, PolicyName="widened-by-test")

    def config(self) -> dict[str, str]:
        """The stack config as applied (stack.up's overrides included)."""
        return apply.load_config(paths.REPO, "local", {
            "oidcIssuer": self.outputs["oidcIssuer"], "stsEndpoint": self.outputs["endpoint"]})
