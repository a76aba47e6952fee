"""What browsers are told about calling the API from the site's origin (CORS), as plain values.

The API's preflights and gateway responses (components/api.py) and the functions' answers
(handlers/app.py, from CORS_ALLOW_ORIGIN) carry these headers, so a browser can send the
site's signed calls and read every answer, refusals included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import access

# What the browser app sends: SigV4 headers, the user's ID token, an add's Idempotency-Key.
CORS_ALLOW_HEADERS = (
    "Authorization,Content-Type,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256,X-Id-Token,"
    "Idempotency-Key"
)
# What a browser's script may read of an answer besides the CORS-safelisted headers: how
# long to wait before a retry.
CORS_EXPOSE_HEADERS = "Retry-After"
CORS_MAX_AGE_SECONDS = 600

Origin = TypeVar("Origin")  # a plain origin, or a Pulumi Output of one


def allowed_methods(routes: Sequence[access.Route]) -> str:
    """Access-Control-Allow-Methods for these routes (with the preflight itself)."""
    return ",".join(sorted({r.method for r in routes} | {"OPTIONS"}))


def cors_headers(origin: Origin, methods: str) -> dict[str, Origin | str]:
    """The headers of a preflight's answer (and of every gateway response)."""
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
    }
