"""Request bodies turned into checked values, or a 400 that says what is wrong."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from errors import BadRequest

MAX_BODY_BYTES = 8 * 1024
MAX_TYPE_LENGTH = 64
MAX_PRICE = Decimal("1000000")


@dataclass(frozen=True)
class NewPet:
    type: str
    price: Decimal


def _object(body: str | None, fields: set[str]) -> dict[str, Any]:
    if body is None or not body.strip():
        raise BadRequest("request body must be a JSON object")
    if len(body.encode()) > MAX_BODY_BYTES:
        raise BadRequest(f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as err:
        raise BadRequest(f"request body is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise BadRequest("request body must be a JSON object")
    unknown = set(value) - fields
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def pet_id(value: Any) -> str:
    """Pet ids are the UUIDs this API assigns (canonical lowercase form)."""
    if isinstance(value, str) and len(value) == 36:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise BadRequest("petId must be a pet id as returned by the API (a UUID)")


def new_pet(body: str | None) -> NewPet:
    raw = _object(body, {"type", "price"})
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise BadRequest("type is required: a non-empty string")
    kind = kind.strip()
    if len(kind) > MAX_TYPE_LENGTH:
        raise BadRequest(f"type must be at most {MAX_TYPE_LENGTH} characters")
    if not kind.isprintable():
        raise BadRequest("type must not contain control characters")
    price = raw.get("price")
    if "price" not in raw:
        raise BadRequest("price is required: a number greater than 0")
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price):
        raise BadRequest("price must be a number")
    amount = Decimal(str(price))
    if amount <= 0:
        raise BadRequest("price must be greater than 0")
    if amount > MAX_PRICE:
        raise BadRequest(f"price must be at most {MAX_PRICE}")
    if amount.as_tuple().exponent < -2:
        raise BadRequest("price must have at most 2 decimal places")
    return NewPet(kind, amount)


def purchase(body: str | None) -> str:
    raw = _object(body, {"petId"})
    if "petId" not in raw:
        raise BadRequest("petId is required")
    return pet_id(raw["petId"])
