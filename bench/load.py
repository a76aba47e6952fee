"""Load, soak and overload on the bench's main stack (bench/README.md, section `load`).

- soak: `--soak-calls` (10,000) signed GET /pets as the buyer, one after another, paced below
  the stage's throttle (`--soak-rate`, default 80 % of its rate limit, read from the stage):
  throughput and p50/p99 per quarter, and the memory (RSS) of the emulator and of its Lambda
  workers at the start, after each quarter and at the end. Stops at `--soak-max-seconds`.
- overload: `--burst-threads` (8) clients calling back to back, without retries, for
  `--burst-seconds` (10): the share of 429s. They cannot exceed the stage's own 100 rps here
  (every GET /pets runs the function: about 80 calls/s at most on 2 cores, in all), so the
  stage's throttle is lowered for the overload to `--burst-rate` (30 rps, burst twice that,
  as the stage's own), then restored; `--burst-rate 0` keeps the stage's. Meanwhile
  `--burst-site-users` (4) users of the site's own code (site/api.js with site/retry.js, run
  by Node: bench/site_retry.mjs) list the pets one call after another: how many of their
  calls succeeded within the retry budget, on which try, and how many gave up and why.

Every call is a GET /pets?limit=50 with the buyer's ID token in X-Id-Token, as the site sends
it; the Python clients open a new connection per call (devstack.calls.Api), Node's fetch keeps
connections alive as a browser does.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from io import StringIO
from typing import Any

import psutil

import access
from bench.common import MAIN_NAMES, Args, Json, main_stack, percentiles, table
from bench.latency import callers
from devstack import clients, live_matrix, paths, stack
from devstack.errors import DevstackError
from devstack.processes import procs

SITE_RETRY = paths.REPO / "bench" / "site_retry.mjs"
RESULTS_MD = paths.REPO / "bench" / "RESULTS.md"
# RESULTS.md keeps the last full run of this section between these lines (bench.run writes it).
BEGIN, END = "<!-- load section: begin -->", "<!-- load section: end -->"
FULL_RUN_CALLS = 10_000
QUERY = "/pets?limit=50"  # the site's first page


def stage_throttle(local: stack.Stack) -> Json:
    """The stage's throttle as deployed (all methods: `*/*`)."""
    stage = clients.client("apigateway", target=local.target).get_stage(
        restApiId=local.outputs["restApiId"], stageName=local.outputs["stage"])
    everything = stage.get("methodSettings", {}).get("*/*", {})
    if "throttlingRateLimit" not in everything:
        raise DevstackError(f"stage {local.outputs['stage']} has no throttle for */*: "
                            f"{stage.get('methodSettings')}")
    return {"rate": everything["throttlingRateLimit"], "burst": everything["throttlingBurstLimit"]}


@contextmanager
def throttled_at(local: stack.Stack, rate: float, burst: int) -> Iterator[Json]:
    """The stage's throttle (`*/*`) set to rate/burst, and restored after."""
    api = clients.client("apigateway", target=local.target)
    before = stage_throttle(local)

    def set_to(rate: float, burst: int) -> None:
        api.update_stage(restApiId=local.outputs["restApiId"], stageName=local.outputs["stage"],
                         patchOperations=[
                             {"op": "replace", "path": "/*/*/throttling/rateLimit",
                              "value": str(rate)},
                             {"op": "replace", "path": "/*/*/throttling/burstLimit",
                              "value": str(burst)}])

    set_to(rate, burst)
    try:
        now = stage_throttle(local)
        if (now["rate"], now["burst"]) != (rate, burst):
            raise DevstackError(f"the stage's throttle reads {now} after setting {rate}/{burst}")
        yield now
    finally:
        set_to(before["rate"], before["burst"])


def memory() -> Json:
    """RSS of the emulator's process and of its Lambda workers (its child processes), in MB."""
    managed = procs.running(MAIN_NAMES["emulator_name"])
    if managed is None:
        raise DevstackError("the bench's emulator is not running")
    leader = psutil.Process(managed.pid)
    workers = leader.children(recursive=True)
    rss = [w.memory_info().rss for w in workers]
    return {"emulator_mb": leader.memory_info().rss / 2**20, "workers": len(workers),
            "workers_mb": sum(rss) / 2**20}


