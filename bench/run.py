"""Benchmark the local stack: apply time, Lambda cold and warm latency, bursts, memory.

    .venv/bin/python -m bench.run [--json out.json] [--calls 200] [--apply-samples 3]

Starts its OWN stack (its own emulator and IdP names, a free IdP port), so a `make up`
stack is never touched; prints tables of figures; stops everything it started. Figures,
not assertions: a slow number is reported, never failed on (see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/, not the repo, on the path
    sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402

import access  # noqa: E402
from devstack import calls, clients, identity, paths, procs, stack  # noqa: E402
from devstack.applier import archives  # noqa: E402

APPLY_TARGET_S = 3.0  # the target: "apply under 3 s on this machine"
BURSTS = (10, 25, 50)
THROUGHPUT_WIDTH, THROUGHPUT_ROUNDS = 20, 5
USERS = {"admin": "alice", "buyer": "bob"}
PACKAGE = ROOT / "build" / "lambda"
CALL_TIMEOUT_S = 180.0  # a 50-way cold burst queues behind 50 worker spawns on 2 cores
Json = dict[str, Any]
Call = tuple[float, int, Any]  # (seconds, HTTP status, JSON body or None) of one signed call


# --- reading /proc -------------------------------------------------------------------------


def mem_bytes(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process. PSS splits shared pages (interpreter, libraries) among the
    processes mapping them, so a sum of PSS does not count them once per worker as RSS does."""
    try:
        rss = _kb_field(Path(f"/proc/{pid}/status").read_text(), "VmRSS:")
        pss = _kb_field(Path(f"/proc/{pid}/smaps_rollup").read_text(), "Pss:")
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    return rss, pss


def _kb_field(text: str, name: str) -> int:
    line = next((x for x in text.splitlines() if x.startswith(name)), f"{name} 0 kB")
    return int(line.split()[1]) * 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (its own threads, not its children)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; fields[0] is state
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers(emulator_pid: int, functions: Sequence[str]) -> dict[str, list[int]]:
    """Pids of MiniStack's Lambda worker processes, by function name.

    A local-pool worker is `python <tmpdir>/_worker.py` with tmpdir
    `ministack-lambda-<function>-<random>`, a child of the emulator."""
    found: dict[str, list[int]] = {f: [] for f in functions}
    for pid in procs.family_pids(emulator_pid) - {emulator_pid}:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        script = argv[1].decode() if len(argv) > 1 else ""
        if not script.endswith("_worker.py"):
            continue
        folder = Path(script).parent.name
        for function in sorted(functions, key=len, reverse=True):
            if folder.startswith(f"ministack-lambda-{function}-"):
                found[function].append(pid)
                break
    return found


def tree_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # a worker's folder may go meanwhile
                total += (Path(root) / name).lstat().st_size
    return total


def runnable_others(samples: int = 10, interval: float = 0.1) -> float:
    """Processes running or ready to run right now besides this one (mean over 1 s).

    Unlike the load average, which takes minutes to decay, this says whether something
    else is competing for the CPU at this moment (e.g. a previous burst has not settled)."""
    counts = []
    for _ in range(samples):
        stat = Path("/proc/stat").read_text()
        line = next(x for x in stat.splitlines() if x.startswith("procs_running"))
        counts.append(int(line.split()[1]) - 1)  # minus this process, which is reading
        time.sleep(interval)
    return statistics.fmean(counts)


def machine() -> Json:
    meminfo = Path("/proc/meminfo").read_text()
    versions = sorted(paths.EMULATOR_VENV.glob("lib/python*/site-packages/ministack-*.dist-info"))
    return {
        "nproc": os.cpu_count(),
        "ram_bytes": _kb_field(meminfo, "MemTotal:"),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "python": platform.python_version(),
        "ministack": (versions[-1].name.removesuffix(".dist-info").split("-", 1)[1]
                      if versions else "?"),
    }


