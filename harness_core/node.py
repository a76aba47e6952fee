"""Node.js and a folder's pinned npm packages, for the harness's Node programs (the offline
IAM engine's simulator, the local identity provider)."""

from __future__ import annotations

import fcntl
import functools
import json
import shutil
import subprocess
from pathlib import Path

from harness_core.errors import HarnessError

MIN_NODE_MAJOR = 20  # top-level await and synchronous import.meta.resolve


class NodeUnavailable(HarnessError):
    """Node/npm or a folder's pinned npm packages are missing and cannot be installed."""


def _stale(folder: Path) -> dict[str, str]:
    """The packages of `folder`/package.json that node_modules lacks or holds at another version."""
    pinned = json.loads((folder / "package.json").read_text())["dependencies"]
    found = {}
    for name in pinned:
        manifest = folder / "node_modules" / name / "package.json"
        found[name] = json.loads(manifest.read_text())["version"] if manifest.is_file() else ""
    return {name: version for name, version in pinned.items() if found[name] != version}


@functools.cache
def _major_version(node: str) -> str:
    """Asked once per process: each simulation batch would start Node once more for it."""
    return subprocess.run([node, "-p", "process.versions.node.split('.')[0]"],
                          capture_output=True, text=True, check=True).stdout


def ensure_packages(folder: Path) -> str:
    """Node >= 20 and the npm packages pinned in `folder`/package.json (`npm ci` if they are
    missing or stale); returns the node binary's path."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        raise NodeUnavailable(
            f"`node` not found on PATH. Install Node.js >= {MIN_NODE_MAJOR} (e.g. `apt-get "
            f"install nodejs npm`), then run `npm ci --prefix {folder}`."
        )
    version = _major_version(node)
    if int(version) < MIN_NODE_MAJOR:
        raise NodeUnavailable(f"Node.js {version.strip()} found; {folder.name} needs"
                              f" Node.js >= {MIN_NODE_MAJOR}.")
    # Two processes (xdist workers, `make up` beside a test run) must not run `npm ci` in one
    # folder at once. The lock file is package-lock.json itself: `npm ci` only reads it.
    with (folder / "package-lock.json").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _stale(folder):
            return node
        if npm is None:
            raise NodeUnavailable(f"{folder}/node_modules is missing or stale and `npm` is not "
                                  f"on PATH. Install npm, then run `npm ci --prefix {folder}`.")
        # --prefer-offline: npm takes what its cache holds without asking the registry whether
        # it is fresh (0.8 s of the IdP's 1.9 s); the lock file pins each tarball's hash anyway.
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                              cwd=folder, capture_output=True, text=True)
        if proc.returncode != 0:
            raise NodeUnavailable(
                f"`npm ci` in {folder} failed (exit {proc.returncode}); it needs the npm "
                f"registry.\n{proc.stderr[-2000:]}"
            )
        if missing := _stale(folder):
            raise NodeUnavailable(f"after `npm ci` in {folder}, still not as pinned: {missing}")
    return node
