"""The LocalStack leg (`make test-localstack`): the program applied to LocalStack.

Collected only when PETS_TARGET=localstack (the leg sets it) or AWS_ENDPOINT_URL names
the user's own LocalStack: against MiniStack these checks are covered by tests/devstack.
The stack is the session's `running_stack` (tests/conftest.py), started on LocalStack.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.support.deployed import Deployed

if os.environ.get("PETS_TARGET") != "localstack" and not os.environ.get("AWS_ENDPOINT_URL"):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def deployed(running_stack: Any) -> Deployed:
    return Deployed(running_stack)
