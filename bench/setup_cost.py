"""Item 1: what a newcomer's first `make` pays for the project venv.

A fresh venv in a temp folder, built as the Makefile builds .venv: `python -m venv`, pip
installs uv (its pin), then `uv pip install -r requirements-dev.txt -c constraints.txt`,
with uv's cache cold (a new, empty cache folder: every wheel downloaded) and then warm (the
same folder, now filled by the cold install). Cold and warm run once each: the cold one
downloads about 100 MB, and the budget of the whole `make bench` is 5 minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Json, tree_bytes
from devstack import paths

# A cache this small means uv found the wheels elsewhere: a warm install would only repeat
# the cold one, so it is skipped and reported as such.
MIN_USEFUL_CACHE_BYTES = 1 * 2**20


def _uv_pin() -> str:
    lines = (paths.REPO / "requirements-dev.txt").read_text().splitlines()
    return next(line.strip() for line in lines if line.startswith("uv=="))


def _install(venv: Path, cache: Path) -> Json:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {**_clean_env(), "UV_CACHE_DIR": str(cache)}
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    _uv_pin()], cwd=paths.REPO, env=env, check=True, capture_output=True)
    created = time.perf_counter()
    result = subprocess.run(
        [str(venv / "bin" / "uv"), "pip", "install", "--quiet", "--compile-bytecode",
         "--python", python,
         "-r", "requirements-dev.txt", "-c", "constraints.txt"],
        cwd=paths.REPO, env=env, capture_output=True, text=True)
    finished = time.perf_counter()
    if result.returncode != 0:
        return {"error": (result.stderr or result.stdout)[-2000:]}
    return {"seconds": finished - started, "venv_seconds": created - started,
            "uv_seconds": finished - created, "venv_bytes": tree_bytes(venv),
            "cache_bytes": tree_bytes(cache)}


def _clean_env() -> dict[str, str]:
    # The bench runs from .venv: its VIRTUAL_ENV must not leak into the new venv's pip.
    return {k: v for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "UV_CACHE_DIR", "UV_NO_CACHE", "PYTHONPATH")}


def measure() -> Json:
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as scratch:
        root = Path(scratch)
        cache = root / "uv-cache"
        cache.mkdir()
        cold = _install(root / "cold", cache)
        shutil.rmtree(root / "cold", ignore_errors=True)
        if "error" in cold:
            return {"cold": cold, "warm": {"skipped": "the cold install failed"}}
        if cold["cache_bytes"] < MIN_USEFUL_CACHE_BYTES:
            warm: Json = {"skipped": f"uv cached {cold['cache_bytes'] / 2**20:.1f} MB, so a "
                          "warm install would be the cold one again"}
        else:
            warm = _install(root / "warm", cache)
        return {"cold": cold, "warm": warm}
