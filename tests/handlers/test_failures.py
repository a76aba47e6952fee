"""Every failure is a clear JSON answer: the table throttled, down, unreachable or too slow,
and anything unexpected, injected below the SDK so boto3's own retries and the request's
deadline run as they do in Lambda.

DynamoDB is a fake at botocore's `before-send` event (no moto here: its handler would also
execute the failed writes). The clock is fake too: the SDK's backoff sleeps and each slow
attempt advance it, and the deadline reads it, so a 10 s budget takes no real time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from io import BytesIO, StringIO
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from openapi_schema_validator import OAS30Validator

import access
import app
import aws_calls
import idempotency
from components.environment import pet_readers
from id_tokens import IdTokenVerifier, IssuerKeys
from tests.support.api_document import documented_retry_after, documented_schema
from tests.support.handler_calls import ADMIN_ARN, Context
from tests.support.handler_calls import call as call_from
from tests.support.signed_tokens import AUDIENCE, ISSUER, RSA_KEY, FakeIssuer, sign

PET_ID = "0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"
ITEM = {"petId": {"S": PET_ID}, "type": {"S": "dog"}, "price": {"N": "10"},
        "createdAt": {"S": "2026-12-01T18:30:00.123Z"}, "listPartition": {"S": "pet"},
        "listOrder": {"S": f"2026-12-01T18:30:00.123Z#{PET_ID}"}}


def call(method: str, path: str, body: Any = None, headers: dict | None = None,
         **kwargs: Any) -> tuple[int, Any, dict]:
    """As a browser sends it: with its Origin, which is when CORS headers are answered."""
    return call_from(method, path, body, headers={"Origin": "http://127.0.0.1:8000",
                                                  **(headers or {})}, **kwargs)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Raw(BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


def answer(status: int, body: dict[str, Any]) -> Callable[[Any], AWSResponse]:
    def respond(request: Any) -> AWSResponse:
        return AWSResponse(request.url, status,
                           {"content-type": "application/x-amz-json-1.0"},
                           _Raw(json.dumps(body).encode()))
    return respond


def error(code: str, status: int = 400) -> Callable[[Any], AWSResponse]:
    return answer(status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                           "message": f"{code} (injected)"})


def slow(clock: Clock, seconds: float, then: Exception) -> Callable[[Any], AWSResponse]:
    def respond(_: Any) -> AWSResponse:
        clock.now += seconds
        raise then
    return respond


class FakeDynamo:
    """Answers every DynamoDB attempt with the next of `answers` (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: list[Callable[[Any], AWSResponse]] = []
        self.attempts: list[str] = []  # the operation of each attempt

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.attempts.append(request.headers["X-Amz-Target"].decode().split(".")[-1])
        respond = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return respond(request)


@pytest.fixture
def dynamo(monkeypatch) -> Iterator[FakeDynamo]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("TABLE_NAME", "pets-test-pets")
    monkeypatch.setenv(idempotency.TABLE_ENV, "pets-test-idempotency")
    monkeypatch.setenv("PET_READERS", pet_readers("pets-test", access.USER_CLASSES))
    clock = Clock()
    monkeypatch.setattr(aws_calls.DEADLINE, "_clock", clock)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds

    monkeypatch.setattr(botocore.endpoint.time, "sleep", sleep)
    fake_issuer = FakeIssuer(RSA_KEY)
    monkeypatch.setattr(app, "verifier", lambda: IdTokenVerifier(
        ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=fake_issuer)))
    for cached in (app.store, app.read_rules, idempotency.utility):
        cached.cache_clear()
    fake = FakeDynamo()
    fake.clock, fake.sleeps = clock, sleeps  # type: ignore[attr-defined]
    # After the deadline's check, as the HTTP send it stands for.
    app.store()._table.meta.client.meta.events.register("before-send.dynamodb", fake)
    yield fake
    for cached in (app.store, app.read_rules, idempotency.utility):
        cached.cache_clear()


def assert_retry_later(status: int, body: Any, headers: dict[str, str],
                       route: access.Route = access.LIST_PETS) -> None:
    assert status == 503, body
    errors = list(OAS30Validator(documented_schema(route, 503)).iter_errors(body))
    assert not errors and documented_retry_after(route, 503), f"{route.id} 503 undocumented"
    assert body == {"error": "the pets table is busy or unavailable; try again later"}
    assert headers["Retry-After"] == str(aws_calls.RETRY_AFTER_SECONDS)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException",
                                  "ThrottlingException", "RequestLimitExceeded"])
def test_a_throttled_table_is_503_after_the_sdks_bounded_retries(dynamo, code):
    dynamo.answers = [error(code)]
    assert_retry_later(*call("GET", "/pets"))
    assert dynamo.attempts == ["Query"] * aws_calls.MAX_ATTEMPTS
    assert len(dynamo.sleeps) == aws_calls.MAX_ATTEMPTS - 1  # backoff between attempts


