"""Items 3 and 4: proving access and calling the API as users do, on a running stack.

Every call is SigV4-signed with a demo user's role credentials (ID token -> STS), through
API Gateway to the route's Lambda, each on a new HTTP connection as `devstack.calls.Api`
makes them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import access
from bench.common import Json, latency, spread
from devstack import calls, clients, login_client, matrix, paths, stack

USERS = {"admin": "alice", "buyer": "bob"}
PACKAGE = paths.REPO / "build" / "lambda"
CALL_TIMEOUT_S = 60.0
Call = tuple[float, int, Any]  # (seconds, HTTP status, JSON body or None) of one signed call


class Caller:
    """A demo user holding their class's role: ID token -> STS -> SigV4-signed calls."""

    def __init__(self, local: stack.Stack, user_class: str) -> None:
        self.token = login_client.id_token(USERS[user_class], idp=local.idp)
        credentials = calls.assume_role(local.outputs["roles"][user_class], self.token,
                                        session_name=f"bench-{USERS[user_class]}",
                                        duration_seconds=3600, target=local.target)
        self.api = calls.Api(local.outputs["apiUrl"], local.outputs["region"], credentials,
                             timeout=CALL_TIMEOUT_S)

    def call(self, method: str, path: str, **kwargs: Any) -> Call:
        """(seconds, status, JSON body or None), timed around the whole signed request."""
        started = time.perf_counter()
        response = self.api.call(method, path, **kwargs)
        seconds = time.perf_counter() - started
        try:
            body = response.json()
        except ValueError:
            body = None
        return seconds, response.status_code, body

    def add_pet(self) -> tuple[float, int, str]:
        seconds, status, body = self.call("POST", "/pets", json={"type": "bench", "price": 1})
        return seconds, status, (body or {}).get("petId", "")

    def purchase(self, pet_id: str) -> Call:
        return self.call("POST", "/pets/purchase", json={"petId": pet_id},
                         headers={"X-Id-Token": self.token})


# --- item 3: proof -------------------------------------------------------------------------


def proof(local: stack.Stack, repeats: int) -> Json:
    """Credentials for every class (login + STS), then the role x route matrix on warm
    functions, `repeats` times; each matrix is also checked against access.py."""
    logins, matrices, wrong = [], [], 0
    expected = access.access_matrix()
    # The first matrix after an up meets cold functions (each spawns its worker): timed
    # once here for reference; `make up`'s own figure is the one that counts.
    started = time.perf_counter()
    matrix.measure(local.outputs, target=local.target, idp=local.idp)
    first = time.perf_counter() - started
    for _ in range(repeats):
        started = time.perf_counter()
        callers = [matrix.caller_for(c, local.outputs, local.target, local.idp)
                   for c in access.USER_CLASSES]
        logged_in = time.perf_counter()
        measured = matrix.measure(local.outputs, callers, target=local.target, idp=local.idp)
        logins.append(logged_in - started)
        matrices.append(time.perf_counter() - logged_in)
        allowed = matrix.allowed(measured)
        wrong += sum(ok != expected.get(label, {}).get(route, False)
                     for label, row in allowed.items() for route, ok in row.items())
    return {"credentials": spread(logins), "matrix_warm": spread(matrices),
            "matrix_first_after_up": first,
            "classes": len(access.USER_CLASSES), "routes": len(access.ROUTES),
            "cells": (len(access.USER_CLASSES) + 1) * len(access.ROUTES),
            "cells_differing_from_access_py": wrong}


# --- item 4: warm latency per route ------------------------------------------------------


def _series(call: Callable[[], Call], n: int) -> Json:
    results = [call() for _ in range(n)]
    return {**latency([s for s, _, _ in results]),
            "statuses": dict(Counter(status for _, status, _ in results))}


def _seed_pets(local: stack.Stack, n: int) -> list[str]:
    """n unsold pets written straight to the table with the deploy key (setup, untimed)."""
    ddb = clients.client("dynamodb", target=local.target)
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for start in range(0, n, 25):  # BatchWriteItem takes at most 25 items
        ddb.batch_write_item(RequestItems={local.outputs["tableName"]: [
            {"PutRequest": {"Item": {"petId": {"S": i}, "type": {"S": "bench-seed"},
                                     "price": {"N": "1"},
                                     "createdAt": {"S": "2026-01-01T00:00:00.000Z"}}}}
            for i in ids[start:start + 25]]})
    return ids


