"""The one base of every harness failure, and the failure of a program run under mocks.

The CLI (`python -m devstack`) catches HarnessError in one place (its `main`) and
prints its message, which says what failed and what to do, without a traceback.
"""

from __future__ import annotations

from typing import Any


class HarnessError(RuntimeError):
    """A harness job failed; the message names what failed and what to do next."""


class ProgramRunError(HarnessError):
    """Running the program under the mock runtime failed: the program raised, there is no
    program, or it did not finish in time. `resources`: what the Mocks had created (for
    cleanup and diagnosis; nothing is rolled back, as by `pulumi up`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.resources: list[Any] = []
