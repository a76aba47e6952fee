"""Benchmark: from a clone to a proven stack, and where the time goes (bench/README.md).

Prints tables and writes every figure, with each repeat's samples, to bench/results.json;
nothing fails on a threshold. Its own processes have `bench-*` names and free ports, so a
`make up` stack keeps running (the real `make up` is then not measured).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import calls, common, imports, lifecycle, pages, setup_cost
from bench.common import Json
from devstack import paths, procs, stack

RESULTS = paths.REPO / "bench" / "results.json"
MAIN_NAMES = {"emulator_name": "bench-main-emulator", "idp_name": "bench-main-idp"}
TARGETS = ("ministack", "localstack")
# Every section, in the order it runs, with what prints its figures (the cold starts run
# before the main stack, but print beside the warm calls).
SECTIONS = {"setup": setup_cost.report, "make": lifecycle.report, "proof": calls.report_proof,
            "cold": lifecycle.report_first_calls, "imports": imports.report,
            "warm": calls.report_warm, "pages": pages.report, "tracing": imports.report_tracing}


def run(args: argparse.Namespace) -> Json:
    started = time.perf_counter()
    want = set(args.only or SECTIONS) - set(args.skip)
    r: Json = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "commit": subprocess.run(["git", "describe", "--always", "--dirty"],
                                        cwd=paths.REPO, capture_output=True,
                                        text=True).stdout.strip(),
               "machine": common.machine(), "repeats": args.repeats}
    if "setup" in want:
        with common.section("setup: fresh venv, uv cache cold then warm"):
            r["setup"] = setup_cost.measure()
    if "make" in want:
        r["make"] = {}
        for target in args.targets:
            with common.section(f"make up / make down TARGET={target} x{args.repeats}"):
                r["make"][target] = lifecycle.make_cycles(target, args.repeats)
    if "cold" in want:
        with common.section(f"stack.up + first call per function x{args.repeats}"):
            r["cold"] = lifecycle.cold_starts(args.repeats)
    if "imports" in want:
        with common.section(f"handler imports x{args.repeats}"):
            r["imports"] = imports.handler_imports(args.repeats)
    if "tracing" in want:
        with common.section(f"tracing SDK imports x{args.repeats}"):
            r["tracing"] = imports.tracing_cost(args.tracing_python, args.repeats)
    if want & {"proof", "warm", "pages"}:
        local = stack.up(**MAIN_NAMES, idp_port=procs.free_port(), outputs_file=None,
                         engine="ministack")
        try:
            if "proof" in want:
                with common.section("proof: credentials + matrix"):
                    r["proof"] = calls.proof(local, args.repeats)
            if "warm" in want:
                with common.section(f"warm calls: {args.calls} per route"):
                    r["warm"] = calls.warm_routes(local, args.calls)
            if "pages" in want:  # last: it fills the table with 10,000 pets
                with common.section("pages: GET /pets at 100 and 10,000 pets"):
                    r["pages"] = pages.measure(local, args.repeats)
        finally:
            stack.down(**MAIN_NAMES, outputs_file=None)
    r["sections"] = common.SECTIONS
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
        f"{x['section'].split(':')[0]} {x['seconds']:.0f} ({x['load1_at_end']:.1f})"
        for x in r["sections"]))
    print("cells: median [min-max] xN over repeated runs")
    for key, show in SECTIONS.items():
        if key in r:
            show(r[key])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5,
                        help="runs of each figure that takes seconds (default 5)")
    parser.add_argument("--calls", type=int, default=500,
                        help="sequential warm calls per route (default 500)")
    parser.add_argument("--targets", type=lambda s: s.split(","), default=list(TARGETS),
                        help="emulators whose `make up` is timed (default ministack,localstack)")
    names = ",".join(SECTIONS)
    parser.add_argument("--only", type=lambda v: v.split(","), default=None,
                        help=f"run only these sections, comma-separated: {names}")
    parser.add_argument("--skip", type=lambda v: v.split(","), default=[],
                        help="leave these sections out (e.g. setup,make for a quick run)")
    parser.add_argument("--tracing-python", default=None,
                        help="a Python 3.12 with aws-xray-sdk: times tracing SDK imports")
    parser.add_argument("--json", type=Path, default=RESULTS,
                        help=f"where to write every figure (default {RESULTS})")
    args = parser.parse_args(argv)
    os.environ.pop("AWS_ENDPOINT_URL", None)  # the bench measures emulators it starts itself
    results = run(args)
    report(results)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nevery figure: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