# --- statistics and printing ------------------------------------------------------------


def summary(seconds: Sequence[float]) -> Json:
    if len(seconds) < 2:
        return {"n": len(seconds), "p50": seconds[0] if seconds else None}
    q = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"n": len(seconds), "p50": q[49], "p95": q[94], "p99": q[98],
            "mean": statistics.fmean(seconds), "max": max(seconds)}


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def mb(size: int) -> str:
    return f"{size / 2**20:.1f}"


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


# --- the Lambda package ------------------------------------------------------------------


def package_figures() -> Json:
    """Sizes of what the apply uploads (the same file walk and zip as devstack's applier),
    and how long one worker's unpacking of it takes here (MiniStack's Worker._spawn does a
    realpath check per layer entry, then extractall, for the code zip and the layer zip)."""
    result: Json = {}
    zips: dict[str, bytes] = {}
    for part in ("code", "layer"):
        archive = pulumi.FileArchive(str(PACKAGE / part))
        entries = archives.archive_entries(archive)
        zips[part] = archives.zip_bytes(archive)
        tops = Counter(name.split("/")[1] if part == "layer" else name.split("/")[0]
                       for name in entries)
        result[part] = {"files": len(entries), "bytes": sum(map(len, entries.values())),
                        "zip_bytes": len(zips[part]), "top_by_files": tops.most_common(3)}
    runs = []
    for _ in range(3):
        with tempfile.TemporaryDirectory(prefix="bench-extract-") as scratch:
            started = time.perf_counter()
            for part, data in zips.items():
                (Path(scratch) / f"{part}.zip").write_bytes(data)
                target = Path(scratch) / part
                target.mkdir()
                with zipfile.ZipFile(Path(scratch) / f"{part}.zip") as zf:
                    for member in zf.namelist():
                        os.path.realpath(target / member)
                    zf.extractall(target)
            runs.append(time.perf_counter() - started)
    result["extract_seconds"] = statistics.median(runs)
    return result


# --- up / apply ------------------------------------------------------------------------------


def _names(tag: str) -> dict[str, str]:
    # Never the `make up` names (emulator, idp). Fixed rather than per-pid, so `up` first
    # stops whatever a killed earlier run left under them (and logs are overwritten).
    return {"emulator_name": f"bench-{tag}-emulator", "idp_name": f"bench-{tag}-idp"}


def timed_up(names: dict[str, str]) -> tuple[stack.Stack, Json]:
    started = time.perf_counter()
    local = stack.up(**names, idp_port=procs.free_port(), outputs_file=None)
    up_seconds = time.perf_counter() - started
    assert local.apply is not None
    return local, {"up": up_seconds, "apply": local.apply.seconds, **local.apply.phases,
                   "resources": len(local.apply.resources)}


def apply_sample() -> Json:
    """One up + down in a fresh interpreter (run in a spawned child): the program's imports
    are cold there, as they are for `make up`."""
    names = _names("sample")
    try:
        return timed_up(names)[1]
    finally:
        stack.down(**names, outputs_file=None)


# --- calling the API -----------------------------------------------------------------------


class Caller:
    """A demo user holding their class's role: ID token -> STS -> SigV4-signed calls."""

    def __init__(self, local: stack.Stack, user_class: str) -> None:
        started = time.perf_counter()
        self.token = identity.id_token(USERS[user_class], idp=local.idp)
        logged_in = time.perf_counter()
        credentials = calls.assume_role(local.outputs["roles"][user_class], self.token,
                                        session_name=f"bench-{USERS[user_class]}",
                                        duration_seconds=3600, target=local.target)
        self.login_seconds = logged_in - started
        self.assume_seconds = time.perf_counter() - logged_in
        self.api = calls.Api(local.outputs["apiUrl"], local.outputs["region"], credentials,
                             timeout=CALL_TIMEOUT_S)

    def call(self, method: str, path: str, **kwargs: Any) -> Call:
        """(seconds, status, JSON body or None), timed around the whole signed request."""
        started = time.perf_counter()
        response = self.api.call(method, path, **kwargs)
        seconds = time.perf_counter() - started
        try:
            body = response.json()
        except ValueError:
            body = None
        return seconds, response.status_code, body

    def add_pet(self) -> tuple[float, int, str]:
        seconds, status, body = self.call("POST", "/pets", json={"type": "bench", "price": 1})
        return seconds, status, (body or {}).get("petId", "")

    def purchase(self, pet_id: str) -> Call:
        return self.call("POST", "/pets/purchase", json={"petId": pet_id},
                         headers={"X-Id-Token": self.token})


