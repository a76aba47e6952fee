"""Byte code written ahead of time, for machines where Python never caches it.

Where PYTHONDONTWRITEBYTECODE is set (as on the sandbox machines), every process compiles
each module it imports again, unless a .pyc is already there. Two sets are written here:

- `venv`: the project venv's packages, as `uv pip install --compile-bytecode` would, except
  the pulumi_aws subpackages nothing in this repository names. pulumi_aws is 116 of the
  venv's 185 MB of source (generated, one module per resource type) and the programs and
  tests use about a dozen of its subpackages: compiling all of it was 13 of the install's 21
  CPU-seconds. A subpackage left out still imports; each process compiles it in memory.
- `sources`: the repository's own modules (the programs, the handlers, the harness, the
  tests' helpers), which every test worker, program run and prover run imports afresh.

Usage: python -m scripts.bytecode venv|sources
"""

from __future__ import annotations

import argparse
import compileall
import re
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The repository's own Python: the programs, the handlers and the harness, tests included.
SOURCES = ("__main__.py", "access.py", "account", "components", "handlers", "scripts",
           "deploy", "devstack", "harness_core", "iamsim", "prover", "policy", "bench",
           "tests")
SKIPPED_FOLDERS = ("node_modules", "__pycache__")
# `aws.iam.Role(...)`, `aws.lambda_.Function`: how this repository names a subpackage.
AWS_SUBPACKAGE = re.compile(r"\baws\.([a-z][a-z0-9_]*)\.")


def python_files(roots: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found += [root] if root.suffix == ".py" else []
            continue
        for path in sorted(root.rglob("*.py")):
            if not any(part in SKIPPED_FOLDERS for part in path.relative_to(root).parts):
                found.append(path)
    return found


def repository_files() -> list[Path]:
    """The repository's own modules (SOURCES)."""
    return python_files(ROOT / source for source in SOURCES)


def named_aws_subpackages(sources: Iterable[Path]) -> set[str]:
    """The pulumi_aws subpackages these files name as `aws.<subpackage>.`."""
    return {name for path in sources for name in AWS_SUBPACKAGE.findall(path.read_text())}


def unused_aws_modules(used: Iterable[str]) -> re.Pattern[str]:
    """Matches the path of a module in a pulumi_aws subpackage other than `used`."""
    kept = "|".join(sorted(re.escape(name) for name in used)) or "(?!)"
    return re.compile(rf"/pulumi_aws/(?!(?:{kept})/)[^/]+/")


def venv(site_packages: Path, sources: Iterable[Path]) -> bool:
    skip = unused_aws_modules(named_aws_subpackages(sources))
    return bool(compileall.compile_dir(site_packages, quiet=1, rx=skip, workers=0))


def sources(files: Iterable[Path]) -> bool:
    """Byte code for the given modules; files whose byte code is up to date are only looked
    at, so this is cheap to run before every session."""
    return all([compileall.compile_file(path, quiet=2) for path in files])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("venv", "sources"))
    args = parser.parse_args(argv)
    files = repository_files()
    if args.what == "venv":
        done = venv(Path(sysconfig.get_paths()["purelib"]), files)
    else:
        done = sources(files)
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
