"""On the live stack: GET /pets pages, and bodies refused by API Gateway itself."""

from __future__ import annotations

import threading
import uuid
from urllib.parse import urlencode

import pytest

import access
from components.api_models import BAD_BODY_MESSAGE
from devstack import clients
from policy import access_doc
from tests.support.session_stack import Local, Session, add_pet

pytestmark = pytest.mark.usefixtures("lambda_runs")


def page(session: Session, **query: str) -> tuple[int, dict]:
    response = session.api.call("GET", f"/pets?{urlencode(query)}" if query else "/pets")
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    return response.status_code, response.json()


def walk(session: Session, limit: int, between_pages=None) -> list[dict]:
    listed, query = [], {"limit": str(limit)}
    while True:
        status, body = page(session, **query)
        assert status == 200, body
        assert len(body["pets"]) <= limit
        listed += body["pets"]
        if not body.get("nextCursor"):
            return listed
        query = {"limit": str(limit), "cursor": body["nextCursor"]}
        if between_pages:
            between_pages()


def test_pages_list_every_pet_once_newest_first_while_pets_are_added(
        admin: Session, buyer: Session):
    kind = f"pages-{uuid.uuid4().hex[:8]}"
    before = {add_pet(admin, kind, i + 1)["petId"] for i in range(7)}
    stop, added = threading.Event(), []

    def keep_adding() -> None:
        while not stop.is_set():
            added.append(add_pet(admin, kind, 1)["petId"])

    writer = threading.Thread(target=keep_adding)
    writer.start()
    try:
        listed = walk(buyer, 3)
    finally:
        stop.set()
        writer.join()
    ids = [p["petId"] for p in listed]
    assert len(ids) == len(set(ids)), "a pet was listed twice"
    assert before <= set(ids), "a pet that existed before the first page was skipped"
    assert added, "nothing was added while paging: the test proved nothing"
    order = [(p["createdAt"], p["petId"]) for p in listed]
    assert order == sorted(order, reverse=True), "not newest first"
    assert all(set(p) <= {"petId", "type", "price", "createdAt", "sold", "soldAt"}
               for p in listed)
    # The next first page starts with the pets added last.
    status, first = page(buyer, limit="1")
    assert status == 200 and first["pets"][0]["petId"] == added[-1]


def test_default_page_is_at_most_50(buyer: Session, admin: Session):
    for _ in range(3):
        add_pet(admin)
    status, body = page(buyer)
    assert status == 200 and 1 <= len(body["pets"]) <= 50


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"},
                                   {"cursor": "bm90LWEtY3Vyc29y"}, {"cursor": "!"}])
def test_bad_limit_or_cursor_is_400_json(buyer: Session, query):
    status, body = page(buyer, **query)
    assert status == 400 and ("limit" in body["error"] or "cursor" in body["error"]), body


@pytest.fixture(scope="module")
def validating(gateway_validates: bool) -> None:
    if not gateway_validates:
        pytest.skip("the target's API Gateway does not apply request validators (probed: a "
                    "non-object body reached the function); the declaration is proven by "
                    "tests/unit/test_api_models.py")


def _invocations(local: Local, function: str) -> int:
    """Log events the function wrote: each call writes at least one."""
    logs = clients.client("logs", target=local.target)
    group = f"/aws/lambda/{function}"
    try:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return 0
    return sum(len(logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])
                   ["events"]) for s in streams)


@pytest.mark.usefixtures("validating")
@pytest.mark.parametrize("body", ['{"type": "dog"}', '{"type": "dog", "price": 0}',
                                  '{"type": "dog\\n", "price": 1}', "nope",
                                  '{"type": "dog", "price": 1, "owner": "me"}'])
def test_gateway_refuses_a_malformed_body_before_the_function(
        admin: Session, local: Local, body: str):
    function = access_doc.function_name(access.ADD_PET, "local")
    add_pet(admin)  # the function is warm and has logged
    before_items, before_logs = local.table.items(), _invocations(local, function)
    assert before_logs > 0, "the function's calls leave no log events: the check proves nothing"
    response = admin.api.call("POST", "/pets", data=body,
                              headers={"Origin": "http://127.0.0.1:8080"})
    assert response.status_code == 400, response.text
    assert response.json() == {"error": BAD_BODY_MESSAGE}
    assert response.headers["Access-Control-Allow-Origin"]
    assert local.table.items() == before_items
    assert _invocations(local, function) == before_logs, "the function ran"


@pytest.mark.usefixtures("validating")
def test_gateway_refuses_a_malformed_purchase(buyer: Session):
    response = buyer.api.call("POST", "/pets/purchase", data='{"petId": "x"}',
                              headers={"X-Id-Token": buyer.token})
    assert (response.status_code, response.json()) == (400, {"error": BAD_BODY_MESSAGE})
