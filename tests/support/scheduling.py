"""How pytest-xdist hands the tests out: the session stack's tests as one work unit, each other
module as one (so a module's fixtures run once), the largest unit first but a module that
waits in real time, which goes right after the stack's.

xdist's own `--dist loadgroup` would do, but its group suffix on the node id has no effect
under pytest 9 (checked with pytest 9.2.0, xdist 3.8.0: grouped tests spread).
LoadScopeScheduling hands the largest unit out first, so the stack starts at once; the worker
that runs it gets more only once the stack's tests are all but one done: xdist gives a worker
its next unit when two of its tests are left, and what the stack's worker took waited behind
the races, the run's longest path (a 14 s real-time test once ran after them while the other
workers were done). One, not none: a worker runs a test only once it knows the next (or
that none comes), so its last test waits for a next unit or the shutdown, which waiting for
all its tests never sends until the other workers are done (22 s idle in one run).
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

from tests.support import layout

SESSION_STACK_UNIT = "session stack"
# A module that waits out real time (a token's lifetime on the clock) and computes little:
# it goes out first once the stack's unit has, beside the CPU-bound rest. By its size (one
# test) it went last and was the run's last 15 s, one worker waiting while the others were
# done.
REAL_TIME_SUFFIX = "_in_real_time.py"


class StackScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        if layout.uses_session_stack(nodeid):
            return SESSION_STACK_UNIT
        return nodeid.split("::", 1)[0]

    def _reschedule(self, node: Any) -> None:
        stack = self.assigned_work.get(node, {}).get(SESSION_STACK_UNIT, {})
        if sum(not done for done in stack.values()) > 1:
            return
        super()._reschedule(node)

    def _assign_work_unit(self, node: Any) -> None:
        if SESSION_STACK_UNIT not in self.workqueue:
            for scope in [s for s in self.workqueue if s.endswith(REAL_TIME_SUFFIX)]:
                self.workqueue.move_to_end(scope, last=False)
        super()._assign_work_unit(node)
