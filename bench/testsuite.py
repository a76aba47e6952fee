"""`make test` from a fresh clone, and where its time goes (bench section `testsuite`).

The clone is of this checkout's HEAD (uncommitted changes are not in it; the table names the
commit), in a temp folder: no .venv, no emulator venvs, no npm packages, no Lambda package.
Shared with this machine: uv's and npm's download caches, and Chromium (apt). `make test`
runs there as a user types it, with bench/suite_timeline.py recording every test (which worker
ran it, from when to when) as data. Then `make unit` runs --repeats times in the same clone.

Reported: the whole `make test`; when each install finished (the Makefile's own stamp files);
each pytest leg (MiniStack, LocalStack) from its start to its end; per worker of the MiniStack
leg, its busy time and what it ran (the session stack's chain is one worker's); the time per
test folder; the slowest tests; and `make unit`. No threshold: the targets (3 min, 20 s)
are in docs/testing.md with the figures.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.common import Args, Json, med_range, spread, table
from bench.suite_timeline import ENV as TIMELINE_ENV
from devstack import paths
from devstack.processes import emulator

# What each Makefile stamp (or made folder) says has finished, in the order they appear.
STAMPS = {".venv/.installed": "project venv (uv)",
          "site/vendor/.built": "site npm packages",
          "build/lambda/.built": "Lambda package",
          ".devstack/emulator-venv": "MiniStack venv",
          ".devstack/localstack-venv": "LocalStack venv",
          "devstack/idp/node_modules": "identity provider npm packages"}
SLOWEST = 15
KEPT_LOG = paths.REPO / "bench" / "testsuite-make.log"


def _clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a user typing `make` (none of an outer make's, venv's or emulator's
    settings)."""
    dropped = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "PYTHONPATH",
               "AWS_ENDPOINT_URL", "PETS_TARGET", "PETS_USE_RUNNING_STACK", emulator.PORT_ENV,
               TIMELINE_ENV)
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **extra}


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _make(clone: Path, target: str, log: Path, env: Mapping[str, str]
          ) -> tuple[float, int, float]:
    """(seconds, exit status, CPU seconds of make and every process it waited for)."""
    started, cpu = time.perf_counter(), _cpu_of_children()
    with log.open("a") as out:
        status = subprocess.run(["make", "--no-print-directory", target], cwd=clone,
                                env=_clean_env(env), stdout=out, stderr=subprocess.STDOUT
                                ).returncode
    return time.perf_counter() - started, status, _cpu_of_children() - cpu


def _stamps(clone: Path, started: float) -> dict[str, float]:
    found = {}
    for relative, what in STAMPS.items():
        path = clone / relative
        if path.exists():
            found[what] = path.stat().st_mtime - started
    return dict(sorted(found.items(), key=lambda item: item[1]))


def folder_of(nodeid: str) -> str:
    """tests/integration/races/test_races.py::t -> integration/races."""
    return "/".join(nodeid.split("::", 1)[0].split("/")[1:-1])


def read_timeline(path: Path) -> tuple[list[Json], list[Json]]:
    """(tests, sessions) from bench/suite_timeline.py's lines."""
    tests, sessions = [], []
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            (tests if "nodeid" in record else sessions).append(record)
    return tests, sessions


def _leg_of(record: Json) -> str:
    """The target a timeline line was written under (PETS_TARGET; "?" when unset)."""
    return str(record["target"] or "?")


def legs(tests: Sequence[Json], sessions: Sequence[Json], started: float) -> Json:
    """Each pytest leg (by target) from its first session's start to its last end, and per
    worker of it: busy seconds, tests run, first and last folder."""
    by_target: dict[str, list[Json]] = defaultdict(list)
    for session in sessions:
        by_target[_leg_of(session)].append(session)
    result: Json = {}
    for target, own in by_target.items():
        begin = min(s["session_start"] for s in own)
        end = max(s["session_end"] for s in own)
        # The legs run side by side: a test belongs to the leg of its own target.
        ran = [t for t in tests if ("target" not in t or _leg_of(t) == target)
               and begin <= t["start"] <= end]
        workers: Json = {}
        for process in sorted({t["process"] for t in ran}):
            mine = sorted((t for t in ran if t["process"] == process), key=lambda t: t["start"])
            folders: dict[str, float] = defaultdict(float)
            for t in mine:
                folders[folder_of(t["nodeid"])] += t["end"] - t["start"]
            workers[process] = {
                "busy": sum(t["end"] - t["start"] for t in mine), "tests": len(mine),
                "first": mine[0]["start"] - started, "last": mine[-1]["end"] - started,
                "folders": dict(sorted(folders.items(), key=lambda f: -f[1]))}
        result[target] = {"start": begin - started, "end": end - started,
                          "seconds": end - begin, "workers": workers}
    return result


