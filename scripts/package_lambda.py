"""Builds the Lambda package: handlers/ and a layer of their pinned dependencies.

    build/lambda/code/            handlers/*.py, the functions' own code (small)
    build/lambda/layer/python/    dependencies, one Lambda layer shared by every function
    build/lambda/code.zip, layer.zip   the same folders zipped: what the program deploys

The layer leaves out what no function reads (scripts/package_trim.py: type stubs, the
installer's records, the Powertools utilities no function uses); the build fails if anything
kept imports what was left out.

The zips are reproducible (sorted entries, fixed timestamps): the same package always gives
the same bytes, so `pulumi up` sees no change unless the files changed. The Pulumi engine
passes a .zip FileArchive through as it is, and so does the local apply.

Dependencies are wheels for the Lambda platform (CPython 3.12, manylinux
x86_64), not for this machine, so a binary wheel like cryptography's is the
one AWS will load. The layer is uploaded once per change of the pins, not once
per function and code change. Usage: python -m scripts.package_lambda

The modules a cold start imports (handlers, powertools, jwcrypto, cryptography, ...)
ship byte-compiled for Python 3.12: a new Lambda environment (and every new MiniStack
worker, which unpacks the package into a fresh folder) would otherwise compile them again
on each cold start. They are compiled as unchecked-hash .pyc, valid whatever the files'
mtimes after unzipping; the package is always rebuilt as a whole, so sources and byte
code cannot drift apart. The Python 3.12 comes from scripts/interpreter.py (PETS_PYTHON312,
PATH, pyenv, uv); without one the package is built without byte code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from scripts import interpreter, package_trim

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_PYTHON = "3.12"  # the runtime's version (components/function.py: python3.12)
HANDLERS = ROOT / "handlers"
# Wheels for the Lambda platform (CPython 3.12, manylinux 2.28 or older, x86_64), never built.
PLATFORM_FLAGS = ["--python-platform", "x86_64-manylinux_2_28", "--python-version", LAMBDA_PYTHON,
                  "--only-binary", ":all:"]
ZIP_TIME = (1990, 1, 1, 0, 0, 0)
# The Lambda runtime provides boto3; this mirrors it for the isolated import test.
RUNTIME_PROVIDED = ["boto3==1.44.8", "botocore==1.44.8", "s3transfer==0.19.3",
                    "jmespath==1.1.0", "python-dateutil==2.9.0.post0", "six==1.17.0",
                    "urllib3==2.8.0"]


def install(target: Path, *requirements: str) -> None:
    """The pinned requirements, without their dependencies (every one is pinned itself), for
    the Lambda platform, into `target`. uv, not pip: a tenth of the time."""
    uv = interpreter.uv_executable()
    if uv is None:
        raise SystemExit("uv is missing: `make package` installs it into the venv")
    subprocess.run([uv, "pip", "install", "--quiet", "--no-deps", "--python", sys.executable,
                    "--target", str(target), *PLATFORM_FLAGS, *requirements], check=True)
    (target / ".lock").unlink(missing_ok=True)  # uv's lock on the folder, not a dependency


# Run by the Lambda's Python (3.12) with nothing but the package on sys.path: import what
# a cold start imports, then byte-compile exactly those modules of the package.
COMPILE_IMPORTED = """
import importlib.util, os, py_compile, sys
code, layer, runtime = sys.argv[1:4]
sys.path[:0] = [layer, code, runtime]
import app  # every function's handler module
import id_tokens  # imported by the purchase function at its first call
# Imported by the add function at its first request with an Idempotency-Key.
import aws_lambda_powertools.utilities.idempotency
roots = (code + os.sep, layer + os.sep)
count = 0
for module in list(sys.modules.values()):
    source = getattr(module, "__file__", None) or ""
    if source.endswith(".py") and source.startswith(roots):
        py_compile.compile(source, cfile=importlib.util.cache_from_source(source), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        count += 1
print(count)
"""


def compile_imported(staging: Path, runtime: Path) -> int:
    """Byte-compile the package's modules a cold start imports; returns how many."""
    try:
        python = interpreter.find(LAMBDA_PYTHON)
    except interpreter.PythonNotFound as err:
        print(f"{err}\nThe package ships without byte code, so every cold start compiles "
              "its imports.")
        return 0
    result = subprocess.run(
        # -I -S: only the package and the runtime's boto3, as in the Lambda; -B: importing
        # writes no byte code of its own (only py_compile's, explicitly).
        [python, "-I", "-S", "-B", "-c", COMPILE_IMPORTED, str(staging / "code"),
         str(staging / "layer" / "python"), str(runtime)],
        capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    if result.returncode != 0:
        raise SystemExit(f"byte-compiling the package failed:\n{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])


def write_zip(folder: Path, archive: Path) -> None:
    """Every file below `folder`, names relative to it, in sorted order, fixed timestamps."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # readable by the Lambda runtime user
            zf.writestr(info, path.read_bytes())


def build(out: Path, runtime: Path) -> None:
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    # Lambda puts a layer's python/ folder on sys.path.
    dependencies = staging / "layer" / "python"
    install(dependencies, "-r", str(HANDLERS / "requirements.txt"))
    (staging / "code").mkdir()
    for source in sorted(HANDLERS.glob("*.py")):
        shutil.copy2(source, staging / "code" / source.name)
    try:
        trimmed = package_trim.trim(dependencies, staging / "code")
    except package_trim.KeptImportsLeftOut as err:
        raise SystemExit(str(err)) from err
    print(f"left out {trimmed} files of the dependencies no function reads "
          "(scripts/package_trim.py)")
    compiled = compile_imported(staging, runtime)
    print(f"byte-compiled {compiled} modules a cold start imports (python3.12, unchecked-hash)")
    for part in ("code", "layer"):
        write_zip(staging / part, staging / f"{part}.zip")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)  # a failed build never leaves a half package behind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--runtime-out", type=Path, default=ROOT / "build" / "lambda-runtime",
                        help="where to put the runtime-provided libraries (boto3)")
    args = parser.parse_args()
    if not (args.runtime_out / "boto3").is_dir():  # first: the byte-compile step imports it
        install(args.runtime_out, *RUNTIME_PROVIDED)
    build(args.out, args.runtime_out)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"Lambda package {args.out.relative_to(ROOT)}: {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
