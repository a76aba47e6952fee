"""From a clone to a running stack, through the Makefile as a user types it: the `.venv` rule
(setup), then the real `make up` / `make down` per emulator. Where `make up`'s time went is
what `devstack up` wrote to .devstack/up-timings.json (stack.TIMINGS_FILE), never its printed
lines. `make up` uses its own names in this checkout's .devstack/, so it runs only when no
`make up` stack of this checkout is running (a user's stack is never stopped)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from bench.common import Args, Json, med_range, spread, table, timed
from devstack import clients, paths, stack
from devstack.idp import idp_process
from devstack.processes import emulator, procs

# The keys of stack.TIMINGS_FILE, and what they are.
UP_TIMINGS = {"ready": "  devstack up, to its Ready line",
              "stackUp": "    stack up: emulator + apply + IdP + warm-up",
              "emulator": "      emulator start (the program's imports beside it)",
              "apply": "      the apply (baseline + app), functions warmed meanwhile",
              "idp": "      IdP, still starting after the apply",
              "warmUp": "      functions' first calls, still running after the apply",
              "matrix": "    logins + access matrix, warm functions",
              "seed": "    demo pets, through the API"}


def run_make(*args: str, env: dict[str, str] | None = None
             ) -> tuple[float, subprocess.CompletedProcess[str]]:
    """`make ARGS` as a user types it in this checkout: without an outer make's flags (make
    bench), a venv, an emulator of their own (AWS_ENDPOINT_URL) or a fixed emulator port."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "PYTHONPATH",
                          "AWS_ENDPOINT_URL", "PETS_TARGET", emulator.PORT_ENV)}
    return timed(lambda: subprocess.run(["make", "--no-print-directory", *args], cwd=paths.REPO,
                                        env={**clean, **(env or {})}, capture_output=True,
                                        text=True))


def tree_bytes(folder: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(folder)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def setup(args: Args) -> Json:
    """The `.venv` rule with VENV in a temp folder (this checkout's .venv is untouched): once
    with uv's cache empty (every wheel fetched), once with the cache that filled. Once each:
    the cold one measures the network more than this machine."""
    r: Json = {}
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as scratch:
        cache = Path(scratch) / "uv-cache"
        for kind in ("cold", "warm"):
            venv = Path(scratch) / kind
            seconds, made = run_make(f"VENV={venv}", f"{venv}/.installed",
                                     env={"UV_CACHE_DIR": str(cache)})
            if made.returncode != 0:
                r[kind] = {"error": (made.stderr or made.stdout)[-2000:]}
                break
            r[kind] = {"seconds": seconds, "venv_bytes": tree_bytes(venv),
                       "cache_bytes": tree_bytes(cache)}
    return r


def make_cycle(target: str, repeats: int) -> Json:
    """`repeats` x (`make up TARGET=<target>`, `make down`), with a free IdP port."""
    if procs.running(clients.EMULATOR_NAME):
        return {"skipped": "a `make up` stack of this checkout is running and `make up` would "
                           "stop it: `make down` and rerun"}
    ups, downs, timings, errors = [], [], [], []
    for _ in range(repeats):
        env = {idp_process.PORT_ENV: str(procs.free_port())}  # never another checkout's 9443
        try:
            up = run_make("up", f"TARGET={target}", env=env)
            if up[1].returncode == 0:  # read before `make down` removes it
                timings.append(json.loads(stack.TIMINGS_FILE.read_text()))
        finally:
            down = run_make("down", env=env)
        for what, (seconds, result), into in (("up", up, ups), ("down", down, downs)):
            if result.returncode == 0:
                into.append(seconds)
            else:
                errors.append(f"make {what} exited {result.returncode}: {result.stderr[-600:]}")
    return {"make up": spread(ups), "make down": spread(downs), "errors": errors,
            **{key: spread([t.get(key) for t in timings]) for key in UP_TIMINGS}}


def report_setup(r: Json) -> None:
    table("1. setup: the Makefile's .venv rule in a temp folder (1 run each)",
          ("install", "seconds", "venv MB", "uv cache MB"),
          [(f"uv cache {kind}", f"{x['seconds']:.2f}", f"{x['venv_bytes'] / 2**20:.0f}",
            f"{x['cache_bytes'] / 2**20:.0f}") if "seconds" in x
           else (f"uv cache {kind}", "-", "-", x["error"][-120:]) for kind, x in r.items()])


def report(cycles: dict[str, Json]) -> None:
    targets = list(cycles)
    table("2. the stack: `make up` / `make down` per TARGET (seconds; split from "
          "up-timings.json)", ("what", *targets),
          [(what, *(med_range(cycles[t].get(key, {})) for t in targets)) for key, what in (
              ("make up", "make up, end to end (target <= 4 s)"), *UP_TIMINGS.items(),
              ("make down", "make down"))])
    for t in targets:
        for note in ([cycles[t]["skipped"]] if "skipped" in cycles[t] else cycles[t]["errors"]):
            print(f"  {t}: {note}")