def cold_starts(admin: Caller, buyer: Caller) -> list[Json]:
    """The first signed call to each route's function after up (its worker is spawned then),
    and a second, identical kind of call once it is warm. `up` itself calls no function."""
    rows: list[Json] = []

    def row(route: access.Route, cold: Call, warm: Call) -> None:
        rows.append({"route": route.id, "cold": cold[0], "warm": warm[0],
                     "status": f"{cold[1]}/{warm[1]}"})

    row(access.LIST_PETS, buyer.call("GET", "/pets"), buyer.call("GET", "/pets"))
    added_cold, added_warm = admin.add_pet(), admin.add_pet()
    row(access.ADD_PET, added_cold, added_warm)
    row(access.REMOVE_PET, admin.call("DELETE", f"/pets/{added_cold[2]}"),
        admin.call("DELETE", f"/pets/{added_warm[2]}"))
    (_, _, pet_b), (_, _, pet_c) = admin.add_pet(), admin.add_pet()
    # The first purchase also fetches the IdP's discovery document and JWKS (cached after).
    row(access.PURCHASE_PET, buyer.purchase(pet_b), buyer.purchase(pet_c))
    return rows


def sequential(call: Callable[[], Call], n: int) -> Json:
    results = [call() for _ in range(n)]
    return {**summary([s for s, _, _ in results]),
            "statuses": dict(Counter(status for _, status, _ in results))}


def concurrent(call: Callable[[], Call], n: int) -> Json:
    """n calls released at once by a barrier; wall time from release to the last answer."""
    release: list[float] = []
    barrier = threading.Barrier(n, action=lambda: release.append(time.perf_counter()))

    def one(_: int) -> Call:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    wall = time.perf_counter() - release[0]
    return {"n": n, "wall": wall, "calls_per_s": n / wall,
            "latency": summary([s for s, _, _ in results]),
            "statuses": dict(Counter(status for _, status, _ in results))}