def warm_routes(local: stack.Stack, admin: Caller, buyer: Caller, n: int) -> Json:
    """n sequential calls per route on warm functions (one worker each).

    Data: GET /pets first, on a table with a handful of pets (a list scans the table);
    the n pets POST /pets adds are the ones DELETE removes; purchases buy n pets seeded
    directly in the table (a sold pet can no longer be removed, so they need their own)."""
    for route_call in (lambda: buyer.call("GET", "/pets"), admin.add_pet):  # warm-up
        route_call()
    pets_at_list = len((buyer.call("GET", "/pets")[2] or {}).get("pets", []))
    result: Json = {"GET /pets": _series(lambda: buyer.call("GET", "/pets"), n)}
    added: list[str] = []

    def add() -> Call:
        seconds, status, pet_id = admin.add_pet()
        added.append(pet_id)
        return seconds, status, None

    result["POST /pets"] = _series(add, n)
    to_remove = iter(added)
    result["DELETE /pets/{petId}"] = _series(
        lambda: admin.call("DELETE", f"/pets/{next(to_remove)}"), n)
    to_buy = iter(_seed_pets(local, n))
    buyer.purchase(next(iter(_seed_pets(local, 1))))  # warm (JWKS already cached after it)
    result["POST /pets/purchase"] = _series(lambda: buyer.purchase(next(to_buy)), n)
    # The gateway's own share: a signed call IAM denies before any Lambda runs.
    # A reference, not a route: fewer calls keep `make bench` within its 5 minutes.
    result["POST /pets/purchase as admin (403, no Lambda)"] = _series(
        lambda: admin.purchase("no-such-pet"), max(n // 5, 1))
    return {"routes": result, "pets_in_table_for_list": pets_at_list}


# --- item 4: throughput --------------------------------------------------------------------


def throughput(caller: Caller, clients_n: int, seconds: float) -> Json:
    """`clients_n` threads calling GET /pets back to back for `seconds`. One concurrent
    round first, so MiniStack has spawned its workers before the clock starts."""
    get = lambda: caller.call("GET", "/pets")  # noqa: E731
    warmup = [threading.Thread(target=get) for _ in range(clients_n)]
    for t in warmup:
        t.start()
    for t in warmup:
        t.join()
    results: list[Call] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            call = get()
            with lock:
                results.append(call)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ok = sum(200 <= status < 300 for _, status, _ in results)
    # The stage's throttle (Pulumi.<stack>.yaml `throttle`) answers 429 above its rate: those
    # are counted apart, so calls/s is not inflated by cheap refusals.
    return {"clients": clients_n, "seconds": wall, "calls": len(results),
            "calls_per_s": len(results) / wall, "ok_per_s": ok / wall,
            "latency": latency([s for s, _, _ in results]),
            "statuses": dict(Counter(status for _, status, _ in results))}


# --- item 4: handler import time ---------------------------------------------------------

# What a MiniStack worker does before the first invocation, minus unpacking: the runtime
# bootstrap imports botocore.handlers, then the handler module; the purchase function also
# imports id_tokens (jwcrypto, cryptography) at its first call.
_IMPORT_PROBE = """
import json, sys, time
t0 = time.perf_counter()
sys.path[:0] = [{layer!r}, {code!r}]
import botocore.handlers
t1 = time.perf_counter()
import app
t2 = time.perf_counter()
import id_tokens
t3 = time.perf_counter()
print(json.dumps({{"bootstrap": t1 - t0, "app": t2 - t1, "id_tokens": t3 - t2}}))
"""


def import_times(repeats: int) -> Json:
    """Each repeat: a fresh copy of code + layer (as a new worker has) and a new interpreter:
    the emulator's Python 3.12, which is what runs the handlers."""
    python = str(paths.EMULATOR_VENV / "bin" / "python")
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
            code, layer = Path(scratch) / "code", Path(scratch) / "layer"
            shutil.copytree(PACKAGE / "code", code)
            shutil.copytree(PACKAGE / "layer", layer)
            probe = _IMPORT_PROBE.format(layer=str(layer / "python"), code=str(code))
            started = time.perf_counter()
            out = subprocess.run([python, "-c", probe], capture_output=True, text=True,
                                 check=True, cwd=code).stdout
            wall = time.perf_counter() - started
            runs.append({**json.loads(out.strip().splitlines()[-1]), "process": wall})
    per_part = {k: spread([r[k] for r in runs]) for k in ("process", "bootstrap", "app",
                                                          "id_tokens")}
    return {**per_part, "functions": {
        r.id: spread([x["app"] + (x["id_tokens"] if r is access.PURCHASE_PET else 0.0)
                      for x in runs]) for r in access.ROUTES}}
