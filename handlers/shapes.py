"""The API's shapes, declared once: request bodies, responses, errors, parameters.

Everything that states what a request or response looks like comes from here:
- openapi.json (policy/openapi_doc.py renders it with access.py's routes and classes);
- API Gateway's request models and validators (components/api_models.py), so a
  malformed body is refused before a function runs;
- the functions' own checks (validation.py runs `problems` on these very objects),
  which stay as the second check when the gateway's is absent or differs.

Schemas use the JSON Schema subset that OpenAPI 3.0 and API Gateway's draft-04 models
share (boolean exclusiveMinimum, no type arrays), so one object serves all three.
`x-` keywords are OpenAPI extensions, dropped from gateway models (see `draft4`); the one
a function enforces is `x-maxDecimalPlaces`: JSON Schema's `multipleOf: 0.01` is computed
in binary floating point by common validators (0.07 fails it), so it would not mean the
same thing in every checker.

Stdlib only: this module ships in the Lambda package (handlers/*.py) and is imported
by the Pulumi program as `handlers.shapes`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

Schema = dict[str, Any]

MAX_BODY_BYTES = 8 * 1024
MAX_TYPE_LENGTH = 64
MAX_PRICE = 1_000_000
PRICE_DECIMAL_PLACES = 2
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 128

# No `$` anywhere: Python's `$` also matches before a final newline, ECMA's and Java's do
# not. Both patterns are start-anchored and say "nothing but ..." with a lookahead, which
# every engine reads the same way (Python for MiniStack and jsonschema, Java for AWS).
_CONTROL = r"\u0000-\u001F\u007F-\u009F"
TYPE_PATTERN = rf"^(?![\s\S]*[{_CONTROL}])[\s\S]*[^ {_CONTROL}]"
UUID_PATTERN = (r"^(?![\s\S]{37})[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
CURSOR_PATTERN = r"^(?![\s\S]*[^A-Za-z0-9_-])[A-Za-z0-9_-]+"

EXAMPLE_PET_ID = "0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"
EXAMPLE_CURSOR = ("MjAyNi0xMi0wMVQxODozMDowMC4xMjNaIzBiNGMxZjdlLTU5YTMtNGY0My05ZDRjLTNmN2Q3"
                  "YzBlMmExMQ")

PET_ID: Schema = {
    "type": "string",
    "description": "a pet id as the API assigns it (a UUID)",
    "pattern": UUID_PATTERN,
    "x-means": "a pet id as returned by the API (a UUID)",
    "example": EXAMPLE_PET_ID,
}

NEW_PET: Schema = {
    "type": "object",
    "description": "a pet to add",
    "required": ["type", "price"],
    "additionalProperties": False,
    "properties": {
        "type": {
            "type": "string",
            "description": "what kind of pet; surrounding spaces are trimmed",
            "minLength": 1,
            "maxLength": MAX_TYPE_LENGTH,
            "pattern": TYPE_PATTERN,
            "x-means": "not blank and without control characters",
            "example": "dog",
        },
        "price": {
            "type": "number",
            "description": f"in the shop's currency, at most {PRICE_DECIMAL_PLACES} decimal places",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": MAX_PRICE,
            "x-maxDecimalPlaces": PRICE_DECIMAL_PLACES,
            "example": 249.99,
        },
    },
    "example": {"type": "dog", "price": 249.99},
}

PURCHASE: Schema = {
    "type": "object",
    "description": "the pet to buy; the buyer is the user of the X-Id-Token ID token",
    "required": ["petId"],
    "additionalProperties": False,
    "properties": {"petId": PET_ID},
    "example": {"petId": EXAMPLE_PET_ID},
}

_TIMESTAMP: Schema = {"type": "string", "format": "date-time",
                      "example": "2026-12-01T18:30:00.123Z"}

PET: Schema = {
    "type": "object",
    "description": (
        "a pet as the API returns it: sold, and soldAt, once it is sold. Who bought it "
        "(soldTo, buyerSub) is shown only to the classes that manage the shop and to the "
        "buyer themself, recognised by a verified ID token in X-Id-Token; each property's "
        "x-pets-readers says who reads it (access.PET_FIELDS)"),
    "required": ["petId", "type", "price", "createdAt", "sold"],
    "additionalProperties": False,
    "properties": {
        "petId": PET_ID,
        "type": {"type": "string", "minLength": 1, "maxLength": MAX_TYPE_LENGTH,
                 "example": "dog"},
        "price": {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                  "maximum": MAX_PRICE, "example": 249.99},
        "createdAt": _TIMESTAMP,
        "sold": {"type": "boolean", "description": "whether someone bought it",
                 "example": False},
        "soldAt": {**_TIMESTAMP, "description": "when it was sold"},
        "soldTo": {"type": "string", "description": "the buyer's email (or sub without one)",
                   "example": "bob@example.com"},
        "buyerSub": {"type": "string", "description": "the buyer's OIDC subject",
                     "example": "google-oauth2|104857600123456789012"},
    },
    "example": {"petId": EXAMPLE_PET_ID, "type": "dog", "price": 249.99,
                "createdAt": "2026-12-01T18:30:00.123Z", "sold": False},
}

PET_PAGE: Schema = {
    "type": "object",
    "description": (
        "one page of pets, newest first (by createdAt, then petId, descending): the first "
        "page shows the pets added last. Following nextCursor from the first page to the "
        "last lists every pet that existed when the first page was read, and was not "
        "removed, exactly once; pets added meanwhile come on the next first page (at most "
        "once, never twice, in a listing already under way)"
    ),
    "required": ["pets"],
    "additionalProperties": False,
    "properties": {
        "pets": {"type": "array", "items": PET, "maxItems": MAX_PAGE_SIZE},
        "nextCursor": {
            "type": "string",
            "description": "pass as `cursor` for the next page (the pets before this page's "
                           "last, older ones); absent on the last page",
            "maxLength": MAX_CURSOR_LENGTH,
            "pattern": CURSOR_PATTERN,
        },
    },
    "example": {"pets": [{"petId": EXAMPLE_PET_ID, "type": "dog", "price": 249.99,
                          "createdAt": "2026-12-01T18:30:00.123Z", "sold": False}],
                "nextCursor": EXAMPLE_CURSOR},
}

ERROR: Schema = {
    "type": "object",
    "description": "every refusal, from the function or from API Gateway itself",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {"error": {"type": "string", "minLength": 1}},
    "example": {"error": "price must be greater than 0"},
}

# Named schemas: openapi.json's components.schemas and the gateway's model names.
SCHEMAS: Mapping[str, Schema] = {
    "NewPet": NEW_PET, "Purchase": PURCHASE, "Pet": PET, "PetPage": PET_PAGE, "Error": ERROR,
}


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "query", "path" or "header"
    schema: Schema
    description: str
    required: bool = False
    example: Any = None


@dataclass(frozen=True)
class RouteShape:
    """What one route takes and answers. Keys are access.Route ids (`METHOD /path`)."""

    summary: str
    responses: Mapping[int, tuple[str, str]]  # status -> (schema name, when)
    body: str | None = None  # schema name of the JSON request body
    parameters: tuple[Parameter, ...] = ()
    examples: Mapping[int, Any] = field(default_factory=dict)  # status -> example body
    retry_after: frozenset[int] = frozenset()  # statuses whose answer carries Retry-After


LIMIT = Parameter(
    "limit", "query",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
    f"pets per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}); anything else is 400",
    example=DEFAULT_PAGE_SIZE,
)
CURSOR = Parameter(
    "cursor", "query",
    {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR_LENGTH, "pattern": CURSOR_PATTERN},
    "the nextCursor of the previous page, unchanged: the page lists the pets strictly "
    "before (older than) that page's last; any other value is 400",
    example=EXAMPLE_CURSOR,
)
PET_ID_PARAMETER = Parameter("petId", "path", PET_ID, "the pet's id", required=True,
                             example=EXAMPLE_PET_ID)
ID_TOKEN = Parameter(
    "X-Id-Token", "header", {"type": "string"},
    "the buyer's OIDC ID token (RS256/ES256, from the stack's issuer, for its client); "
    "the function verifies it and records the buyer",
    required=True,
)
ID_TOKEN_TO_READ = Parameter(
    "X-Id-Token", "header", {"type": "string"},
    "optional: the caller's OIDC ID token; verified (a bad one is 401), it shows the "
    "caller's own purchases with who bought them (soldTo, buyerSub)",
)
IDEMPOTENCY_KEY_EXPIRES_HOURS = 24  # handlers/idempotency.py EXPIRES_AFTER_SECONDS
IDEMPOTENCY_KEY = Parameter(
    "Idempotency-Key", "header", {"type": "string", "maxLength": 257},
    "optional (IETF httpapi draft \"The Idempotency-Key HTTP Header Field\"): a fresh random "
    "key (a UUID) per add, quoted (`\"...\"`) or bare, up to 255 characters; the same key "
    "when retrying that add. The same key with the same body gives the first answer again "
    "(its status and body) and adds nothing; with another body, 422; while the first "
    "request still runs, 409 with Retry-After. Keys are kept per caller (the verified "
    "X-Id-Token's subject when sent, else the SigV4 session) for "
    f"{IDEMPOTENCY_KEY_EXPIRES_HOURS} hours after their answer",
    example='"8e03978e-40d5-43e8-bc93-6894a57f9324"',
)
ID_TOKEN_TO_SCOPE = Parameter(
    "X-Id-Token", "header", {"type": "string"},
    "optional: the caller's OIDC ID token; verified (a bad one is 401), its subject scopes "
    "the Idempotency-Key to the person (else to the SigV4 session, which renewed "
    "credentials change)",
)

# Statuses every AWS_IAM route may answer without its function running.
GATEWAY_RESPONSES: Mapping[int, tuple[str, str]] = {
    403: ("Error", "missing, invalid or expired SigV4 signature, or the caller's role may "
                   "not call this route"),
    429: ("Error", "throttled by the stage's rate limits; retry after Retry-After seconds"),
    500: ("Error", "unexpected failure; the message names the request id"),
    502: ("Error", "the function failed (it crashed or ran out of time): retry. API Gateway "
                   "answers with the gateway response DEFAULT_5XX (MiniStack: plain text)"),
    504: ("Error", "API Gateway could not reach the function, or it did not answer in time "
                   "(INTEGRATION_FAILURE, INTEGRATION_TIMEOUT): retry after Retry-After "
                   "seconds"),
}
GATEWAY_RETRY_AFTER = frozenset({429, 504})
GATEWAY_EXAMPLES: Mapping[int, Any] = {
    403: {"error": "User: arn:aws:sts::123456789012:assumed-role/pets-prod-buyer/bob is not "
                   "authorized to perform: execute-api:Invoke on resource: "
                   "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/v1/POST/pets"},
    429: {"error": "Too Many Requests"},
    500: {"error": "internal error (request 5f1e0c2a-0b7d-4e55-9a3f-2c1d0e9b8a77)"},
    502: {"error": "Internal server error"},
    504: {"error": "Endpoint request timed out"},
}
# Statuses every route's function may answer, whatever the route.
FUNCTION_RESPONSES: Mapping[int, tuple[str, str]] = {
    503: ("Error", "the table is throttled or unavailable (after the function's own bounded "
                   "retries, within its time budget), or the issuer's keys cannot be fetched: "
                   "retry after Retry-After seconds"),
}
FUNCTION_RETRY_AFTER = frozenset({503})
FUNCTION_EXAMPLES: Mapping[int, Any] = {
    503: {"error": "the pets table is busy or unavailable; try again later"},
}
_BAD_BODY = (400, ("Error", "the body does not match the schema (refused by API Gateway's "
                            "request validator, or by the function)"))

ROUTE_SHAPES: Mapping[str, RouteShape] = {
    "GET /pets": RouteShape(
        summary="list pets, one page at a time, newest first",
        parameters=(LIMIT, CURSOR, ID_TOKEN_TO_READ),
        responses={200: ("PetPage", "a page of pets, each with what the caller may read"),
                   400: ("Error", "limit or cursor is not valid"),
                   401: ("Error", "X-Id-Token was sent and is not a valid ID token")},
        examples={400: {"error": f"limit must be an integer from 1 to {MAX_PAGE_SIZE}"},
                  401: {"error": "ID token has expired; send the user's ID token in "
                                 "X-Id-Token"}},
    ),
    "POST /pets": RouteShape(
        summary="add one pet",
        body="NewPet",
        parameters=(IDEMPOTENCY_KEY, ID_TOKEN_TO_SCOPE),
        responses={201: ("Pet", "the pet as stored, with its new petId; with an "
                                "Idempotency-Key used before for the same body, the first "
                                "answer again"),
                   _BAD_BODY[0]: ("Error", _BAD_BODY[1][1] + "; or a malformed "
                                           "Idempotency-Key"),
                   401: ("Error", "X-Id-Token was sent and is not a valid ID token"),
                   409: ("Error", "a request with this Idempotency-Key is still in progress: "
                                  "retry after Retry-After seconds for its answer"),
                   422: ("Error", "this Idempotency-Key was used with another body")},
        examples={400: ERROR["example"],
                  401: {"error": "ID token has expired; send the user's ID token in "
                                 "X-Id-Token"},
                  409: {"error": "a request with Idempotency-Key '8e03978e' is still in "
                                 "progress; retry it after a moment to get its answer"},
                  422: {"error": "Idempotency-Key '8e03978e' was already used with another "
                                 "request body; send a new key for a new request, the same "
                                 "key only to retry the same request"}},
        retry_after=frozenset({409}),
    ),
    "DELETE /pets/{petId}": RouteShape(
        summary="remove one unsold pet",
        parameters=(PET_ID_PARAMETER,),
        responses={200: ("Pet", "the removed pet"),
                   400: ("Error", "petId is not a pet id"),
                   404: ("Error", "no pet with this id"),
                   409: ("Error", "the pet is sold: a sold pet cannot be removed")},
        examples={400: {"error": "petId must be a pet id as returned by the API (a UUID)"},
                  404: {"error": f"no pet with id {EXAMPLE_PET_ID}"},
                  409: {"error": "a sold pet cannot be removed"}},
    ),
    "POST /pets/purchase": RouteShape(
        summary="buy one pet as the user of the X-Id-Token ID token",
        body="Purchase",
        parameters=(ID_TOKEN,),
        responses={200: ("Pet", "the pet, sold to the token's user; a retry by that same "
                                "user gets the same sale again (same soldAt)"),
                   _BAD_BODY[0]: _BAD_BODY[1],
                   401: ("Error", "X-Id-Token is missing or not a valid ID token"),
                   404: ("Error", "no pet with this id"),
                   409: ("Error", "the pet is already sold to someone else")},
        examples={401: {"error": "ID token is missing; send the user's ID token in X-Id-Token"},
                  404: {"error": f"no pet with id {EXAMPLE_PET_ID}"},
                  409: {"error": "pet already sold"}},
    ),
}


def draft4(schema: Schema) -> Schema:
    """The schema as a JSON Schema draft-04 document (API Gateway models): no OpenAPI-only
    keywords (`example`, `x-...`), `$ref`-free, with its `$schema`."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if not (k.startswith("x-") or k == "example")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {"$schema": "http://json-schema.org/draft-04/schema#", **strip(copy.deepcopy(schema))}


