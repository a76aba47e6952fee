"""`--extras`: how MiniStack's worker pool behaves under bursts, memory, package size.

Not part of the default run (they take about 90 s more): bursts of 10/25/50 concurrent
cold calls, RSS/PSS of emulator, workers and IdP, and what the Lambda package holds.

MiniStack's local pool unpacks the function's code zip AND the dependency layer zip into a
new temp folder for every new worker (Worker._spawn: a realpath check per entry, then
ZipFile.extractall), in the server process. So a burst's cost grows with the number of
workers times the layer's file count, not with what the handler does.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pulumi

import access
from bench.calls import PACKAGE, Call, Caller
from bench.common import Json, kb_field, latency, mb, statuses, table, tree_bytes
from devstack import clients, paths, procs, stack
from devstack.applier import archives

BURSTS = (10, 25, 50)


# --- reading /proc -------------------------------------------------------------------------


def mem_bytes(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process. PSS splits shared pages among the processes mapping them."""
    try:
        rss = kb_field(Path(f"/proc/{pid}/status").read_text(), "VmRSS:")
        pss = kb_field(Path(f"/proc/{pid}/smaps_rollup").read_text(), "Pss:")
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    return rss, pss


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (its own threads, not its children)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; fields[0] is state
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers(emulator_pid: int, functions: Sequence[str]) -> dict[str, list[int]]:
    """Pids of MiniStack's Lambda workers by function: `python <tmp>/_worker.py` with tmp
    `ministack-lambda-<function>-<random>`, children of the emulator."""
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


# --- the Lambda package ------------------------------------------------------------------


def package_figures() -> Json:
    """What the apply uploads (the applier's own file walk and zip), and how long one
    worker's unpacking of it takes here (realpath per layer entry, then extractall)."""
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


# --- the pool ------------------------------------------------------------------------------


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
            "latency": latency([s for s, _, _ in results]),
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
        value) makes MiniStack drop and kill the function's workers."""
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
            "workers": sum(len(p) for p in by_function.values()),
            "workers_rss_sum": sum(rss),
            "workers_pss_sum": sum(p for _, p in per_worker.values()),
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
                "cpu_busy": (server + workers_cpu) / (result["wall"] * (os.cpu_count() or 1)),
                "scratch_bytes": tree_bytes(self.scratch)}


def measure(local: stack.Stack, emulator_name: str, buyer: Caller) -> Json:
    pool = Pool(local, emulator_name)
    memory = {"warm": pool.memory()}
    get = lambda: buyer.call("GET", "/pets")  # noqa: E731
    bursts = [pool.burst(pool.function(access.LIST_PETS), get, n) for n in BURSTS]
    memory["after_bursts"] = pool.memory()
    return {"package": package_figures(), "bursts": bursts, "memory": memory}


def report(x: Json) -> None:
    p = x["package"]
    table("Lambda package (build/lambda; as zipped by the applier)",
          ("part", "files", "MB", "zip MB", "most files in"),
          [(part, p[part]["files"], mb(p[part]["bytes"]), mb(p[part]["zip_bytes"]),
            ", ".join(f"{name} {count}" for name, count in p[part]["top_by_files"]))
           for part in ("code", "layer")])
    print(f"  unpacking code + layer once, as each new worker does: "
          f"{p['extract_seconds'] * 1000:.0f} ms (median of 3, this process)")
    table("burst of concurrent cold calls, GET /pets on a function with no worker",
          ("calls", "workers", "wall s", "s/worker", "p50 s", "server CPU s",
           "workers CPU s", "CPU busy", "scratch MB", "statuses"),
          [(b["n"], b["workers"], f"{b['wall']:.2f}", f"{b['wall'] / max(b['workers'], 1):.3f}",
            f"{b['latency']['p50']:.2f}", f"{b['emulator_cpu']:.1f}", f"{b['workers_cpu']:.1f}",
            f"{b['cpu_busy']:.0%}", mb(b["scratch_bytes"]), statuses(b["statuses"]))
           for b in x["bursts"]])
    table("memory (MB; RSS counts shared pages in every process, PSS splits them)",
          ("when", "emulator RSS", "workers", "workers RSS", "workers PSS", "max worker RSS",
           "IdP RSS", "scratch"),
          [(when, mb(s["emulator_rss"]), s["workers"], mb(s["workers_rss_sum"]),
            mb(s["workers_pss_sum"]), mb(s["worker_rss_max"]), mb(s["idp_rss"]),
            mb(s["scratch_bytes"])) for when, s in x["memory"].items()])
