"""What every bench section shares: statistics of repeats, one table format, the main stack."""

from __future__ import annotations

import argparse
import functools
import statistics
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import Any

from tabulate import tabulate

from devstack import stack
from devstack.processes import procs

Json = dict[str, Any]
Args = argparse.Namespace  # what every section's measure() gets: bench.run's options
MAIN_NAMES = {"emulator_name": "bench-main-emulator", "idp_name": "bench-main-idp"}


@functools.cache
def main_stack() -> stack.Stack:
    """The MiniStack stack the calls and pages sections share, started at first use (so its
    functions are cold then) and stopped by bench.run at the end."""
    return stack.up(**MAIN_NAMES, idp_port=procs.free_port(), outputs_file=None,
                    engine="ministack")


def spread(values: Sequence[float | None]) -> Json:
    """Repeated runs of one figure: n, median, min, max and the samples (None: not measured)."""
    kept = [v for v in values if v is not None]
    if not kept:
        return {"n": 0}
    return {"n": len(kept), "median": statistics.median(kept), "min": min(kept),
            "max": max(kept), "samples": kept}


def percentiles(seconds: Sequence[float]) -> Json:
    """One long series of calls: p50/p95/p99 need many samples, so no repeats of it."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"n": len(seconds), "p50": cuts[49], "p95": cuts[94], "p99": cuts[98],
            "mean": statistics.fmean(seconds), "max": max(seconds)}


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def med_range(s: Json, unit: str = "s") -> str:
    """`median [min-max] xN`, the one cell every repeated figure is printed as."""
    if not s.get("n"):
        return "-"
    cell = ms if unit == "ms" else (lambda v: f"{v:.2f}")
    return f"{cell(s['median'])} [{cell(s['min'])}-{cell(s['max'])}] x{s['n']}"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table: labels (first column, indented as given) left, figures right."""
    text = tabulate(rows, header, colglobalalign="right", colalign=("left",),
                    disable_numparse=True, preserve_whitespace=True)
    print(f"\n{title}\n{textwrap.indent(text, '  ')}")
