"""Item 2, the stack: the real `make up` / `make down` per emulator; and item 4's cold starts,
the first call of every function after an apply.

`make up` is timed end to end as a user types it; where its time went is what `devstack up`
wrote to .devstack/up-timings.json (stack.TIMINGS_FILE), never parsed from its printed lines.
It uses `make up`'s own names in this checkout's .devstack/, so it runs only when no `make up`
stack of this checkout is running (a user's stack is never stopped), with a free IdP port.
"""

from __future__ import annotations

import json

import access
from bench.calls import callers
from bench.common import Json, med_range, run_make, spread, table, timed
from devstack import clients, idp_process, matrix, procs, stack

APPLY_NAMES = {"emulator_name": "bench-apply-emulator", "idp_name": "bench-apply-idp"}
# The keys of stack.TIMINGS_FILE, and what they are.
UP_TIMINGS = {"ready": "  devstack up, to its Ready line",
              "stackUp": "    stack up: emulator + apply + IdP",
              "apply": "      of which the apply",
              "matrix": "    access matrix, cold functions (target < 3 s)"}


def make_cycles(target: str, repeats: int) -> Json:
    """`repeats` x (`make up TARGET=<target>`, `make down`)."""
    if procs.running(clients.EMULATOR_NAME):
        return {"skipped": "a `make up` stack of this checkout is running and `make up` would "
                           "stop it: `make down` and rerun"}
    ups, downs, timings, errors = [], [], [], []
    for _ in range(repeats):
        env = {idp_process.PORT_ENV: str(procs.free_port())}  # never another checkout's 9443
        try:
            seconds, result = run_make("up", f"TARGET={target}", env=env)
            if result.returncode != 0:
                errors.append(f"make up exited {result.returncode}: {result.stderr[-600:]}")
                continue
            ups.append(seconds)
            timings.append(json.loads(stack.TIMINGS_FILE.read_text()))
        finally:
            seconds, result = run_make("down", env=env)
            if result.returncode == 0:
                downs.append(seconds)
            else:
                errors.append(f"make down exited {result.returncode}: {result.stderr[-600:]}")
    return {"make up": spread(ups), "make down": spread(downs), "errors": errors,
            **{key: spread([t.get(key) for t in timings]) for key in UP_TIMINGS}}


def first_calls(local: stack.Stack) -> dict[str, float]:
    """Seconds of the first signed call to each route's function after an apply: MiniStack
    spawns its worker then (unpacks code + layer, starts Python 3.12, imports the handler; the
    first purchase also fetches the IdP's discovery document and JWKS). Each call includes
    writing its fixture pet to the table (a few ms)."""
    allowed, by_class = access.access_matrix(), callers(local)
    pets = matrix.PetFixtures(local.outputs["tableName"], local.target)
    seconds = {}
    try:
        for route in access.ROUTES:
            caller = next(c for name, c in by_class.items() if allowed[name][route.id])
            seconds[route.id], _ = timed(lambda r=route, c=caller: matrix.call_route(c, r, pets))
    finally:
        pets.clean()
    return seconds


def cold_starts(repeats: int) -> Json:
    """`repeats` x (stack.up in this process -> first call per function -> stack.down)."""
    samples = []
    for _ in range(repeats):
        local = stack.up(**APPLY_NAMES, idp_port=procs.free_port(), outputs_file=None,
                         engine="ministack")
        try:
            samples.append(first_calls(local))
        finally:
            stack.down(**APPLY_NAMES, outputs_file=None)
    return {r.id: spread([s[r.id] for s in samples]) for r in access.ROUTES}


def report(cycles: dict[str, Json]) -> None:
    targets = list(cycles)
    table("2. the stack: `make up` / `make down` per TARGET (seconds; split from "
          "up-timings.json)", ("what", *targets),
          [(what, *(med_range(cycles[t].get(key, {})) for t in targets)) for key, what in (
              ("make up", "make up, end to end (target < 5 s)"), *UP_TIMINGS.items(),
              ("make down", "make down"))])
    for t in targets:
        for note in ([cycles[t]["skipped"]] if "skipped" in cycles[t] else cycles[t]["errors"]):
            print(f"  {t}: {note}")


def report_first_calls(cold: Json) -> None:
    table("4. cold start: the first call to each function after an apply (ms)",
          ("route", "first call"), [(r.id, med_range(cold[r.id], "ms")) for r in access.ROUTES])
