"""tests/support/scheduling.py, driven as pytest-xdist drives it, with fake workers: the session
stack's tests go to one worker as one unit, and that worker gets nothing more until only the
last is left (which a worker runs once it knows what follows)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.support.scheduling import SESSION_STACK_UNIT, StackScheduling

STACK = [f"tests/integration/test_a.py::test_{i}" for i in range(3)] + [
    f"tests/integration/races/test_races.py::test_{i}" for i in range(3)]
OTHERS = ([f"tests/unit/test_big.py::test_{i}" for i in range(5)]
          + ["tests/unit/test_small.py::test_0",
             "tests/browser/test_renewal_in_real_time.py::test_0"])
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


def test_a_module_waiting_in_real_time_goes_out_right_after_the_stack():
    workers = [FakeWorker(f"gw{i}") for i in range(3)]
    scheduler_with(workers)
    assert workers[0].sent == STACK
    # By size (xdist's order) it would go last, after the small module.
    assert workers[1].sent == ["tests/browser/test_renewal_in_real_time.py::test_0",
                               "tests/unit/test_small.py::test_0"]
    assert workers[2].sent == OTHERS[:5]


def test_the_stack_worker_takes_nothing_more_until_its_last_test_is_left():
    workers = [FakeWorker("gw0"), FakeWorker("gw1")]
    scheduler = scheduler_with(workers)
    stack_worker, other = workers
    # The real-time module, then the next largest unit.
    assert other.sent == [OTHERS[-1], *OTHERS[:5]]
    # Down to its last two races, the stack's worker does not get the unit left (xdist's
    # own rule gives a worker its next unit when two of its tests are left).
    for nodeid in STACK[:-2]:
        finish(scheduler, stack_worker, nodeid)
    assert stack_worker.sent == STACK
    assert list(scheduler.workqueue) == ["tests/unit/test_small.py"]
    # One left, which the worker runs only once it knows what follows: the next unit.
    finish(scheduler, stack_worker, STACK[-2])
    assert stack_worker.sent == [*STACK, "tests/unit/test_small.py::test_0"]
    assert not stack_worker.shutting_down


def test_the_stack_worker_is_let_go_when_nothing_is_left_for_its_last_test():
    workers = [FakeWorker("gw0"), FakeWorker("gw1")]
    scheduler = scheduler_with(workers)
    stack_worker, other = workers
    for nodeid in OTHERS:  # the other worker takes and finishes everything else
        if nodeid not in other.sent:
            scheduler._reschedule(other)  # type: ignore[arg-type]
        finish(scheduler, other, nodeid)
    assert not scheduler.workqueue and not stack_worker.shutting_down
    for nodeid in STACK[:-1]:
        finish(scheduler, stack_worker, nodeid)
    assert stack_worker.shutting_down  # so it runs its last test now


def test_the_stack_unit_is_named_by_the_layout():
    scheduler = StackScheduling.__new__(StackScheduling)
    assert scheduler._split_scope(STACK[4]) == SESSION_STACK_UNIT
    assert scheduler._split_scope(OTHERS[0]) == "tests/unit/test_big.py"
