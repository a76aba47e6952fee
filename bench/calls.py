"""Items 3 and 4 on a running stack: proving access, and calling the API as users do.

Every call is signed with SigV4 with a demo user's role credentials (ID token -> STS), through
API Gateway to the route's function: devstack.matrix's callers, each call on a new HTTP
connection as devstack.calls.Api makes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import requests

import access
from bench.common import Json, med_range, ms, percentiles, spread, statuses, table, timed
from devstack import matrix, stack

Request = Callable[[], requests.Response]


def callers(local: stack.Stack) -> dict[str, matrix.Caller]:
    """Each class's demo user logged in, holding the class's role (fresh 15-min credentials)."""
    return {c.name: matrix.caller_for(c, local.outputs, local.target, local.idp)
            for c in access.USER_CLASSES}


def proof(local: stack.Stack, repeats: int) -> Json:
    """Credentials for every class (login + STS), then the class x route matrix (and the
    unsigned row) on warm functions, `repeats` times; every cell is checked against access.py."""
    expected = access.access_matrix()
    logins, matrices, differing = [], [], 0
    matrix.measure(local.outputs, target=local.target, idp=local.idp)  # warms every function
    for _ in range(repeats):
        seconds, by_class = timed(lambda: callers(local))
        logins.append(seconds)
        seconds, measured = timed(lambda c=by_class: matrix.measure(
            local.outputs, list(c.values()), target=local.target, idp=local.idp))
        matrices.append(seconds)
        differing += sum(ok != expected.get(label, {}).get(route_id, False)
                         for label, row in matrix.allowed(measured).items()
                         for route_id, ok in row.items())
    return {"credentials": spread(logins), "matrix_warm": spread(matrices),
            "cells": (len(access.USER_CLASSES) + 1) * len(access.ROUTES),
            "cells_differing_from_access_py": differing}


def series(requests_: Iterable[Request]) -> Json:
    """Each request sent and timed in turn: percentiles and the statuses answered."""
    answers = [timed(send) for send in requests_]
    return {**percentiles([s for s, _ in answers]),
            "statuses": dict(Counter(r.status_code for _, r in answers))}


def warm_routes(local: stack.Stack, n: int) -> Json:
    """n sequential calls per route on warm functions (one worker each).

    GET /pets first, on a table with a handful of pets; the pets POST /pets adds are the ones
    DELETE removes; purchases buy pets written to the table beforehand (untimed). Last, an
    admin's purchase, which IAM refuses at the gateway: gateway + SigV4 + IAM, no Lambda."""
    by_class = callers(local)
    admin, buyer = by_class[access.ADMIN.name], by_class[access.BUYER.name]
    pets = matrix.PetFixtures(local.outputs["tableName"], local.target)
    try:
        for_sale = [pets.new_pet() for _ in range(n + 1)]

        def purchase(caller: matrix.Caller, pet_id: str) -> Request:
            return lambda: caller.api.call("POST", "/pets/purchase", json={"petId": pet_id},
                                           headers={"X-Id-Token": caller.id_token or ""})

        purchase(buyer, for_sale.pop())()  # warms the purchase function (fetches the JWKS)
        added: list[str] = []

        def add() -> requests.Response:
            response = admin.api.call("POST", "/pets", json={"type": "bench", "price": 1})
            added.append(response.json().get("petId", ""))
            return response

        routes = {"GET /pets": series(lambda: buyer.api.call("GET", "/pets") for _ in range(n))}
        routes["POST /pets"] = series(add for _ in range(n))
        routes["DELETE /pets/{petId}"] = series(
            (lambda p=pet_id: admin.api.call("DELETE", f"/pets/{p}")) for pet_id in added)
        routes["POST /pets/purchase"] = series(purchase(buyer, p) for p in for_sale)
        routes["POST /pets/purchase as admin (403, no Lambda)"] = series(
            purchase(admin, "no-such-pet") for _ in range(max(n // 5, 1)))
        return routes
    finally:
        pets.clean()


def report_proof(p: Json) -> None:
    table(f"3. proof: {len(access.USER_CLASSES)} classes + unsigned x {len(access.ROUTES)} "
          f"routes = {p['cells']} cells (the cold matrix is make up's, in 2.)",
          ("what", "seconds"),
          [("credentials for every class (login + STS)", med_range(p["credentials"])),
           ("access matrix, warm functions", med_range(p["matrix_warm"])),
           ("cells differing from access.py (all runs)", p["cells_differing_from_access_py"])])


def report_warm(warm: Json) -> None:
    table("   warm latency through API Gateway, sequential signed calls (ms)",
          ("call", "n", "p50", "p95", "p99", "mean", "max", "statuses"),
          [(name, x["n"], *(ms(x[k]) for k in ("p50", "p95", "p99", "mean", "max")),
            statuses(x["statuses"])) for name, x in warm.items()])
