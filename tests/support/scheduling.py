"""How pytest-xdist hands the tests out: the session stack's tests as one work unit, each other
module as one (so a module's fixtures run once), the largest unit first.

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
