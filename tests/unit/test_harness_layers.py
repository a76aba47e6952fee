"""The harness's layering and names, read from the source (no imports run).

harness_core <- iamsim <- prover <- devstack <- bench: each package imports only those below
it and the product, the product imports none of them, and a public class (or CamelCase type
alias) is defined once across the harness, so a name means one thing wherever it is read.
"""

from __future__ import annotations

import ast
import graphlib
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each package may import the packages of lower rank (and the product); a package missing
# from this table fails the test, so a new package has to take a place in it.
HARNESS_RANK = {"harness_core": 0, "iamsim": 1, "prover": 2, "devstack": 3, "bench": 4}
PRODUCT = ("access.py", "__main__.py", "account", "components", "deploy", "handlers", "policy",
           "scripts")


def _sources(*entries: str) -> list[Path]:
    files: list[Path] = []
    for entry in entries:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "node_modules" not in f.parts]


def _imported_packages(source: Path) -> set[str]:
    """Top-level packages a module imports anywhere, lazy imports inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _harness_imports() -> dict[str, dict[str, list[str]]]:
    """{package: {imported harness package: [files importing it]}}."""
    graph: dict[str, dict[str, list[str]]] = {}
    for package in HARNESS_RANK:
        edges: dict[str, list[str]] = defaultdict(list)
        for source in _sources(package):
            for imported in _imported_packages(source) & set(HARNESS_RANK) - {package}:
                edges[imported].append(str(source.relative_to(ROOT)))
        graph[package] = dict(edges)
    return graph


def test_every_harness_package_has_a_rank() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    not_harness = {Path(entry).stem for entry in PRODUCT} | {"tests", "site", "auth0"}
    harness_like = packages - not_harness
    unranked = harness_like - set(HARNESS_RANK)
    assert not unranked, f"packages with no place in HARNESS_RANK: {unranked}"


@pytest.mark.parametrize("package", sorted(HARNESS_RANK))
def test_a_harness_package_imports_only_the_layers_below(package: str) -> None:
    upward = {imported: files for imported, files in _harness_imports()[package].items()
              if HARNESS_RANK[imported] >= HARNESS_RANK[package]}
    assert not upward, f"{package} imports a package at or above its layer: {upward}"


def test_harness_packages_form_no_import_cycle() -> None:
    graph = {package: set(edges) for package, edges in _harness_imports().items()}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_the_product_imports_no_harness_code() -> None:
    offending = {str(source.relative_to(ROOT)): sorted(found)
                 for source in _sources(*PRODUCT)
                 if (found := _imported_packages(source) & {*HARNESS_RANK, "tests"})}
    assert not offending, f"product modules importing the harness: {offending}"


def test_each_public_class_name_has_one_definition() -> None:
    definitions: dict[str, list[str]] = defaultdict(list)
    for source in _sources(*HARNESS_RANK):
        for node in ast.parse(source.read_text()).body:
            if isinstance(node, ast.ClassDef):
                name = node.name
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name)):
                name = node.targets[0].id  # a type alias such as `StatusMatrix = dict[...]`
                if not name[:1].isupper() or name.isupper():
                    continue
            else:
                continue
            if not name.startswith("_"):
                definitions[name].append(str(source.relative_to(ROOT)))
    twice = {name: files for name, files in definitions.items() if len(files) > 1}
    assert not twice, f"public names defined more than once in the harness: {twice}"
