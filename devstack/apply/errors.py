"""Errors an apply raises. Every one names what failed and says what to do, so a failed
`make up` says which resource of which type broke, why, and where to fix it, without a
stack trace. Each carries `.resources`: what was created before it (no rollback)."""

from __future__ import annotations

from harness_core.errors import ProgramRunError

KINDS_HOME = "devstack/apply/services"


class ApplyError(ProgramRunError):
    """The apply failed: the target, the stack file, an invoke, the creation order."""


class ResourceError(ApplyError):
    """Creating one resource failed: its type or an input is not supported, AWS refused a
    call, or an AWS check the emulator skips failed."""

    def __init__(self, type_: str, name: str, reason: str) -> None:
        super().__init__(f"{type_} '{name}': {reason}")
        self.type = type_
        self.name = name
