"""What an apply returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devstack.apply.jitter import Jitter


@dataclass(frozen=True)
class CreatedResource:
    """One resource created in the target, in completion order.

    started/finished are ticks of one counter shared by every registration of the apply:
    a resource whose `finished` is below another's `started` was created before it.
    """

    type: str
    name: str  # the program's logical name
    id: str  # the provider id (what `resource.id` resolves to)
    outputs: dict[str, Any]  # the state returned to the program: inputs + computed outputs
    started: int
    finished: int


@dataclass
class ApplyResult:
    outputs: dict[str, Any]  # the stack's exports, resolved
    resources: list[CreatedResource]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    jitter: Jitter | None = None  # the delays the creates had (its seed replays them)
