"""Start, find and stop the dev stack's background processes (emulator, identity provider).

Each service runs in its own session (process group) so it outlives the command that
started it (`make up`) and so `stop` can end it together with every child it forked
(MiniStack's Lambda workers). A JSON record in `.devstack/pids/<name>.json` holds the pid,
the start time of that pid (so a stale record can never make us signal an unrelated process
that reused the pid) and facts about the service (URL, port, ...). psutil reads the process
table; its Process objects also refuse to signal a pid reused since they were made.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from devstack import paths
from devstack.errors import DevstackError

LOOPBACK = "127.0.0.1"


class PortInUseError(DevstackError):
    """The port asked for is already taken by another listener."""


class StartupError(DevstackError):
    """A service exited or never became ready; the message carries its log tail."""


@dataclass(frozen=True)
class Managed:
    """A running service that this stack started (possibly from another process)."""

    pid: int
    started: float  # the pid's start time in seconds since boot (_since_boot), as recorded
    info: dict[str, Any]  # what the starter recorded (URL, port, ...)


# Popen objects of services started by this process, so stop() can reap them (no zombies,
# no ResourceWarning) when the caller that started a service is also the one stopping it.
_children: dict[int, subprocess.Popen[bytes]] = {}


@contextlib.contextmanager
def file_lock(name: str) -> Iterator[None]:
    """Serialise one-time setup (venv, npm ci, signing key) across processes.

    pytest-xdist workers or a `make up` racing a test run would otherwise build the same
    venv or key at once and leave a mix.
    """
    path = paths.STATE / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


# --- ports -------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port the kernel considers free now (small race until the service binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def check_port_free(port: int, what: str) -> None:
    """Raise PortInUseError naming the port if something already listens there.

    SO_REUSEADDR mirrors what the servers themselves do, so a socket lingering in
    TIME_WAIT from a previous run is not mistaken for a live listener; a listener on
    0.0.0.0 still makes the bind fail.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError as exc:
            raise PortInUseError(
                f"{what}: port {port} on {LOOPBACK} is already in use ({exc.strerror}). "
                f"Stop whatever listens there (`ss -ltnp 'sport = :{port}'`) "
                "or choose another port."
            ) from None


# --- the process table -------------------------------------------------------------------


def _live(proc: psutil.Process) -> bool:
    """Still the process `proc` was made for (is_running compares start times), not a zombie."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _since_boot(proc: psutil.Process) -> float:
    """When `proc` started, in seconds since boot (the kernel counts it in 1/100 s ticks).

    psutil's create_time is that plus the boot time, and the boot time the kernel reports
    moves whenever the wall clock is set, as it is now and then on the sandbox VMs: records
    compared by create_time then all read as stale, and the services they named were
    forgotten while they ran on (a test run's emulators left behind, `devstack token`
    saying the identity provider was not running)."""
    return round(proc.create_time() - psutil.boot_time(), 2)


def _process(pid: int, started: float | None = None) -> psutil.Process | None:
    """The live process `pid`, or None; given `started`, None also for a reused pid."""
    try:
        proc = psutil.Process(pid)
        # A record written before start times were kept since boot holds a create_time.
        if started is not None and started not in (_since_boot(proc), proc.create_time()):
            return None
    except psutil.Error:
        return None
    return proc if _live(proc) else None


def _group(pgid: int) -> list[psutil.Process]:
    """The live members of process group `pgid`."""
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):  # gone in between
            if os.getpgid(proc.pid) == pgid and _live(proc):
                members.append(proc)
    return members


def _family(leader: psutil.Process) -> list[psutil.Process]:
    """The process, its descendants and its process-group members.

    Descendants are collected too because a child could have left the group (setsid);
    the group catches children already re-parented away from the leader.
    """
    found = {leader.pid: leader}
    with contextlib.suppress(psutil.Error):
        found |= {p.pid: p for p in leader.children(recursive=True)}
        found |= {p.pid: p for p in _group(os.getpgid(leader.pid))}
    return [p for p in found.values() if _live(p)]


# --- records -----------------------------------------------------------------------------


def record(name: str, pid: int, info: Mapping[str, Any]) -> None:
    proc = _process(pid)
    body = {"pid": pid, "started": _since_boot(proc) if proc else None, **info}
    path = paths.pid_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    tmp.replace(path)  # atomic, so a concurrent reader never sees half a record


def forget(name: str) -> None:
    paths.pid_file(name).unlink(missing_ok=True)


def running(name: str) -> Managed | None:
    """The live service recorded under `name`, or None (a stale record is removed)."""
    path = paths.pid_file(name)
    try:
        body = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        forget(name)
        return None
    pid, started = body.pop("pid"), body.pop("started", None)
    if started is None or _process(pid, started) is None:
        forget(name)
        return None
    return Managed(pid=pid, started=started, info=body)


# --- start / wait / stop -----------------------------------------------------------------


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    info: Mapping[str, Any],
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session, logging to .devstack/logs/<name>.log, and record it."""
    log_path = paths.log_file(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Truncate: the log tail shown on a failed start must belong to this run.
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: killable as one, survives our exit
        )
    _children[proc.pid] = proc
    record(name, proc.pid, info)
    return proc


