"""Bridge to iamsim/simulate.mjs: one Node process per Python process answers every batch of
IAM simulation requests, a batch per line (simulate.mjs --lines).

The evaluation itself is done by the npm package @cloud-copilot/iam-simulate (pinned in
iamsim/package.json), an engine independent of any AWS emulator. This module only builds requests,
sends each batch to Node and parses the answers. Any request that the library cannot evaluate
faithfully comes back as an error and `simulate` raises: a silent wrong answer would defeat the
purpose of a second engine. A Node process that exits, or gives no answer in time, is an
EngineUnavailable naming what it wrote to stderr; the next batch starts a new one.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
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


class NodeProcess:
    """One long-lived `simulate.mjs --lines`: ask() sends a batch as a line, returns its line."""

    def __init__(self, command: Callable[[], list[str]]) -> None:
        self._command = command
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=100)
        self._stderr_reader: threading.Thread | None = None
        self._pid = os.getpid()  # a forked child must not write into its parent's pipe

    def _start(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(self._command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=PACKAGE_DIR,
                                env={**os.environ, "NODE_NO_WARNINGS": "1"})
        self._answers, self._stderr = queue.Queue(), collections.deque(maxlen=100)
        answers, stderr = self._answers, self._stderr

        def pump_answers() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                answers.put(line)
            answers.put(None)  # stdout closed: the process is gone

        threading.Thread(target=pump_answers, daemon=True).start()
        self._stderr_reader = threading.Thread(
            target=lambda: stderr.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
        self._stderr_reader.start()
        return proc

    def ask(self, line: str, timeout: float) -> str:
        with self._lock:
            if self._pid != os.getpid():
                self._proc, self._pid = None, os.getpid()
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            try:
                proc.stdin.write(line + "\n")  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
                answer = self._answers.get(timeout=timeout)
            except OSError:  # it exited before reading the batch
                answer = None
            except queue.Empty:
                self.close()
                raise EngineUnavailable(f"simulate.mjs gave no answer in {timeout:.0f} s") from None
            if answer is None:
                self._proc = None
                code = proc.wait(timeout=10)
                if self._stderr_reader is not None:
                    self._stderr_reader.join(timeout=5)  # all it wrote before it exited
                raise EngineUnavailable(f"simulate.mjs exited {code}:\n"
                                        + "".join(self._stderr)[-4000:])
            return answer

    def close(self) -> None:
        """Ends the process (its stdin closed, then killed if it lingers)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.stdin.close()  # type: ignore[union-attr]
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _simulate_command() -> list[str]:
    return [ensure_packages(PACKAGE_DIR), str(SCRIPT), "--lines"]


# This process's simulate.mjs. It needs no shutdown: when this process ends, its stdin closes
# and simulate.mjs ends with it.
ENGINE = NodeProcess(_simulate_command)


def simulate(requests: Iterable[SimRequest], *, timeout: float = 120.0) -> list[SimResult]:
    """Evaluate all requests as one batch; results are in request order.

    Raises SimulationError if any request could not be evaluated (invalid policy, unknown action,
    resource not matching the action, context key the library would drop, ...).
    """
    batch = list(requests)
    if not batch:
        return []
    # simulate.mjs reads these field names.
    answers = json.loads(ENGINE.ask(json.dumps([asdict(r) for r in batch]), timeout))
    if not isinstance(answers, list) or [a.get("id") for a in answers] != [r.id for r in batch]:
        raise EngineUnavailable(f"simulate.mjs did not answer the {len(batch)} requests in order")
    errors = [a for a in answers if a.get("status") != "ok"]
    if errors:
        raise SimulationError(errors)
    return [SimResult(request=r, decision=a["decision"], engine=a["engine"],
                      explain=a.get("explain"), warnings=tuple(a["warnings"]), raw=a)
            for r, a in zip(batch, answers, strict=True)]
