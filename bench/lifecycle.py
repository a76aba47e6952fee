"""Item 2 (and the cold starts of item 4): starting, applying, `make up`, `make down`.

Everything here starts its own processes under `bench-*` names, except `make up` /
`make down`, which are the real targets and so use `make up`'s own names in this
checkout's .devstack/: they run only when no `make up` stack of this checkout is running
(a user's stack is never stopped), with free ports of their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Sequence

import access
from bench.calls import Caller
from bench.common import Json, spread, timed
from devstack import clients, emulator, idp_process, paths, procs, stack
from devstack.apply import ApplyResult

PROBE_EMULATOR = "bench-probe-emulator"
APPLY_NAMES = {"emulator_name": "bench-apply-emulator", "idp_name": "bench-apply-idp"}
# `python -m devstack up` prints these (devstack/__main__.py).


# --- emulator start ----------------------------------------------------------------------


def emulator_starts(repeats: int) -> Json:
    """Spawn to healthy (and STS answering with the account id), then stop; `repeats` times."""
    starts, stops = [], []
    for _ in range(repeats):
        try:
            seconds, _ = timed(lambda: emulator.start(name=PROBE_EMULATOR, reuse=False,
                                                      engine="ministack"))
            starts.append(seconds)
        finally:
            stops.append(timed(lambda: emulator.stop(PROBE_EMULATOR))[0])
    return {"start": spread(starts), "stop": spread(stops)}


# --- apply samples, each with the first call of every function -------------------------


def by_type(result: ApplyResult) -> dict[str, Json]:
    """Per resource type: how many, and the seconds spent creating them (summed: creates
    run concurrently, so the sums add up to more than the apply's wall time)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for resource in result.resources:
        groups[resource.type].append(resource.seconds)
    return {t: {"count": len(s), "seconds": sum(s), "max": max(s)} for t, s in groups.items()}


def cold_calls(local: stack.Stack) -> dict[str, Json]:
    """The first signed call to each route's function after an apply (MiniStack spawns the
    function's worker then: unpacks code + layer, starts Python, imports the handler)."""
    admin, buyer = Caller(local, "admin"), Caller(local, "buyer")
    rows: dict[str, Json] = {}

    def keep(route: access.Route, call: tuple[float, int, object]) -> None:
        rows[route.id] = {"seconds": call[0], "status": call[1]}

    keep(access.LIST_PETS, buyer.call("GET", "/pets"))
    added = admin.add_pet()
    keep(access.ADD_PET, added[:2])
    keep(access.REMOVE_PET, admin.call("DELETE", f"/pets/{added[2]}"))
    # The first purchase also fetches the IdP's discovery document and JWKS.
    keep(access.PURCHASE_PET, buyer.purchase(admin.add_pet()[2]))
    return rows


def apply_samples(repeats: int) -> list[Json]:
    """`repeats` x (stack.up -> first call per function -> stack.down), in this process."""
    samples = []
    for _ in range(repeats):
        up_seconds, local = timed(lambda: stack.up(**APPLY_NAMES, idp_port=procs.free_port(),
                                                   outputs_file=None, engine="ministack"))
        try:
            assert local.apply is not None
            sample = {"up": up_seconds, "apply": local.apply.seconds, **local.apply.phases,
                      "resources": len(local.apply.resources), "by_type": by_type(local.apply),
                      "cold": cold_calls(local)}
        finally:
            down_seconds = timed(lambda: stack.down(**APPLY_NAMES, outputs_file=None))[0]
        samples.append({**sample, "down": down_seconds})
    return samples


def summarise_applies(samples: Sequence[Json]) -> Json:
    keys = ("up", "apply", "connect", "program", "settle", "down")
    types = sorted({t for s in samples for t in s["by_type"]})
    return {
        **{k: spread([s[k] for s in samples]) for k in keys},
        "resources": samples[0]["resources"] if samples else 0,
        "by_type": {t: {"count": samples[0]["by_type"][t]["count"],
                        "seconds": spread([s["by_type"][t]["seconds"] for s in samples]),
                        "max": spread([s["by_type"][t]["max"] for s in samples])}
                    for t in types},
        "cold": {r.id: {"seconds": spread([s["cold"][r.id]["seconds"] for s in samples]),
                        "statuses": sorted({s["cold"][r.id]["status"] for s in samples})}
                 for r in access.ROUTES},
    }


# --- the real `make up` / `make down` ------------------------------------------------------


def user_stack_running() -> str | None:
    """Why `make up` cannot be measured here now, or None: a `make up` stack of this
    checkout is running under the names the real target uses, and `make up` would stop it."""
    found = [what for what, managed in (("emulator", procs.running(clients.EMULATOR_NAME)),
                                        ("identity provider", procs.running(idp_process.NAME)))
             if managed is not None]
    if found:
        return (f"a `make up` stack of this checkout is running ({', '.join(found)}); "
                "`make up` would stop it first, so it was not measured: `make down` and rerun")
    return None


def _make_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           # Like a user typing `make up`: no outer make's flags, the emulator started here
           # (not AWS_ENDPOINT_URL), a free emulator port.
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "AWS_ENDPOINT_URL",
                        emulator.PORT_ENV)}
    env[idp_process.PORT_ENV] = str(procs.free_port())  # never the 9443 of another checkout
    return env


def _run_make(target: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(["make", "--no-print-directory", target], cwd=paths.REPO, env=env,
                            capture_output=True, text=True)
    return time.perf_counter() - started, result


def make_cycles(repeats: int) -> Json:
    """`repeats` x (`make up`, `make down`), each timed end to end as a user sees it."""
    reason = user_stack_running()
    if reason:
        return {"skipped": reason}
    ups, downs, applies, up_alls, matrices, errors = [], [], [], [], [], []
    for _ in range(repeats):
        env = _make_env()
        try:
            seconds, result = _run_make("up", env)
            if result.returncode != 0:
                errors.append(f"make up exited {result.returncode}: {result.stderr[-800:]}")
                continue
            ups.append(seconds)
            # `devstack up` hands its timings over as data, not as lines to parse.
            timings = json.loads(stack.TIMINGS_FILE.read_text())
            applies.append(timings["apply"])
            up_alls.append(timings["stackUp"])
            matrices.append(timings["matrix"])
        finally:
            seconds, result = _run_make("down", env)
            if result.returncode == 0:
                downs.append(seconds)
            else:
                errors.append(f"make down exited {result.returncode}: {result.stderr[-800:]}")
    return {"up": spread(ups), "down": spread(downs), "apply": spread(applies),
            "stack_up": spread(up_alls), "matrix": spread(matrices), "errors": errors}
