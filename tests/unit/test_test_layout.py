"""The test tree's own rules (tests/support/layout.py): every folder says what its tests need,
markers come from the folder alone, shared helpers live in tests/support, and no test module
imports another's or a conftest."""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import layout

TESTS = Path(__file__).resolve().parents[1]
SUPPORT = TESTS / "support"


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_declared_markers_are_the_layouts() -> None:
    pyproject = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())
    declared = dict(m.split(": ", 1) for m in pyproject["tool"]["pytest"]["ini_options"]
                    ["markers"])
    assert declared == layout.MARKERS
    assert set().union(*(f.markers for f in layout.FOLDERS.values())) == set(layout.MARKERS)


def test_every_folder_with_tests_is_declared_and_every_declared_folder_exists() -> None:
    with_tests = {str(p.parent.relative_to(TESTS)) for p in TESTS.rglob("test_*.py")}
    assert with_tests == set(layout.FOLDERS)


def test_helpers_live_in_tests_support_only() -> None:
    """A test folder holds its tests, its conftest and nothing else to import."""
    misplaced = [str(p.relative_to(TESTS)) for p in _python_files()
                 if SUPPORT not in p.parents
                 and not (p.name.startswith("test_") or p.name in ("conftest.py", "__init__.py"))
                 and p.parent != TESTS]
    assert misplaced == []


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {name for name in found if name.startswith("tests.")}


def test_tests_import_only_tests_support() -> None:
    """Not another folder's conftest or test module: what two folders share is a helper in
    tests/support (plain code) or a fixture in a conftest they both see."""
    wrong = {str(p.relative_to(TESTS)): sorted(bad) for p in _python_files()
             if (bad := {n for n in _imported(p) if not n.startswith("tests.support")})}
    assert wrong == {}


def test_tests_support_imports_no_test_folder() -> None:
    wrong = {str(p.relative_to(TESTS)): sorted(bad) for p in SUPPORT.glob("*.py")
             if (bad := {n for n in _imported(p) if not n.startswith("tests.support")})}
    assert wrong == {}


@pytest.mark.parametrize(("nodeid", "folder"), [
    ("tests/unit/test_x.py::test_y", "unit"),
    ("tests/integration/races/test_races.py::test_y[a::b]", "integration/races"),
    ("tests/browser/stack/test_site.py::test_y", "browser/stack"),
])
def test_a_tests_folder_is_the_path_below_tests(nodeid: str, folder: str) -> None:
    assert layout.folder_of(nodeid) == folder


@dataclass
class _Marker:
    name: str


@dataclass
class _Item:
    nodeid: str
    markers: list[str] = field(default_factory=list)
    fixturenames: list[str] = field(default_factory=list)

    def iter_markers(self) -> list[_Marker]:
        return [_Marker(m) for m in self.markers]


def test_a_test_with_exactly_its_folders_markers_passes() -> None:
    assert layout.problems([
        _Item("tests/unit/test_x.py::t"),
        _Item("tests/integration/races/test_r.py::t", ["stack", "race", "parametrize"],
              ["running_stack"]),
    ]) == []


def test_a_test_in_an_undeclared_folder_stops_the_collection() -> None:
    [problem] = layout.problems([_Item("tests/newthing/test_x.py::t")])
    assert "tests/newthing is not in tests/support/layout.py FOLDERS" in problem


def test_a_test_marking_itself_stops_the_collection() -> None:
    [problem] = layout.problems([_Item("tests/integration/test_x.py::t", ["stack", "race"])])
    assert "markers ['race', 'stack'], but tests/integration gives ['stack']" in problem
    [problem] = layout.problems([_Item("tests/devstack/test_x.py::t", [])])
    assert "markers [], but tests/devstack gives ['stack']" in problem


def test_the_session_stack_outside_a_session_stack_folder_stops_the_collection() -> None:
    [problem] = layout.problems([_Item("tests/devstack/test_x.py::t", ["stack"],
                                       ["running_stack"])])
    assert "uses the session stack from tests/devstack" in problem


def test_the_races_run_last_of_the_session_stacks_folders() -> None:
    assert layout.SESSION_ORDER[-1] == "integration/races"
    assert layout.FOLDERS["integration/races"].markers == {"stack", "race"}
