"""Building the harness's venvs with uv (pinned in requirements-dev.txt).

uv sits beside the interpreter running devstack (.venv/bin/uv, installed by `make`). It
creates a venv and installs a fully pinned requirements file in a few seconds where
`python -m venv` + pip take about a minute, and its venvs carry no pip: an emulator's
Lambda handlers see only what the pins list.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from devstack import paths
from devstack.errors import DevstackError
from scripts import interpreter

# Part of every emulator venv's digest: a change to how venvs are built rebuilds them.
RECIPE = "uv venv; uv pip install -r <pins>, no byte code; local packages --no-deps"


def uv() -> str:
    found = interpreter.uv_executable()
    if not found:
        raise DevstackError("uv not found beside this Python or on PATH: run `make` (it "
                            "installs requirements-dev.txt, which pins uv)")
    return found


def _run(argv: Sequence[str], what: str) -> None:
    """Run an install step in the repository (uv reads its uv.toml there, whatever the
    caller's folder); a DevstackError with its output if it fails."""
    result = subprocess.run(list(argv), capture_output=True, text=True, cwd=paths.REPO)
    if result.returncode != 0:
        raise DevstackError(f"failed to {what} ({' '.join(argv)}):\n{result.stdout}{result.stderr}")


def create_venv(python: str, venv: Path) -> Path:
    """A new venv at `venv` for interpreter `python`; returns the venv's python."""
    _run([uv(), "venv", "--quiet", "--python", python, str(venv)], f"create the venv {venv}")
    return venv / "bin" / "python"


def install(venv_python: Path, *args: str, what: str) -> None:
    """`uv pip install <args>` into the venv of `venv_python`. Without byte code: the
    emulators' environment leaves PYTHONDONTWRITEBYTECODE out, so the first process that
    imports a module caches it (LocalStack imports 1,400 of its venv's 11,000 modules;
    compiling MiniStack's whole venv held `make test` up 1.4 s)."""
    _run([uv(), "pip", "install", "--quiet", "--python", str(venv_python), *args], what)
