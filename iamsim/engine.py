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
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness_core.errors import HarnessError

Decision = Literal["Allowed", "ImplicitlyDenied", "ExplicitlyDenied"]
ResourceMode = Literal["literal", "pattern"]
ContextValue = str | Sequence[str]

PACKAGE_DIR = Path(__file__).resolve().parent
SCRIPT = PACKAGE_DIR / "simulate.mjs"
MIN_NODE_MAJOR = 20  # simulate.mjs uses top-level await and synchronous import.meta.resolve

_DECISIONS: frozenset[str] = frozenset({"Allowed", "ImplicitlyDenied", "ExplicitlyDenied"})


class EngineUnavailable(HarnessError):
    """Node/npm or the pinned npm packages are missing and cannot be installed."""


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
    resource_mode: "literal" (default) treats "*" in `resource` as a literal character, as in a real
        request; "pattern" uses the library's wildcard semantics: Allowed if SOME resource matching
        the pattern is allowed.
    """

    action: str
    resource: str
    principal: str
    identity_policies: tuple[Mapping[str, Any], ...] = ()
    resource_policy: Mapping[str, Any] | None = None
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    id: str | None = None
    resource_account: str | None = None
    resource_mode: ResourceMode = "literal"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "action": self.action,
            "resource": self.resource,
            "principal": self.principal,
            "identityPolicies": list(self.identity_policies),
            "resourcePolicy": self.resource_policy,
            "context": {k: v if isinstance(v, str) else list(v) for k, v in self.context.items()},
            "resourceMode": self.resource_mode,
        }
        if self.resource_account is not None:
            body["resourceAccount"] = self.resource_account
        return body


@dataclass(frozen=True)
class SimResult:
    """The library's decision for one request plus what explains it."""

    request: SimRequest
    decision: Decision
    # "runSimulation" (the library's validated path) or "authorize" (OIDC keys, see simulate.mjs)
    engine: str
    explain: Mapping[str, Any] | None  # which statements matched and why (None in pattern mode)
    pattern_results: tuple[Mapping[str, Any], ...]  # pattern mode: one entry per resource tried
    warnings: tuple[str, ...]
    raw: Mapping[str, Any]

    @property
    def id(self) -> str | None:
        return self.request.id

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"

    @property
    def explicitly_denied(self) -> bool:
        return self.decision == "ExplicitlyDenied"

    def describe(self) -> str:
        """Compact, human-readable reason; meant for assertion messages on a mismatch."""
        return json.dumps(
            {
                "id": self.id,
                "decision": self.decision,
                "engine": self.engine,
                "warnings": list(self.warnings),
                "explain": self.explain,
                "pattern_results": list(self.pattern_results),
            },
            indent=1,
        )


def _node_major(node: str) -> int:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.match(r"v(\d+)\.", out.strip())
    if not match:
        raise EngineUnavailable(f"cannot parse `node --version` output: {out!r}")
    return int(match.group(1))


def _installed_version(name: str) -> str | None:
    manifest = PACKAGE_DIR / "node_modules" / name / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text())["version"]


def _pinned_versions() -> dict[str, str]:
    return json.loads((PACKAGE_DIR / "package.json").read_text())["dependencies"]


def ensure_installed() -> None:
    """Make sure Node >= 20 and the pinned npm packages are present; run `npm ci` if not."""
    node = shutil.which("node")
    if node is None:
        raise EngineUnavailable(
            "`node` not found on PATH. Install Node.js >= 20 (e.g. `apt-get install nodejs npm`),"
            " then run `npm ci --prefix iamsim`."
        )
    major = _node_major(node)
    if major < MIN_NODE_MAJOR:
        raise EngineUnavailable(f"Node.js {major} found; iamsim needs Node.js >= {MIN_NODE_MAJOR}.")
    pinned = _pinned_versions()
    if all(_installed_version(name) == version for name, version in pinned.items()):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise EngineUnavailable(
            "iamsim/node_modules is missing or stale and `npm` is not on PATH. Install npm,"
            f" then run `npm ci --prefix {PACKAGE_DIR}`."
        )
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=PACKAGE_DIR, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise EngineUnavailable(
            f"`npm ci` in {PACKAGE_DIR} failed (exit {proc.returncode}); it needs the npm registry."
            f"\n{proc.stderr[-2000:]}"
        )
    stale = {n: (_installed_version(n), v) for n, v in pinned.items() if _installed_version(n) != v}
    if stale:
        raise EngineUnavailable(f"after `npm ci`, installed != pinned versions: {stale}")


def simulate_raw(
    payload: Sequence[Mapping[str, Any]], *, timeout: float = 120.0
) -> list[dict[str, Any]]:
    """Run simulate.mjs once on JSON-ready request dicts and return its JSON results unchecked."""
    ensure_installed()
    node = shutil.which("node")
    assert node is not None  # ensure_installed checked it
    proc = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(list(payload)),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PACKAGE_DIR,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    if proc.returncode != 0:
        raise EngineUnavailable(f"simulate.mjs exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    results = json.loads(proc.stdout)
    if not isinstance(results, list) or len(results) != len(payload):
        raise EngineUnavailable(
            f"simulate.mjs returned {type(results).__name__} of length"
            f" {len(results) if isinstance(results, list) else '?'} for {len(payload)} requests"
        )
    return results


def simulate(requests: Iterable[SimRequest], *, timeout: float = 120.0) -> list[SimResult]:
    """Evaluate all requests in ONE Node process; results are in request order.

    Raises SimulationError if any request could not be evaluated (invalid policy, unknown action,
    resource not matching the action, context key the library would drop, ...).
    """
    batch = list(requests)
    if not batch:
        return []
    raw_results = simulate_raw([r.to_json() for r in batch], timeout=timeout)
    errors: list[dict[str, Any]] = []
    results: list[SimResult] = []
    for request, raw in zip(batch, raw_results, strict=True):
        if raw.get("id") != request.id:
            raise EngineUnavailable(
                f"result order broken: expected id {request.id!r}, got {raw.get('id')!r}"
            )
        if raw.get("status") != "ok" or raw.get("decision") not in _DECISIONS:
            errors.append(raw)
            continue
        results.append(
            SimResult(
                request=request,
                decision=raw["decision"],
                engine=raw["engine"],
                explain=raw.get("explain"),
                pattern_results=tuple(raw.get("patternResults", ())),
                warnings=tuple(raw.get("warnings", ())),
                raw=raw,
            )
        )
    if errors:
        raise SimulationError(errors)
    return results
