"""tests/support/scheduling.py, driven as pytest-xdist drives it, with fake workers: the session
stack's tests go to one worker as one unit, and that worker gets nothing more until they are
all done."""

from __future__ import annotations

from types import SimpleNamespace

from tests.support.scheduling import SESSION_STACK_UNIT, StackScheduling

STACK = [f"tests/integration/test_a.py::test_{i}" for i in range(3)] + [
    f"tests/integration/races/test_races.py::test_{i}" for i in range(3)]
OTHERS = ([f"tests/unit/test_big.py::test_{i}" for i in range(5)]
          + ["tests/unit/test_small.py::test_0", "tests/browser/test_renewal.py::test_0"])
COLLECTION = STACK + OTHERS


class FakeWorker:
    def __init__(self, name: str):
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[str] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent += [COLLECTION[i] for i in indexes]

    def shutdown(self) -> None:
        self.shutting_down = True


def scheduler_with(workers: list[FakeWorker]) -> StackScheduling:
    config = SimpleNamespace(getvalue=lambda name: [f"{len(workers)}*popen"],
                             option=SimpleNamespace(loadscopereorder=True))
    scheduler = StackScheduling(config, log=None)  # type: ignore[arg-type]
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
        scheduler.add_node_collection(worker, COLLECTION)  # type: ignore[arg-type]
    scheduler.schedule()
    return scheduler


def finish(scheduler: StackScheduling, worker: FakeWorker, nodeid: str) -> None:
    scheduler.mark_test_complete(worker, COLLECTION.index(nodeid))  # type: ignore[arg-type]


def test_the_stack_is_one_unit_on_one_worker_first():
    workers = [FakeWorker(f"gw{i}") for i in range(3)]
    scheduler_with(workers)
    stack_worker, *others = workers
    assert stack_worker.sent == STACK
    assert all(not set(w.sent) & set(STACK) for w in others)


def test_the_stack_worker_takes_nothing_more_until_its_tests_are_done():
    workers = [FakeWorker("gw0"), FakeWorker("gw1")]
    scheduler = scheduler_with(workers)
    stack_worker, other = workers
    assert other.sent == OTHERS[:5]  # the next largest unit
    # Down to its last two races, the stack's worker gets none of the two units left
    # (xdist's own rule gives a worker its next unit when two of its tests are left).
    for nodeid in STACK[:-2]:
        finish(scheduler, stack_worker, nodeid)
    assert stack_worker.sent == STACK
    assert list(scheduler.workqueue) == ["tests/unit/test_small.py",
                                         "tests/browser/test_renewal.py"]
    # Its tests all done, it takes the next unit like any worker.
    for nodeid in STACK[-2:]:
        finish(scheduler, stack_worker, nodeid)
    assert stack_worker.sent == [*STACK, "tests/unit/test_small.py::test_0"]


def test_the_stack_unit_is_named_by_the_layout():
    scheduler = StackScheduling.__new__(StackScheduling)
    assert scheduler._split_scope(STACK[4]) == SESSION_STACK_UNIT
    assert scheduler._split_scope(OTHERS[0]) == "tests/unit/test_big.py"
