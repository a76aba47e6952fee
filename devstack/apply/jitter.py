"""Seeded disorder in the local apply, so that an order nothing enforces varies.

The local apply creates each resource as soon as its registration arrives. Without
jitter, resources arrive in almost the same order every run (program order, the
emulator's quick answers), so a missing edge hides: a route the deployment forgot to wait
for is registered early and created long before the deployment, by luck. Two things
break that luck before a create:

- a short random delay (up to max_seconds), which reorders resources registered together;
- a hold, for a seeded share of the resources: the create waits until the apply is quiet
  (nothing being created, no registration for quiet_seconds), i.e. until everything that
  does not wait for it has been created. A held part that a deployment forgot is then
  created after that deployment, whatever the latencies, and the late-part check
  (ordering.py) fails the apply; a part the deployment does wait for only makes it wait.

Each resource's draw comes from the seed and its type and logical name only, never from
the order the SDK's threads call in: one seed gives the same delays and holds again, so a
failure is replayed with the seed it printed (PETS_APPLY_JITTER=<seed>).

On in the tests (tests/conftest.py sets the variable for the session), off for `make up`
and the benchmark, which must stay fast.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass

from devstack.apply.errors import ApplyError

ENV = "PETS_APPLY_JITTER"
OFF = ("", "0", "off")
# Small: a chain of N dependent creates gains up to N times this (the real program's
# longest is about ten: table, role, policy, function, integration, ..., stage).
DEFAULT_MAX_SECONDS = 0.02
# A held resource costs its dependents one quiet period: a fifth keeps the real program's
# apply well under a second slower while holding, over a few seeds, any given part.
DEFAULT_HOLD_SHARE = 0.1
# Longer than the SDK takes between one create's end and its dependents' registrations
# (milliseconds), so "quiet" means no create is still to come that does not need a held one.
DEFAULT_QUIET_SECONDS = 0.04
# A hold never lasts longer than this, even if the apply never goes quiet.
DEFAULT_MAX_HOLD_SECONDS = 1.0


@dataclass(frozen=True)
class Jitter:
    seed: int
    max_seconds: float = DEFAULT_MAX_SECONDS
    hold_share: float = DEFAULT_HOLD_SHARE
    quiet_seconds: float = DEFAULT_QUIET_SECONDS
    max_hold_seconds: float = DEFAULT_MAX_HOLD_SECONDS

    def _draws(self, type_: str, name: str) -> tuple[float, float]:
        # A string seed is hashed with SHA-512 by random.Random: stable across processes.
        stream = random.Random(f"{self.seed}/{type_}/{name}")  # noqa: S311 - a delay, no secret
        return stream.random(), stream.uniform(0.0, self.max_seconds)

    def holds(self, type_: str, name: str) -> bool:
        """Whether this resource's create waits until the apply is quiet."""
        return self._draws(type_, name)[0] < self.hold_share

    def delay(self, type_: str, name: str) -> float:
        """Seconds to wait before creating this resource (0 to max_seconds), after any hold."""
        return self._draws(type_, name)[1]

    def replay(self) -> str:
        return f"{ENV}={self.seed}"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Jitter | None:
        """PETS_APPLY_JITTER: unset, empty, 0 or off: no jitter; a positive integer: that seed;
        `random`: a new seed (reported in the result and in any failure)."""
        text = environ.get(ENV, "").strip().lower()
        if text in OFF:
            return None
        if text == "random":
            return cls(random.SystemRandom().randrange(1, 10**6))
        if text.isdigit():
            return cls(int(text))
        raise ApplyError(
            f"{ENV}={environ[ENV]!r}: set a positive integer seed (to replay a run), `random`, "
            "or `off`"
        )
