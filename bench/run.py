"""Benchmark: from a clone to a proven stack, and where the time goes (bench/README.md).

Prints tables and writes every figure, with each repeat's samples, to bench/results.json;
nothing fails on a threshold.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import common, imports, latency, lifecycle, load, pages, proof, testsuite
from bench.common import Json
from devstack import paths, stack

RESULTS = paths.REPO / "bench" / "results.json"
# Every section, in the order it runs and prints: what measures it (from the options), what
# prints it. calls, load and pages share the main stack; pages is last on it: it fills the
# table (and a page's latency on MiniStack grows with the table).
SECTIONS = {"setup": (lifecycle.setup, lifecycle.report_setup),
            "make": (lambda a: {t: lifecycle.make_cycle(t, a.repeats) for t in a.targets},
                     lifecycle.report),
            "imports": (imports.handler_imports, imports.report),
            "calls": (latency.measure, latency.report),
            "load": (load.measure, load.report),
            "pages": (pages.measure, pages.report),
            "proof": (proof.measure, proof.report),
            "testsuite": (testsuite.measure, testsuite.report)}


def venv_version(venv: Path, distribution: str) -> str:
    """The installed version of a distribution in another venv (an emulator's)."""
    found = sorted(venv.glob(f"lib/python*/site-packages/{distribution}-*.dist-info"))
    return found[-1].name.removesuffix(".dist-info").split("-", 1)[1] if found else "?"


def machine() -> Json:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu,
            "ram_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "loadavg": os.getloadavg(), "python": platform.python_version(),
            "ministack": venv_version(paths.EMULATOR_VENV, "ministack"),
            "localstack": venv_version(paths.LOCALSTACK_VENV, "localstack_core")}


def run(args: argparse.Namespace) -> Json:
    started = time.perf_counter()
    r: Json = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "commit": subprocess.run(["git", "describe", "--always", "--dirty"],
                                        cwd=paths.REPO, capture_output=True,
                                        text=True).stdout.strip(),
               "machine": machine(), "repeats": args.repeats, "sections": []}
    want = set(args.only or SECTIONS) - set(args.skip)
    try:
        for key, (measure, _) in ((k, v) for k, v in SECTIONS.items() if k in want):
            # Progress on stderr (the tables go to stdout at the end): a run takes minutes.
            print(f"[bench] {key} ...", file=sys.stderr, flush=True)
            seconds, r[key] = common.timed(lambda m=measure: m(args))
            # The 1-minute load at the end of each section: on a shared machine, that is how
            # a slow figure is told from a busy machine.
            load1 = os.getloadavg()[0]
            r["sections"].append({"section": key, "seconds": seconds, "load1_at_end": load1})
            print(f"[bench] {key}: {seconds:.1f} s (load {load1:.1f})", file=sys.stderr,
                  flush=True)
    finally:
        stack.down(**common.MAIN_NAMES, outputs_file=None)
    r["load_at_end"] = os.getloadavg()
    r["wall_seconds"] = time.perf_counter() - started
    return r


def report(r: Json) -> None:
    m = r["machine"]
    print(f"bench {r['date']} commit {r['commit']}: {m['nproc']} cores ({m['cpu']}), "
          f"{m['ram_bytes'] / 2**30:.1f} GiB RAM, Python {m['python']}, MiniStack "
          f"{m['ministack']}, localstack-core {m['localstack']}")
    print(f"load average {' '.join(f'{x:.2f}' for x in m['loadavg'])} at start, "
          f"{' '.join(f'{x:.2f}' for x in r['load_at_end'])} at end; whole run "
          f"{r['wall_seconds']:.0f} s")
    print("sections (s, 1-min load at end): " + ", ".join(
        f"{x['section']} {x['seconds']:.0f} ({x['load1_at_end']:.1f})" for x in r["sections"]))
    print("cells: median [min-max] xN over repeated runs")
    for key, (_, show) in SECTIONS.items():
        if key in r:
            show(r[key])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5,
                        help="runs of each figure that takes seconds (default 5)")
    parser.add_argument("--calls", type=int, default=500,
                        help="sequential calls per route, the first cold (default 500, min 3)")
    parser.add_argument("--targets", type=lambda s: s.split(","),
                        default=["ministack", "localstack"],
                        help="emulators whose `make up` is timed (default ministack,localstack)")
    parser.add_argument("--only", type=lambda v: v.split(","), default=None,
                        help=f"run only these sections, comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--skip", type=lambda v: v.split(","), default=[],
                        help="leave these sections out (e.g. setup,make for a quick run)")
    parser.add_argument("--import-python", default=None,
                        help="the Python 3.12 that imports the handler (default the emulator's)")
    parser.add_argument("--import-step", default=None,
                        help="code timed right after `import app`, e.g. a tracing SDK's "
                             "(bench/imports.py)")
    load.add_arguments(parser)
    args = parser.parse_args(argv)
    os.environ.pop("AWS_ENDPOINT_URL", None)  # the bench measures emulators it starts itself
    results = run(args)
    report(results)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if "load" in results:
        load.record(results)
    print(f"\nevery figure: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
