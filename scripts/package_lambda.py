"""Builds the Lambda package: handlers/ and a layer of their pinned dependencies.

    build/lambda/code/            handlers/*.py, the functions' own code (small)
    build/lambda/layer/python/    dependencies, one Lambda layer shared by every function

Dependencies are wheels for the Lambda platform (CPython 3.12, manylinux
x86_64), not for this machine, so a binary wheel like cryptography's is the
one AWS will load. The layer is uploaded once per change of the pins, not once
per function and code change. Usage: python scripts/package_lambda.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ROOT / "handlers"
PLATFORM_FLAGS = [
    "--platform", "manylinux_2_28_x86_64",
    "--platform", "manylinux2014_x86_64",
    "--implementation", "cp",
    "--python-version", "3.12",
    "--only-binary=:all:",
]
# The Lambda runtime provides boto3; this mirrors it for the isolated import test.
RUNTIME_PROVIDED = ["boto3==1.44.8", "botocore==1.44.8", "s3transfer==0.19.3",
                    "jmespath==1.1.0", "python-dateutil==2.9.0.post0", "six==1.17.0",
                    "urllib3==2.8.0"]


def pip_install(target: Path, *requirements: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-compile", "--target", str(target), *PLATFORM_FLAGS, *requirements],
        check=True,
    )


def build(out: Path) -> None:
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    # Lambda puts a layer's python/ folder on sys.path.
    dependencies = staging / "layer" / "python"
    pip_install(dependencies, "-r", str(HANDLERS / "requirements.txt"))
    for leftover in ("bin", "share"):  # console scripts and docs: not importable code
        shutil.rmtree(dependencies / leftover, ignore_errors=True)
    (staging / "code").mkdir()
    for source in sorted(HANDLERS.glob("*.py")):
        shutil.copy2(source, staging / "code" / source.name)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)  # a failed build never leaves a half package behind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--runtime-out", type=Path, default=ROOT / "build" / "lambda-runtime",
                        help="where to put the runtime-provided libraries (boto3)")
    args = parser.parse_args()
    build(args.out)
    if not (args.runtime_out / "boto3").is_dir():
        pip_install(args.runtime_out, *RUNTIME_PROVIDED)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"Lambda package {args.out.relative_to(ROOT)}: {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
