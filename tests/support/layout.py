"""What each test folder needs, declared once: the markers its tests get (tests/conftest.py
sets them at collection, so `-m` selects by need) and whether they use the session's local
stack (they then run on one pytest-xdist worker, in this order, the races last).

Every folder holding tests is listed, subfolders too: a test in a folder that is not, or one
that marks itself with a folder marker, or one using the session stack from a folder not
declared to, stops the collection with the reason (problems()).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Folder:
    markers: frozenset[str]
    # Its tests use `running_stack` (tests/conftest.py): one worker runs them all, in order.
    session_stack: bool = False


# The markers a folder may give (pyproject.toml declares each: test_test_layout.py checks).
MARKERS = {
    "stack": "needs processes besides pytest: an emulator, the identity provider or Chromium",
    "browser": "drives headless Chromium",
    "race": "many concurrent calls against the session stack; runs last",
}
_NONE: frozenset[str] = frozenset()
_STACK = frozenset({"stack"})
_BROWSER = frozenset({"stack", "browser"})
FOLDERS = {
    "unit": Folder(_NONE),
    "handlers": Folder(_NONE),
    "policy": Folder(_NONE),
    "offline": Folder(_NONE),
    "prover": Folder(_NONE),
    "devstack": Folder(_STACK),
    "devstack/apply": Folder(_STACK),
    "browser": Folder(_BROWSER),
    "localstack": Folder(_STACK, session_stack=True),
    "integration": Folder(_STACK, session_stack=True),
    "browser/stack": Folder(_BROWSER, session_stack=True),
    "integration/races": Folder(_STACK | {"race"}, session_stack=True),
}
# The session stack's folders in the order they run (FOLDERS lists them in it).
SESSION_ORDER = tuple(name for name, folder in FOLDERS.items() if folder.session_stack)


class Item(Protocol):
    """What problems() reads of a pytest item."""

    nodeid: str
    fixturenames: list[str]

    def iter_markers(self) -> Iterable[object]: ...


def folder_of(nodeid: str) -> str:
    """`integration/races` for tests/integration/races/test_races.py::test_x."""
    path = nodeid.split("::", 1)[0].split("/")
    return "/".join(path[1:-1]) if path[0] == "tests" else "/".join(path[:-1])


def uses_session_stack(nodeid: str) -> bool:
    folder = FOLDERS.get(folder_of(nodeid))
    return folder is not None and folder.session_stack


def session_order(nodeid: str) -> int:
    return SESSION_ORDER.index(folder_of(nodeid))


def problems(items: Iterable[Item]) -> list[str]:
    """Why these items cannot run as collected (none: they can)."""
    found = []
    for item in items:
        name = folder_of(item.nodeid)
        folder = FOLDERS.get(name)
        if folder is None:
            found.append(f"{item.nodeid}: tests/{name} is not in tests/support/layout.py "
                         "FOLDERS: say what its tests need (markers) and whether they use "
                         "the session stack")
            continue
        own = {getattr(m, "name", "") for m in item.iter_markers()} & set(MARKERS)
        if own != folder.markers:
            found.append(f"{item.nodeid}: markers {sorted(own)}, but tests/{name} gives "
                         f"{sorted(folder.markers)}: markers come from the folder only")
        if "running_stack" in item.fixturenames and not folder.session_stack:
            found.append(f"{item.nodeid}: uses the session stack from tests/{name}, whose "
                         "tests run on any worker (it would start a second stack): move it "
                         "to a session-stack folder")
    return found
