"""Item 5 (seam): the same start + apply against LocalStack community, as a ratio to MiniStack.

Not measured yet: LocalStack support (devstack/localstack.py) is being built separately.
To wire it in, make `measure` start LocalStack (host mode) and apply the `local` stack to it
`repeats` times, and return, in the same shape as MiniStack's figures in results.json
(`common.spread` of seconds):

    {"start": spread(...), "apply": spread(...), "up": spread(...),
     "ratio": {"start": ls_median / ministack_median, "apply": ..., "up": ...},
     "version": "localstack-core x.y.z"}

`run.report` prints a row per key of "ratio" when present. Never return invented figures:
when LocalStack cannot start here, return {"skipped": "<why>"} and the report says so.
"""

from __future__ import annotations

from bench.common import Json

NOT_WIRED = "not measured: LocalStack support is not in devstack yet (see bench/localstack.py)"


def measure(ministack: Json, repeats: int) -> Json:
    """ministack: this run's {"start", "apply", "up"} spreads, for the ratios."""
    del ministack, repeats  # used once LocalStack is wired in
    return {"skipped": NOT_WIRED}


def ratio(localstack: Json, ministack: Json, key: str) -> float | None:
    """LocalStack's median over MiniStack's for one figure (None when either is missing)."""
    ls, mini = localstack.get(key, {}).get("median"), ministack.get(key, {}).get("median")
    return ls / mini if ls and mini else None
