"""Shared by the bench sections: statistics, tables, the machine, /proc readings."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from devstack import paths

Json = dict[str, Any]


# --- statistics ------------------------------------------------------------------------------


def spread(values: Sequence[float]) -> Json:
    """Median and spread of repeated runs: n, median, min, max, q1, q3 (quartiles)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "median": None, "min": None, "max": None, "q1": None, "q3": None,
                "samples": []}
    q1, _, q3 = (statistics.quantiles(values, n=4, method="inclusive")
                 if len(values) > 1 else (values[0],) * 3)
    return {"n": len(values), "median": statistics.median(values), "min": min(values),
            "max": max(values), "q1": q1, "q3": q3, "samples": list(values)}


def latency(seconds: Sequence[float]) -> Json:
    """Percentiles of one long series of calls (p50/p95/p99 need many samples)."""
    if len(seconds) < 2:
        return {"n": len(seconds), "p50": seconds[0] if seconds else None}
    q = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"n": len(seconds), "p50": q[49], "p95": q[94], "p99": q[98],
            "mean": statistics.fmean(seconds), "min": min(seconds), "max": max(seconds)}


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


# --- formatting ------------------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def sec(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def mb(size: int | float) -> str:
    return f"{size / 2**20:.1f}"


def med_range(s: Json, fmt: Callable[[float | None], str] = sec) -> str:
    """`median [min-max] xN`: the one cell every repeated figure is printed as."""
    if not s or not s.get("n"):
        return "-"
    return f"{fmt(s['median'])} [{fmt(s['min'])}-{fmt(s['max'])}] x{s['n']}"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        # First column left-aligned (labels), figures right-aligned.
        print("  " + "  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                                for j, (c, w) in enumerate(zip(row, widths, strict=True))))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def statuses(counts: dict[Any, int]) -> str:
    return " ".join(f"{status}x{n}" for status, n in sorted(counts.items(), key=str))


# --- the machine -----------------------------------------------------------------------------


def kb_field(text: str, name: str) -> int:
    line = next((x for x in text.splitlines() if x.startswith(name)), f"{name} 0 kB")
    return int(line.split()[1]) * 1024


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def machine() -> Json:
    meminfo = Path("/proc/meminfo").read_text()
    versions = sorted(paths.EMULATOR_VENV.glob("lib/python*/site-packages/ministack-*.dist-info"))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "ram_bytes": kb_field(meminfo, "MemTotal:"),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "python": platform.python_version(),
        "ministack": (versions[-1].name.removesuffix(".dist-info").split("-", 1)[1]
                      if versions else "?"),
    }


def runnable_others(samples: int = 10, interval: float = 0.1) -> float:
    """Processes running or ready to run right now besides this one (mean over 1 s).

    Unlike the load average, which takes minutes to decay, this says whether something
    else is competing for the CPU at this moment."""
    counts = []
    for _ in range(samples):
        stat = Path("/proc/stat").read_text()
        line = next(x for x in stat.splitlines() if x.startswith("procs_running"))
        counts.append(int(line.split()[1]) - 1)  # minus this process, which is reading
        time.sleep(interval)
    return statistics.fmean(counts)


def tree_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # a worker's folder may go meanwhile
                total += (Path(root) / name).lstat().st_size
    return total


# Per section: wall seconds and the 1-minute load average at its end. On a shared machine
# this says which figures were taken while something else ran.
SECTIONS: list[Json] = []


@contextlib.contextmanager
def section(name: str) -> Iterator[None]:
    """Progress on stderr (the table goes to stdout at the end): a run takes minutes."""
    started = time.perf_counter()
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    yield
    seconds, load = time.perf_counter() - started, os.getloadavg()[0]
    SECTIONS.append({"section": name, "seconds": seconds, "load1_at_end": load})
    print(f"[bench] {name}: {seconds:.1f} s (load {load:.1f})", file=sys.stderr, flush=True)
