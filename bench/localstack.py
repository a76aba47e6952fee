"""Item 5: the same emulator start + local apply against LocalStack community (host mode),
as a ratio to MiniStack's figures of the same run.

LocalStack runs from its own pinned venv (devstack.emulator's `localstack` engine, built by
`python -m devstack install --target localstack`; the bench builds it if missing, which is
not timed). Each repeat starts a fresh LocalStack, applies the whole `local` stack (an https
issuer: LocalStack, like AWS, refuses http OIDC provider URLs; the IdP is never contacted
by an apply) and stops it. Functions end in state Failed there (no Docker): the apply
records that as warnings, counted in the result, and goes on.
"""

from __future__ import annotations

import subprocess
import time

from bench.common import Json, spread
from devstack import clients, emulator, idp_process, paths, procs
from devstack.apply import ApplyError, apply_program
from devstack.errors import DevstackError

NAME = "bench-localstack"


def _version(python: str) -> str:
    out = subprocess.run([python, "-c", "import importlib.metadata as m; "
                          "print(m.version('localstack-core'))"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return f"localstack-core {out or '?'}"


def measure(ministack: Json, repeats: int) -> Json:
    """ministack: this run's {"start", "apply", ...} spreads, for the ratios."""
    try:
        python = str(emulator.ensure_venv("localstack"))
    except DevstackError as exc:
        return {"skipped": f"LocalStack cannot be installed here: {exc}"}
    emulator.stop(NAME)  # a leftover of an interrupted run
    starts, applies, stops, failed_functions = [], [], [], 0
    try:
        for _ in range(repeats):
            began = time.perf_counter()
            target = emulator.start(name=NAME, reuse=False, engine="localstack")
            started = time.perf_counter()
            try:
                result = apply_program(
                    paths.REPO, "local", lambda s, t=target: clients.client(s, target=t),
                    {"oidcIssuer": f"https://{procs.LOOPBACK}:{idp_process.DEFAULT_PORT}",
                     "stsEndpoint": target.endpoint_url},
                    allow_failed_functions=True)
            finally:
                stop_began = time.perf_counter()
                emulator.stop(NAME)
                stops.append(time.perf_counter() - stop_began)
            starts.append(started - began)
            applies.append(result.seconds)
            failed_functions = sum("cannot run it" in w for w in result.warnings)
    except (DevstackError, ApplyError) as exc:
        return {"skipped": f"LocalStack failed here: {type(exc).__name__}: {exc}"}
    figures = {"start": spread(starts), "apply": spread(applies), "stop": spread(stops)}
    return {**figures, "version": _version(python), "resources": len(result.resources),
            "functions_failed": failed_functions,
            "ratio": {k: ratio(figures, ministack, k) for k in ("start", "apply")}}


def ratio(localstack: Json, ministack: Json, key: str) -> float | None:
    """LocalStack's median over MiniStack's for one figure (None when either is missing)."""
    ls, mini = localstack.get(key, {}).get("median"), ministack.get(key, {}).get("median")
    return ls / mini if ls and mini else None
