"""Run the local AWS emulator for the dev stack, or use the user's own endpoint.

Two engines, each from its own venv under .devstack/ (PETS_TARGET picks one):
- ministack (default): MiniStack with AUTH=true on Python 3.12. It runs Lambdas in worker
  processes without Docker and enforces IAM and SigV4. Handlers execute on the emulator's
  interpreter with its site-packages behind the zip: run from the project venv, a handler
  would silently import packages its zip lacks.
- localstack: LocalStack community (localstack-core) on the host, Python 3.13. Without
  Docker it stores Lambda functions but cannot run them, and it never enforces IAM; its
  DynamoDB (DynamoDB Local, a Java download) is replaced by moto's through LocalStack's
  own provider override (devstack/processes/localstack_ext).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from devstack import clients, paths
from devstack.clients import Target
from devstack.errors import DevstackError
from devstack.processes import installer, procs
from scripts import interpreter

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
PORT_ENV = "PETS_EMULATOR_PORT"
TARGET_ENV = "PETS_TARGET"
_MARKER = ".requirements.sha256"


@dataclass(frozen=True)
class Engine:
    """One emulator: how its venv is built, how it starts, how it says it is healthy."""

    name: str
    title: str
    venv: Path
    requirements: Path
    # The Python that builds the venv (scripts/interpreter.py finds it; PETS_PYTHON<XY>
    # names one explicitly).
    python_version: str
    module: str  # started as `python -m <module>`
    health_path: str
    environment: Callable[[int, Path], dict[str, str]]
    # Local packages installed (--no-deps) after the pins, e.g. a provider plugin.
    local_packages: tuple[Path, ...] = ()
    # Seconds a SIGTERM gets before SIGKILL. State is never kept, so a slow graceful
    # shutdown buys nothing.
    stop_timeout: float = 10.0

    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def digest(self) -> str:
        """Changes when the pins or a local package's files change (then rebuild)."""
        sha = hashlib.sha256(installer.RECIPE.encode() + self.requirements.read_bytes())
        for package in self.local_packages:
            for file in sorted(package.rglob("*")):
                if file.is_file() and "__pycache__" not in file.parts:
                    name = str(file.relative_to(package)).encode()
                    sha.update(name + b"\0" + file.read_bytes())
        return sha.hexdigest()


def _base_env(engine_venv: Path, tmpdir: Path) -> dict[str, str]:
    """A small, explicit environment.

    Handlers inherit the emulator's environment, so the caller's AWS_* keys, PYTHONPATH or
    VIRTUAL_ENV must not reach them. The venv's bin/ goes first on PATH because one of
    MiniStack's Lambda paths runs plain `python3`.
    """
    return {
        "PATH": f"{engine_venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(paths.STATE)),
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmpdir),  # scratch files and pid files stay in .devstack
        "PYTHONUNBUFFERED": "1",  # so a failed start's log tail is complete
    }