def site_call(caller: live_matrix.Caller) -> Callable[[], int]:
    """One GET /pets as the site sends it: the status answered."""
    headers = {"X-Id-Token": caller.id_token or ""}
    return lambda: caller.api.call("GET", QUERY, headers=headers).status_code


def quarter(samples: list[tuple[float, float, int]]) -> Json:
    """(start, seconds, status) of a quarter's calls: throughput and latency."""
    wall = samples[-1][0] + samples[-1][1] - samples[0][0]
    return {"calls": len(samples), "wall_seconds": wall, "calls_per_second": len(samples) / wall,
            **percentiles([s for _, s, _ in samples]),
            "statuses": dict(Counter(status for _, _, status in samples))}


def soak(caller: live_matrix.Caller, n: int, rate: float, max_seconds: float) -> Json:
    """n calls, call i sent no earlier than i/rate s after the first; quarters and memory."""
    send = site_call(caller)
    samples: list[tuple[float, float, int]] = []
    memory_at = [{"after_calls": 0, **memory()}]
    bounds = {n * q // 4 for q in (1, 2, 3, 4)}
    t0 = time.perf_counter()
    for i in range(n):
        wait = t0 + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        started = time.perf_counter()
        if started - t0 > max_seconds:
            break
        status = send()
        samples.append((started, time.perf_counter() - started, status))
        if i + 1 in bounds:
            memory_at.append({"after_calls": i + 1, **memory()})
    if memory_at[-1]["after_calls"] != len(samples):  # stopped early: the memory at the end
        memory_at.append({"after_calls": len(samples), **memory()})
    cut = [samples[len(samples) * q // 4:len(samples) * (q + 1) // 4] for q in range(4)]
    return {"calls": len(samples), "asked": n, "rate": rate, "max_seconds": max_seconds,
            "seconds": time.perf_counter() - t0, "quarters": [quarter(c) for c in cut if c],
            "memory": memory_at}


def site_users(local: stack.Stack, caller: live_matrix.Caller, users: int, seconds: float) -> Json:
    """bench/site_retry.mjs: the site's own client and retry policy, under Node."""
    credentials = caller.api.credentials or {}
    given = {"apiUrl": local.outputs["apiUrl"], "region": local.outputs["region"],
             "credentials": {"accessKeyId": credentials["AccessKeyId"],
                             "secretAccessKey": credentials["SecretAccessKey"],
                             "sessionToken": credentials["SessionToken"]},
             "idToken": caller.id_token, "callers": users, "seconds": seconds}
    done = subprocess.run(["node", str(SITE_RETRY)], input=json.dumps(given), text=True,
                          capture_output=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise DevstackError(f"{SITE_RETRY.name} failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    logical = result.pop("calls")
    ok = [c for c in logical if c["outcome"] == "ok"]
    return {**result, "users": users, "calls": len(logical),
            "outcomes": dict(Counter(c["outcome"] for c in logical)),
            "succeeded_on_try": dict(Counter(str(c["tries"]) for c in ok)),
            "latency_ok": percentiles([c["ms"] / 1000 for c in ok]) if len(ok) > 1 else {},
            "latency_all": percentiles([c["ms"] / 1000 for c in logical]) if len(logical) > 1
            else {}}


def overload(local: stack.Stack, caller: live_matrix.Caller, args: Args) -> Json:
    """The site's users at a throttle they exceed, alone and then beside raw clients."""
    if args.burst_rate:
        with throttled_at(local, args.burst_rate, int(2 * args.burst_rate)) as throttle:
            return {"throttle": throttle, "lowered": True, **_overload(local, caller, args)}
    return {"throttle": stage_throttle(local), "lowered": False, **_overload(local, caller, args)}


def warm(caller: live_matrix.Caller, concurrency: int) -> Json:
    """`concurrency` calls at once, three times: MiniStack starts a worker per call under way,
    and a dozen cold starts at once take seconds on 2 cores; not part of the overload."""
    send = site_call(caller)
    started = time.perf_counter()
    for _ in range(3):
        threads = [threading.Thread(target=send) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    return {"seconds": time.perf_counter() - started, **memory()}


def _overload(local: stack.Stack, caller: live_matrix.Caller, args: Args) -> Json:
    warmed = warm(caller, args.burst_threads + args.burst_site_users)
    alone = site_users(local, caller, args.burst_site_users, args.burst_seconds)
    stop = threading.Event()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    send = site_call(caller)

    def client() -> None:
        while not stop.is_set():
            status = send()
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.burst_threads)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        beside = site_users(local, caller, args.burst_site_users, args.burst_seconds)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    seconds = time.perf_counter() - started
    calls = sum(statuses.values())
    raw = {"threads": args.burst_threads, "seconds": seconds, "calls": calls,
           "calls_per_second": calls / seconds, "statuses": dict(statuses),
           "share_429": statuses[429] / calls if calls else 0.0}
    return {"warm": warmed, "site_alone": alone, "raw": raw, "site_beside_raw": beside,
            "memory_after": memory()}


def measure(args: Args) -> Json:
    local = main_stack()
    throttle = stage_throttle(local)
    rate = args.soak_rate or 0.8 * throttle["rate"]
    buyer = callers(local)[access.BUYER.name]
    send = site_call(buyer)
    for _ in range(20):  # warm: the function's cold start is section `calls`' figure
        send()
    soaked = soak(buyer, args.soak_calls, rate, args.soak_max_seconds)
    # Fresh credentials (15 min) for the overload, whatever the soak took.
    buyer = callers(local)[access.BUYER.name]
    return {"throttle": throttle, "soak": soaked, "overload": overload(local, buyer, args)}


def _statuses(counts: Json) -> str:
    return " ".join(f"{'no answer' if str(k) == '0' else k}x{v}"
                    for k, v in sorted(counts.items(), key=lambda kv: int(kv[0])))


def report(r: Json) -> None:
    s, o, t = r["soak"], r["overload"], r["throttle"]
    print(f"\n5. load, soak and overload (GET /pets as the buyer; the stage's throttle "
          f"{t['rate']:.0f} rps, burst {t['burst']})")
    table(f"   soak: {s['calls']} of {s['asked']} signed calls, one at a time, paced at "
          f"{s['rate']:.0f} calls/s, {s['seconds']:.0f} s",
          ("quarter", "calls", "calls/s", "p50 ms", "p99 ms", "max ms", "statuses"),
          [(f"Q{i + 1}", q["calls"], f"{q['calls_per_second']:.1f}", f"{q['p50'] * 1000:.1f}",
            f"{q['p99'] * 1000:.1f}", f"{q['max'] * 1000:.0f}", _statuses(q["statuses"]))
           for i, q in enumerate(s["quarters"])])
    first, last = s["quarters"][0], s["quarters"][-1]
    print(f"   last quarter / first: throughput "
          f"{last['calls_per_second'] / first['calls_per_second']:.2f}, p50 "
          f"{last['p50'] / first['p50']:.2f}, p99 {last['p99'] / first['p99']:.2f}")
    memory_rows = [(m["after_calls"], f"{m['emulator_mb']:.0f}", m["workers"],
                    f"{m['workers_mb']:.0f}") for m in s["memory"]]
    w, m = o["warm"], o["memory_after"]
    memory_rows += [("overload: warmed", "", w["workers"], f"{w['workers_mb']:.0f}"),
                    ("overload: after", f"{m['emulator_mb']:.0f}", m["workers"],
                     f"{m['workers_mb']:.0f}")]
    table("   memory (RSS, MB): the emulator's process and its Lambda workers, by calls made",
          ("after calls", "emulator", "workers", "workers MB"), memory_rows)

    ot, raw = o["throttle"], o["raw"]
    lowered = (f"the stage's throttle lowered to {ot['rate']:.0f} rps, burst {ot['burst']}"
               if o["lowered"] else f"the stage's own throttle, {ot['rate']:.0f} rps")
    users = o["site_alone"]["users"]
    print(f"\n   overload, {lowered}; first {raw['threads'] + users} calls at once, three times, "
          f"to start the workers ({w['seconds']:.1f} s)")
    print(f"   raw clients: {raw['threads']} back to back without retries, {raw['seconds']:.0f} "
          f"s: {raw['calls']} calls, {raw['calls_per_second']:.0f} calls/s, 429 for "
          f"{raw['share_429']:.0%} ({_statuses(raw['statuses'])})")
    phases = {"alone": o["site_alone"], f"beside {raw['threads']} raw clients":
              o["site_beside_raw"]}
    rows = []
    for label, site in phases.items():
        outcomes, n = site["outcomes"], site["calls"]
        lat = site["latency_ok"]
        rows.append((label, n, f"{n / site['seconds']:.1f}",
                     *(f"{outcomes.get(k, 0) / n:.0%}" if n else "-"
                       for k in ("ok", "tries", "budget", "retry-after")),
                     "/".join(str(site["succeeded_on_try"].get(str(k), 0)) for k in (1, 2, 3)),
                     f"{lat['p50'] * 1000:.0f}" if lat else "-",
                     f"{lat['p99'] * 1000:.0f}" if lat else "-", _statuses(site["tries"])))
    table(f"   {users} site users (site/api.js + site/retry.js under Node), each listing one call "
          "after another: logical calls and their outcomes (budget: 3 tries within 5 s)",
          ("site users", "calls", "calls/s", "ok", "gave up: tries", "budget", "retry-after",
           "ok on try 1/2/3", "ok p50 ms", "ok p99 ms", "tries by status"), rows)


def record(results: Json) -> None:
    """Writes this section's tables, with the machine and date, into RESULTS.md between its
    markers, when the run was a full one (at least 10,000 soak calls)."""
    r = results["load"]
    if r["soak"]["asked"] < FULL_RUN_CALLS:
        print(f"\n(RESULTS.md not updated: a run of fewer than {FULL_RUN_CALLS} soak calls)")
        return
    m = results["machine"]
    printed = StringIO()
    with redirect_stdout(printed):
        report(r)
    block = (f"{BEGIN}\n{results['date']}, commit {results['commit']}: {m['nproc']} cores "
             f"({m['cpu']}), {m['ram_bytes'] / 2**30:.1f} GiB RAM, Python {m['python']}, "
             f"MiniStack {m['ministack']}; 1-minute load at start {m['loadavg'][0]:.2f}\n\n"
             f"```{printed.getvalue().rstrip()}\n```\n{END}")
    text = RESULTS_MD.read_text()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Load, soak and overload (section `load`)\n\n" + block + "\n"
    RESULTS_MD.write_text(text)
    print(f"\nthe load section's figures: {RESULTS_MD}")


def add_arguments(parser: Any) -> None:
    parser.add_argument("--soak-calls", type=int, default=FULL_RUN_CALLS,
                        help=f"signed calls of the soak (default {FULL_RUN_CALLS})")
    parser.add_argument("--soak-rate", type=float, default=None,
                        help="calls/s of the soak (default 80%% of the stage's rate limit)")
    parser.add_argument("--soak-max-seconds", type=float, default=300.0,
                        help="the soak stops after this long, whatever its count (default 300)")
    parser.add_argument("--burst-threads", type=int, default=8,
                        help="clients calling back to back in the overload (default 8)")
    parser.add_argument("--burst-rate", type=float, default=30.0,
                        help="the stage's throttle (rps; burst twice that) during the overload "
                             "(default 30; 0: the stage's own)")
    parser.add_argument("--burst-seconds", type=float, default=10.0,
                        help="how long the overload lasts (default 10)")
    parser.add_argument("--burst-site-users", type=int, default=4,
                        help="users of the site's code listing during the overload (default 4)")
