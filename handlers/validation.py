"""Requests turned into checked values, or a 400 that says what is wrong.

The rules are handlers/shapes.py's schemas, checked with `shapes.problems`: the same
objects openapi.json and API Gateway's request models are made of. This is the second
check (API Gateway's validator is the first); it also covers what a schema cannot say
the same way everywhere (JSON text, NaN, decimal places).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pages
import shapes
from errors import BadRequest

MAX_BODY_BYTES = shapes.MAX_BODY_BYTES
MAX_TYPE_LENGTH = shapes.MAX_TYPE_LENGTH
MAX_PRICE = Decimal(shapes.MAX_PRICE)


@dataclass(frozen=True)
class NewPet:
    type: str
    price: Decimal


@dataclass(frozen=True)
class PageRequest:
    limit: int
    before: str | None  # list the pets strictly before this listOrder; None: the first page


def _json(body: str | None) -> Any:
    if body is None or not body.strip():
        raise BadRequest("request body must be a JSON object")
    if len(body.encode()) > MAX_BODY_BYTES:
        raise BadRequest(f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as err:
        raise BadRequest(f"request body is not valid JSON: {err}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def checked(schema: shapes.Schema, value: Any, name: str = "request body") -> Any:
    """value if it satisfies the schema, else BadRequest with the first problem."""
    found = shapes.problems(schema, value, name)
    if found:
        raise BadRequest(found[0])
    return value


def pet_id(value: Any) -> str:
    """Pet ids are the UUIDs this API assigns (canonical lowercase form)."""
    return checked(shapes.PET_ID, value, "petId").lower()


def new_pet(body: str | None) -> NewPet:
    raw = checked(shapes.NEW_PET, _json(body))
    # Only spaces: the schema already refused every other blank or control character.
    return NewPet(raw["type"].strip(" "), Decimal(str(raw["price"])))


def fingerprint(pet: NewPet) -> dict[str, str]:
    """What makes two adds the same request (for the Idempotency-Key): the checked values,
    so `1`, `1.0` and `1.00` are one price and surrounding spaces are no difference."""
    return {"type": pet.type, "price": str(pet.price.normalize())}


def purchase(body: str | None) -> str:
    return pet_id(checked(shapes.PURCHASE, _json(body))["petId"])


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadRequest(f"{name} must be given at most once")
    return values[0] if values else None


def page_request(params: Mapping[str, Sequence[str]] | None) -> PageRequest:
    """`limit` and `cursor` of GET /pets (multi-value query parameters, as API Gateway
    passes them), strictly: a limit is written in plain decimal digits."""
    params = params or {}
    raw_limit = _one(params, "limit")
    limit = shapes.DEFAULT_PAGE_SIZE
    if raw_limit is not None:
        if not re.fullmatch(r"[0-9]{1,4}", raw_limit) or not (
            shapes.LIMIT.schema["minimum"] <= int(raw_limit) <= shapes.LIMIT.schema["maximum"]
        ):
            raise BadRequest(f"limit must be an integer from 1 to {shapes.MAX_PAGE_SIZE}; "
                             f"got {raw_limit[:20]!r}")
        limit = int(raw_limit)
    raw_cursor = _one(params, "cursor")
    before = None
    if raw_cursor is not None:
        try:
            before = pages.decode(raw_cursor)
        except pages.BadCursor:
            raise BadRequest("cursor is not one this API returned: pass a page's nextCursor "
                             "unchanged, or leave it out for the first page") from None
    return PageRequest(limit, before)
