"""Errors a caller can act on; each becomes `{"error": message}` with its status."""

from __future__ import annotations


class ApiError(Exception):
    status = 500

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        # Seconds a client should wait before trying again (the Retry-After header).
        self.retry_after = retry_after


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class UnprocessableContent(ApiError):
    """The request is well formed but contradicts an earlier one (a reused Idempotency-Key)."""

    status = 422


class Unavailable(ApiError):
    """A dependency is throttled, down or too slow now; the same request may succeed later."""

    status = 503


class InvalidToken(Exception):
    """The ID token must not be trusted; the message says why (safe to return)."""


class IssuerUnavailable(Exception):
    """The issuer's keys could not be fetched, so no token can be checked now."""