class Pool:
    """MiniStack's worker pool for the stack's functions, seen from /proc and the Lambda API."""

    def __init__(self, local: stack.Stack, emulator_name: str) -> None:
        assert local.apply is not None and local.target.pid is not None
        self.emulator_pid = local.target.pid
        self.scratch = paths.TMP / emulator_name  # the emulator's TMPDIR: workers unpack here
        self.idp_pid = local.idp.pid
        # Function names are <prefix>-<route handler with dashes> (components/pets_app.py).
        names = [r.outputs["name"] for r in local.apply.by_type("aws:lambda/function:Function")]
        self.functions = {route.handler: next(n for n in names
                                              if n.endswith("-" + route.handler.replace("_", "-")))
                          for route in access.ROUTES}
        self.lambda_ = clients.client("lambda", target=local.target)

    def function(self, route: access.Route) -> str:
        return self.functions[route.handler]

    def fresh(self, function: str, timeout: float = 30.0) -> None:
        """Make `function` cold again: an UpdateFunctionConfiguration carrying Timeout (same
        value, nothing changes) makes MiniStack drop and kill the function's workers, as AWS
        recycles environments on a configuration update. Code and layer stay the same."""
        config = self.lambda_.get_function_configuration(FunctionName=function)
        self.lambda_.update_function_configuration(FunctionName=function,
                                                   Timeout=config["Timeout"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            config = self.lambda_.get_function_configuration(FunctionName=function)
            if (config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"
                    and not workers(self.emulator_pid, [function])[function]):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{function} still has workers {timeout:.0f} s after an update")

    def memory(self) -> Json:
        by_function = workers(self.emulator_pid, list(self.functions.values()))
        per_worker = {pid: mem_bytes(pid) for pids in by_function.values() for pid in pids}
        rss = [r for r, _ in per_worker.values()]
        idp = [mem_bytes(p) for p in procs.family_pids(self.idp_pid)] if self.idp_pid else []
        return {
            "emulator_rss": mem_bytes(self.emulator_pid)[0],
            "emulator_pss": mem_bytes(self.emulator_pid)[1],
            "workers": {f: len(p) for f, p in by_function.items()},
            "workers_rss_sum": sum(rss),
            "workers_pss_sum": sum(p for _, p in per_worker.values()),
            "worker_rss_min": min(rss, default=0),
            "worker_rss_mean": int(statistics.fmean(rss)) if rss else 0,
            "worker_rss_max": max(rss, default=0),
            "idp_rss": sum(r for r, _ in idp),
            "scratch_bytes": tree_bytes(self.scratch),
        }

    def burst(self, function: str, call: Callable[[], Call], n: int) -> Json:
        """n concurrent calls on a function with no worker: every call spawns one."""
        self.fresh(function)
        cpu = cpu_seconds(self.emulator_pid)
        result = concurrent(call, n)
        server = cpu_seconds(self.emulator_pid) - cpu
        spawned = workers(self.emulator_pid, [function])[function]
        workers_cpu = sum(map(cpu_seconds, spawned))  # all of their lives: this burst
        return {**result, "workers": len(spawned), "emulator_cpu": server,
                "workers_cpu": workers_cpu,
                # Near 100%: the burst is bound by its own CPU work on this machine's cores;
                # well below: it waited on something else (other load, a lock).
                "cpu_busy": (server + workers_cpu) / (result["wall"] * (os.cpu_count() or 1)),
                "scratch_bytes": tree_bytes(self.scratch)}


# --- the run ---------------------------------------------------------------------------------


def run(n_calls: int, apply_samples: int) -> Json:
    results: Json = {"machine_start": machine(), "runnable_others": runnable_others(),
                     "package": package_figures()}
    # Extra apply samples first, each up + down in a fresh interpreter, one at a time.
    samples = []
    if apply_samples > 1:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"),
                                 max_tasks_per_child=1) as pool:
            samples = [pool.submit(apply_sample).result() for _ in range(apply_samples - 1)]
    names = _names("main")
    local, main_sample = timed_up(names)
    try:
        results["apply"] = [main_sample, *samples]
        admin, buyer = Caller(local, "admin"), Caller(local, "buyer")
        results["login"] = {"login": buyer.login_seconds, "assume_role": buyer.assume_seconds}
        pool = Pool(local, names["emulator_name"])
        results["memory_idle"] = pool.memory()
        results["cold_starts"] = cold_starts(admin, buyer)

        # Warm latency: one worker per function, calls one after another.
        _, _, pet = admin.add_pet()
        buyer.purchase(pet)  # sold: every later purchase of it is the 409 path
        results["warm"] = {
            "GET /pets": sequential(lambda: buyer.call("GET", "/pets"), n_calls),
            "POST /pets/purchase (409)": sequential(lambda: buyer.purchase(pet), n_calls),
            # A signed call IAM denies at the gateway: the same path minus the Lambda.
            "POST /pets/purchase as admin (403, no Lambda)": sequential(
                lambda: admin.purchase(pet), n_calls),
        }
        results["memory_warm"] = pool.memory()

        list_pets = pool.function(access.LIST_PETS)
        get = lambda: buyer.call("GET", "/pets")  # noqa: E731
        cold = pool.burst(list_pets, get, THROUGHPUT_WIDTH)
        rounds = [concurrent(get, THROUGHPUT_WIDTH) for _ in range(THROUGHPUT_ROUNDS)]
        warm_wall = sum(r["wall"] for r in rounds)
        results["throughput"] = {
            "cold": cold,
            "warm": {"n": THROUGHPUT_WIDTH * THROUGHPUT_ROUNDS, "rounds": THROUGHPUT_ROUNDS,
                     "wall": warm_wall,
                     "calls_per_s": THROUGHPUT_WIDTH * THROUGHPUT_ROUNDS / warm_wall,
                     "p50": statistics.median(r["latency"]["p50"] for r in rounds),
                     "statuses": dict(sum((Counter(r["statuses"]) for r in rounds),
                                          Counter())),
                     "workers": len(workers(pool.emulator_pid, [list_pets])[list_pets])},
        }
        # MiniStack's local pool unpacks the function's code zip AND the dependency layer
        # zip into a new temp folder for every new worker (Worker._spawn: a realpath check
        # per entry, then ZipFile.extractall), in the server process. py-spy on a 50-way
        # burst showed ~80% of the server's time in Worker._spawn -> extractall / realpath.
        # So a burst's cost grows with the number of workers times the layer's FILE COUNT
        # (745 files today, 454 of them aws_lambda_powertools), not with what the handler does.
        results["bursts"] = [pool.burst(list_pets, get, n) for n in BURSTS]
        results["memory_after_burst"] = pool.memory()
    finally:
        stack.down(**names, outputs_file=None)
    results["machine_end"] = machine()
    return results


def report(r: Json) -> None:
    m, m2 = r["machine_start"], r["machine_end"]
    print(f"machine: {m['nproc']} cores, {m['ram_bytes'] / 2**30:.1f} GiB RAM, "
          f"Python {m['python']}, MiniStack {m['ministack']}; load average "
          f"{' '.join(m['loadavg'])} at start, {' '.join(m2['loadavg'])} at end "
          "(the end includes the bursts' own workers)")
    print(f"other runnable processes at start: {r['runnable_others']:.1f} "
          "(mean of 10 samples over 1 s)")
    if r["runnable_others"] >= 0.5:
        print("  NOTE: other work was competing for the CPU when the run started, so times "
              "(bursts above all) may read high; see the bursts' CPU busy %")

    rows = [(("main (this process)" if i == 0 else f"fresh process {i}"),
             f"{s['apply']:.2f}", f"{s['connect']:.2f}", f"{s['program']:.2f}",
             f"{s['settle']:.2f}", f"{s['up']:.2f}", f"{s['up'] - s['apply']:.2f}",
             "met" if s["apply"] < APPLY_TARGET_S else "MISSED")
            for i, s in enumerate(r["apply"])]
    applies = [s["apply"] for s in r["apply"]]
    rows.append(("median", f"{statistics.median(applies):.2f}", "", "", "",
                 f"{statistics.median(s['up'] for s in r['apply']):.2f}", "",
                 "met" if statistics.median(applies) < APPLY_TARGET_S else "MISSED"))
    table(f"local apply, {r['apply'][0]['resources']} resources (seconds; "
          f"target: apply < {APPLY_TARGET_S:.0f} s)",
          ("run", "apply", "connect", "program", "settle", "up total", "up - apply",
           f"< {APPLY_TARGET_S:.0f} s"), rows)

    p = r["package"]
    table("Lambda package (build/lambda; as zipped by the applier)",
          ("part", "files", "MB", "zip MB", "most files in"),
          [(part, p[part]["files"], mb(p[part]["bytes"]), mb(p[part]["zip_bytes"]),
            ", ".join(f"{name} {count}" for name, count in p[part]["top_by_files"]))
           for part in ("code", "layer")])
    print(f"  unpacking code + layer once, as each new worker does: "
          f"{ms(p['extract_seconds'])} ms (median of 3, this process)")

    lg = r["login"]
    print(f"\nlogin (code + PKCE at the IdP) {ms(lg['login'])} ms, "
          f"AssumeRoleWithWebIdentity {ms(lg['assume_role'])} ms")

    table("cold start: first signed call per function after up vs the next one (ms)",
          ("route", "cold", "warm", "cold - warm", "status"),
          [(c["route"], ms(c["cold"]), ms(c["warm"]), ms(c["cold"] - c["warm"]), c["status"])
           for c in r["cold_starts"]])

    table("warm latency through API Gateway, sequential signed calls (ms)",
          ("call", "n", "p50", "p95", "p99", "mean", "max", "statuses"),
          [(name, w["n"], ms(w["p50"]), ms(w["p95"]), ms(w["p99"]), ms(w["mean"]),
            ms(w["max"]), _statuses(w["statuses"])) for name, w in r["warm"].items()])

    t = r["throughput"]
    table(f"throughput, {THROUGHPUT_WIDTH} concurrent GET /pets",
          ("workers", "calls", "wall s", "calls/s", "p50 ms", "statuses"),
          [(f"cold (spawns {t['cold']['workers']})", t["cold"]["n"], f"{t['cold']['wall']:.2f}",
            f"{t['cold']['calls_per_s']:.1f}", ms(t["cold"]["latency"]["p50"]),
            _statuses(t["cold"]["statuses"])),
           (f"warm ({t['warm']['workers']} in pool)", t["warm"]["n"], f"{t['warm']['wall']:.2f}",
            f"{t['warm']['calls_per_s']:.1f}", ms(t["warm"]["p50"]),
            _statuses(t["warm"]["statuses"]))])

    table("burst of concurrent cold calls, GET /pets on a function with no worker",
          ("calls", "workers", "wall s", "s/worker", "p50 s", "max s", "server CPU s",
           "workers CPU s", "CPU busy", "scratch MB", "statuses"),
          [(b["n"], b["workers"], f"{b['wall']:.2f}", f"{b['wall'] / max(b['workers'], 1):.3f}",
            f"{b['latency']['p50']:.2f}", f"{b['latency']['max']:.2f}",
            f"{b['emulator_cpu']:.1f}", f"{b['workers_cpu']:.1f}", f"{b['cpu_busy']:.0%}",
            mb(b["scratch_bytes"]), _statuses(b["statuses"])) for b in r["bursts"]])
    print("  CPU busy = (server + new workers' CPU) / (wall x cores): near 100% means the "
          "burst is bound by its own work")

    snaps = (("idle (after up)", r["memory_idle"]), ("after warm-up", r["memory_warm"]),
             ("after 50-burst", r["memory_after_burst"]))
    table("memory (MB; RSS counts shared pages in every process, PSS splits them)",
          ("when", "emulator RSS", "workers", "workers RSS", "workers PSS", "per worker RSS",
           "IdP RSS", "scratch"),
          [(when, mb(s["emulator_rss"]), sum(s["workers"].values()), mb(s["workers_rss_sum"]),
            mb(s["workers_pss_sum"]),
            f"{mb(s['worker_rss_min'])}/{mb(s['worker_rss_mean'])}/{mb(s['worker_rss_max'])}",
            mb(s["idp_rss"]), mb(s["scratch_bytes"])) for when, s in snaps])
    print("  per worker RSS = min/mean/max; scratch = the emulator's temp folder "
          "(one unpacked code + layer per worker)")


def _statuses(counts: dict[Any, int]) -> str:
    return " ".join(f"{status}x{n}" for status, n in sorted(counts.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--calls", type=int, default=200, help="sequential calls per series")
    parser.add_argument("--apply-samples", type=int, default=3,
                        help="applies measured (1 = only the stack the benchmark uses)")
    args = parser.parse_args(argv)
    results = run(args.calls, args.apply_samples)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
