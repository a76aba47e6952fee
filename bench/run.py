"""Benchmark: from clone to a proven stack, and where the time goes.

    make bench                                  # installs what it needs, then runs this
    .venv/bin/python -m bench.run [--repeats 5] [--calls 500] [--extras] ...

Prints tables and writes every figure to bench/results.json. Figures, never assertions:
nothing fails on a threshold (see bench/README.md). Starts its own processes (`bench-*`
names, free ports), so a `make up` stack keeps running; the real `make up` / `make down`
are measured only when no `make up` stack of this checkout runs.
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/, not the repo, on the path
    sys.path.insert(0, str(ROOT))

import access  # noqa: E402
from bench import calls, common, extras, lifecycle, localstack, pages, setup_cost  # noqa: E402
from bench.common import Json, med_range, ms, sec, table  # noqa: E402
from devstack import procs, stack  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
MAIN_NAMES = {"emulator_name": "bench-main-emulator", "idp_name": "bench-main-idp"}
TARGETS = {"make up": 5.0, "matrix": 3.0}  # the targets, printed beside the figures


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return result.stdout.strip() + ("+changes" if dirty else "")


def on_main_stack(args: argparse.Namespace) -> Json:
    """Items 3 and 4 (and --extras) on one stack started for them."""
    local = stack.up(**MAIN_NAMES, idp_port=procs.free_port(), outputs_file=None,
                     engine="ministack")
    try:
        admin, buyer = calls.Caller(local, "admin"), calls.Caller(local, "buyer")
        out: Json = {}
        with common.section("proof: credentials + matrix"):
            out["proof"] = calls.proof(local, args.repeats)
        with common.section(f"warm calls: {args.calls} per route"):
            out["warm"] = calls.warm_routes(local, admin, buyer, args.calls)
        with common.section(f"throughput: {args.clients} clients x {args.seconds:.0f} s"):
            out["throughput"] = calls.throughput(buyer, args.clients, args.seconds)
        if args.extras:
            with common.section("extras: package, bursts, memory"):
                out["extras"] = extras.measure(local, MAIN_NAMES["emulator_name"], buyer)
        # Last: it fills the table with 10,000 pets.
        with common.section("pages: GET /pets at 100 and 10,000 pets"):
            out["pages"] = pages.measure(local, buyer, args.repeats)
        return out
    finally:
        stack.down(**MAIN_NAMES, outputs_file=None)


def run(args: argparse.Namespace) -> Json:
    started = time.perf_counter()
    r: Json = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "commit": _commit(), "machine_start": common.machine(),
               "runnable_others": common.runnable_others(), "repeats": args.repeats}
    if args.skip_install:
        r["install"] = {"skipped": "--skip-install"}
    else:
        with common.section("install: fresh .venv, uv cache cold then warm"):
            r["install"] = setup_cost.measure()
    with common.section(f"emulator start x{args.repeats}"):
        r["emulator"] = lifecycle.emulator_starts(args.repeats)
    with common.section(f"apply + first call per function x{args.repeats}"):
        samples = lifecycle.apply_samples(args.repeats)
        r["apply"] = lifecycle.summarise_applies(samples)
    if args.skip_make:
        r["make"] = {"skipped": "--skip-make"}
    else:
        with common.section(f"make up / make down x{args.repeats}"):
            r["make"] = lifecycle.make_cycles(args.repeats)
    with common.section(f"handler imports x{args.repeats}"):
        r["imports"] = calls.import_times(args.repeats)
    r.update(on_main_stack(args))
    ministack = {"start": r["emulator"]["start"], "apply": r["apply"]["apply"],
                 "up": r["apply"]["up"]}
    r["localstack"] = localstack.measure(ministack, args.repeats)
    r["sections"] = common.SECTIONS
    r["machine_end"] = common.machine()
    r["wall_seconds"] = time.perf_counter() - started
    return r


# --- the report ------------------------------------------------------------------------------


def report(r: Json) -> None:
    m = r["machine_start"]
    print(f"bench {r['date']} commit {r['commit']}: {m['nproc']} cores ({m['cpu']}), "
          f"{m['ram_bytes'] / 2**30:.1f} GiB RAM, Python {m['python']}, MiniStack "
          f"{m['ministack']}")
    print(f"load average {' '.join(m['loadavg'])} at start, "
          f"{' '.join(r['machine_end']['loadavg'])} at end; other runnable processes at start "
          f"{r['runnable_others']:.1f}; whole run {r['wall_seconds']:.0f} s")
    print("sections (s, 1-min load at end): " + ", ".join(
        f"{x['section'].split(':')[0]} {x['seconds']:.0f} ({x['load1_at_end']:.1f})"
        for x in r.get("sections", [])))
    print("cells: median [min-max] xN over repeated runs")
    _report_install(r["install"])
    _report_stack(r)
    _report_proof(r)
    _report_requests(r)
    _report_localstack(r)
    if "pages" in r:
        pages.report(r["pages"])
    if "extras" in r:
        extras.report(r["extras"])


def _report_install(i: Json) -> None:
    if "skipped" in i:
        print(f"\n1. setup: skipped ({i['skipped']})")
        return
    rows = []
    for kind in ("cold", "warm"):
        x = i[kind]
        if "seconds" in x:
            rows.append((f"uv cache {kind}", sec(x["seconds"]), sec(x["uv_seconds"]),
                         common.mb(x["venv_bytes"]), common.mb(x["cache_bytes"]), "1 run"))
        else:
            rows.append((f"uv cache {kind}", "-", "-", "-", "-",
                         x.get("skipped") or x.get("error", "")[:120]))
    table("1. setup: fresh .venv from requirements-dev.txt + constraints.txt",
          ("install", "total s", "uv s", "venv MB", "cache MB", "note"), rows)
    print("  total: python -m venv + pip installs uv + uv installs the pins, as `make` does")


def _report_stack(r: Json) -> None:
    a, e, mk = r["apply"], r["emulator"], r["make"]
    rows = [("emulator start to healthy", med_range(e["start"])),
            ("emulator stop", med_range(e["stop"])),
            (f"local apply, {a['resources']} resources", med_range(a["apply"])),
            ("  connect (clients, caller identity)", med_range(a["connect"])),
            ("  program (every create call)", med_range(a["program"])),
            ("  settle (functions Active)", med_range(a["settle"])),
            ("stack up: emulator + apply + IdP", med_range(a["up"])),
            ("stack down", med_range(a["down"]))]
    if "skipped" in mk:
        rows.append(("make up / make down", f"not measured: {mk['skipped']}"))
    else:
        rows += [(f"make up, end to end (target < {TARGETS['make up']:.0f} s)",
                  med_range(mk["up"])),
                 ("  of which devstack up's stack up", med_range(mk["stack_up"])),
                 ("  of which access matrix, cold functions", med_range(mk["matrix"])),
                 ("make down", med_range(mk["down"]))]
        rows += [("  error", err[:150]) for err in mk["errors"]]
    table("2. the stack (seconds)", ("what", "seconds"), rows)
    table("   apply per resource type (seconds spent creating, summed; creates overlap)",
          ("type", "count", "total s", "slowest one s"),
          [(t.split("/")[-1], x["count"], med_range(x["seconds"]), med_range(x["max"]))
           for t, x in sorted(a["by_type"].items(), key=lambda kv: -kv[1]["seconds"]["median"])])


def _report_proof(r: Json) -> None:
    p = r["proof"]
    mk = r["make"]
    cold = ("not measured (make up was not run)" if "skipped" in mk
            else med_range(mk["matrix"]))
    table(f"3. proof: {p['classes']} classes, {p['cells']} matrix cells "
          f"(target: matrix < {TARGETS['matrix']:.0f} s)",
          ("what", "seconds"),
          [("credentials for every class (login + STS)", med_range(p["credentials"])),
           ("matrix, warm functions", med_range(p["matrix_warm"])),
           ("matrix, cold functions (inside make up)", cold),
           ("matrix, cold functions (bench stack, 1 run, with logins)",
            sec(p["matrix_first_after_up"])),
           ("cells differing from access.py (all runs)", p["cells_differing_from_access_py"])])


def _report_requests(r: Json) -> None:
    a, imp = r["apply"], r["imports"]
    table("4. cold start: first call per function after an apply (ms), and its import "
          "in a fresh Python 3.12 (ms)",
          ("route", "first call", "statuses", "handler import"),
          [(route.id, med_range(a["cold"][route.id]["seconds"], ms),
            "/".join(map(str, a["cold"][route.id]["statuses"])),
            med_range(imp["functions"][route.id], ms)) for route in access.ROUTES])
    print(f"  import parts: interpreter + runtime bootstrap (botocore.handlers) "
          f"{med_range(imp['bootstrap'], ms)}, app {med_range(imp['app'], ms)}, id_tokens "
          f"(purchase only) {med_range(imp['id_tokens'], ms)}; whole process "
          f"{med_range(imp['process'], ms)}")
    w = r["warm"]
    table(f"   warm latency through API Gateway, sequential signed calls (ms; GET /pets on "
          f"a table of {w['pets_in_table_for_list']} pets)",
          ("call", "n", "p50", "p95", "p99", "mean", "max", "statuses"),
          [(name, x["n"], ms(x["p50"]), ms(x["p95"]), ms(x["p99"]), ms(x["mean"]),
            ms(x["max"]), common.statuses(x["statuses"])) for name, x in w["routes"].items()])
    t = r["throughput"]
    table(f"   throughput: {t['clients']} concurrent clients, GET /pets back to back",
          ("seconds", "calls", "calls/s", "2xx/s", "p50 ms", "p95 ms", "p99 ms", "statuses"),
          [(f"{t['seconds']:.1f}", t["calls"], f"{t['calls_per_s']:.1f}", f"{t['ok_per_s']:.1f}",
            ms(t["latency"]["p50"]), ms(t["latency"]["p95"]), ms(t["latency"]["p99"]),
            common.statuses(t["statuses"]))])


def _report_localstack(r: Json) -> None:
    ls = r["localstack"]
    if "skipped" in ls:
        print(f"\n5. LocalStack community (host mode): {ls['skipped']}")
        return
    table(f"5. LocalStack community (host mode), {ls.get('version', '')}: ratio to MiniStack",
          ("what", "LocalStack s", "MiniStack s", "ratio"),
          [(k, med_range(ls[k]), med_range(r["emulator"]["start"] if k == "start"
                                           else r["apply"][k]),
            f"{v:.1f}x" if v else "-") for k, v in ls.get("ratio", {}).items()])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each timing < 10 s")
    parser.add_argument("--calls", type=int, default=500, help="sequential calls per route")
    parser.add_argument("--clients", type=int, default=8, help="throughput: concurrent clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="throughput: duration")
    parser.add_argument("--skip-install", action="store_true", help="no fresh-venv installs")
    parser.add_argument("--skip-make", action="store_true", help="no real make up / make down")
    parser.add_argument("--extras", action="store_true",
                        help="also cold bursts of 10/25/50, memory, package (about 90 s more)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write figures")
    args = parser.parse_args(argv)
    if os.environ.pop("AWS_ENDPOINT_URL", None):
        print("note: AWS_ENDPOINT_URL ignored: the bench measures its own MiniStack",
              file=sys.stderr)
    results = run(args)
    report(results)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nevery figure: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