def per_folder(tests: Sequence[Json]) -> dict[str, float]:
    folders: dict[str, float] = defaultdict(float)
    for t in tests:
        folders[folder_of(t["nodeid"])] += t["end"] - t["start"]
    return dict(sorted(folders.items(), key=lambda f: -f[1]))


def slowest(tests: Sequence[Json], n: int = SLOWEST) -> list[tuple[str, float, str]]:
    ranked = sorted(tests, key=lambda t: t["start"] - t["end"])[:n]
    return [(t["nodeid"], t["end"] - t["start"], t["process"]) for t in ranked]


def measure(args: Args) -> Json:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.REPO,
                            capture_output=True, text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=paths.REPO, capture_output=True, text=True).stdout.strip())
    scratch = Path(tempfile.mkdtemp(prefix="bench-testsuite-"))
    clone, timeline, log = scratch / "pets", scratch / "timeline.jsonl", scratch / "make.log"
    r: Json = {"commit": commit, "uncommitted_changes_left_out": dirty, "log": str(log)}
    try:
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(paths.REPO),
                        str(clone)], check=True)
        env = {"PYTEST_ARGS": "-p bench.suite_timeline", TIMELINE_ENV: str(timeline)}
        r["load_before"] = os.getloadavg()
        started = time.time()
        seconds, status, cpu = _make(clone, "test", log, env)
        tests, sessions = read_timeline(timeline)
        r |= {"make_test": seconds, "status": status, "cpu_seconds": cpu,
              "load_after": os.getloadavg(),
              "stamps": _stamps(clone, started), "legs": legs(tests, sessions, started),
              "folders": per_folder(tests), "slowest": slowest(tests)}
        if status != 0:
            r["log_tail"] = log.read_text()[-3000:]
        units = []
        for _ in range(args.repeats):
            unit_seconds, unit_status, _ = _make(clone, "unit", log, {})
            units.append(unit_seconds if unit_status == 0 else None)
        r["make_unit"] = spread(units)
    finally:
        if log.exists():  # kept for reading after the clone is gone (git-ignored)
            shutil.copy(log, KEPT_LOG)
            r["log"] = str(KEPT_LOG)
        shutil.rmtree(scratch, ignore_errors=True)
    return r


def report(r: Json) -> None:
    load = " ".join(f"{x:.2f}" for x in r.get("load_before", ()))
    table(f"7. make test from a fresh clone of {r['commit']}"
          f"{' (uncommitted changes left out)' if r['uncommitted_changes_left_out'] else ''}, "
          f"load {load} before (seconds from its start)", ("what", "seconds"),
          [("make test, end to end" + ("" if r.get("status") == 0 else
                                       f" (FAILED, exit {r.get('status')})"),
            f"{r.get('make_test', 0):.0f}"),
           ("  CPU seconds it used (and what it waited for: emulators, browsers)",
            f"{r.get('cpu_seconds', 0):.0f}"),
           *((f"  {what} done at", f"{at:.0f}") for what, at in r.get("stamps", {}).items()),
           *((f"  pytest leg {target}: {leg['start']:.0f} to {leg['end']:.0f}",
              f"{leg['seconds']:.0f}") for target, leg in r.get("legs", {}).items()),
           ("make unit, venv ready", med_range(r.get("make_unit", {})))])
    for target, leg in r.get("legs", {}).items():
        table(f"   {target} leg per worker", ("worker", "busy s", "tests", "first", "last",
                                               "folders (busy s)"),
              [(w, f"{x['busy']:.0f}", x["tests"], f"{x['first']:.0f}", f"{x['last']:.0f}",
                ", ".join(f"{f} {s:.0f}" for f, s in list(x["folders"].items())[:6]))
               for w, x in leg["workers"].items()])
    table("   per test folder (busy seconds, every leg)", ("folder", "seconds"),
          [(f, f"{s:.1f}") for f, s in r.get("folders", {}).items()])
    table(f"   the {SLOWEST} slowest tests (setup + call + teardown)",
          ("test", "seconds", "worker"),
          [(nodeid[-90:], f"{s:.1f}", w) for nodeid, s, w in r.get("slowest", [])])
    if r.get("log_tail"):
        print(r["log_tail"])
