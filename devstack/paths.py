"""Where the dev stack keeps its files. One module so every part agrees on the layout."""

from __future__ import annotations

from pathlib import Path

# The repository root: devstack/ sits directly under it.
REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "devstack"

# Everything the stack writes at run time lives under .devstack/ (git-ignored), so
# `rm -rf .devstack` is a full reset.
STATE = REPO / ".devstack"
LOGS = STATE / "logs"
PIDS = STATE / "pids"
TMP = STATE / "tmp"

EMULATOR_VENV = STATE / "emulator-venv"
PROCESSES = PACKAGE / "processes"
EMULATOR_REQUIREMENTS = PROCESSES / "requirements-emulator.txt"
LOCALSTACK_VENV = STATE / "localstack-venv"
LOCALSTACK_REQUIREMENTS = PROCESSES / "requirements-localstack.txt"
LOCALSTACK_EXT = PROCESSES / "localstack_ext"

IDP_SOURCE = PACKAGE / "idp"
IDP_STATE = STATE / "idp"
IDP_PRIVATE_JWKS = IDP_STATE / "jwks-private.json"
USERS_FILE = IDP_SOURCE / "users.json"


def log_file(name: str) -> Path:
    return LOGS / f"{name}.log"


def pid_file(name: str) -> Path:
    return PIDS / f"{name}.json"
