"""Shared by every test folder: the project on sys.path, the markers and order each folder
gives its tests (tests/support/layout.py), the scheduling of `make test`'s workers, and the
session's local stack."""

from __future__ import annotations

import gc
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import layout, shared_loader

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Use the stack `make up` started instead of a fresh one (faster when iterating).
USE_RUNNING_STACK = os.environ.get("PETS_USE_RUNNING_STACK") == "1"

shared_loader.install()


def pytest_configure(config: pytest.Config) -> None:
    """Every local apply of the session jitters its creates (devstack/apply/jitter.py), so
    a missing depends_on fails as an ordering error instead of hiding behind the usual
    order. One seed per session, chosen here unless given, and inherited by the xdist
    workers (started after this) and by `python -m devstack` subprocesses."""
    from devstack.apply.jitter import ENV

    os.environ.setdefault(ENV, str(random.SystemRandom().randrange(1, 10**6)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """The garbage collector, tuned for a test process. What the imports and the collection
    made lives as long as the process, so it is frozen out of the collections; and the
    tests allocate in bursts (a program recording makes ~100 resources, each with dozens of
    futures), which the default thresholds answer with a collection every 700 objects and
    full ones over every recording kept. Together: `make unit` 21 s -> 16 s, the largest
    process 310 -> 360 MB. Cycles are still collected, only less often."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    session.config.stash[HAS_STACK_CHAIN] = any(
        layout.uses_session_stack(item.nodeid) for item in session.items)


HAS_STACK_CHAIN = pytest.StashKey[bool]()
RENICED = pytest.StashKey[bool]()
# How much lower the workers that do not run the session stack's tests run (os.nice).
OTHER_WORKERS_NICENESS = 5


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """On xdist workers, the session stack's tests in order are the run's longest path
    (docs/testing.md): the worker that runs them, and the emulator, functions and browser it
    starts, get the CPU first. The other workers lower their priority (and their children's:
    private emulators, browsers, Node) the first time they run a test of their own, and take
    what that path leaves; on two cores it is waiting about half the time."""
    config = item.config
    if (os.environ.get("PYTEST_XDIST_WORKER") and config.stash.get(HAS_STACK_CHAIN, False)
            and not layout.uses_session_stack(item.nodeid)
            and not config.stash.get(RENICED, False)):
        config.stash[RENICED] = True
        os.nice(OTHER_WORKERS_NICENESS)


@pytest.hookimpl(trylast=True)  # after pytest's own last collection for unraisable errors
def pytest_unconfigure(config: pytest.Config) -> None:
    """The run is over and the process only exits now: what is alive is frozen out of the
    garbage collector, which would otherwise go over everything the run loaded once more on
    the way out (1.5-2 s per xdist worker, which the controller waits for)."""
    gc.freeze()


def pytest_report_header(config: pytest.Config) -> str:
    from devstack.apply.jitter import ENV

    return f"local apply jitter: {ENV}={os.environ[ENV]} (set it to replay; off: no jitter)"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers set here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test gets its folder's markers (tests/support/layout.py); the session stack's
    tests come first, folder by folder in layout order (the races last), so that one worker
    runs them in that order while the others run the rest: by the races, most of the rest is
    done (the races warm their Lambda workers first, which cold time out beside busy
    workers). The order is deterministic: every worker must collect the same."""
    for item in items:
        folder = layout.FOLDERS.get(layout.folder_of(item.nodeid))
        for marker in sorted(folder.markers if folder else ()):
            item.add_marker(marker)
    problems = layout.problems(items)
    if problems:
        raise pytest.UsageError("\n".join(problems))
    stack = [i for i in items if layout.uses_session_stack(i.nodeid)]
    chosen = set(stack)
    items[:] = (sorted(stack, key=lambda i: layout.session_order(i.nodeid))
                + [i for i in items if i not in chosen])


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """One work unit for the session stack's tests, one per module for the rest
    (tests/support/scheduling.py)."""
    from tests.support.scheduling import StackScheduling

    return StackScheduling(config, log)


@pytest.fixture(scope="session")
def program() -> Any:
    """The program recorded with tests/support/programs.py's BASE_CONFIG (a ProgramRun)."""
    from tests.support.programs import BASE_CONFIG, recorded

    return recorded(BASE_CONFIG)


@pytest.fixture(scope="session")
def local_program() -> Any:
    """The same without CloudFront, as on the emulator: the site bucket is public-read."""
    from tests.support.programs import LOCAL_CONFIG, recorded

    return recorded(LOCAL_CONFIG)


@pytest.fixture(scope="session", autouse=True)
def shared_recordings_unchanged() -> Iterator[None]:
    """Fails the session's last test if a test edited a recording others share
    (tests/support/programs.py)."""
    yield
    programs = sys.modules.get("tests.support.programs")
    edited = programs.edited_recordings() if programs else []
    assert not edited, f"tests changed shared program recordings: {edited}"


@pytest.fixture(scope="session")
def running_stack(worker_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local stack (emulator + identity provider + the program), once per session.

    Names and ports are the session's own, so a `make up` stack is never touched. The
    emulator unpacks Lambda packages in memory where there is room (devstack/paths.py), as
    `make up`'s does: the races start forty workers.
    """
    from devstack import clients, stack
    from devstack.idp import idp_process
    from devstack.processes import procs

    if USE_RUNNING_STACK:
        idp = idp_process.running()
        assert idp is not None, "PETS_USE_RUNNING_STACK=1 but no identity provider runs"
        yield stack.Stack(clients.current_target(), idp, stack.load_outputs(), apply=None)
        return
    # Not tests/support/private.py's names (test-<kind>-<worker>), whose fixtures stop
    # their own first.
    suffix = "" if worker_id == "master" else f"-{worker_id}"
    names = {"emulator_name": f"session-emulator{suffix}", "idp_name": f"session-idp{suffix}"}
    outputs_file = tmp_path_factory.mktemp("stack") / "outputs.json"
    local = stack.up(**names, idp_port=procs.free_port(), outputs_file=outputs_file,
                     in_memory=True)
    try:
        yield local
    finally:
        stack.down(**names, outputs_file=None)


@pytest.fixture(scope="session")
def local_stack(running_stack: Any) -> dict[str, Any]:
    """The running stack's outputs (apiUrl, roles, siteUrl, ...)."""
    return dict(running_stack.outputs)
