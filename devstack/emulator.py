"""Run the local AWS emulator (MiniStack) for the dev stack, or use the user's own endpoint.

MiniStack runs from its own Python 3.12 venv (.devstack/emulator-venv) because Lambda
handlers execute on the emulator's interpreter with its site-packages behind the zip:
run from the project venv, a handler would silently import packages its zip lacks.

    python -m devstack.emulator start|stop|status|venv
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import requests

from devstack import clients, paths, procs
from devstack.clients import Target
from devstack.procs import DevstackError

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
PORT_ENV = "PETS_EMULATOR_PORT"
PYTHON312_ENV = "PETS_PYTHON312"
# `python3.12` on PATH is a pyenv shim that fails here; use the interpreter itself.
DEFAULT_PYTHON312 = "/root/.pyenv/versions/3.12.1/bin/python3.12"
HEALTH_PATH = "/_ministack/health"
_MARKER = ".requirements.sha256"


def _requirements_digest() -> str:
    return hashlib.sha256(paths.EMULATOR_REQUIREMENTS.read_bytes()).hexdigest()


def venv_python() -> Path:
    return paths.EMULATOR_VENV / "bin" / "python"


def ensure_venv() -> Path:
    """Create or refresh the emulator venv from requirements-emulator.txt; return its python.

    A venv built from an older requirements file is rebuilt from scratch rather than
    upgraded in place, so no package left over from an old pin set can leak into handlers.
    """
    with procs.file_lock("emulator-venv"):
        return _build_venv_if_stale()


def _build_venv_if_stale() -> Path:
    venv = paths.EMULATOR_VENV
    marker = venv / _MARKER
    digest = _requirements_digest()
    if venv_python().exists() and marker.exists() and marker.read_text().strip() == digest:
        return venv_python()
    python312 = os.environ.get(PYTHON312_ENV, DEFAULT_PYTHON312)
    if not Path(python312).exists():
        raise DevstackError(
            f"Python 3.12 not found at {python312}: the emulator needs its own 3.12 venv. "
            f"Install Python 3.12 or point {PYTHON312_ENV} at a python3.12 binary."
        )
    shutil.rmtree(venv, ignore_errors=True)
    _run([python312, "-m", "venv", str(venv)], "create the emulator venv")
    _run(
        [
            str(venv_python()),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(paths.EMULATOR_REQUIREMENTS),
        ],
        "install requirements-emulator.txt",
    )
    marker.write_text(digest + "\n")
    return venv_python()


def _run(argv: Sequence[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise DevstackError(f"failed to {what} ({' '.join(argv)}):\n{result.stdout}{result.stderr}")


def _emulator_env(port: int, tmpdir: Path, extra_env: Mapping[str, str] | None) -> dict[str, str]:
    """A small, explicit environment.

    Handlers inherit the emulator's environment, so the caller's AWS_* keys, PYTHONPATH or
    VIRTUAL_ENV must not reach them. The venv's bin/ goes first on PATH because one of
    MiniStack's Lambda paths runs plain `python3`.
    """
    env = {
        "PATH": f"{paths.EMULATOR_VENV / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(paths.STATE)),
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmpdir),  # Lambda code dirs and MiniStack's own pid file stay in .devstack
        "PYTHONUNBUFFERED": "1",  # so a failed start's log tail is complete
        "GATEWAY_PORT": str(port),
        # Everything on loopback: the gateway defaults to 0.0.0.0.
        "BIND_HOST": procs.LOOPBACK,
        "AUTH": "true",  # enforce SigV4 and IAM policies for non-root callers
        "MINISTACK_REGION": REGION,
        "MINISTACK_ACCOUNT_ID": ACCOUNT_ID,
        "PERSIST_STATE": "0",
        # Extra listeners that bind 0.0.0.0 when their optional dependency is installed
        # (IoT mTLS MQTT on 8883, SFTP on 2222). Not installed in our venv; off regardless.
        "IOT_MTLS_ENABLED": "0",
        "SFTP_ENABLED": "0",
        "USE_SSL": "0",  # TLS mode would also try to bind port 443
    }
    env.update(extra_env or {})
    return env


def _healthy(endpoint_url: str) -> bool:
    try:
        return requests.get(endpoint_url + HEALTH_PATH, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def running(name: str = clients.EMULATOR_NAME) -> Target | None:
    """The emulator `devstack` started under `name`, if it is still running."""
    return clients.recorded_emulator(name)


def start(
    port: int | None = None,
    *,
    name: str = clients.EMULATOR_NAME,
    reuse: bool = True,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Target:
    """Start MiniStack on 127.0.0.1 and return the target once it answers STS.

    - AWS_ENDPOINT_URL set: start nothing; return that endpoint (started=False).
    - Already running under `name`: return it (started=False) if `reuse`, else raise.
    - port: argument, else $PETS_EMULATOR_PORT, else a free port.
    - name: record/log name; tests use their own so they never touch a `make up` stack.
    - extra_env: added to the emulator's environment (tests use it to break a start).
    Raises PortInUseError naming the port, or StartupError with the log tail.
    """
    external = os.environ.get(clients.EXTERNAL_ENDPOINT_ENV)
    if external:
        return clients.external_target(external)
    existing = running(name)
    if existing is not None:
        if reuse:
            return existing
        raise DevstackError(
            f"{name} is already running at {existing.endpoint_url} (pid {existing.pid})"
        )
    procs.stop(name)  # a half-started leftover (record without account id)
    if port is None:
        port = int(os.environ[PORT_ENV]) if os.environ.get(PORT_ENV) else procs.free_port()
    procs.check_port_free(port, f"emulator {name}")
    python = ensure_venv()
    tmpdir = paths.TMP / name
    shutil.rmtree(tmpdir, ignore_errors=True)
    tmpdir.mkdir(parents=True)
    endpoint_url = f"http://{procs.LOOPBACK}:{port}"
    info = {"endpoint_url": endpoint_url, "port": port, "region": REGION}
    proc = procs.spawn(
        name,
        [str(python), "-m", "ministack"],
        env=_emulator_env(port, tmpdir, extra_env),
        info=info,
        cwd=tmpdir,
    )
    probe = Target(
        endpoint_url=endpoint_url, region=REGION, account_id="", started=True, pid=proc.pid
    )
    try:
        procs.wait_ready(name, proc, lambda: _healthy(endpoint_url), timeout)
        account = clients.account_id(probe)
    except DevstackError:
        stop(name)  # whatever is left of the process, and its scratch dir
        raise
    # Only a record with the account id counts as a ready emulator (see running()).
    procs.record(name, proc.pid, {**info, "account_id": account})
    return Target(
        endpoint_url=endpoint_url, region=REGION, account_id=account, started=True, pid=proc.pid
    )


def stop(name: str = clients.EMULATOR_NAME, timeout: float = 10.0) -> bool:
    """Stop the emulator and all its Lambda workers; False if none was running.

    Never touches an AWS_ENDPOINT_URL endpoint: we did not start it.
    """
    stopped = procs.stop(name, timeout=timeout)
    shutil.rmtree(paths.TMP / name, ignore_errors=True)
    return stopped


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.emulator", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["start", "stop", "status", "venv"])
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "venv":
            print(ensure_venv())
        elif args.command == "start":
            target = start(args.port)
            print(
                f"emulator {target.endpoint_url} account {target.account_id} region {target.region}"
            )
        elif args.command == "stop":
            print("stopped" if stop() else "not running")
        else:
            target = running()
            print(f"running {target.endpoint_url} (pid {target.pid})" if target else "not running")
            return 0 if target else 3
    except DevstackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
