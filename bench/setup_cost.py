"""Item 1: what a newcomer's first `make` pays for the project venv.

A fresh venv in a temp folder, `pip install -r requirements-dev.txt -c constraints.txt`
as the Makefile does it, with pip's cache cold (a new, empty cache folder) and then warm
(the same folder, now filled by the cold install). Each install takes tens of seconds, so
they run once each, not five times: the budget of the whole `make bench` is 5 minutes.
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

# pip caches what it downloads; wheels it finds in a local folder (find-links, file://
# indexes) it uses in place. Under this the cache is as good as empty: a warm install
# would then only repeat the cold one, so it is skipped and reported as such.
MIN_USEFUL_CACHE_BYTES = 1 * 2**20


def _install(venv: Path, cache: Path) -> Json:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    created = time.perf_counter()
    env = {**_clean_env(), "PIP_CACHE_DIR": str(cache)}
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "-r", "requirements-dev.txt", "-c", "constraints.txt"],
        cwd=paths.REPO, env=env, capture_output=True, text=True)
    finished = time.perf_counter()
    if result.returncode != 0:
        return {"error": (result.stderr or result.stdout)[-2000:]}
    return {"seconds": finished - started, "venv_seconds": created - started,
            "pip_seconds": finished - created, "venv_bytes": tree_bytes(venv),
            "cache_bytes": tree_bytes(cache)}


def _clean_env() -> dict[str, str]:
    # The bench runs from .venv: its VIRTUAL_ENV must not leak into the new venv's pip.
    return {k: v for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR", "PYTHONPATH")}


def measure() -> Json:
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as scratch:
        root = Path(scratch)
        cache = root / "pip-cache"
        cache.mkdir()
        cold = _install(root / "cold", cache)
        shutil.rmtree(root / "cold", ignore_errors=True)
        if "error" in cold:
            return {"cold": cold, "warm": {"skipped": "the cold install failed"}}
        if cold["cache_bytes"] < MIN_USEFUL_CACHE_BYTES:
            warm: Json = {"skipped": f"pip cached {cold['cache_bytes'] / 2**20:.1f} MB: every "
                          "wheel came from a local folder (find-links / file:// index), so "
                          "a warm install is the cold one again"}
        else:
            warm = _install(root / "warm", cache)
        return {"cold": cold, "warm": warm, "pip_config": _pip_sources()}


def _pip_sources() -> str:
    """Where pip gets wheels here (explains why the cache may stay empty)."""
    result = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                            capture_output=True, text=True)
    keep = ("index-url", "find-links", "extra-index-url")
    return "; ".join(line for line in result.stdout.splitlines()
                     if any(k in line for k in keep))
