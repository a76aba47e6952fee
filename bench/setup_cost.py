"""Item 1, setup: what a newcomer's first `make` pays for the project venv.

The Makefile's own `.venv` rule, run with VENV pointing into a temp folder (so this checkout's
.venv is untouched): python -m venv, pip installs uv at its pin, uv installs the pins compiled
to byte code. Once with uv's cache empty (every wheel fetched), once with the cache that run
filled. Once each, not repeated: the cold one measures the network more than this machine.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from bench.common import Json, run_make, table


def tree_bytes(folder: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(folder)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def _install(venv: Path, cache: Path) -> Json:
    seconds, result = run_make(f"VENV={venv}", f"{venv}/.installed",
                               env={"UV_CACHE_DIR": str(cache)})
    if result.returncode != 0:
        return {"error": (result.stderr or result.stdout)[-2000:]}
    return {"seconds": seconds, "venv_bytes": tree_bytes(venv), "cache_bytes": tree_bytes(cache)}


def measure() -> Json:
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as scratch:
        cache = Path(scratch) / "uv-cache"
        cold = _install(Path(scratch) / "cold", cache)
        if "error" in cold:
            return {"cold": cold}
        return {"cold": cold, "warm": _install(Path(scratch) / "warm", cache)}


def report(r: Json) -> None:
    if "skipped" in r:
        print(f"\n1. setup: skipped ({r['skipped']})")
        return
    rows = [(f"uv cache {kind}", f"{x['seconds']:.2f}", f"{x['venv_bytes'] / 2**20:.0f}",
             f"{x['cache_bytes'] / 2**20:.0f}") if "seconds" in x
            else (f"uv cache {kind}", "-", "-", x["error"][-120:])
            for kind, x in r.items()]
    table("1. setup: the Makefile's .venv rule in a temp folder (1 run each)",
          ("install", "seconds", "venv MB", "uv cache MB"), rows)
