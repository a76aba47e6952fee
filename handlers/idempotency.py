"""Retry-safe requests: the `Idempotency-Key` header (IETF httpapi draft "The
Idempotency-Key HTTP Header Field") kept by Powertools' idempotency utility in a DynamoDB
table of its own.

A client that sends the same key again (its answer was lost, it timed out, it retried a
503) gets the first answer again, and nothing is done twice:
- same key, same caller, same request: the first answer (its status and body), replayed;
- same key, same caller, another request: 422, the key is bound to its first request;
- same key while the first request still runs: 409 with Retry-After;
- a key is kept EXPIRES_AFTER_SECONDS after its answer; then it is free again. A request
  that was cut off (the function timed out) holds its key only until the function's own
  deadline (Powertools' in-progress expiry, from the Lambda context).

Keys are scoped per caller (`scope`): the same key from two people is two keys. What the
request is, for "same request", is the checked request (validation.py), not its text:
`{"price": 1, "type": "dog"}` and `{"type":"dog","price":1.0}` are the same add.

The attribute names are Powertools' DynamoDBPersistenceLayer defaults, declared here once:
the table (components/table.py) is keyed on KEY_ATTRIBUTE and expires items by TTL on
EXPIRY_ATTRIBUTE. Stdlib only at import: the Pulumi program imports this module (as
`handlers.idempotency`) for those names; Powertools and boto3 load on the first keyed request.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

HEADER = "Idempotency-Key"
TABLE_ENV = "IDEMPOTENCY_TABLE_NAME"
KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"  # epoch seconds; the table's TTL attribute
EXPIRES_AFTER_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255
IN_PROGRESS_RETRY_AFTER_SECONDS = 1

# The draft's field value is a Structured Field string: printable ASCII in double quotes
# (`\"` and `\\` escaped). A bare token of visible characters is taken too: many clients
# send keys unquoted, and a bare key cannot mean anything else.
_QUOTED = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BARE = re.compile(r'[\x21\x23-\x5b\x5d-\x7e]+')
KEY_RULE = (f"1 to {MAX_KEY_LENGTH} printable ASCII characters, as a quoted string "
            '(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`) or bare; a fresh random one (a UUID) '
            "per request, the same one when retrying it")


class BadKey(ValueError):
    """The header is not a key; the message says what to send."""


def key_of(values: Sequence[str] | None) -> str | None:
    """The Idempotency-Key a request carries (every value API Gateway received), or None."""
    if not values:
        return None
    if len(values) > 1:
        raise BadKey(f"{HEADER} must be sent once")
    raw = values[0].strip(" \t")
    quoted = _QUOTED.fullmatch(raw)
    if quoted:
        key = re.sub(r"\\(.)", r"\1", quoted[1])
    elif _BARE.fullmatch(raw):
        key = raw
    else:
        raise BadKey(f"{HEADER} must be {KEY_RULE}")
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadKey(f"{HEADER} must be {KEY_RULE}")
    return key


class Utility(NamedTuple):
    run: Callable[..., Any]  # the idempotent function
    config: Any  # its IdempotencyConfig
    client: Any  # the boto3 DynamoDB client of its persistence layer


@functools.cache
def utility() -> Utility:
    """The utility, built on the first keyed request and kept for the container's life."""
    import boto3
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    import aws_calls

    client = aws_calls.bounded(boto3.client("dynamodb", config=aws_calls.CLIENT_CONFIG))
    persistence = DynamoDBPersistenceLayer(
        table_name=os.environ[TABLE_ENV], key_attr=KEY_ATTRIBUTE,
        expiry_attr=EXPIRY_ATTRIBUTE, boto3_client=client)
    config = IdempotencyConfig(
        event_key_jmespath="[scope, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        hash_function="sha256",
    )

    @idempotent_function(data_keyword_argument="call", persistence_store=persistence,
                         config=config)
    def once(call: Mapping[str, Any], act: Callable[[], Any]) -> Any:
        return act()

    return Utility(once, config, client)


def once(key: str, scope: str, request: Mapping[str, Any], act: Callable[[], Any],
         lambda_context: Any) -> Any:
    """act()'s answer, run at most once per (scope, key) while the key is kept.

    act's answer must be JSON (it is stored and replayed as it is). Raises Conflict (still
    in progress), UnprocessableContent (another request), Unavailable; a failure of the
    table itself propagates (aws_calls.unavailable tells 503 from 500).
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyValidationError,
    )

    from errors import Conflict, Unavailable, UnprocessableContent

    run, config, _ = utility()
    # The in-progress record expires when this invocation would time out.
    config.register_lambda_context(lambda_context)
    try:
        return run(call={"scope": scope, "key": key, "request": dict(request)}, act=act)
    except IdempotencyValidationError:
        raise UnprocessableContent(
            f"{HEADER} {key!r} was already used with another request body; send a new key "
            "for a new request, the same key only to retry the same request") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(f"a request with {HEADER} {key!r} is still in progress; retry it "
                       "after a moment to get its answer",
                       retry_after=IN_PROGRESS_RETRY_AFTER_SECONDS) from None
    except IdempotencyInconsistentStateError:
        raise Unavailable(f"the record of {HEADER} {key!r} changed while it was read; retry",
                          retry_after=IN_PROGRESS_RETRY_AFTER_SECONDS) from None
