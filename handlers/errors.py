"""Errors a caller can act on; each becomes `{"error": message}` with its status."""

from __future__ import annotations


class ApiError(Exception):
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class InvalidToken(Exception):
    """The ID token must not be trusted; the message says why (safe to return)."""


class IssuerUnavailable(Exception):
    """The issuer's keys could not be fetched, so no token can be checked now."""
