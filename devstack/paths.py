"""Where the dev stack keeps its files. One module so every part agrees on the layout."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# The repository root: devstack/ sits directly under it.
REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "devstack"

# Everything the stack writes at run time lives under .devstack/ (git-ignored), so
# `rm -rf .devstack` is a full reset; the one exception is an emulator's scratch folder in
# memory (memory_scratch), which its stop removes and a reboot clears.
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


# A tmpfs the emulator may unpack Lambda packages into: MiniStack unpacks the whole package
# (about 750 files, 24 MB) for every new worker, and creating those files cost 0.5 s of the
# emulator's CPU per worker on this disk, 0.2 s in memory. Used only with room for a hundred
# workers' packages (the tests' races start that many), never in Docker's default 64 MB.
MEMORY = Path("/dev/shm")  # noqa: S108 (a fresh private folder in it: memory_scratch)
MEMORY_MIN_FREE_BYTES = 4 << 30


def memory_scratch(name: str) -> Path | None:
    """A new private scratch folder (mode 0700, unpredictable name) for `name` on the memory
    filesystem, or None when there is none with enough room."""
    if not MEMORY.is_dir() or not os.access(MEMORY, os.W_OK):
        return None
    if shutil.disk_usage(MEMORY).free < MEMORY_MIN_FREE_BYTES:
        return None
    return Path(tempfile.mkdtemp(prefix=f"pets-devstack-{name}-", dir=MEMORY))
