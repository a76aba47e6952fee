"""How the functions call DynamoDB: bounded retries, one deadline per request, and which
failures mean "try again later" (503 with Retry-After) rather than "something is broken" (500).

- boto3 retries by itself in `standard` mode: throttling (ProvisionedThroughputExceeded,
  ThrottlingException, RequestLimitExceeded), 5xx answers and connection errors, with
  exponential backoff and full jitter, MAX_ATTEMPTS attempts in all. Each attempt may take
  CONNECT_TIMEOUT_SECONDS to connect and READ_TIMEOUT_SECONDS per read (DynamoDB answers in
  milliseconds; a socket silent for 2 s is a failure, not a slow answer).
- Those bounds alone could outlast the function: 3 attempts of 3 s each and up to 3 s of
  backoff are 12 s, against the function's 10 s timeout, and a request may make several
  calls. So every request has a deadline, the function's own remaining time (from the Lambda
  context, so it follows `timeout_seconds` in components/function.py) minus
  ANSWER_MARGIN_SECONDS to answer in; an attempt that could not finish before it is not
  started (`Deadline.check`, on botocore's `before-send` event). The request then answers
  503 in time instead of being cut off by Lambda's timeout (a 502/504 from API Gateway that
  says nothing).
- `unavailable(err)`: what is worth retrying later, looked for through the exception's
  causes (Powertools' idempotency utility wraps the table's errors in its own).

Stdlib and botocore only (the Lambda runtime provides botocore).
"""

from __future__ import annotations

import time
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
MAX_ATTEMPTS = 3  # the first call and two retries
ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS  # the longest one attempt takes
ANSWER_MARGIN_SECONDS = 1.0
RETRY_AFTER_SECONDS = 1  # what a 503 tells the client to wait

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
)

# DynamoDB error codes that say "not now": throttling, and its own internal failures.
UNAVAILABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
})


class OutOfTime(Exception):
    """The request's deadline leaves no time for another attempt at the table."""


class Deadline:
    """The time the current request may still spend on AWS calls."""

    def __init__(self, clock: Any = time.monotonic):
        self._clock = clock
        self._until: float | None = None

    def start(self, remaining_ms: int | None) -> None:
        """A new request: `remaining_ms` is the Lambda context's get_remaining_time_in_millis()."""
        self._until = (None if remaining_ms is None
                       else self._clock() + remaining_ms / 1000 - ANSWER_MARGIN_SECONDS)

    def left(self) -> float | None:
        return None if self._until is None else self._until - self._clock()

    def check(self, **_: Any) -> None:
        """botocore's before-send hook: refuse an attempt that could outlast the deadline."""
        left = self.left()
        if left is not None and left < ATTEMPT_SECONDS:
            raise OutOfTime(f"{max(left, 0):.1f} s left before the function must answer, "
                            f"an attempt may take {ATTEMPT_SECONDS:.0f} s")


DEADLINE = Deadline()


def bounded(client: Any) -> Any:
    """A boto3 client (made with CLIENT_CONFIG) whose every attempt checks DEADLINE."""
    client.meta.events.register("before-send.dynamodb", DEADLINE.check)
    return client


def _causes(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def unavailable(err: BaseException) -> bool:
    """Whether the failure is the table being throttled, down, unreachable or too slow."""
    for cause in _causes(err):
        if isinstance(cause, OutOfTime | ConnectionError | HTTPClientError):
            return True
        if isinstance(cause, ClientError) and (
            cause.response.get("Error", {}).get("Code") in UNAVAILABLE_CODES
            or cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
        ):
            return True
    return False
