"""The dev stack's one error type; the CLI prints its message, which says what to do."""

from __future__ import annotations

from harness_core.errors import HarnessError


class DevstackError(HarnessError):
    """A dev-stack service could not be started, reached or stopped; the message says why."""
