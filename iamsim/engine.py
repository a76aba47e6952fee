"""Bridge to iamsim/simulate.mjs: one Node process per batch of IAM simulation requests.

The evaluation itself is done by the npm package @cloud-copilot/iam-simulate (pinned in
iamsim/package.json), an engine independent of any AWS emulator. This module only builds requests,
runs Node once per batch and parses the answers. Any request that the library cannot evaluate
faithfully comes back as an error and `simulate` raises: a silent wrong answer would defeat the
purpose of a second engine.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness_core.errors import HarnessError
from harness_core.node import ensure_packages

Decision = Literal["Allowed", "ImplicitlyDenied", "ExplicitlyDenied"]
ContextValue = str | Sequence[str]

PACKAGE_DIR = Path(__file__).resolve().parent
SCRIPT = PACKAGE_DIR / "simulate.mjs"


class EngineUnavailable(HarnessError):
    """simulate.mjs failed or answered out of order."""


class SimulationError(HarnessError):
    """At least one request could not be evaluated; `errors` holds the per-request reports."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        lines = [f"{e.get('id')!r}: {e.get('error')}: {e.get('message')}" for e in errors[:10]]
        more = f"\n... and {len(errors) - 10} more" if len(errors) > 10 else ""
        super().__init__(
            f"{len(errors)} IAM simulation request(s) failed:\n" + "\n".join(lines) + more
        )


@dataclass(frozen=True)
class SimRequest:
    """One authorization question: may `principal` do `action` on `resource`?

    identity_policies: policy documents attached to the principal (e.g. a role's inline policy).
    resource_policy: the resource's policy; for sts:AssumeRole*/TagSession the role's TRUST policy.
    context: request condition keys, e.g. {"tenant.auth0.com/:aud": "client-id"}.
    A "*" in `resource` is a literal character, as in a real request: only a policy wildcard
    matches it.
    """

    action: str
    resource: str
    principal: str | None  # None: an anonymous (unsigned) caller
    identity_policies: tuple[Mapping[str, Any], ...] = ()
    resource_policy: Mapping[str, Any] | None = None
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class SimResult:
    """The library's decision for one request plus what explains it."""

    request: SimRequest
    decision: Decision
    # "runSimulation" (the library's validated path) or "authorize" (OIDC keys, see simulate.mjs)
    engine: str
    explain: Mapping[str, Any] | None  # which statements matched and why
    warnings: tuple[str, ...]
    raw: Mapping[str, Any]  # simulate.mjs's whole answer

    @property
    def id(self) -> str | None:
        return self.request.id

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"

    def describe(self) -> str:
        """The whole answer, readable; meant for assertion messages on a mismatch."""
        return json.dumps(self.raw, indent=1)


def simulate(requests: Iterable[SimRequest], *, timeout: float = 120.0) -> list[SimResult]:
    """Evaluate all requests in ONE Node process; results are in request order.

    Raises SimulationError if any request could not be evaluated (invalid policy, unknown action,
    resource not matching the action, context key the library would drop, ...).
    """
    batch = list(requests)
    if not batch:
        return []
    proc = subprocess.run(
        [ensure_packages(PACKAGE_DIR), str(SCRIPT)],
        input=json.dumps([asdict(r) for r in batch]),  # simulate.mjs reads these field names
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PACKAGE_DIR,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    if proc.returncode != 0:
        raise EngineUnavailable(f"simulate.mjs exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    answers = json.loads(proc.stdout)
    if not isinstance(answers, list) or [a.get("id") for a in answers] != [r.id for r in batch]:
        raise EngineUnavailable(f"simulate.mjs did not answer the {len(batch)} requests in order")
    errors = [a for a in answers if a.get("status") != "ok"]
    if errors:
        raise SimulationError(errors)
    return [SimResult(request=r, decision=a["decision"], engine=a["engine"],
                      explain=a.get("explain"), warnings=tuple(a["warnings"]), raw=a)
            for r, a in zip(batch, answers, strict=True)]
