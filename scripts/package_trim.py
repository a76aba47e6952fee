"""What the Lambda package leaves out of its dependencies, and the check that nothing kept needs it.

Every new execution environment unpacks the layer (on AWS, and on MiniStack, which unpacks it
again for each worker it starts, at a cost per file: fifty concurrent cold starts spent 26
CPU-seconds of the emulator's on 754 files and 19 on 511). Left out:

- files no Python process reads: console scripts and docs (bin/, share/), type stubs (.pyi,
  py.typed), C headers, and what the installer records of itself in *.dist-info (RECORD,
  INSTALLER, REQUESTED, WHEEL). Each distribution's METADATA (importlib.metadata reads it),
  licences and SBOMs stay;
- the Powertools utilities the functions do not use (UNUSED_POWERTOOLS): a third of the
  layer's files. A kept module that imports one of them fails the build (`imports_left_out`),
  so a Powertools upgrade or a handler that starts using one cannot ship without it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

UNREAD_SUFFIXES = (".pyi", ".h")
UNREAD_NAMES = frozenset({"py.typed"})
UNREAD_FOLDERS = frozenset({"bin", "share"})  # top level: console scripts and docs
INSTALLER_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "WHEEL"})
POWERTOOLS_UTILITIES = "aws_lambda_powertools.utilities"
UNUSED_POWERTOOLS = ("auth_alpha", "batch", "circuit_breaker", "data_masking", "feature_flags",
                     "kafka", "metadata", "parameters", "parser", "streaming")
LEFT_OUT_MODULES = tuple(f"{POWERTOOLS_UTILITIES}.{name}" for name in UNUSED_POWERTOOLS)


class KeptImportsLeftOut(Exception):
    """A module the package keeps imports one it leaves out."""


def module_name(relative: PurePosixPath) -> str:
    """`a/b/c.py` -> "a.b.c"; `a/b/__init__.py` -> "a.b" (a path below a sys.path entry)."""
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def left_out(relative: PurePosixPath) -> bool:
    """Whether the package leaves out this file (its path below the layer's python/)."""
    if relative.suffix in UNREAD_SUFFIXES or relative.name in UNREAD_NAMES:
        return True
    if len(relative.parts) > 1 and relative.parts[0] in UNREAD_FOLDERS:
        return True
    if len(relative.parts) == 2 and relative.parts[0].endswith(".dist-info"):
        return relative.name in INSTALLER_RECORDS
    if _within(".".join(relative.parent.parts), LEFT_OUT_MODULES):
        return True  # anything in a left-out package's folder
    return relative.suffix == ".py" and _within(module_name(relative), LEFT_OUT_MODULES)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module an import statement of `module` may name: for `from m import n`, both m
    and m.n (n may be a submodule); relative imports resolved against `module`'s package."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_left_out(roots: Iterable[Path]) -> list[str]:
    """"file: module" for each import of a left-out module by a .py file kept below the roots
    (each a sys.path entry: the function code, the layer's python/)."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            relative = PurePosixPath(path.relative_to(root).as_posix())
            if left_out(relative):
                continue
            try:
                names = imported_modules(path.read_text(encoding="utf-8"),
                                         module_name(relative), path.name == "__init__.py")
            except SyntaxError as err:  # newer syntax than this Python reads: cannot check
                raise KeptImportsLeftOut(f"{relative}: cannot read its imports ({err})") from err
            found += [f"{relative}: {name}" for name in sorted(names)
                      if _within(name, LEFT_OUT_MODULES)]
    return found


def trim(layer: Path, code: Path) -> int:
    """Deletes what the package leaves out below `layer` (the layer's python/); raises
    KeptImportsLeftOut when the code or a kept module imports any of it. Returns how many
    files went."""
    gone = [p for p in layer.rglob("*")
            if p.is_file() and left_out(PurePosixPath(p.relative_to(layer).as_posix()))]
    for path in gone:
        path.unlink()
    for folder in sorted((p for p in layer.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    needed = imports_left_out([code, layer])
    if needed:
        raise KeptImportsLeftOut(
            "the Lambda package leaves these out (scripts/package_trim.py), but they are "
            "imported:\n  " + "\n  ".join(needed))
    return len(gone)
