"""What the harness tests inspect: a service's processes and sockets, a venv's packages,
the keys the identity provider serves."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psutil
import requests
from packaging.utils import canonicalize_name

from devstack.idp.idp_process import Idp
from devstack.processes import installer


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie (this machine's PID 1 reaps no orphans)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def family_pids(pid: int) -> set[int]:
    """Live pids of a service's leader, its descendants and its process group."""
    found = {pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))}
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):  # gone in between
            if os.getpgid(proc.pid) == pid:  # spawn() makes the leader its group's leader
                found.add(proc.pid)
    return {p for p in found if alive(p)}


def listeners(pids: Iterable[int]) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of every TCP listener and bound UDP socket the pids hold.

    Used to prove the stack binds loopback only. A UDP socket without a remote address is
    one that receives from anyone, so it counts as listening.
    """
    found = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):  # exited since, or not ours
            for conn in psutil.Process(pid).net_connections(kind="inet"):
                tcp = conn.type == socket.SOCK_STREAM
                if (conn.status == psutil.CONN_LISTEN) if tcp else not conn.raddr:
                    found.add(("tcp" if tcp else "udp", conn.laddr.ip, conn.laddr.port))
    return found


def installed(venv_python: Path) -> dict[str, str]:
    """The venv's packages as pins(), from `uv pip freeze`."""
    out = subprocess.run([installer.uv(), "pip", "freeze", "--python", str(venv_python)],
                         capture_output=True, text=True, check=True).stdout
    return pins(out.splitlines())


def pins(lines: Sequence[str]) -> dict[str, str]:
    """{canonical name: version or `@ url`} from freeze or requirements lines, so pip's
    and uv's spellings (`Hypercorn` / `hypercorn`, `a_b` / `a-b`) compare equal."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            name, _, version = line.partition(" @ ")
            version = "@ " + version
        found[canonicalize_name(name.strip())] = version.strip()
    return found


def served_jwks(idp: Idp) -> dict[str, Any]:
    """The JWKS the provider serves (public keys), as fetched from its jwks_uri."""
    response = requests.get(idp.discovery()["jwks_uri"], timeout=5, verify=idp.verify)
    response.raise_for_status()
    return dict(response.json())