def _ministack_env(port: int, tmpdir: Path) -> dict[str, str]:
    return {
        **_base_env(paths.EMULATOR_VENV, tmpdir),
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


def _localstack_env(port: int, tmpdir: Path) -> dict[str, str]:
    env = _base_env(paths.LOCALSTACK_VENV, tmpdir)
    del env["TMPDIR"]  # a deprecated LocalStack setting of its own; FILESYSTEM_ROOT instead
    return {
        **env,
        "GATEWAY_LISTEN": f"{procs.LOOPBACK}:{port}",
        "GATEWAY_SERVER": "hypercorn",  # the default server binds 0.0.0.0 as well
        "OVERRIDE_IN_DOCKER": "0",  # host mode: no container around it
        "FILESYSTEM_ROOT": str(tmpdir / "localstack"),
        # DynamoDB Local needs a Java download that cannot happen here; moto's DynamoDB,
        # registered by our plugin (devstack/processes/localstack_ext), serves the same API.
        "PROVIDER_OVERRIDE_DYNAMODB": "moto",
        "DNS_ADDRESS": "0",  # no DNS server (it would want port 53)
        "SKIP_SSL_CERT_DOWNLOAD": "1",  # no internet: do not try api.localstack.cloud
        "DISABLE_EVENTS": "1",  # no analytics
        "LOCALSTACK_TELEMETRY_DISABLED": "1",
        "AWS_DEFAULT_REGION": REGION,
    }


ENGINES: Mapping[str, Engine] = {
    "ministack": Engine(
        name="ministack",
        title="MiniStack, AUTH=true",
        venv=paths.EMULATOR_VENV,
        requirements=paths.EMULATOR_REQUIREMENTS,
        python_version="3.12",
        module="ministack",
        health_path="/_ministack/health",
        environment=_ministack_env,
    ),
    "localstack": Engine(
        name="localstack",
        title="LocalStack community, host mode",
        venv=paths.LOCALSTACK_VENV,
        requirements=paths.LOCALSTACK_REQUIREMENTS,
        python_version="3.13",
        module="localstack.runtime.main",
        health_path="/_localstack/health",
        environment=_localstack_env,
        local_packages=(paths.LOCALSTACK_EXT,),
        # Its graceful shutdown takes 3-4 s (and can hang after a Lambda ran).
        stop_timeout=1.0,
    ),
}
DEFAULT_ENGINE = "ministack"


def engine_named(name: str | None = None) -> Engine:
    """The engine `name`, else $PETS_TARGET, else MiniStack."""
    chosen = name or os.environ.get(TARGET_ENV) or DEFAULT_ENGINE
    try:
        return ENGINES[chosen]
    except KeyError:
        raise DevstackError(
            f"unknown emulator {chosen!r} (from {TARGET_ENV} or --target): "
            f"choose one of {', '.join(ENGINES)}"
        ) from None


def ensure_venv(engine: str | None = None) -> Path:
    """Create or refresh the engine's venv from its pinned requirements; return its python.

    A venv built from an older requirements file is rebuilt from scratch rather than
    upgraded in place, so no package left over from an old pin set can leak into handlers.
    """
    chosen = engine_named(engine)
    marker = chosen.venv / _MARKER
    with procs.file_lock(f"{chosen.name}-venv"):
        digest = chosen.digest()
        if chosen.python().exists() and marker.exists() and marker.read_text().strip() == digest:
            return chosen.python()
        try:
            python = interpreter.find(chosen.python_version)
        except interpreter.PythonNotFound as err:
            raise DevstackError(f"{chosen.name} runs from its own venv, built by Python "
                                f"{chosen.python_version}: {err}") from None
        shutil.rmtree(chosen.venv, ignore_errors=True)
        new_python = installer.create_venv(python, chosen.venv)
        installer.install(new_python, "-r", str(chosen.requirements),
                          what=f"install {chosen.requirements.name}")
        for package in chosen.local_packages:
            # A copy, so the build leaves nothing (build/, *.egg-info) in the repository.
            staging = chosen.venv / "local-packages" / package.name
            shutil.copytree(package, staging, ignore=shutil.ignore_patterns("__pycache__"))
            installer.install(new_python, "--no-deps", "--no-build-isolation", str(staging),
                              what=f"install {package.relative_to(paths.REPO)}")
        marker.write_text(digest + "\n")
        return chosen.python()


def _healthy(endpoint_url: str, health_path: str) -> bool:
    try:
        return requests.get(endpoint_url + health_path, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def start(
    port: int | None = None,
    *,
    name: str = clients.EMULATOR_NAME,
    engine: str | None = None,
    in_memory: bool = False,
) -> Target:
    """Start the emulator on 127.0.0.1 and return the target once it answers STS.

    - AWS_ENDPOINT_URL set: start nothing; return that endpoint (started=False).
    - Already running under `name`: an error (stop it first).
    - port: argument, else $PETS_EMULATOR_PORT, else a free port.
    - name: record/log name; tests use their own so they never touch a `make up` stack.
    - engine: ministack or localstack; default $PETS_TARGET, else ministack.
    - in_memory: its working folder (temporary files, the Lambda packages it unpacks) in
      memory where there is room (paths.memory_scratch), else .devstack/tmp/<name>. stop()
      removes it.
    Raises PortInUseError naming the port, or StartupError with the log tail.
    """
    external = os.environ.get(clients.EXTERNAL_ENDPOINT_ENV)
    if external:
        return clients.external_target(external)
    existing = clients.recorded_emulator(name)
    if existing is not None:
        raise DevstackError(f"{name} is already running at {existing.endpoint_url} (pid "
                            f"{existing.pid}): stop it first (`make down`)")
    procs.stop(name)  # a half-started leftover (record without account id)
    if port is None:
        port = int(os.environ[PORT_ENV]) if os.environ.get(PORT_ENV) else procs.free_port()
    procs.check_port_free(port, f"emulator {name}")
    chosen = engine_named(engine)
    python = ensure_venv(chosen.name)
    tmpdir = paths.memory_scratch(name) if in_memory else None
    if tmpdir is None:
        tmpdir = paths.TMP / name
        shutil.rmtree(tmpdir, ignore_errors=True)
        tmpdir.mkdir(parents=True)
    endpoint_url = f"http://{procs.LOOPBACK}:{port}"
    info = {"endpoint_url": endpoint_url, "port": port, "region": REGION, "engine": chosen.name,
            "scratch": str(tmpdir)}
    proc = procs.spawn(
        name,
        [str(python), "-m", chosen.module],
        env=chosen.environment(port, tmpdir),
        info=info,
        cwd=tmpdir,
    )
    target = Target(endpoint_url=endpoint_url, region=REGION, account_id="", started=True,
                    pid=proc.pid, engine=chosen.name)
    try:
        procs.wait_ready(name, proc, lambda: _healthy(endpoint_url, chosen.health_path), 60.0)
        target = dataclasses.replace(target, account_id=clients.account_id(target))
    except DevstackError:
        stop(name)  # whatever is left of the process, and its scratch dir
        raise
    # Only a record with the account id counts as a ready emulator (clients.recorded_emulator).
    procs.record(name, proc.pid, {**info, "account_id": target.account_id})
    return target


def stop(name: str = clients.EMULATOR_NAME) -> bool:
    """Stop the emulator and all its Lambda workers; False if none was running.

    Never touches an AWS_ENDPOINT_URL endpoint: we did not start it.
    """
    managed = procs.running(name)
    engine = ENGINES.get(managed.info.get("engine", DEFAULT_ENGINE)) if managed else None
    stopped = procs.stop(name, timeout=engine.stop_timeout if engine else 10.0)
    recorded = managed.info.get("scratch") if managed else None
    for scratch in {paths.TMP / name, *([Path(recorded)] if recorded else [])}:
        _discard(scratch)
    return stopped


def _discard(scratch: Path) -> None:
    """Move the scratch folder aside at once and delete it in the background.

    MiniStack extracts the Lambda package into a folder of its own for every worker, so
    after the 50- and 100-way races the folder holds about 150 copies of the layer (750
    files each): deleting them took 25-31 s, which `make down` and the test session's
    teardown would otherwise wait for.
    """
    if not scratch.exists():
        return
    trash = scratch.with_name(f".trash-{scratch.name}-{time.time_ns()}")
    scratch.rename(trash)
    subprocess.Popen(["rm", "-rf", "--", str(trash)], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)  # outlives us: nothing waits for it
