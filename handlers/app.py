"""The pets API routes. One resolver; every route's Lambda uses `app.handler`.

API Gateway has already enforced AWS_IAM (the caller's role may call the
route) before a request reaches here. Route function names match
`Route.handler` in access.py.

Every answer is JSON, with CORS headers:
- a refusal the caller can act on: 4xx `{"error": ...}` (errors.py);
- the table throttled, unavailable or too slow (after boto3's own bounded retries, within
  the request's deadline: aws_calls.py), or the issuer's keys out of reach: 503 with
  Retry-After;
- anything else: 500, logged with the request ids (Powertools Logger: the Lambda request id
  and API Gateway's as the correlation id), which the answer names.
Every pet in an answer shows only what the caller may read (readers.py, access.PET_FIELDS).
"""

from __future__ import annotations

import functools
import json
import os
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

import aws_calls
import idempotency
import pages
import validation
from errors import (
    ApiError,
    BadRequest,
    InvalidToken,
    IssuerUnavailable,
    NotFound,
    Unauthorized,
)
from pet_store import PetStore
from readers import Reader, Rules, account_of

if TYPE_CHECKING:
    from id_tokens import IdTokenVerifier, TokenUser

ID_TOKEN_HEADER = "X-Id-Token"  # noqa: S105 (a header name)
RETRY_AFTER_HEADER = "Retry-After"

logger = Logger(service="pets")
app = APIGatewayRestResolver(
    cors=CORSConfig(
        allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
        allow_headers=["X-Amz-Content-Sha256", ID_TOKEN_HEADER, idempotency.HEADER],
        # Without it a browser's script cannot read Retry-After on a cross-origin answer.
        expose_headers=[RETRY_AFTER_HEADER],
        max_age=600,
    ),
)


# Built on first use and kept for the container's life (connections, JWKS).
@functools.cache
def store() -> PetStore:
    table = boto3.resource("dynamodb", config=aws_calls.CLIENT_CONFIG).Table(
        os.environ["TABLE_NAME"])
    aws_calls.bounded(table.meta.client)
    return PetStore(table)


@functools.cache
def verifier() -> IdTokenVerifier:
    # Imported here: only requests with an ID token need JOSE, and jwcrypto plus
    # cryptography are a third of the other functions' cold-start imports.
    from id_tokens import IdTokenVerifier

    return IdTokenVerifier(os.environ["OIDC_ISSUER"], os.environ["OIDC_CLIENT_ID"])


@functools.cache
def read_rules() -> Rules:
    return Rules.from_environment()


def _json(status: int, body: Any, retry_after: int | None = None) -> Response:
    headers = {} if retry_after is None else {RETRY_AFTER_HEADER: str(retry_after)}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body), headers=headers)


def _caller() -> str | None:
    """The SigV4 caller API Gateway authenticated (assumed-role ARN)."""
    return app.current_event.request_context.identity.user_arn


def _verified(token: str | None) -> TokenUser:
    """The user of an ID token, verified, or 401."""
    try:
        return verifier().verify(token)
    except InvalidToken as err:
        raise Unauthorized(f"{err}; send the user's ID token in {ID_TOKEN_HEADER}") from None


def _optional_user() -> TokenUser | None:
    """The user of X-Id-Token where it is optional: None without one. A token that is sent
    is always verified: a bad one is 401, never ignored."""
    token = app.current_event.headers.get(ID_TOKEN_HEADER)
    return _verified(token) if token else None


def _reader(user: TokenUser | None) -> Reader:
    account = account_of(getattr(app.lambda_context, "invoked_function_arn", None))
    return read_rules().reader(_caller(), account, user.sub if user else None)


def _header_values(name: str) -> list[str]:
    wanted = name.lower()
    found = app.current_event.multi_value_headers or {}
    return [v for k, values in found.items() if k.lower() == wanted for v in values or ()]