def wait_ready(
    name: str,
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    timeout: float,
) -> None:
    """Poll `ready` until it holds; if the process exits or `timeout` passes first, raise
    StartupError with the log tail."""
    deadline = time.monotonic() + timeout
    log_path = paths.log_file(name)
    while True:
        code = proc.poll()
        if code is not None:
            forget(name)
            _children.pop(proc.pid, None)
            raise StartupError(
                f"{name} exited with code {code} during start-up. Last lines of {log_path}:\n"
                f"{tail(log_path)}"
            )
        if ready():
            return
        if time.monotonic() > deadline:
            stop(name)
            raise StartupError(
                f"{name} was not ready after {timeout:.0f} s (stopped it). "
                f"Last lines of {log_path}:\n"
                f"{tail(log_path)}"
            )
        time.sleep(0.05)


def _wait_gone(victims: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those of `victims` still alive after up to `timeout` seconds.

    Not psutil.wait_procs: it counts a zombie as running, and on these machines PID 1 never
    reaps orphans, so every dead worker would wait out the timeout. Our own children are
    reaped through their Popen, so the caller that started one still reads its exit status.
    """
    deadline = time.monotonic() + timeout
    while True:
        for child in list(_children.values()):
            child.poll()
        left = [v for v in victims if _live(v)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _signal(victims: list[psutil.Process], sig: signal.Signals) -> None:
    for proc in victims:
        # psutil checks right before signalling that the pid was not reused; it may also
        # have exited in between.
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(sig)


def stop(name: str, timeout: float = 10.0) -> bool:
    """Stop the service and everything it forked: SIGTERM, then SIGKILL after `timeout`.

    Returns False if nothing was running. Raises DevstackError if a process survives SIGKILL.
    """
    managed = running(name)
    leader = _process(managed.pid, managed.started) if managed else None
    if leader is None:
        forget(name)
        return False
    victims = _family(leader)
    # The leader first, so it can shut its own workers down in order; then the rest
    # at once (after a burst, hundreds of idle Lambda workers would each take their time).
    _signal([leader], signal.SIGTERM)
    _wait_gone([leader], timeout)
    # spawn() made the leader its own group leader (pgid == pid); anything forked after the
    # snapshot above is still in that group.
    late = {p.pid: p for p in [*victims, *_group(leader.pid)]}
    left = [p for p in late.values() if _live(p)]
    if left:  # children the leader did not take down (or forked late) get their own SIGTERM
        _signal(left, signal.SIGTERM)
        left = _wait_gone(left, min(timeout, 2.0))
    if left:
        _signal(left, signal.SIGKILL)
        left = _wait_gone(left, 5.0)
    forget(name)
    _children.pop(leader.pid, None)
    if left:
        raise DevstackError(f"{name}: processes {sorted(p.pid for p in left)} survived SIGKILL "
                            "(see `ps -o pid,stat,cmd -p <pid>`); end them by hand")
    return True
