"""Processes a test starts for itself, under record names private to its pytest worker and on
free ports, so they never touch a stack `make up` started and two workers never collide."""

from __future__ import annotations

import os
from typing import Any

import pytest

from devstack.clients import EXTERNAL_ENDPOINT_ENV, Target
from devstack.processes import emulator, procs

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def private_name(kind: str) -> str:
    """A record name private to this pytest worker."""
    return f"test-{kind}-{WORKER}"


def start_emulator(kind: str) -> Target:
    """A fresh MiniStack of our own under private_name(kind) (a leftover of an interrupted
    run is stopped first), whatever AWS_ENDPOINT_URL names."""
    name = private_name(kind)
    emulator.stop(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
        return emulator.start(procs.free_port(), name=name)


def stop_emulator(kind: str) -> None:
    emulator.stop(private_name(kind))


def service_trust(service: str) -> dict[str, Any]:
    """A role trust policy letting an AWS service (lambda.amazonaws.com, ...) assume it."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