@app.get("/pets")
def list_pets() -> Response:
    event = app.current_event
    # Every value of a repeated parameter, so `limit=1&limit=500` is refused, not guessed at.
    params = event.multi_value_query_string_parameters or {
        k: [v] for k, v in (event.query_string_parameters or {}).items()}
    request = validation.page_request(params)
    reader = _reader(_optional_user())
    pets, last = store().page(request.limit, request.before)
    body: dict[str, Any] = {"pets": [reader.view(p) for p in pets]}
    if last is not None:
        body["nextCursor"] = pages.encode(last)
    return _json(200, body)


def _idempotency_scope(user: TokenUser | None) -> str:
    """Whose keys these are. The verified ID token's subject when one is sent: one person,
    whatever credentials they hold (the site renews them), and two admins never share it.
    Else the SigV4 session's access key, which STS issued for one AssumeRole call and the
    client cannot choose (the role session name it can); a retry with renewed credentials
    is then a new request."""
    if user is not None:
        return f"sub:{user.sub}"
    access_key = app.current_event.request_context.identity.access_key
    if not access_key:
        raise BadRequest(f"{idempotency.HEADER} needs a SigV4-signed call or the user's ID "
                         f"token in {ID_TOKEN_HEADER}")
    return f"session:{access_key}"


@app.post("/pets")
def add_pet() -> Response:
    new = validation.new_pet(app.current_event.body)
    try:
        key = idempotency.key_of(_header_values(idempotency.HEADER))
    except idempotency.BadKey as err:
        raise BadRequest(str(err)) from None
    user = _optional_user()

    def add() -> dict[str, Any]:
        pet = store().add(new)
        logger.info("pet added", extra={"petId": pet["petId"], "caller": _caller(),
                                        "idempotencyKey": key})
        return pet

    if key is None:
        pet = add()
    else:
        pet = idempotency.once(key, _idempotency_scope(user), validation.fingerprint(new), add,
                               app.lambda_context)
    return _json(201, _reader(user).view(pet))


@app.delete("/pets/<petId>")
def remove_pet(petId: str) -> Response:  # noqa: N803 (the path parameter's name)
    pet = store().remove(validation.pet_id(petId))
    logger.info("pet removed", extra={"petId": pet["petId"], "caller": _caller()})
    return _json(200, _reader(None).view(pet))


@app.post("/pets/purchase")
def purchase_pet() -> Response:
    buyer = _verified(app.current_event.headers.get(ID_TOKEN_HEADER))
    pet, sold_now = store().purchase(validation.purchase(app.current_event.body), buyer)
    # The token names the buyer; the SigV4 caller is only "some buyer" to IAM.
    logger.info("pet sold" if sold_now else "purchase repeated by its buyer",
                extra={"petId": pet["petId"], "buyerSub": buyer.sub, "caller": _caller()})
    return _json(200, _reader(buyer).view(pet))


@app.exception_handler(ApiError)
def api_error(err: ApiError) -> Response:
    logger.info("request refused", extra={"status": err.status, "reason": err.message})
    return _json(err.status, {"error": err.message}, err.retry_after)


@app.exception_handler(IssuerUnavailable)
def issuer_unavailable(err: IssuerUnavailable) -> Response:
    logger.error("cannot verify ID tokens", extra={"reason": str(err)})
    return _json(503, {"error": "cannot verify ID tokens right now; try again later"},
                 aws_calls.RETRY_AFTER_SECONDS)


@app.not_found
def no_route(_: NotFound | Exception) -> Response:
    return _json(404, {"error": "no such route"})


@app.exception_handler(Exception)
def unexpected(err: Exception) -> Response:
    if aws_calls.unavailable(err):
        logger.warning("table unavailable", extra={"reason": repr(err)})
        return _json(503, {"error": "the pets table is busy or unavailable; try again later"},
                     aws_calls.RETRY_AFTER_SECONDS)
    logger.exception("unexpected error")
    request_id = app.current_event.request_context.request_id
    return _json(500, {"error": f"internal error (request {request_id})"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    aws_calls.DEADLINE.start(context.get_remaining_time_in_millis())
    response = app.resolve(event, context)
    # One line per request; it also lets the runtime flush promptly.
    logger.info("request handled", extra={
        "route": f"{event.get('httpMethod')} {event.get('resource')}",
        "status": response.get("statusCode"),
    })
    return response
