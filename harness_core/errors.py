"""The one base of every harness failure.

The CLIs (`python -m devstack`, `python -m iamsim`) catch HarnessError in one place and
print its message, which says what failed and what to do, without a traceback.
"""

from __future__ import annotations


class HarnessError(RuntimeError):
    """A harness job failed; the message names what failed and what to do next."""