# --- the functions' check of a parsed value against a schema above -----------------------

_TYPE_WORDS = {"string": "a string", "number": "a number", "integer": "an integer",
               "object": "a JSON object", "array": "an array", "boolean": "true or false"}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "null":
        return value is None
    raise ValueError(f"schema type {kind!r} is not supported here")


def _decimal_places(value: Any) -> int:
    try:
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
    except InvalidOperation:
        return 0
    return max(0, -exponent) if isinstance(exponent, int) else 0


def problems(schema: Schema, value: Any, name: str = "request body") -> list[str]:
    """What is wrong with value under schema, one clear sentence each (first problem first).

    Implements exactly the keywords this module's schemas use; any other keyword is an
    error here, so a schema cannot gain a rule the functions silently skip.
    """
    known = {"type", "description", "required", "additionalProperties", "properties",
             "minLength", "maxLength", "pattern", "minimum", "exclusiveMinimum", "maximum",
             "items", "maxItems", "default", "example", "x-means",
             "x-maxDecimalPlaces"}
    unknown = set(schema) - known
    if unknown:
        raise ValueError(f"schema keyword(s) {sorted(unknown)} not supported by problems()")
    kind = schema.get("type")
    if kind is not None and not _is_type(value, kind):
        return [f"{name} must be {_TYPE_WORDS[kind]}"]
    found: list[str] = []
    if isinstance(value, dict):
        for required in schema.get("required", ()):
            if required not in value:
                found.append(f"{required} is required")
        properties = schema.get("properties", {})
        if schema.get("additionalProperties", True) is False:
            unknown_fields = sorted(set(value) - set(properties))
            if unknown_fields:
                found.append(f"unknown field(s): {', '.join(unknown_fields)}")
        for key, sub in properties.items():
            if key in value:
                found += problems(sub, value[key], key)
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{name} must not be empty" if schema["minLength"] == 1
                         else f"{name} must be at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{name} must be at most {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{name} must be {schema.get('x-means', 'in the documented form')}")
    if _is_type(value, "number"):
        if "minimum" in schema:
            low = schema["minimum"]
            if schema.get("exclusiveMinimum") and not value > low:
                found.append(f"{name} must be greater than {low}")
            elif not schema.get("exclusiveMinimum") and value < low:
                found.append(f"{name} must be at least {low}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{name} must be at most {schema['maximum']}")
        places = schema.get("x-maxDecimalPlaces")
        if places is not None and _decimal_places(value) > places:
            found.append(f"{name} must have at most {places} decimal places")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{name} must have at most {schema['maxItems']} items")
        for index, item in enumerate(value):
            found += problems(schema.get("items", {}), item, f"{name}[{index}]")
    return found
