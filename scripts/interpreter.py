"""Finding a Python X.Y interpreter: the one way every tool of this repository gets one.

The Lambda packager (scripts/package_lambda.py) byte-compiles the package on the Lambda
runtime's Python (3.12), the emulators run from venvs built by their own Python (MiniStack
3.12, LocalStack 3.13) and the package test imports the package on 3.12. Each calls
`find("3.12")`, which tries these in order and returns the first interpreter that runs and
says it is that version:

1. the setting PETS_PYTHON<major><minor> (PETS_PYTHON312, PETS_PYTHON313): a path, or a
   command on PATH. When it is set it is the only candidate: a wrong setting is an error
   naming it, never silently replaced by another interpreter;
2. `python3.12` on PATH, every one in PATH order: pyenv's shims are on PATH and fail unless
   PYENV_VERSION names a 3.12, so each is run, not trusted;
3. pyenv's versions folder of whoever runs this ($PYENV_ROOT, else `pyenv root`, else
   ~/.pyenv): versions/3.12.<patch>, the highest patch first;
4. uv (pinned in requirements-dev.txt, beside this Python or on PATH): `uv python find 3.12`
   (uv-managed and system interpreters), and when it finds none, `uv python install 3.12`
   (downloads a managed build; without network it fails, which counts as not found) and
   `uv python find 3.12` again. uv is run without the PATH folders whose python3.12 failed
   in step 2: uv stops at the first python3.12 on PATH, even a failing pyenv shim.

What is returned is the path the interpreter reports as sys.executable, so a pyenv shim that
worked (PYENV_VERSION set) is resolved to the interpreter behind it and later runs do not
depend on PYENV_VERSION. When nothing works, PythonNotFound lists every attempt and says how
to install one.

Product tooling: standard library only; the harness imports it, never the other way round.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SETTING_PREFIX = "PETS_PYTHON"
PROBE_TIMEOUT_SECONDS = 20.0
INSTALL_TIMEOUT_SECONDS = 600.0
# Prints what the interpreter is: "<major> <minor>" and sys.executable, one per line.
_PROBE = "import sys; print(*sys.version_info[:2]); print(sys.executable)"
_VERSION = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Attempt:
    """One place looked in, and what was found there."""

    step: str  # e.g. "PATH", "pyenv", "uv python find"
    candidate: str  # the path or command tried
    outcome: str  # "ok", or why it was not taken


class PythonNotFound(Exception):
    """No working Python of the version asked for; the message lists every attempt."""

    def __init__(self, version: str, attempts: Sequence[Attempt]):
        self.version = version
        self.attempts = tuple(attempts)
        tried = "\n".join(f"  - {a.step}: {a.candidate}: {a.outcome}" for a in self.attempts)
        super().__init__(
            f"no working Python {version} found. Tried, in order:\n{tried}\n"
            f"Install one, any of: `uv python install {version}` (uv is in .venv/bin after "
            f"`make`), your system's package (e.g. `apt-get install python{version}`), or "
            f"`pyenv install {version}`; or point {setting_name(version)} at a "
            f"python{version} executable.")


def setting_name(version: str) -> str:
    """The environment variable naming the interpreter for `version`: PETS_PYTHON312."""
    major, minor = _parse(version)
    return f"{SETTING_PREFIX}{major}{minor}"


def _parse(version: str) -> tuple[int, int]:
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"Python version {version!r}: give major.minor, e.g. '3.12'")
    return int(match[1]), int(match[2])


def uv_executable(environ: Mapping[str, str] | None = None) -> str | None:
    """uv beside the running Python (the project venv's, installed by `make`), else on PATH."""
    environ = os.environ if environ is None else environ
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv", path=environ.get("PATH", ""))


def _probe(executable: str, version: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(sys.executable, "ok") when `executable` runs and is Python `version`, else
    (None, why not)."""
    try:
        result = subprocess.run([executable, "-I", "-c", _PROBE], capture_output=True,
                                text=True, env=dict(environ), timeout=PROBE_TIMEOUT_SECONDS)
    except FileNotFoundError:
        return None, "does not exist"
    except PermissionError:
        return None, "is not executable"
    except OSError as err:
        return None, f"cannot be run ({err.strerror or err})"
    except subprocess.TimeoutExpired:
        return None, f"did not answer within {PROBE_TIMEOUT_SECONDS:.0f} s"
    if result.returncode != 0:
        first = (result.stderr or result.stdout).strip().splitlines()[:1]
        return None, f"exited {result.returncode}" + (f" ({first[0]})" if first else "")
    lines = result.stdout.strip().splitlines()
    major, minor = _parse(version)
    if len(lines) != 2 or lines[0].split() != [str(major), str(minor)]:
        found = ".".join(lines[0].split()) if lines else "nothing"
        return None, f"is Python {found}, not {version}"
    return lines[1] or executable, "ok"


def _on_path(command: str, environ: Mapping[str, str]) -> list[str]:
    """Every `command` on PATH, in PATH order (the first may be a shim that fails)."""
    found: list[str] = []
    for folder in environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder or ".") / command
        if candidate.is_file() and os.access(candidate, os.X_OK) and str(candidate) not in found:
            found.append(str(candidate))
    return found


def pyenv_root(environ: Mapping[str, str]) -> tuple[Path | None, str]:
    """pyenv's root for whoever runs this, and how it was found: $PYENV_ROOT, else what
    `pyenv root` answers, else ~/.pyenv."""
    if environ.get("PYENV_ROOT"):
        return Path(environ["PYENV_ROOT"]), "$PYENV_ROOT"
    pyenv = shutil.which("pyenv", path=environ.get("PATH", ""))
    if pyenv:
        try:
            answer = subprocess.run([pyenv, "root"], capture_output=True, text=True,
                                    env=dict(environ), timeout=PROBE_TIMEOUT_SECONDS)
            if answer.returncode == 0 and answer.stdout.strip():
                return Path(answer.stdout.strip()), "`pyenv root`"
        except (OSError, subprocess.TimeoutExpired):
            pass
    home = environ.get("HOME")
    return (Path(home) / ".pyenv", "~/.pyenv") if home else (None, "no HOME")


def pyenv_versions(root: Path, version: str) -> list[Path]:
    """versions/<version>.<patch>/bin/python<version> under pyenv's root, highest patch
    first (pre-releases and other builds are left out)."""
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
    found = []
    folder = root / "versions"
    for entry in folder.iterdir() if folder.is_dir() else ():
        if (match := pattern.match(entry.name)) is not None:
            found.append((int(match[1]), entry / "bin" / f"python{version}"))
    return [path for _, path in sorted(found, reverse=True)]


def _uv_find(uv: str, version: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """What `uv python find` answers: (a path, "ok") or (None, why not)."""
    try:
        result = subprocess.run(
            [uv, "python", "find", "--no-project", "--no-python-downloads", version],
            capture_output=True, text=True, env=dict(environ), timeout=PROBE_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"could not run uv ({err})"
    if result.returncode != 0 or not result.stdout.strip():
        return None, _last_line(result.stderr) or f"exited {result.returncode}"
    return result.stdout.strip().splitlines()[-1], "ok"


def _uv_install(uv: str, version: str, environ: Mapping[str, str]) -> str:
    """Runs `uv python install <version>`: "ok", or why it failed."""
    try:
        result = subprocess.run([uv, "python", "install", version], capture_output=True,
                                text=True, env=dict(environ), timeout=INSTALL_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"could not run uv ({err})"
    if result.returncode != 0:
        return f"failed: {_last_line(result.stderr) or f'exit {result.returncode}'}"
    return "ok"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def find(
    version: str,
    *,
    environ: Mapping[str, str] | None = None,
    uv: str | Callable[[], str | None] | None = uv_executable,
    install: bool = True,
) -> str:
    """A working Python `version` ("3.12"): the path of its executable. Raises
    PythonNotFound listing what was tried.

    environ: the environment to read (PATH, HOME, PYENV_ROOT, the PETS_PYTHON<XY> setting)
    and to run the candidates in; default os.environ.
    uv: the uv executable (None: none), or a function finding it (default: beside this
    Python, else on PATH).
    install: whether step 4 may download a managed interpreter (`uv python install`).
    """
    environ = dict(os.environ if environ is None else environ)
    attempts: list[Attempt] = []

    def take(step: str, candidate: str) -> str | None:
        path, outcome = _probe(candidate, version, environ)
        attempts.append(Attempt(step, candidate, outcome))
        return path

    setting = setting_name(version)
    if explicit := environ.get(setting, "").strip():
        found = take(setting, explicit)
        if found:
            return found
        raise PythonNotFound(version, attempts)  # a set but wrong setting is never replaced
    attempts.append(Attempt(setting, "(not set)", "skipped"))

    failed_folders: set[str] = set()
    command = f"python{version}"
    on_path = _on_path(command, environ)
    for candidate in on_path:
        if found := take("PATH", candidate):
            return found
        failed_folders.add(str(Path(candidate).parent))
    if not on_path:
        attempts.append(Attempt("PATH", command, "none on PATH"))

    root, how = pyenv_root(environ)
    versions = pyenv_versions(root, version) if root else []
    for candidate in versions:
        if found := take(f"pyenv ({how})", str(candidate)):
            return found
    if not versions:
        where = f"{root}/versions/{version}.*" if root else "no pyenv root"
        attempts.append(Attempt(f"pyenv ({how})", where, "none installed"))

    uv_path = uv() if callable(uv) else uv
    if not uv_path:
        attempts.append(Attempt("uv", "uv", "not found beside this Python or on PATH"))
        raise PythonNotFound(version, attempts)
    # Without the folders whose python<version> failed: uv stops at the first one on PATH.
    uv_env = {**environ, "PATH": os.pathsep.join(
        f for f in environ.get("PATH", "").split(os.pathsep) if f not in failed_folders)}
    for step in ("uv python find", "uv python install", "uv python find, after the install"):
        if step == "uv python install":
            if not install:
                attempts.append(Attempt(step, version, "skipped (install=False)"))
                break
            outcome = _uv_install(uv_path, version, uv_env)
            attempts.append(Attempt(step, f"{uv_path} python install {version}", outcome))
            if outcome != "ok":
                break
        else:
            path, outcome = _uv_find(uv_path, version, uv_env)
            if path is None:
                attempts.append(Attempt(step, f"{uv_path} python find {version}", outcome))
            elif found := take(step, path):
                return found
    raise PythonNotFound(version, attempts)


if __name__ == "__main__":  # python -m scripts.interpreter 3.12: where it comes from
    for asked in sys.argv[1:] or ["3.12", "3.13"]:
        try:
            print(f"{asked}: {find(asked)}")
        except PythonNotFound as err:
            print(err, file=sys.stderr)
            sys.exit(1)
