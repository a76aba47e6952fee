"""Calling the API as users do, on the bench's main stack (fresh, so its functions start cold):
signed with a demo user's role credentials (ID token -> STS) through API Gateway, as
devstack.live_matrix's callers make each call (a new HTTP connection each, devstack.calls.Api).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import requests

import access
from bench.common import Args, Json, main_stack, med_range, ms, percentiles, spread, table, timed
from devstack import live_matrix, stack

Request = Callable[[], requests.Response]


def callers(local: stack.Stack) -> dict[str, live_matrix.Caller]:
    """Each class's demo user logged in, holding the class's role (fresh 15-min credentials)."""
    return {c.name: live_matrix.caller_for(c, local.outputs, local.target, local.idp)
            for c in access.USER_CLASSES}


def series(requests_: Iterable[Request]) -> Json:
    """Each request sent and timed in turn: the first call (the function's cold start on a
    fresh stack) apart, percentiles of the others, and the statuses answered."""
    answers = [timed(send) for send in requests_]
    return {"first_call": answers[0][0], **percentiles([s for s, _ in answers[1:]]),
            "statuses": dict(Counter(r.status_code for _, r in answers))}


def measure(args: Args) -> Json:
    """Credentials for every class (login + STS, `repeats` times), then n sequential calls per
    route (one worker each).

    GET /pets first, on a near-empty table; the pets POST /pets adds are the ones DELETE
    removes; purchases buy pets written to the table beforehand (untimed). Last, an admin's
    purchase, which IAM refuses at the gateway: gateway + SigV4 + IAM, no Lambda."""
    local, n = main_stack(), args.calls
    logins = spread([timed(lambda: callers(local))[0] for _ in range(args.repeats)])
    by_class = callers(local)
    admin, buyer = by_class[access.ADMIN.name], by_class[access.BUYER.name]
    pets = live_matrix.PetFixtures(local.outputs["tableName"], local.target)
    try:
        for_sale = [pets.new_pet() for _ in range(n)]

        def purchase(caller: live_matrix.Caller, pet_id: str) -> Request:
            return lambda: caller.api.call("POST", "/pets/purchase", json={"petId": pet_id},
                                           headers={"X-Id-Token": caller.id_token or ""})

        added: list[str] = []

        def add() -> requests.Response:
            response = admin.api.call("POST", "/pets", json={"type": "bench", "price": 1})
            added.append(response.json().get("petId", ""))
            return response

        calls = {"GET /pets": series(lambda: buyer.api.call("GET", "/pets") for _ in range(n))}
        calls["POST /pets"] = series(add for _ in range(n))
        calls["DELETE /pets/{petId}"] = series(
            (lambda p=pet_id: admin.api.call("DELETE", f"/pets/{p}")) for pet_id in added)
        calls["POST /pets/purchase"] = series(purchase(buyer, p) for p in for_sale)
        calls["POST /pets/purchase as admin (403, no Lambda)"] = series(
            purchase(admin, "no-such-pet") for _ in range(max(n // 5, 3)))
        return {"credentials": logins, "calls": calls}
    finally:
        pets.clean()


def report(r: Json) -> None:
    print(f"\n4. credentials for every class (login + STS): {med_range(r['credentials'])} s")
    table("   signed calls through API Gateway, one after another (ms): the first (a cold "
          "start) and the others (warm)", ("call", "first", "n", "p50", "p95", "p99", "mean",
                                           "max", "statuses"),
          [(name, ms(x["first_call"]), x["n"],
            *(ms(x[k]) for k in ("p50", "p95", "p99", "mean", "max")),
            " ".join(f"{status}x{k}" for status, k in sorted(x["statuses"].items(), key=str)))
           for name, x in r["calls"].items()])
