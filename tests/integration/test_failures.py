"""Failures on the live stack, each made for real and put back: a throttled stage, a table
the function cannot reach or that hangs, a crashed and a timed-out function. Every answer
must be JSON a browser can read (CORS) and say when to retry, where the emulator can
produce it; what it cannot is a skip that says so.

Each test changes one part of the session's stack (the function's configuration, the
stage's throttle) with the deploy key and restores it in a `finally`, before the next test.

Not produced here: API Gateway's own 29 s integration timeout (INTEGRATION_TIMEOUT, a 504
with Retry-After) needs a function that runs longer than 29 s, and MiniStack has no such
limit; the gateway response is declared and checked in tests/unit/test_program.py.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import requests

import access
from devstack import clients
from devstack.processes import procs
from tests.support.session_stack import (
    Local,
    Session,
    add_pet,
    purchase,
    reconfigured,
)

pytestmark = pytest.mark.usefixtures("lambda_runs")
ORIGIN = {"Origin": "http://127.0.0.1:8080"}
TABLE_UNAVAILABLE = {"error": "the pets table is busy or unavailable; try again later"}


@contextmanager
def silent_server() -> Iterator[str]:
    """A TCP endpoint that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def assert_retry_later(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == TABLE_UNAVAILABLE
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Expose-Headers"] == "Retry-After"


def test_an_unreachable_table_is_503_with_retry_after(local: Local, buyer: Session):
    closed = f"http://127.0.0.1:{procs.free_port()}"
    with reconfigured(local, access.LIST_PETS, environment={"AWS_ENDPOINT_URL_DYNAMODB": closed}):
        assert_retry_later(buyer.api.call("GET", "/pets", headers=ORIGIN))
    assert buyer.api.call("GET", "/pets?limit=1").status_code == 200  # put back


def test_a_hanging_table_is_503_before_the_function_times_out(local: Local, buyer: Session):
    """Every read hangs: the SDK's read timeout ends each attempt, and the request's deadline
    (the function's 5 s, less a second to answer) ends the retries with a 503, instead of
    Lambda's timeout ending the function with a 502."""
    timeout = 5
    with silent_server() as silent, reconfigured(
            local, access.LIST_PETS, environment={"AWS_ENDPOINT_URL_DYNAMODB": silent},
            Timeout=timeout):
        started = time.monotonic()
        response = buyer.api.call("GET", "/pets", headers=ORIGIN)
        took = time.monotonic() - started
    assert_retry_later(response)
    # At least one attempt waited out its read timeout (2 s), and the answer came in time.
    assert 2 <= took < timeout, f"{took:.1f} s"


def test_an_unreachable_table_leaves_the_purchase_undone(local: Local, admin: Session,
                                                         buyer: Session):
    pet = add_pet(admin)
    closed = f"http://127.0.0.1:{procs.free_port()}"
    with reconfigured(local, access.PURCHASE_PET,
                      environment={"AWS_ENDPOINT_URL_DYNAMODB": closed}):
        response = buyer.api.call("POST", "/pets/purchase", json={"petId": pet["petId"]},
                                  headers={**ORIGIN, "X-Id-Token": buyer.token})
    assert_retry_later(response)
    assert "soldTo" not in local.table.get(pet["petId"])
    assert purchase(buyer, pet["petId"], buyer.token).status_code == 200  # the retry


@pytest.fixture
def slow_throttle(local: Local) -> Iterator[None]:
    """The stage throttled to one request a second, then put back."""
    apigw = clients.client("apigateway", target=local.target)
    api, stage = local.outputs["restApiId"], local.outputs["stage"]
    settings = apigw.get_stage(restApiId=api, stageName=stage)["methodSettings"]["*/*"]

    def throttle(rate: Any, burst: Any) -> None:
        apigw.update_stage(restApiId=api, stageName=stage, patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)}])

    throttle(1, 1)
    try:
        yield
    finally:
        throttle(settings["throttlingRateLimit"], settings["throttlingBurstLimit"])


def test_a_throttled_call_is_429_with_retry_after(slow_throttle: None, buyer: Session):
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: buyer.api.call("GET", "/pets?limit=1", headers=ORIGIN),
                                range(16)))
    throttled = [a for a in answers if a.status_code == 429]
    assert throttled, [a.status_code for a in answers]
    for answer in throttled:
        assert answer.json() == {"error": "Too Many Requests"}
        assert answer.headers["Retry-After"] == "1"
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Access-Control-Expose-Headers"] == "Retry-After"


def _gateway_failure(response: requests.Response, what: str) -> None:
    """A 502 for a failed function; skipped where the emulator answers it without
    API Gateway's DEFAULT_5XX gateway response (JSON `{"error": ...}` with CORS)."""
    assert response.status_code == 502, response.text
    if "Access-Control-Allow-Origin" not in response.headers:
        pytest.skip(f"{what} gave 502 {response.text[:120]!r} without the DEFAULT_5XX gateway "
                    "response: MiniStack does not apply gateway responses to Lambda errors "
                    "(AWS does: tests/unit/test_program.py checks the declared response). A "
                    "browser cannot read this answer; the site treats it as retryable")
    assert response.json()["error"]


def test_a_crashed_function_is_a_502(local: Local, buyer: Session):
    with reconfigured(local, access.LIST_PETS, Handler="app.no_such_handler"):
        response = buyer.api.call("GET", "/pets", headers=ORIGIN)
    _gateway_failure(response, "a function that cannot start")


def test_a_timed_out_function_is_a_502(local: Local, buyer: Session):
    """The issuer's keys hang (their fetch is not bounded by the table's deadline) past the
    function's 2 s timeout: Lambda ends it, API Gateway answers 502."""
    with silent_server() as silent, reconfigured(
            local, access.LIST_PETS, environment={"OIDC_ISSUER": silent}, Timeout=2):
        response = buyer.api.call("GET", "/pets", headers={**ORIGIN, "X-Id-Token": buyer.token})
    _gateway_failure(response, "a function that ran out of time")
