"""Errors an apply raises. Every one names what failed and says what to do, so a failed
`make up` says which resource of which type broke, why, and where to fix it, without a
stack trace."""

from __future__ import annotations

from collections.abc import Sequence

from harness_core.errors import ProgramRunError

_KINDS_HOME = "devstack/applier/services"


class ApplyError(ProgramRunError):
    """Base class of the apply's own failures; `resources` holds the CreatedResources. The
    program's failure and timeout are harness_core's ProgramError and ApplyTimeoutError."""


class ResourceError(ApplyError):
    """Creating one resource failed."""

    def __init__(self, type_: str, name: str, reason: str) -> None:
        super().__init__(f"{type_} '{name}': {reason}")
        self.type = type_
        self.name = name
        self.reason = reason


class UnsupportedResourceError(ResourceError):
    """The local apply has no kind for this resource type (or cannot do the operation)."""

    def __init__(self, type_: str, name: str, detail: str = "") -> None:
        reason = detail or (
            "resource type not supported by the local apply: declare a ResourceKind for it "
            f"in {_KINDS_HOME}, or turn the feature off in the stack the apply runs"
        )
        super().__init__(type_, name, reason)


class UnsupportedInputError(ResourceError):
    """The program set inputs the kind does not map; applying without them would build
    something other than what the program declares."""

    def __init__(self, type_: str, name: str, inputs: Sequence[str], detail: str = "") -> None:
        listed = ", ".join(sorted(inputs))
        super().__init__(
            type_,
            name,
            f"input(s) {listed} not supported by the local apply: "
            + (detail or f"map them in the kind's `inputs` in {_KINDS_HOME} (a unit test checks "
               "the mapping against botocore), or leave them out of the program"),
        )
        self.inputs = sorted(inputs)


class AwsCallError(ResourceError):
    """The target answered an AWS call with an error."""

    def __init__(self, type_: str, name: str, operation: str, code: str, message: str) -> None:
        super().__init__(
            type_, name, f"{operation} failed: {code}: {message} (AWS's answer: fix the input "
            "it names, or the target's state if the resource exists already)"
        )
        self.operation = operation
        self.code = code
        self.aws_message = message


class UnsupportedInvokeError(ApplyError):
    """The program called a provider function (data source) the local apply cannot answer."""

    def __init__(self, token: str) -> None:
        super().__init__(
            f"invoke {token} not supported by the local apply: answer it in "
            "devstack/applier/mocks.py (_INVOKES) from the target, or avoid it in the program"
        )
        self.token = token


class TargetError(ApplyError):
    """The client factory or the target's STS failed before anything was applied."""


class OrderingError(ApplyError):
    """Resources were created in an order that would deploy something else on AWS."""


class StackFileError(ApplyError):
    """The stack file (Pulumi.<stack>.yaml) cannot be handed to the program."""
