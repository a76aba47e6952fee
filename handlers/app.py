"""The pets API routes. One resolver; every route's Lambda uses `app.handler`.

API Gateway has already enforced AWS_IAM (the caller's role may call the
route) before a request reaches here. Route function names match
`Route.handler` in access.py.
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

import pages
import validation
from errors import ApiError, InvalidToken, IssuerUnavailable, NotFound, Unauthorized
from pet_store import PetStore

if TYPE_CHECKING:
    from id_tokens import IdTokenVerifier

ID_TOKEN_HEADER = "X-Id-Token"  # noqa: S105 (a header name)

logger = Logger(service="pets")
app = APIGatewayRestResolver(
    cors=CORSConfig(
        allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
        allow_headers=["X-Amz-Content-Sha256", ID_TOKEN_HEADER],
        max_age=600,
    ),
)


# Built on first use and kept for the container's life (connections, JWKS).
@functools.cache
def store() -> PetStore:
    return PetStore(boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]))


@functools.cache
def verifier() -> IdTokenVerifier:
    # Imported here: only the purchase function needs JOSE, and jwcrypto plus
    # cryptography are a third of the other functions' cold-start imports.
    from id_tokens import IdTokenVerifier

    return IdTokenVerifier(os.environ["OIDC_ISSUER"], os.environ["OIDC_CLIENT_ID"])


def _json(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body))


def _caller() -> str | None:
    """The SigV4 caller API Gateway authenticated (assumed-role ARN)."""
    return app.current_event.request_context.identity.user_arn


@app.get("/pets")
def list_pets() -> Response:
    event = app.current_event
    # Every value of a repeated parameter, so `limit=1&limit=500` is refused, not guessed at.
    params = event.multi_value_query_string_parameters or {
        k: [v] for k, v in (event.query_string_parameters or {}).items()}
    request = validation.page_request(params)
    pets, last = store().page(request.limit, request.before)
    body: dict[str, Any] = {"pets": pets}
    if last is not None:
        body["nextCursor"] = pages.encode(last)
    return _json(200, body)


@app.post("/pets")
def add_pet() -> Response:
    pet = store().add(validation.new_pet(app.current_event.body))
    logger.info("pet added", extra={"petId": pet["petId"], "caller": _caller()})
    return _json(201, pet)


@app.delete("/pets/<petId>")
def remove_pet(petId: str) -> Response:  # noqa: N803 (the path parameter's name)
    pet = store().remove(validation.pet_id(petId))
    logger.info("pet removed", extra={"petId": pet["petId"], "caller": _caller()})
    return _json(200, pet)


@app.post("/pets/purchase")
def purchase_pet() -> Response:
    try:
        buyer = verifier().verify(app.current_event.headers.get(ID_TOKEN_HEADER))
    except InvalidToken as err:
        raise Unauthorized(f"{err}; send the user's ID token in {ID_TOKEN_HEADER}") from None
    pet = store().purchase(validation.purchase(app.current_event.body), buyer)
    # The token names the buyer; the SigV4 caller is only "some buyer" to IAM.
    logger.info("pet sold", extra={"petId": pet["petId"], "buyerSub": buyer.sub,
                                   "caller": _caller()})
    return _json(200, pet)


@app.exception_handler(ApiError)
def api_error(err: ApiError) -> Response:
    logger.info("request refused", extra={"status": err.status, "reason": err.message})
    return _json(err.status, {"error": err.message})


@app.exception_handler(IssuerUnavailable)
def issuer_unavailable(err: IssuerUnavailable) -> Response:
    logger.error("cannot verify ID tokens", extra={"reason": str(err)})
    return _json(503, {"error": "cannot verify ID tokens right now; try again later"})


@app.not_found
def no_route(_: NotFound | Exception) -> Response:
    return _json(404, {"error": "no such route"})


@app.exception_handler(Exception)
def unexpected(err: Exception) -> Response:
    logger.exception("unexpected error")
    return _json(500, {"error": "internal error"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    # One line per request; it also lets the runtime flush promptly.
    logger.info("request handled", extra={
        "route": f"{event.get('httpMethod')} {event.get('resource')}",
        "status": response.get("statusCode"),
    })
    return response