def test_one_throttled_attempt_is_absorbed_by_the_sdk(dynamo):
    dynamo.answers = [error("ThrottlingException"), answer(200, {"Items": [ITEM], "Count": 1})]
    status, body, _ = call("GET", "/pets")
    assert status == 200 and [p["petId"] for p in body["pets"]] == [PET_ID]
    assert dynamo.attempts == ["Query", "Query"]


@pytest.mark.parametrize(("code", "http"), [("InternalServerError", 500),
                                            ("ServiceUnavailable", 503)])
def test_an_unavailable_table_is_503(dynamo, code, http):
    dynamo.answers = [error(code, http)]
    assert_retry_later(*call("GET", "/pets"))
    assert len(dynamo.attempts) == aws_calls.MAX_ATTEMPTS


def test_an_unreachable_table_is_503(dynamo):
    dynamo.answers = [slow(dynamo.clock, 0, EndpointConnectionError(endpoint_url="x"))]
    assert_retry_later(*call("GET", "/pets"))
    assert len(dynamo.attempts) == aws_calls.MAX_ATTEMPTS


def test_a_throttled_purchase_is_503_and_says_so_in_time(dynamo):
    dynamo.answers = [error("ProvisionedThroughputExceededException")]
    status, body, headers = call("POST", "/pets/purchase", {"petId": PET_ID},
                                 headers={"X-Id-Token": sign(RSA_KEY)})
    assert_retry_later(status, body, headers, access.PURCHASE_PET)
    assert set(dynamo.attempts) == {"UpdateItem"}


def test_a_slow_table_is_503_within_the_functions_time(dynamo):
    """Each attempt hangs for the whole read timeout: the deadline, not Lambda's timeout,
    ends the request, and in time to answer."""
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    dynamo.answers = [slow(dynamo.clock, aws_calls.ATTEMPT_SECONDS, timeout)]
    started = dynamo.clock.now
    assert_retry_later(*call("GET", "/pets", context=Context(remaining_ms=10_000)))
    spent = dynamo.clock.now - started
    assert spent <= 10 - aws_calls.ANSWER_MARGIN_SECONDS, spent
    assert 1 <= len(dynamo.attempts) <= aws_calls.MAX_ATTEMPTS


def test_no_attempt_starts_that_could_not_end_before_the_deadline(dynamo):
    dynamo.answers = [answer(200, {"Items": [], "Count": 0})]
    short = int((aws_calls.ATTEMPT_SECONDS + aws_calls.ANSWER_MARGIN_SECONDS) * 1000) - 1
    assert_retry_later(*call("GET", "/pets", context=Context(remaining_ms=short)))
    assert dynamo.attempts == []
    assert call("GET", "/pets", context=Context(remaining_ms=short + 2))[0] == 200


def test_anything_unexpected_is_a_json_500_logged_with_the_request_ids(dynamo, monkeypatch):
    lines = StringIO()  # what the function writes to its log (Powertools' JSON lines)
    monkeypatch.setattr(app.logger.registered_handler, "stream", lines)
    dynamo.answers = [error("AccessDeniedException")]
    status, body, headers = call("GET", "/pets", context=Context(aws_request_id="lambda-42"))
    assert status == 500
    assert body == {"error": "internal error (request apigw-req-1)"}
    assert headers["Access-Control-Allow-Origin"] == "*" and "Retry-After" not in headers
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    (failure,) = [line for line in logged if line["message"] == "unexpected error"]
    assert failure["level"] == "ERROR" and "AccessDeniedException" in failure["exception"]
    assert failure["function_request_id"] == "lambda-42"
    assert failure["correlation_id"] == "apigw-req-1"


def test_a_crash_in_the_code_is_a_json_500(dynamo, monkeypatch):
    monkeypatch.setattr(app.PetStore, "page", lambda *_: 1 / 0)
    status, body, _ = call("GET", "/pets")
    assert (status, body) == (500, {"error": "internal error (request apigw-req-1)"})


def test_unreachable_keys_are_503_with_retry_after(dynamo, monkeypatch):
    def down(_: str) -> Any:
        raise OSError("connection refused")

    monkeypatch.setattr(app, "verifier", lambda: IdTokenVerifier(
        ISSUER, AUDIENCE, IssuerKeys(ISSUER, fetch=down)))
    status, body, headers = call("POST", "/pets/purchase", {"petId": PET_ID},
                                 headers={"X-Id-Token": sign(RSA_KEY)})
    assert (status, headers["Retry-After"]) == (503, "1"), body
    assert dynamo.attempts == []


def test_a_throttled_idempotency_table_is_503(dynamo):
    """The add's key records fail: Powertools wraps the table's error in its own, and the
    answer still says to come back later."""
    records = FakeDynamo()
    records.answers = [error("ProvisionedThroughputExceededException")]
    idempotency.utility().client.meta.events.register("before-send.dynamodb", records)
    assert_retry_later(*call("POST", "/pets", {"type": "dog", "price": 1}, caller=ADMIN_ARN,
                             headers={"Idempotency-Key": '"k-1"'}), access.ADD_PET)
    assert records.attempts == ["PutItem"] * aws_calls.MAX_ATTEMPTS
    assert dynamo.attempts == []  # no pet was added
