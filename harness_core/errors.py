"""The one base of every harness failure.

The CLI (`python -m devstack`) catches HarnessError in one place (its `main`) and
print its message, which says what failed and what to do, without a traceback.
"""

from __future__ import annotations


class HarnessError(RuntimeError):
    """A harness job failed; the message names what failed and what to do next."""
