"""What every bench section shares: statistics of repeats, one table format, the machine."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from devstack import emulator, paths

Json = dict[str, Any]


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


def statuses(codes: Counter[int] | dict[Any, int]) -> str:
    return " ".join(f"{status}x{n}" for status, n in sorted(codes.items(), key=str))


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table: labels (first column) left-aligned, figures right-aligned."""
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  " + "  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                                for j, (c, w) in enumerate(zip(row, widths, strict=True))))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def run_make(*args: str, env: dict[str, str] | None = None
             ) -> tuple[float, subprocess.CompletedProcess[str]]:
    """`make ARGS` as a user types it in this checkout: without an outer make's flags (make
    bench), a venv, an emulator of their own (AWS_ENDPOINT_URL) or a fixed emulator port."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "PYTHONPATH",
                          "AWS_ENDPOINT_URL", "PETS_TARGET", emulator.PORT_ENV)}
    return timed(lambda: subprocess.run(["make", "--no-print-directory", *args], cwd=paths.REPO,
                                        env={**clean, **(env or {})}, capture_output=True,
                                        text=True))


def venv_version(venv: Path, distribution: str) -> str:
    """The installed version of a distribution in another venv (an emulator's)."""
    found = sorted(venv.glob(f"lib/python*/site-packages/{distribution}-*.dist-info"))
    return found[-1].name.removesuffix(".dist-info").split("-", 1)[1] if found else "?"


def machine() -> Json:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        cpu = next(line.split(":", 1)[1].strip()
                   for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return {"nproc": os.cpu_count(), "cpu": cpu,
            "ram_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "loadavg": os.getloadavg(), "python": platform.python_version(),
            "ministack": venv_version(paths.EMULATOR_VENV, "ministack"),
            "localstack": venv_version(paths.LOCALSTACK_VENV, "localstack_core")}


# Wall seconds and the 1-minute load average at the end of each section: on a shared machine,
# that is how a slow figure is told from a busy machine.
SECTIONS: list[Json] = []


@contextlib.contextmanager
def section(name: str) -> Iterator[None]:
    """Progress on stderr (the tables go to stdout at the end): a run takes minutes."""
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    seconds, load = time.perf_counter() - started, os.getloadavg()[0]
    SECTIONS.append({"section": name, "seconds": seconds, "load1_at_end": load})
    print(f"[bench] {name}: {seconds:.1f} s (load {load:.1f})", file=sys.stderr, flush=True)
