"""What `devstack up` imports while the emulator starts (harness_core.mock_runtime.preload):
the program's imports, and no provider service a stack without it would not load.

Provider SDKs load a service module on first use, once per process, so the case runs in a
fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from harness_core import mock_runtime
from pulumi import _utils

mock_runtime.preload(sys.argv[1])
print(json.dumps({name: not isinstance(sys.modules.get(name), _utils._LazyModule)
                  for name in ("pulumi_aws.wafv2", "pulumi_aws.cloudfront")}
                 | {name: name in sys.modules for name in ("pulumi_aws", "components.pets_app")}))
"""


def test_preload_imports_the_libraries_not_waf_nor_the_programs_own_modules():
    """components/waf.py names aws.wafv2 at import only for the type checker (loading it is
    0.4 s); the program's own modules are forgotten, as after a run."""
    done = subprocess.run([sys.executable, "-c", _PROBE, str(ROOT)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded == {"pulumi_aws.wafv2": False, "pulumi_aws.cloudfront": False,
                      "pulumi_aws": True, "components.pets_app": False}, loaded
