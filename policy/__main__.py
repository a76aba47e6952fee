"""Serves the pack to the Pulumi CLI: `pulumi preview --policy-pack policy`.

Only builds the PolicyPack (constructing it starts the analyzer's gRPC server
and blocks); the rules live in policy/rules.py so tests import them.
"""

import sys
from pathlib import Path

# The CLI runs this folder as a script, so only policy/ is on sys.path; the rules
# import the access model (access.py) from the repository root.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.rules import PACK_NAME, POLICIES  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=list(POLICIES),
)
