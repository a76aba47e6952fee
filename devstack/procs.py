"""Start, find and stop the dev stack's background processes (emulator, identity provider).

Each service runs in its own session (process group) so it outlives the command that
started it (`make up`) and so `stop` can end it together with every child it forked
(MiniStack's Lambda workers). A JSON record in `.devstack/pids/<name>.json` holds the pid,
the kernel's start time of that pid (so a stale record can never make us signal an
unrelated process that reused the pid) and facts about the service (URL, port, ...).

Linux only: process identity and group membership are read from /proc.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import paths
from harness_core.errors import HarnessError

LOOPBACK = "127.0.0.1"


class DevstackError(HarnessError):
    """A dev-stack service could not be started, reached or stopped; the message says why."""


class PortInUseError(DevstackError):
    """The port asked for is already taken by another listener."""


class StartupError(DevstackError):
    """A service exited or never became ready; the message carries its log tail."""


@dataclass(frozen=True)
class Managed:
    """A running service that this stack started (possibly from another process)."""

    name: str
    pid: int
    info: dict[str, Any] = field(default_factory=dict)


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


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel considers free right now (small race until the service binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_port_free(port: int, what: str, host: str = LOOPBACK) -> None:
    """Raise PortInUseError naming the port if something already listens there.

    SO_REUSEADDR mirrors what the servers themselves do, so a socket lingering in
    TIME_WAIT from a previous run is not mistaken for a live listener; a listener on
    0.0.0.0 still makes the bind fail.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"{what}: port {port} on {host} is already in use ({exc.strerror}). "
                f"Stop whatever listens there (`ss -ltnp 'sport = :{port}'`) "
                "or choose another port."
            ) from None


# --- /proc helpers -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Stat:
    pid: int
    ppid: int
    pgid: int
    state: str
    start_ticks: int


def _stat(pid: int) -> _Stat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = raw.rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); ppid = field 4, pgrp = field 5, starttime = field 22.
    return _Stat(
        pid=pid, ppid=int(rest[1]), pgid=int(rest[2]), state=rest[0], start_ticks=int(rest[19])
    )


def _all_stats() -> list[_Stat]:
    stats = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                stats.append(st)
    return stats


def _alive(pid: int, start_ticks: int) -> bool:
    """True if `pid` is still the same (non-zombie) process we recorded."""
    st = _stat(pid)
    return st is not None and st.start_ticks == start_ticks and st.state != "Z"


def _group(pgid: int) -> set[tuple[int, int]]:
    return {(s.pid, s.start_ticks) for s in _all_stats() if s.pgid == pgid and s.state != "Z"}


def _family(pid: int) -> set[tuple[int, int]]:
    """(pid, start_ticks) of the process, its descendants and its process-group members.

    Descendants are collected too because a child could have left the group (setsid);
    the group catches children already re-parented away from the leader.
    """
    stats = [s for s in _all_stats() if s.state != "Z"]
    by_parent: dict[int, list[_Stat]] = {}
    for s in stats:
        by_parent.setdefault(s.ppid, []).append(s)
    leader = _stat(pid)
    found: dict[int, _Stat] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        for child in by_parent.get(current, []):
            if child.pid not in found:
                found[child.pid] = child
                todo.append(child.pid)
    if leader is not None:
        found[pid] = leader
        for s in stats:
            if s.pgid == leader.pgid:
                found[s.pid] = s
    return {(s.pid, s.start_ticks) for s in found.values()}


# --- records -----------------------------------------------------------------------------


def record(name: str, pid: int, info: Mapping[str, Any]) -> None:
    st = _stat(pid)
    body = {"pid": pid, "start_ticks": st.start_ticks if st else None, **info}
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
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        forget(name)
        return None
    pid, ticks = body.pop("pid"), body.pop("start_ticks")
    if ticks is None or not _alive(pid, ticks):
        forget(name)
        return None
    return Managed(name=name, pid=pid, info=body)


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
) -> float:
    """Poll `ready` until it holds; return seconds waited.

    If the process exits or `timeout` passes first, raise StartupError with the log tail.
    """
    started = time.monotonic()
    deadline = started + timeout
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
            return time.monotonic() - started
        if time.monotonic() > deadline:
            stop(name)
            raise StartupError(
                f"{name} was not ready after {timeout:.0f} s (stopped it). "
                f"Last lines of {log_path}:\n"
                f"{tail(log_path)}"
            )
        time.sleep(0.05)


def _reap(pid: int) -> None:
    proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        _children.pop(pid, None)


def _wait_gone(victims: set[tuple[int, int]], leader: int, timeout: float) -> set[tuple[int, int]]:
    deadline = time.monotonic() + timeout
    while True:
        _reap(leader)
        left = {v for v in victims if _alive(*v)}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _signal(victims: set[tuple[int, int]], sig: signal.Signals) -> None:
    for pid, ticks in victims:
        if _alive(pid, ticks):  # re-check right before signalling: never hit a reused pid
            with contextlib.suppress(ProcessLookupError):  # it may exit in between
                os.kill(pid, sig)


def stop(name: str, timeout: float = 10.0) -> bool:
    """Stop the service and everything it forked: SIGTERM, then SIGKILL after `timeout`.

    Returns False if nothing was running. Raises DevstackError if a process survives SIGKILL.
    """
    managed = running(name)
    if managed is None:
        return False
    victims = _family(managed.pid)
    leader = {v for v in victims if v[0] == managed.pid}
    # The leader first, so it can shut its own workers down in order; then the rest
    # at once (after a burst, hundreds of idle Lambda workers would each take their time).
    _signal(leader, signal.SIGTERM)
    _wait_gone(leader, managed.pid, timeout)
    left = {v for v in victims if _alive(*v)}
    # spawn() made the leader its own group leader (pgid == pid); anything forked after the
    # snapshot above is still in that group.
    left |= _group(managed.pid)
    if left:  # children the leader did not take down (or forked late) get their own SIGTERM
        _signal(left, signal.SIGTERM)
        left = _wait_gone(left, managed.pid, min(timeout, 2.0))
    if left:
        _signal(left, signal.SIGKILL)
        left = _wait_gone(left, managed.pid, 5.0)
    forget(name)
    if left:
        raise DevstackError(f"{name}: processes {sorted(p for p, _ in left)} survived SIGKILL")
    return True


def family_pids(pid: int) -> set[int]:
    """Pids of a process, its descendants and its group (for tests checking nothing is left)."""
    return {p for p, _ in _family(pid)}


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    st = _stat(pid)
    return st is not None and st.state != "Z"


def _decode_address(hex_addr: str) -> str:
    # /proc/net/* prints each 32-bit word of the address in host (little-endian) order.
    raw = bytes.fromhex(hex_addr)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words)


def listeners(pids: Iterable[int]) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of every TCP listener and bound UDP socket the pids hold.

    Used to prove the stack binds loopback only; reads /proc, so it needs no extra tool.
    """
    inodes: set[str] = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except (FileNotFoundError, PermissionError):
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:[") : -1])
    found: set[tuple[str, str, int]] = set()
    # TCP state 0A is LISTEN; UDP state 07 is an unconnected (bound, receiving) socket.
    for table, proto, state in (
        ("tcp", "tcp", "0A"),
        ("tcp6", "tcp", "0A"),
        ("udp", "udp", "07"),
        ("udp6", "udp", "07"),
    ):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == state and fields[9] in inodes:
                address, port = fields[1].split(":")
                found.add((proto, _decode_address(address), int(port, 16)))
    return found
