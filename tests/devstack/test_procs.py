"""Process control without an emulator: start-time records, process groups, listeners,
the log tail of a failed start."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest

from devstack import paths
from devstack.processes import procs
from devstack.processes.procs import StartupError
from tests.support.private import private_name
from tests.support.processes import alive, listeners

# A leader whose child forks a grandchild and exits: the grandchild is re-parented away
# from the leader but stays in its process group. Another child leaves the group (setsid)
# but stays the leader's descendant.
FAMILY = """
import os, subprocess, sys, time
mid = subprocess.Popen([sys.executable, "-c",
    "import subprocess; p = subprocess.Popen(['sleep', '60']); print(p.pid, flush=True)"],
    stdout=subprocess.PIPE, text=True)
orphan = int(mid.stdout.readline())
mid.wait()
away = subprocess.Popen(["sleep", "60"], start_new_session=True)
print("ready", orphan, away.pid, flush=True)
time.sleep(60)
"""


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_record_whose_start_time_differs_is_stale_and_never_signalled(
    sleeper: subprocess.Popen[bytes],
) -> None:
    name = private_name("stale")
    procs.record(name, sleeper.pid, {"port": 1})
    managed = procs.running(name)
    assert managed is not None and managed.info == {"port": 1}
    # The same pid, another start time: what a record looks like once the pid was reused.
    body = json.loads(paths.pid_file(name).read_text())
    paths.pid_file(name).write_text(json.dumps({**body, "started": body["started"] - 1}))
    assert procs.running(name) is None
    assert not paths.pid_file(name).exists()  # a stale record is removed
    paths.pid_file(name).write_text(json.dumps({**body, "started": body["started"] - 1}))
    assert procs.stop(name) is False
    assert sleeper.poll() is None and alive(sleeper.pid)


def test_a_record_outlives_a_step_of_the_wall_clock(
    sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Setting the wall clock moves the boot time the kernel reports, and every process's
    create_time with it; the record still names the running service."""
    name = private_name("clock-step")
    procs.record(name, sleeper.pid, {"port": 1})
    create_time, boot_time = psutil.Process.create_time, psutil.boot_time
    monkeypatch.setattr(psutil.Process, "create_time", lambda p: create_time(p) + 7.0)
    monkeypatch.setattr(psutil, "boot_time", lambda: boot_time() + 7.0)
    managed = procs.running(name)
    procs.forget(name)  # not stop(): the sleeper shares pytest's process group
    assert managed is not None and managed.pid == sleeper.pid, "the record was dropped"


def test_a_record_without_a_start_time_is_stale(sleeper: subprocess.Popen[bytes]) -> None:
    name = private_name("no-start-time")
    paths.pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    paths.pid_file(name).write_text(json.dumps({"pid": sleeper.pid, "start_ticks": 1}))
    assert procs.stop(name) is False
    assert sleeper.poll() is None


def test_stop_ends_the_group_and_every_descendant() -> None:
    name = private_name("family")
    procs.stop(name)
    proc = procs.spawn(name, [sys.executable, "-c", FAMILY], env={"PATH": os.environ["PATH"]},
                       info={})
    procs.wait_ready(name, proc, lambda: "ready" in paths.log_file(name).read_text(), 10)
    orphan, away = map(int, paths.log_file(name).read_text().split()[1:3])
    assert alive(orphan) and alive(away)
    assert os.getpgid(orphan) == proc.pid and os.getpgid(away) != proc.pid
    assert procs.stop(name, timeout=2) is True
    assert not alive(orphan), "the group member re-parented away was left running"
    assert not alive(away), "the descendant that left the group was left running"


def test_listeners_report_tcp_listeners_and_unconnected_udp_sockets() -> None:
    with socket.socket() as loop, socket.socket() as anywhere, \
            socket.socket(type=socket.SOCK_DGRAM) as udp, \
            socket.socket(type=socket.SOCK_DGRAM) as connected:
        loop.bind(("127.0.0.1", 0))
        loop.listen()
        anywhere.bind(("0.0.0.0", 0))  # noqa: S104 (the check must see such a listener)
        anywhere.listen()
        udp.bind(("127.0.0.1", 0))
        connected.connect(("127.0.0.1", udp.getsockname()[1]))  # sends to one peer only
        found = listeners([os.getpid()])
        assert ("tcp", "127.0.0.1", loop.getsockname()[1]) in found
        assert ("tcp", "0.0.0.0", anywhere.getsockname()[1]) in found  # noqa: S104
        assert ("udp", "127.0.0.1", udp.getsockname()[1]) in found
        assert not any(port == connected.getsockname()[1] for _, _, port in found)


def test_a_failed_start_raises_with_the_log_tail() -> None:
    name = private_name("fails")
    proc = procs.spawn(name, [sys.executable, "-c", "print('why it failed'); raise SystemExit(3)"],
                       env={"PATH": os.environ["PATH"]}, info={})
    with pytest.raises(StartupError) as failure:
        procs.wait_ready(name, proc, lambda: False, 10)
    assert "exited with code 3" in str(failure.value)
    assert "why it failed" in str(failure.value)
    assert procs.running(name) is None
