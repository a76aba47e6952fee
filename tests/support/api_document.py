"""openapi.json as clients and the gateway get it, read for the handlers' contract tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import access

DOC = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())
SCHEMAS = DOC["components"]["schemas"]


def documented_schema(route: access.Route, status: int) -> dict[str, Any]:
    """The schema the document gives this route's answer with this status."""
    responses = DOC["paths"][route.path][route.method.lower()]["responses"]
    assert str(status) in responses, f"{route.id} answered {status}, which is not documented"
    ref = responses[str(status)]["content"]["application/json"]["schema"]["$ref"]
    return SCHEMAS[ref.rsplit("/", 1)[1]]


def documented_retry_after(route: access.Route, status: int) -> bool:
    """Whether the document says this answer carries Retry-After."""
    responses = DOC["paths"][route.path][route.method.lower()]["responses"]
    return "Retry-After" in responses[str(status)].get("headers", {})
